"""Fuzz a running ``radqc listen`` (issue 10): malformed datasets and hostile connections.

Starts ``radqc listen`` on a free loopback port, in a temporary data folder with SQLite, with short
ACSE and network timeouts, then:

1. sends ``--datasets`` cases from tests/dicom_listener/fuzzing.py (real chest images, each
   mutated once by a seeded generator) over reused pynetdicom associations;
2. opens ``--connections`` raw connections of every kind in tests/dicom_listener/fuzz_peers.py
   (garbage, cut-short and flipped A-ASSOCIATE-RQs, half-open, silent, one byte at a time, hostile
   commands, stalled PDUs, well-behaved ones), from 40 loopback addresses, 16 at a time;
3. checks the listener process is still running and still stores a valid image, and that the
   store and the database agree (no row without its file, no file without its row, every stored
   case exactly the bytes sent).

It prints the counts: statuses of the datasets (with the malformed ones answered with success,
which must be 0), what the listener did with each kind of connection (the held kinds must all be
"closed by listener"), crashes (0), and the time taken. Exit status 1 when a check fails.

Usage: .venv/bin/python bench/fuzz/dicom.py [--datasets 10000] [--connections 2000] [--seed 1]
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[0] = str(ROOT)  # runnable as a script: the repository, not this folder, comes first

from pynetdicom import AE, _config  # noqa: E402
from sqlalchemy import select  # noqa: E402

from service.db import Database  # noqa: E402
from service.migrate import upgrade  # noqa: E402
from service.models import Instance  # noqa: E402
from tests.dicom_listener import raw  # noqa: E402
from tests.dicom_listener.conftest import pynetdicom_store  # noqa: E402
from tests.dicom_listener.fuzz_peers import HELD, Limits, run_connections, send_cases  # noqa: E402
from tests.dicom_listener.fuzzing import cases, load_bases, valid_case  # noqa: E402
from tests.support.servers import free_port  # noqa: E402

DATA = Path(os.environ.get("RADQC_SHARED_DIR", ROOT.parent / "shared")) / "data"
LIMITS = Limits(acse_timeout=1, network_timeout=2)
_EXCEPTION_LINE = re.compile(r"[A-Z]\w*(Error|Exception)(: |$)")  # a traceback's last line


def start_listener(folder: Path, port: int) -> subprocess.Popen[bytes]:
    url = f"sqlite:///{folder / 'radqc.sqlite3'}"
    upgrade(url)
    env = dict(os.environ)
    env.pop("RADQC_SUPERVISOR_PID", None)
    env.update(
        RADQC_DATA_DIR=str(folder),
        RADQC_DATABASE_URL=url,
        RADQC_DICOM_PORT=str(port),
        RADQC_DICOM_ACSE_TIMEOUT_SECONDS=str(LIMITS.acse_timeout),
        RADQC_DICOM_NETWORK_TIMEOUT_SECONDS=str(LIMITS.network_timeout),
        RADQC_API_TOKENS="admin:admin-token-01234567890",
        RADQC_LOG_LEVEL="WARNING",
    )
    log = (folder / "listen.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "listen"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while not answers_echo(port):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            raise RuntimeError("radqc listen did not start: see " + str(folder / "listen.log"))
        time.sleep(0.2)
    return process


def answers_echo(port: int) -> bool:
    ae = AE(ae_title="FUZZSCU")
    ae.add_requested_context("1.2.840.10008.1.1")
    assoc = ae.associate("127.0.0.1", port, ae_title="RADQC")
    if not assoc.is_established:
        return False
    status = assoc.send_c_echo()
    assoc.release()
    return bool(status.get("Status") == 0)


def consistent(folder: Path, stored: dict[str, bytes]) -> list[str]:
    """Problems between the store, the database and what was answered with success."""
    db = Database(f"sqlite:///{folder / 'radqc.sqlite3'}")
    try:
        with db.reader() as session:
            found = session.execute(select(Instance.sop_instance_uid, Instance.path))
            rows = {row.sop_instance_uid: row.path for row in found}
    finally:
        db.dispose()
    store = folder / "dicom"
    on_disk = {p.relative_to(store).as_posix() for p in store.glob("??/??/*.dcm")}
    problems = [f"file without a row: {p}" for p in sorted(on_disk - set(rows.values()))]
    problems += [f"row without a file: {p}" for p in sorted(set(rows.values()) - on_disk)]
    for uid, data in stored.items():
        if uid not in rows or (store / rows[uid]).read_bytes() != data:
            problems.append(f"answered success but not stored as sent: {uid}")
    return problems


def thread_deaths(log: str) -> Counter[str]:
    """The exceptions that ended a thread, as threading's hook printed them in the log."""
    deaths: Counter[str] = Counter()
    lines = log.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("Exception in thread"):
            # the traceback's first unindented line; another thread's log line may cut in
            ending = next((x for x in lines[index + 2 :] if x and not x[0].isspace()), "?")
            deaths[ending if _EXCEPTION_LINE.match(ending) else "(traceback interleaved)"] += 1
    return deaths


def print_counts(title: str, counts: Counter[str]) -> None:
    print(f"{title}: {sum(counts.values())}")
    for key, count in sorted(counts.items()):
        print(f"  {count:6d}  {key}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    _config.STORE_SEND_CHUNKED_DATASET = True  # send each case's bytes exactly as built
    logging.getLogger("pynetdicom").setLevel(logging.CRITICAL)  # the sender's side: noise here
    warnings.simplefilter("ignore")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="radqc-fuzz-") as tmp:
        folder = Path(tmp)
        port = free_port()
        listener = start_listener(folder, port)
        try:
            failures = run(folder, port, args)
            crashes = 0 if listener.poll() is None else 1
        finally:
            listener.terminate()
            listener.wait(timeout=60)
        log = (folder / "listen.log").read_text(errors="replace")
    internal = log.count("failed unexpectedly") + len(
        re.findall(r'File ".*/(dicom_listener|service)/', log)
    )
    lost_threads = thread_deaths(log)
    if internal:
        failures.append(f"{internal} internal errors in the listener's log")
    print(f"crashes={crashes}")
    print(f"internal errors in radqc (0xC211, tracebacks in its modules): {internal}")
    print_counts("association threads that died of an uncaught pynetdicom error", lost_threads)
    print(f"time: {time.monotonic() - started:.1f} s")
    for failure in failures:
        print("FAILED:", failure)
    return 1 if failures or crashes else 0


def run(folder: Path, port: int, args: argparse.Namespace) -> list[str]:
    bases = load_bases(DATA)
    clock = time.monotonic()
    results = send_cases(port, cases(bases, args.datasets, args.seed), folder, 100)
    print(
        f"datasets sent: {args.datasets} ({results.malformed} malformed by construction), "
        f"{results.associations} associations, {time.monotonic() - clock:.1f} s"
    )
    print_counts("  statuses", results.statuses)
    print(f"  malformed answered with success: {len(results.wrongly_stored)}")
    clock = time.monotonic()
    outcomes = run_connections(port, args.connections, args.seed, raw.loopback(2, 40), LIMITS)
    print(f"connections: {args.connections}, {time.monotonic() - clock:.1f} s")
    print_counts("  outcomes", outcomes)
    valid = valid_case(bases[0], 10**9)
    (folder / "valid.dcm").write_bytes(valid.file_bytes())
    failures = consistent(folder, {c.sop_instance_uid: c.file_bytes() for c in results.stored})
    if pynetdicom_store(port, [folder / "valid.dcm"]) != [0x0000]:
        failures.append("a valid image is not stored afterwards")
    failures += [f"malformed stored: {c.mutation} #{c.index}" for c in results.wrongly_stored]
    failures += [
        f"{n} x {outcome}"
        for outcome, n in outcomes.items()
        if outcome.split(":")[0] in HELD and not outcome.endswith("closed by listener")
    ]
    return failures


if __name__ == "__main__":
    sys.exit(main())
