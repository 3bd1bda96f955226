"""The ingest benchmark's Orthanc receiver: its configuration always; end to end when Orthanc
(Debian's ``orthanc``) and DCMTK are installed here, which CI does not do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.ingest import orthanc, run


def test_config_is_durable_local_and_open_to_any_caller(tmp_path: Path) -> None:
    path = orthanc.write_config(tmp_path / "o", dicom_port=11112, http_port=18042)
    config = json.loads(path.read_text())
    assert config == orthanc.config(tmp_path / "o", 11112, 18042)
    assert config["StorageDirectory"] == str(tmp_path / "o" / "storage")
    assert config["IndexDirectory"] == str(tmp_path / "o" / "index")
    assert (tmp_path / "o" / "storage").is_dir() and (tmp_path / "o" / "index").is_dir()
    assert config["DicomAet"] == orthanc.AE_TITLE and config["DicomPort"] == 11112
    assert config["HttpPort"] == 18042 and config["RemoteAccessAllowed"] is False
    assert config["DicomCheckCalledAet"] is False and config["DicomAlwaysAllowStore"] is True
    assert config["SyncStorageArea"] is True and config["StorageCompression"] is False
    assert config["Plugins"] == []
    assert orthanc.environment()["TCP_NODELAY"] == "1"
    assert orthanc.command(path)[-1] == str(path)


def test_the_targets_name_measured_rows() -> None:
    for _, ours, theirs, _ in run.TARGETS:
        assert ours[0] in run.RECEIVERS and theirs[0] in run.RECEIVERS
    assert set(run.RECEIVERS) >= run.ONLY_CONCURRENT


@pytest.mark.dcmtk
@pytest.mark.timeout(180)
@pytest.mark.skipif(not orthanc.ORTHANC.is_file(), reason="Debian's orthanc is not installed")
@pytest.mark.skipif(not (run.DCMTK / "storescu").is_file(), reason="DCMTK is not installed")
def test_orthanc_stores_every_file(capsys: pytest.CaptureFixture[str]) -> None:
    if not run.SOURCE.is_file():
        pytest.skip(f"the shared CXR is missing: {run.SOURCE}")
    argv = ["--files", "3", "--repeats", "1", "--only", "Orthanc", "--associations", "1", "2"]
    assert run.main(argv) == 0  # non-zero when a run stored fewer files than were sent
    printed = capsys.readouterr().out
    rows = [line.split() for line in printed.splitlines() if line.startswith("Orthanc ")]
    assert [(row[1], row[2], row[3]) for row in rows] == [("1", "3", "3"), ("2", "3", "3")]
    assert "SyncStorageArea=true" in printed
