"""Node packages the tests drive (axe-core, oidc-provider, ...), installed from the npm registry
once into a git-ignored cache folder, ``test-artifacts/node/<package>-<version>``; Debian's ``npm``
package brings npm and node (scripts/test installs it)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from tests.conftest import REPO

CACHE = REPO / "test-artifacts" / "node"


def npm_install(name: str, version: str, packages: Sequence[str] = ()) -> Path:
    """The ``node_modules`` folder holding ``packages`` (default: ``name`` alone), each at
    ``version``, installed if missing into ``test-artifacts/node/<name>-<version>``; raises
    :class:`FileNotFoundError` or :class:`subprocess.SubprocessError` when they cannot be had."""
    wanted = list(packages) or [name]
    folder = CACHE / f"{name.replace('/', '+')}-{version}"
    modules = folder / "node_modules"
    if all((modules / package / "package.json").is_file() for package in wanted):
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
            *(f"{package}@{version}" for package in wanted),
        ],
        check=True,
        timeout=300,
        capture_output=True,
    )
    missing = [p for p in wanted if not (modules / p / "package.json").is_file()]
    if missing:
        raise FileNotFoundError(f"npm did not install {', '.join(missing)} into {folder}")
    return modules
