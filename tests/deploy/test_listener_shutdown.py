"""`radqc listen` as the listener pod runs it, stopped as Kubernetes stops it (SIGTERM after the
preStop hook): it refuses new associations at once, lets those in progress go on storing, and
exits within the pod's terminationGracePeriodSeconds even when a sender never lets go.

The measured time is printed (pytest -s) and recorded as the test's ``drain_seconds``
property; deploy/README.md quotes it."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pydicom import dcmread
from pynetdicom import AE
from pynetdicom.association import Association
from sqlalchemy import func, select

from dicom_listener.server import StorageSCP
from service.db import Database
from service.models import Instance
from tests.deploy.manifests import Resource, named, pod_spec, prestop_sleep_seconds
from tests.deploy.pods import container, pod_environment, start, stop, wait_for_log
from tests.dicom_listener.samples import copy_with_new_uids
from tests.support.servers import free_port

SOURCE = "txv_siim_1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm"


class Pod:
    def __init__(self, proc: subprocess.Popen[bytes], port: int, log: Path, url: str) -> None:
        self.proc, self.port, self.log, self.url = proc, port, log, url

    def associate(self, sample: Path) -> Association:
        ds = dcmread(sample, stop_before_pixels=True)
        ae = AE(ae_title="PACS1")
        ae.acse_timeout = ae.dimse_timeout = 30
        ae.network_timeout = 600  # this sender never gives up by itself
        ae.add_requested_context(ds.SOPClassUID, [ds.file_meta.TransferSyntaxUID])
        return ae.associate("127.0.0.1", self.port, ae_title="RADQC")

    def terminate(self) -> float:
        """SIGTERM, as the kubelet sends it once the preStop hook is done; its time."""
        self.proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        wait_for_log(self.proc, self.log, r"received SIGTERM, shutting down", timeout=10)
        return started

    def stored(self) -> int:
        db = Database(self.url)
        try:
            with db.reader() as session:
                return int(session.scalar(select(func.count(Instance.id))) or 0)
        finally:
            db.dispose()


@pytest.fixture
def pod(configured: list[Resource], tmp_path: Path, sqlite_template: Path) -> Iterator[Pod]:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(sqlite_template, data / "radqc.sqlite3")
    url = f"sqlite:///{data / 'radqc.sqlite3'}"
    port = free_port()
    env = pod_environment(
        configured,
        container(configured, "radqc-listener"),
        {
            "RADQC_DATA_DIR": str(data),
            "RADQC_DATABASE_URL": url,
            "RADQC_DICOM_HOST": "127.0.0.1",
            "RADQC_DICOM_PORT": str(port),
        },
    )
    log = tmp_path / "listen.log"
    proc = start(container(configured, "radqc-listener"), env, log)
    try:
        wait_for_log(proc, log, r"Storage SCP \S+ listening on")
        yield Pod(proc, port, log, url)
    finally:
        stop(proc)


@pytest.fixture
def samples(tmp_path: Path, shared_data: Path) -> Callable[[], Path]:
    count = iter(range(1000))

    def fresh() -> Path:
        return copy_with_new_uids(shared_data / "cxr" / SOURCE, tmp_path / f"{next(count)}.dcm")

    return fresh


def _budget(configured: list[Resource]) -> tuple[float, float]:
    """(the grace period, the preStop hook's share of it)."""
    listener = named(configured, "Deployment", "radqc-listener")
    grace = float(pod_spec(listener)["terminationGracePeriodSeconds"])  # type: ignore[index]
    return grace, prestop_sleep_seconds(container(configured, "radqc-listener"))


def test_an_association_in_progress_finishes_and_the_listener_exits_after_it(
    pod: Pod, samples: Callable[[], Path], record_property: Callable[[str, object], None]
) -> None:
    sender = pod.associate(samples())
    assert sender.is_established
    pod.terminate()
    assert int(sender.send_c_store(samples()).Status) == 0, "stores go on while draining"
    newcomer = pod.associate(samples())
    assert not newcomer.is_established, "no new association once SIGTERM has arrived"
    sender.release()
    released = time.monotonic()
    assert pod.proc.wait(timeout=30) == 0
    after_release = time.monotonic() - released
    record_property("exit_after_release_seconds", round(after_release, 1))
    print(f"\nlistener exit after the last sender released: {after_release:.1f} s")
    assert after_release < 15
    assert pod.stored() == 1


def test_a_sender_that_never_lets_go_is_cut_off_within_the_grace_period(
    configured: list[Resource],
    pod: Pod,
    samples: Callable[[], Path],
    record_property: Callable[[str, object], None],
) -> None:
    """The worst case: an association held open and idle. The listener waits its drain timeout
    for it, aborts it (the sender retries what was not acknowledged) and exits, preStop included,
    inside the grace period."""
    grace, prestop = _budget(configured)
    sender = pod.associate(samples())
    assert sender.is_established
    assert int(sender.send_c_store(samples()).Status) == 0
    started = pod.terminate()
    assert pod.proc.wait(timeout=grace) == 0
    drain = time.monotonic() - started
    record_property("drain_seconds", round(drain, 1))
    print(f"\nlistener drain with an idle association held open: {drain:.1f} s")
    timeout = StorageSCP.stop.__defaults__[0]  # type: ignore[index]
    assert drain >= timeout - 1, "it waited for the association in progress"
    assert prestop + drain <= grace - 5, f"preStop {prestop:.0f} s + {drain:.1f} s > {grace:.0f} s"
    assert "aborted 1 association(s) still open" in pod.log.read_text()
    assert pod.stored() == 1
    assert sender.is_aborted or not sender.is_established
