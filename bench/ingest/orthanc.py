"""Orthanc as a receiver in the ingest benchmark: the peer a hospital would otherwise put there.

Debian's ``orthanc`` package (1.10.1 on bookworm) is installed by :func:`ensure_installed` when
``/usr/sbin/Orthanc`` is missing; the service the package starts on its default ports (4242 DICOM,
8042 HTTP) is stopped and disabled at once. The benchmark runs its own ``Orthanc`` process with a
generated configuration (:func:`config`) in a temporary folder: storage and SQLite index there,
DICOM and HTTP on loopback, any calling AE may store, and as durable as Orthanc can be made:

- ``SyncStorageArea: true``: Orthanc fsyncs each file it writes to the storage area before it
  records it in the index (the default since 1.7.4; set explicitly here);
- the SQLite index commits one transaction per stored instance before the C-STORE response;
  Orthanc opens it with ``PRAGMA SYNCHRONOUS=NORMAL`` and WAL (``IndexDirectory``), which it does
  not let one configure: a commit is in the WAL when the response goes out but the WAL is
  fsynced only at checkpoints, so a power cut (not a crash of the process) can lose the last
  index rows whose files are on disk. That is the most durable index Orthanc's SQLite back end
  offers; radqc fsyncs its WAL on each commit.
- ``StorageCompression: false``, ``OverwriteInstances: false``; no transcoding on ingest.

``TCP_NODELAY=1`` is set on the process (NOTES.md: DCMTK, which Orthanc links, otherwise stalls
~40 ms per file). Counting what was stored: ``GET /statistics`` (``CountInstances``) and the files
in the storage folder (:func:`stored_files`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

ORTHANC = Path("/usr/sbin/Orthanc")
DEBIAN_SERVICE = "orthanc"
AE_TITLE = "RADQC"  # the called AE title storescu uses for every receiver
INSTALL_TIMEOUT = 600  # seconds


# What the benchmark's configuration makes Orthanc promise when it answers a C-STORE.
DURABILITY = (
    "SyncStorageArea=true (each file fsynced before it is indexed), SQLite index committed per "
    "instance before the response, in WAL with PRAGMA SYNCHRONOUS=NORMAL (built in, not "
    "configurable: the WAL is fsynced at checkpoints, not at each commit)"
)


class OrthancUnavailableError(RuntimeError):
    """Orthanc is not installed and could not be installed here."""


def _quiet(command: list[str]) -> None:
    """Run ``command`` if its program exists; its failure is not ours (no service to stop)."""
    if shutil.which(command[0]) is not None:
        subprocess.run(command, capture_output=True, check=False, timeout=60)


def stop_debian_service() -> None:
    """Stop the package's own Orthanc (4242/8042) and keep it from starting at boot."""
    _quiet(["systemctl", "disable", "--now", DEBIAN_SERVICE])  # where systemd runs
    _quiet(["invoke-rc.d", DEBIAN_SERVICE, "stop"])  # sysvinit / containers
    _quiet(["service", DEBIAN_SERVICE, "stop"])
    _quiet(["update-rc.d", DEBIAN_SERVICE, "disable"])


def _apt_get(*args: str) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    return subprocess.run(
        ["apt-get", *args], env=env, capture_output=True, check=False, timeout=INSTALL_TIMEOUT
    )


def ensure_installed() -> float:
    """Install Debian's ``orthanc`` unless ``/usr/sbin/Orthanc`` exists; the seconds it took
    (0 when it was there). Raises :class:`OrthancUnavailableError` when it cannot be installed."""
    if ORTHANC.is_file():
        return 0.0
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        raise OrthancUnavailableError(f"{ORTHANC} is missing: apt-get install -y orthanc (as root)")
    started = time.monotonic()
    try:
        done = _apt_get("install", "-y", "--no-install-recommends", "orthanc")
        if done.returncode:  # an empty or stale package list: update it, then try once more
            _apt_get("update")
            done = _apt_get("install", "-y", "--no-install-recommends", "orthanc")
    except subprocess.TimeoutExpired as exc:
        raise OrthancUnavailableError(f"apt-get timed out: {exc}") from exc
    finally:
        stop_debian_service()  # the package starts its own Orthanc on 4242/8042
    if done.returncode:
        tail = done.stderr.decode(errors="replace")[-500:]
        raise OrthancUnavailableError(f"apt-get install orthanc failed: {tail}")
    if not ORTHANC.is_file():
        raise OrthancUnavailableError(f"apt-get installed orthanc but {ORTHANC} is missing")
    return time.monotonic() - started


def version() -> str:
    """``Orthanc --version``'s first line, e.g. ``Orthanc 1.10.1``."""
    done = subprocess.run([str(ORTHANC), "--version"], capture_output=True, check=False, timeout=30)
    lines = done.stdout.decode(errors="replace").splitlines()
    return lines[0].strip() if lines else "Orthanc (unknown version)"


def config(folder: Path, dicom_port: int, http_port: int) -> dict[str, Any]:
    """A configuration for one benchmark run: everything in ``folder``, loopback only."""
    return {
        "Name": "radqc-bench",
        "StorageDirectory": str(folder / "storage"),
        "IndexDirectory": str(folder / "index"),
        "StorageCompression": False,
        "SyncStorageArea": True,  # fsync each file before it is indexed (and acknowledged)
        "MaximumStorageSize": 0,
        "MaximumPatientCount": 0,
        "OverwriteInstances": False,
        "Plugins": [],  # not the Debian package's plugin folder
        "DicomServerEnabled": True,
        "DicomAet": AE_TITLE,
        "DicomPort": dicom_port,
        "DicomCheckCalledAet": False,
        "DicomAlwaysAllowStore": True,
        "DicomAlwaysAllowEcho": True,
        "DicomCheckModalityHost": False,
        "UnknownSopClassAccepted": False,
        "DicomModalities": {},
        "DicomScpTimeout": 30,
        # Orthanc's largest (default 16384): ~5 % faster and 12 % less CPU here on 10 MB files.
        "MaximumPduLength": 131072,
        "DicomThreadsCount": 4,  # one per concurrent association in the 4-association runs
        "HttpServerEnabled": True,  # for GET /statistics, on loopback only
        "HttpPort": http_port,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "SslEnabled": False,
        "StableAge": 3600,  # no "stable study" jobs during a run
        "SaveJobs": False,
        "LimitFindResults": 0,
        "StorageAccessOnFind": "Never",
        "DeidentifyLogs": True,
    }


def write_config(folder: Path, dicom_port: int, http_port: int) -> Path:
    """Write :func:`config` as ``folder/orthanc.json`` (creating the storage and index folders)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "storage").mkdir(exist_ok=True)
    (folder / "index").mkdir(exist_ok=True)
    path = folder / "orthanc.json"
    path.write_text(json.dumps(config(folder, dicom_port, http_port), indent=2))
    return path


def command(config_path: Path) -> list[str]:
    return [str(ORTHANC), "--logdir=" + str(config_path.parent), str(config_path)]


def environment() -> dict[str, str]:
    return dict(os.environ, TCP_NODELAY="1")  # see NOTES.md: DCMTK's Nagle stall


def statistics(http_port: int, timeout: float = 10) -> dict[str, Any]:
    """Orthanc's ``GET /statistics`` (CountInstances, TotalDiskSize, ...)."""
    url = f"http://127.0.0.1:{http_port}/statistics"
    with urllib.request.urlopen(url, timeout=timeout) as response:
        answer: dict[str, Any] = json.load(response)
    return answer


def stored_instances(http_port: int) -> int:
    return int(statistics(http_port)["CountInstances"])


def stored_files(folder: Path) -> int:
    """Files in the storage area (Orthanc keeps them in ``xx/yy/<uuid>`` folders)."""
    return sum(1 for path in (folder / "storage").rglob("*") if path.is_file())


def stored(folder: Path, http_port: int) -> int:
    """Instances both in Orthanc's index (REST) and as files in its storage folder."""
    return min(stored_instances(http_port), stored_files(folder))


def wait_for_http(http_port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Wait until the REST API answers (the DICOM server may be up before it)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            statistics(http_port, timeout=2)
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"Orthanc exited with {process.returncode}") from None
            if time.monotonic() > deadline:
                raise RuntimeError("Orthanc's REST API did not answer") from None
            time.sleep(0.2)
        else:
            return
