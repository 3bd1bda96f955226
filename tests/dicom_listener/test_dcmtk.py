"""The Storage SCP against DCMTK's echoscu and storescu, the tools PACS engineers test with.

DCMTK's storescu re-encodes a file's dataset before sending it, so "stored exactly as sent" is
checked against what DCMTK's own storescp writes in bit-preserving mode (``+B``) for the same file.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydicom import dcmread

from service.config import Settings
from service.db import Database
from tests.dicom_listener.conftest import (
    PROPOSE,
    DbState,
    Listener,
    assert_one_job_per_item,
    cxr_files,
    db_state,
    dcmtk,
    listening,
    option_for,
    part_ten,
    start_listener,
    stored_instances,
)
from tests.dicom_listener.samples import Sample
from tests.support.servers import free_port

pytestmark = pytest.mark.dcmtk

OK = "I: Received Store Response (Success)"


def storescu(
    port: int, files: list[Path], option: str, *, aet: str = "STORESCU", aec: str = "RADQC"
) -> tuple[int, list[str]]:
    """Send ``files`` over one association; the exit code and storescu's response lines."""
    done = subprocess.run(
        [
            dcmtk("storescu"),
            "-v",
            option,
            "-aet",
            aet,
            "-aec",
            aec,
            "127.0.0.1",
            str(port),
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = (done.stdout + done.stderr).splitlines()
    wanted = ("Store Response", "E: ", "F: ")
    return done.returncode, [line for line in lines if any(word in line for word in wanted)]


@dataclass
class Reference:
    """DCMTK's storescp in bit-preserving mode: what it writes is what storescu sent."""

    port: int
    folder: Path

    def received(self, path: Path) -> bytes:
        code, lines = storescu(self.port, [path], option_for(path))
        assert (code, lines) == (0, [OK]), lines
        (written,) = list(self.folder.iterdir())
        dataset = part_ten(written).dataset
        written.unlink()
        return dataset


@pytest.fixture
def reference(tmp_path: Path) -> Iterator[Reference]:
    folder = tmp_path / "storescp"
    folder.mkdir()
    port = free_port()
    env = dict(os.environ, TCP_NODELAY="1")  # see NOTES.md: DCMTK receivers stall without it
    process = subprocess.Popen(
        [dcmtk("storescp"), "+B", "+xa", "-aet", "RADQC", "-od", str(folder), str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 10
        while (
            subprocess.run(
                [dcmtk("echoscu"), "-aec", "RADQC", "127.0.0.1", str(port)],
                capture_output=True,
                check=False,
            ).returncode
            != 0
        ):
            assert process.poll() is None, "storescp did not start"
            assert time.monotonic() < deadline, "storescp did not answer"
            time.sleep(0.1)
        yield Reference(port, folder)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_echoscu(listener: Listener) -> None:
    done = subprocess.run(
        [dcmtk("echoscu"), "-v", "-aec", "RADQC", "127.0.0.1", str(listener.port)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Received Echo Response (Success)" in done.stdout + done.stderr


def test_every_shared_cxr_file_via_storescu_is_stored_as_dcmtk_sent_it(
    listener: Listener, reference: Reference, shared_data: Path
) -> None:
    seen: dict[str, list[bytes]] = {}
    for path in cxr_files(shared_data):
        sent = reference.received(path)
        code, lines = storescu(listener.port, [path], option_for(path))
        assert (code, lines) == (0, [OK]), path.name
        uid = dcmread(path, force=True, stop_before_pixels=True).SOPInstanceUID
        versions = seen.setdefault(uid, [])
        if sent not in versions:
            versions.append(sent)
        row = stored_instances(listener.db, uid)[versions.index(sent)]
        assert part_ten(listener.files.path(row.path)).dataset == sent, path.name
    distinct = sum(len(versions) for versions in seen.values())
    assert db_state(listener.db) == DbState(distinct, distinct, distinct)
    assert_one_job_per_item(listener.db)


def test_storescu_resending_everything_creates_nothing_new(
    listener: Listener, shared_data: Path
) -> None:
    by_option: dict[str, list[Path]] = {}
    for path in cxr_files(shared_data):
        by_option.setdefault(option_for(path), []).append(path)
    for option, files in by_option.items():
        code, lines = storescu(listener.port, files, option)
        assert (code, lines) == (0, [OK] * len(files))
    before = db_state(listener.db)
    for option, files in by_option.items():
        code, lines = storescu(listener.port, files, option)
        assert lines == [OK] * len(files), lines
    assert db_state(listener.db) == before


def test_every_transfer_syntax_storescu_can_propose(
    listener: Listener, transfer_syntax_samples: list[Sample]
) -> None:
    sent = 0
    for sample in transfer_syntax_samples:
        if sample.storescu_option is None:
            continue  # JPEG lossless process 14 (.57): storescu has no option for it
        code, lines = storescu(listener.port, [sample.path], sample.storescu_option)
        assert (code, lines) == (0, [OK]), sample.transfer_syntax
        split = part_ten(sample.path)
        (row,) = stored_instances(listener.db, split.sop_instance_uid)
        assert row.transfer_syntax_uid == sample.transfer_syntax  # sent as it is, not converted
        sent += 1
    assert sent == 11
    assert db_state(listener.db) == DbState(sent, sent, sent)


def test_ct_is_refused_at_negotiation(listener: Listener, shared_data: Path) -> None:
    for path in sorted((shared_data / "non_cxr").glob("*.dcm")):
        code, lines = storescu(
            listener.port,
            [path],
            option_for(path) if part_ten(path).transfer_syntax in PROPOSE else "-xs",
        )
        assert code != 0, path.name
        assert any("No presentation context" in line for line in lines), (path.name, lines)
    assert db_state(listener.db) == DbState(0, 0, 0)
    # ...and the listener still takes the next chest X-ray.
    good = shared_data / "cxr/udacity_nih_test3.dcm"
    assert storescu(listener.port, [good], "-xi") == (0, [OK])


def test_calling_ae_not_on_the_allow_list_is_rejected(
    settings: Settings, db: Database, shared_data: Path
) -> None:
    running = start_listener(
        settings.model_copy(update={"dicom_allowed_ae_titles": ["MODALITY1", "PACS"]}), db
    )
    try:
        good = shared_data / "cxr/udacity_nih_test3.dcm"
        code, lines = storescu(running.port, [good], "-xi", aet="INTRUDER")
        assert code != 0
        assert any("Association Rejected" in line for line in lines), lines
        echo = subprocess.run(
            [dcmtk("echoscu"), "-aet", "INTRUDER", "-aec", "RADQC", "127.0.0.1", str(running.port)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert echo.returncode != 0
        assert db_state(db) == DbState(0, 0, 0)
        code, lines = storescu(running.port, [good], "-xi", aet="PACS")
        assert (code, lines) == (0, [OK])
        assert db_state(db) == DbState(1, 1, 1)
        (row,) = stored_instances(db, dcmread(good, stop_before_pixels=True).SOPInstanceUID)
        assert row.calling_ae == "PACS"
    finally:
        running.scp.stop(timeout=5)


@pytest.mark.parametrize("required", [True, False])
def test_storescu_calling_another_ae_title(
    settings: Settings, db: Database, shared_data: Path, required: bool
) -> None:
    """``storescu -aec ANYTHING`` is refused unless the called AE title is not required."""
    good = shared_data / "cxr/udacity_nih_test3.dcm"
    with listening(settings, db, dicom_require_called_ae_title=required) as running:
        code, lines = storescu(running.port, [good], "-xi", aec="ANYTHING")
        if required:
            assert code != 0
            assert "F: Reason: Called AE Title Not Recognized" in lines, lines
            assert db_state(db) == DbState(0, 0, 0)
        else:
            assert (code, lines) == (0, [OK])
            assert db_state(db) == DbState(1, 1, 1)
