"""Ingest benchmark: radqc's DICOM listener against DCMTK's storescp and Orthanc, in the same run.

DCMTK's storescu sends 200 chest X-rays of about 10 MB each (the NEMA WG04 CR chest PA, padded to
2500x2048 16-bit, each copy with its own Study/Series/SOP Instance UIDs) over one association, then
over 4 concurrent associations (4 storescu processes, 50 files each), to:

- radqc: ``radqc listen`` in its own process (SQLite, RADQC_WORKERS=0). A file counts once it is
  durable (fsynced) and its row and QC job are committed; the counts are read from the database
  after each run.
- DCMTK ``storescp +B`` (bit-preserving) with TCP_NODELAY=1: the fair baseline (see NOTES.md).
  It writes each file but does not fsync it.
- the same with ``sync FILE`` run before each C-STORE response (``--exec-on-reception
  --exec-sync``): storescp with the durability radqc promises (plus a process spawn per file).
- a bare pynetdicom SCP configured like radqc's (bench/ingest/pynetdicom_scp.py) that writes the
  received bytes as storescp +B does: the ceiling of the stack radqc's listener is built on.
- Orthanc (Debian's package, installed here when missing: bench/ingest/orthanc.py) with
  TCP_NODELAY=1, as durable as it can be configured (fsync of each file, SQLite index committed
  per instance): the peer a hospital would otherwise put there. Counted by its REST
  ``/statistics`` and its storage folder.
- radqc with 4 listener processes (``RADQC_DICOM_LISTENER_PROCESSES=4``), on 4 associations only.

The issue 13 targets are printed as ratios of this one run's medians.

Usage: ``.venv/bin/python bench/ingest/run.py [--files 200] [--repeats 3] [--keep]
[--only RECEIVER ...] [--associations 1 4]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom import dcmread
from pydicom.uid import generate_uid

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # when run as a script
from bench.ingest import orthanc

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("RADQC_SHARED_DIR", REPO.parent / "shared"))
SOURCE = SHARED / "data/cxr/pydicom-data_RG1_UNCR_CR_chest_PA.dcm"
RADQC = REPO / ".venv/bin/radqc"
DCMTK = Path("/usr/bin")
TARGET_SHAPE = (2048, 2500)  # rows, columns: 10.24 MB of 16-bit pixels, as in NOTES.md
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Result:
    receiver: str
    associations: int
    files: int
    stored: int
    seconds: float
    megabytes: float
    cpu_seconds: float

    @property
    def files_per_second(self) -> float:
        return self.files / self.seconds

    @property
    def mb_per_second(self) -> float:
        return self.megabytes / self.seconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_files(folder: Path, count: int) -> list[Path]:
    """``count`` CXR-sized DICOM files, each with new Study/Series/SOP Instance UIDs."""
    ds = dcmread(SOURCE)
    pixels = ds.pixel_array
    rows, columns = TARGET_SHAPE
    pad = ((0, max(0, rows - pixels.shape[0])), (0, max(0, columns - pixels.shape[1])))
    padded = np.pad(pixels, pad, mode="edge")[:rows, :columns]
    ds.Rows, ds.Columns = padded.shape
    ds.PixelData = padded.astype(pixels.dtype).tobytes()
    paths = []
    for index in range(count):
        ds.StudyInstanceUID = generate_uid()
        ds.SeriesInstanceUID = generate_uid()
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        path = folder / f"cxr{index:04d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def wait_for_echo(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        echo = subprocess.run(
            [str(DCMTK / "echoscu"), "-aec", "RADQC", "127.0.0.1", str(port)],
            capture_output=True,
            check=False,
        )
        if echo.returncode == 0:
            return
        if process.poll() is not None:
            raise RuntimeError(f"the receiver exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError("the receiver did not answer C-ECHO")
        time.sleep(0.2)


def cpu_seconds(pid: int) -> float:
    """CPU time of ``pid`` and of its running children (the extra listener processes)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    total = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            children = (task / "children").read_text().split()
        except FileNotFoundError:  # the thread (an association's) ended meanwhile
            continue
        for child in children:
            try:
                total += cpu_seconds(int(child))
            except FileNotFoundError:  # it exited meanwhile
                continue
    return total


@contextmanager
def running(
    command: list[str], env: dict[str, str], log: Path, port: int
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=log.parent
        )  # not the repo: no stray .env file
        try:
            wait_for_echo(port, process)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def radqc(
    work: Path, *, processes: int = 1
) -> Iterator[tuple[int, subprocess.Popen[bytes], Callable[[], int]]]:
    data = work / "radqc-data"
    data.mkdir()  # `radqc listen` waits for its database folder to exist before migrating
    port = free_port()
    env = dict(
        os.environ,
        RADQC_DATA_DIR=str(data),
        RADQC_DICOM_PORT=str(port),
        RADQC_WORKERS="0",
        RADQC_DATABASE_URL="",
        RADQC_DICOM_ALLOWED_AE_TITLES="",
        RADQC_DICOM_LISTENER_PROCESSES=str(processes),
    )
    database = data / "radqc.sqlite3"

    def committed() -> int:
        """Instances whose row and QC job are committed (and whose file exists)."""
        with sqlite3.connect(database) as conn:
            rows = conn.execute(
                "SELECT i.path FROM instances i JOIN items t ON t.instance_id = i.id "
                "JOIN jobs j ON j.item_id = t.id AND j.kind = 'qc'"
            ).fetchall()
        return sum(1 for (path,) in rows if (data / "dicom" / path).is_file())

    with running([str(RADQC), "listen"], env, work / "radqc.log", port) as process:
        if processes > 1:  # C-ECHO answered by one of them: wait for the others too
            wait_for_log(work / "radqc.log", "listening on", processes)
        yield port, process, committed


@contextmanager
def radqc_2_processes(
    work: Path,
) -> Iterator[tuple[int, subprocess.Popen[bytes], Callable[[], int]]]:
    with radqc(work, processes=2) as receiver:
        yield receiver


@contextmanager
def radqc_4_processes(
    work: Path,
) -> Iterator[tuple[int, subprocess.Popen[bytes], Callable[[], int]]]:
    with radqc(work, processes=4) as receiver:
        yield receiver


def wait_for_log(log: Path, text: str, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while log.read_text(errors="replace").count(text) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{count} x {text!r} not in {log} after {timeout} s")
        time.sleep(0.2)


@contextmanager
def storescp(
    work: Path, *, fsync: bool = False
) -> Iterator[tuple[int, subprocess.Popen[bytes], Callable[[], int]]]:
    out = work / "storescp-data"
    out.mkdir()
    port = free_port()
    env = dict(os.environ, TCP_NODELAY="1")
    command = [str(DCMTK / "storescp"), "+B", "-aet", "RADQC", "-od", str(out), str(port)]
    if fsync:
        # `sync FILE` fsyncs the received file; --exec-sync runs it before the C-STORE response
        # is sent (checked: "-xcr 'sleep 0.2' -xs" holds every response back 0.2 s).
        command[1:1] = ["--exec-on-reception", "sync #p/#f", "--exec-sync"]
    with running(command, env, work / "storescp.log", port) as process:
        yield port, process, lambda: sum(1 for path in out.iterdir() if path.is_file())


@contextmanager
def storescp_fsync(work: Path) -> Iterator[tuple[int, subprocess.Popen[bytes], Callable[[], int]]]:
    with storescp(work, fsync=True) as receiver:
        yield receiver


@contextmanager
def bare_pynetdicom(work: Path) -> Iterator[tuple[int, subprocess.Popen[bytes], Callable[[], int]]]:
    out = work / "pynetdicom-data"
    out.mkdir()
    port = free_port()
    command = [
        sys.executable,
        str(Path(__file__).with_name("pynetdicom_scp.py")),
        str(port),
        str(out),
    ]
    with running(command, dict(os.environ), work / "pynetdicom.log", port) as process:
        yield port, process, lambda: sum(1 for path in out.iterdir() if path.is_file())


@contextmanager
def orthanc_receiver(
    work: Path,
) -> Iterator[tuple[int, subprocess.Popen[bytes], Callable[[], int]]]:
    """Orthanc in its own process, its configuration, storage and index in ``work/orthanc``."""
    folder = work / "orthanc"
    port, http_port = free_port(), free_port()
    config = orthanc.write_config(folder, port, http_port)
    command = orthanc.command(config)
    with running(command, orthanc.environment(), work / "orthanc.log", port) as process:
        orthanc.wait_for_http(http_port, process)
        yield port, process, lambda: orthanc.stored(folder, http_port)


RECEIVERS = {
    "radqc": radqc,
    "radqc 2 procs": radqc_2_processes,
    "radqc 4 procs": radqc_4_processes,
    "storescp +B": storescp,
    "storescp +B+fsync": storescp_fsync,
    "pynetdicom +B": bare_pynetdicom,
    "Orthanc": orthanc_receiver,
}
# Measured with several associations only: one sender is served by one listener process.
ONLY_CONCURRENT = {"radqc 4 procs"}


def send(port: int, files: list[Path], associations: int) -> None:
    """``associations`` concurrent storescu processes share ``files`` equally."""
    batches = [files[index::associations] for index in range(associations)]
    processes = [
        subprocess.Popen(
            [str(DCMTK / "storescu"), "-aec", "RADQC", "127.0.0.1", str(port), *map(str, batch)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for batch in batches
    ]
    for process in processes:
        _, errors = process.communicate(timeout=600)
        if process.returncode != 0:
            raise RuntimeError(f"storescu failed: {errors.decode(errors='replace')[-500:]}")


def measure(
    receiver: str, files: list[Path], associations: int, work: Path, keep: bool = False
) -> Result:
    work.mkdir()
    try:
        with RECEIVERS[receiver](work) as (port, process, count):
            cpu_before = cpu_seconds(process.pid)
            started = time.perf_counter()
            send(port, files, associations)
            seconds = time.perf_counter() - started
            cpu = cpu_seconds(process.pid) - cpu_before
            stored = count()
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    megabytes = sum(path.stat().st_size for path in files) / 1e6
    return Result(receiver, associations, len(files), stored, seconds, megabytes, cpu)


def loadavg() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def median(results: list[Result]) -> Result:
    return sorted(results, key=lambda result: result.seconds)[len(results) // 2]


def ratio(
    results: dict[tuple[str, int], list[Result]], ours: tuple[str, int], theirs: tuple[str, int]
) -> float | None:
    """The ratio of two rows' median files/s, None when either row was not measured."""
    if ours not in results or theirs not in results:
        return None
    return median(results[ours]).files_per_second / median(results[theirs]).files_per_second


# Issue 13's ingest targets: (label, numerator row, denominator row, at least).
TARGETS = [
    ("radqc / pynetdicom +B, 1 assoc", ("radqc", 1), ("pynetdicom +B", 1), 0.8),
    ("radqc 4 procs 4 assocs / radqc 1 proc 1 assoc", ("radqc 4 procs", 4), ("radqc", 1), 2.5),
    ("radqc / Orthanc, 1 assoc", ("radqc", 1), ("Orthanc", 1), 1.0),
    ("radqc / Orthanc, 4 assocs", ("radqc", 4), ("Orthanc", 4), 1.0),
    ("radqc 4 procs / Orthanc, 4 assocs", ("radqc 4 procs", 4), ("Orthanc", 4), 1.0),
]


def report(results: dict[tuple[str, int], list[Result]]) -> None:
    print()
    print(
        f"{'receiver':<17} {'assocs':>6} {'files':>5} {'stored':>6} {'files/s':>8} "
        f"{'MB/s':>7} {'CPU ms/file':>11} {'runs (files/s)':<24}"
    )
    for (receiver, associations), runs in sorted(results.items(), key=lambda item: item[0][1]):
        best = median(runs)
        spread = ", ".join(f"{run.files_per_second:.1f}" for run in runs)
        print(
            f"{receiver:<17} {associations:>6} {best.files:>5} {best.stored:>6} "
            f"{best.files_per_second:>8.1f} {best.mb_per_second:>7.1f} "
            f"{best.cpu_seconds / best.files * 1000:>11.1f} {spread:<24}"
        )
    print()
    for associations in sorted({key[1] for key in results}):
        for ours_name in (name for name in RECEIVERS if name.startswith("radqc")):
            for baseline in (name for name in RECEIVERS if not name.startswith("radqc")):
                value = ratio(results, (ours_name, associations), (baseline, associations))
                if value is not None:
                    print(f"{ours_name} / {baseline}, {associations} association(s): {value:.2f}x")
    print()
    print("targets (issue 13), medians of this run:")
    for label, ours, theirs, target in TARGETS:
        value = ratio(results, ours, theirs)
        if value is None:
            print(f"  {label}: not measured")
        else:
            verdict = "met" if value >= target else "NOT met"
            print(f"  {label}: {value:.2f}x (target >= {target}x: {verdict})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the temporary folder (inputs, received files, logs)",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=list(RECEIVERS),
        metavar="RECEIVER",
        help=f"measure only this receiver (repeatable): {', '.join(RECEIVERS)}",
    )
    parser.add_argument(
        "--associations",
        type=int,
        nargs="+",
        default=[1, 4],
        help="concurrent associations to measure (default: 1 4)",
    )
    args = parser.parse_args(argv)
    receivers = [name for name in RECEIVERS if not args.only or name in args.only]
    for tool in ("storescu", "storescp", "echoscu"):
        if not (DCMTK / tool).is_file():
            print(f"DCMTK's {DCMTK / tool} is missing (apt-get install dcmtk)", file=sys.stderr)
            return 2
    if "Orthanc" in receivers:
        try:
            seconds = orthanc.ensure_installed()
        except orthanc.OrthancUnavailableError as exc:
            print(f"Orthanc: {exc}", file=sys.stderr)
            return 2
        if seconds:
            print(f"installed Debian's orthanc in {seconds:.0f} s (its service stopped, disabled)")
        print(f"{orthanc.version()}: {orthanc.DURABILITY}", flush=True)
    temp = Path(tempfile.mkdtemp(prefix="radqc-bench-"))
    try:
        print(f"load average at start: {loadavg()}", flush=True)
        print(f"making {args.files} files in {temp} ...", flush=True)
        (temp / "input").mkdir()
        files = make_files(temp / "input", args.files)
        size = files[0].stat().st_size / 1e6
        print(f"{len(files)} files of {size:.2f} MB, {len(files) * size:.0f} MB in all", flush=True)
        results: dict[tuple[str, int], list[Result]] = {}
        for associations in args.associations:
            for repeat in range(args.repeats):  # interleaved, so load changes hit both alike
                for receiver in receivers:
                    if associations == 1 and receiver in ONLY_CONCURRENT:
                        continue
                    slug = "".join(c if c.isalnum() else "-" for c in receiver)
                    work = temp / f"{slug}-{associations}-{repeat}"
                    result = measure(receiver, files, associations, work, args.keep)
                    results.setdefault((receiver, associations), []).append(result)
                    print(
                        f"  {receiver:<17} {associations} assoc run {repeat + 1}: "
                        f"{result.files_per_second:6.1f} files/s, {result.stored} stored",
                        flush=True,
                    )
        report(results)
        print(f"load average at end: {loadavg()}")
        incomplete = [r for runs in results.values() for r in runs if r.stored != r.files]
        if incomplete:
            print(f"WARNING: {len(incomplete)} run(s) stored fewer files than were sent")
            return 1
    finally:
        if args.keep:
            print(f"kept {temp}")
        else:
            shutil.rmtree(temp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
