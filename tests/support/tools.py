"""Debian's command-line tools the tests drive as real peers and validators (DCMTK, dicom3tools):
scripts/test installs them; outside CI a missing one skips its tests, in CI it fails them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import IN_CI

BIN = Path("/usr/bin")  # Debian's, not the venv's (pynetdicom's scripts share DCMTK's names)


def debian_tool(tool: str, package: str) -> str:
    """The full path of ``tool`` from Debian's ``package``."""
    path = BIN / tool
    if not path.is_file():
        message = f"{package}'s {path} is missing (apt-get install {package})"
        if IN_CI:
            pytest.fail(message + ": CI must test against it")
        pytest.skip(message)
    return str(path)
