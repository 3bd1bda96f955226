"""Node packages the tests drive (axe-core, oidc-provider, ...), installed from the npm registry
once into a git-ignored cache folder, ``test-artifacts/node/<package>-<version>``; Debian's ``npm``
package brings npm and node (scripts/test installs it)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import REPO

CACHE = REPO / "test-artifacts" / "node"


def npm_install(package: str, version: str) -> Path:
    """The ``node_modules`` folder holding ``package@version`` (installed if missing); raises
    :class:`FileNotFoundError` or :class:`subprocess.SubprocessError` when it cannot be had."""
    folder = CACHE / f"{package.replace('/', '+')}-{version}"
    modules = folder / "node_modules"
    if (modules / package / "package.json").is_file():
        return modules
    npm = shutil.which("npm")
    if npm is None:
        raise FileNotFoundError("npm not found (apt-get install npm)")
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            npm,
            "install",
            "--prefix",
            str(folder),
            "--no-audit",
            "--no-fund",
            "--no-package-lock",
            "--loglevel=error",
            f"{package}@{version}",
        ],
        check=True,
        timeout=300,
        capture_output=True,
    )
    if not (modules / package / "package.json").is_file():
        raise FileNotFoundError(f"npm did not install {package}@{version} into {folder}")
    return modules
