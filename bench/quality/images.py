"""Image QC quality, measured through the running service.

Builds cases from the real chest radiographs in ../shared/data/cxr (each degraded with one
error from bench/quality/degrade.py, about 40 % left clean), starts ``radqc serve`` on free
ports in a temporary data folder, sends every case with pynetdicom C-STORE, polls
``GET /api/v1/items`` until every item is done, and prints per-code precision, recall and F1,
the macro-F1 over the codes the generator covers, the detection rate and the false-flag rate
on clean images.

Bases are split: thresholds were set by looking at ``TUNE`` (and, to be plain, the feature
table of all six distinct images was seen while choosing them); the report is on ``HELD_OUT``
with seeds never used while tuning. The base images' own header faults (the NIH conversions
lack ViewPosition, for example) are real ``cxr.metadata`` errors: they are part of every
case's truth for that base, taken from the engine's header checks on the untouched file.

Usage: .venv/bin/python bench/quality/images.py [--cases 120] [--seed 7] [--all-bases | --tune]
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from pydicom import dcmread
from pydicom.uid import ExplicitVRLittleEndian
from pynetdicom import AE
from pynetdicom.sop_class import (
    ComputedRadiographyImageStorage,
    DigitalXRayImageStorageForPresentation,
    SecondaryCaptureImageStorage,
)

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.quality.degrade import DEGRADATIONS, apply  # noqa: E402
from service.engines.rules import RulesEngine  # noqa: E402
from service.engines.rules.image_checks import HEADER_CHECKS  # noqa: E402
from tests.service.engines.support import image_input  # noqa: E402

DATA = Path(os.environ.get("RADQC_SHARED_DIR", ROOT.parent / "shared")) / "data" / "cxr"
TUNE = {
    "rg1": "pydicom-data_RG1_UNCR_CR_chest_PA.dcm",
    "test1": "udacity_nih_test1.dcm",
    "siim": "txv_siim_1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm",
}
HELD_OUT = {
    "orthanc": "orthanc_Issue44_Monochrome1-Jpeg_CR.dcm",
    "test2": "udacity_nih_test2.dcm",
    "test3": "udacity_nih_test3.dcm",
    "tfio": "tfio_nih_dicom_00000001_000.dcm",
    "rg1_j2kr": "pydicom-data_RG1_J2KR_CR_chest_PA.dcm",
}
CLEAN_SHARE = 0.4


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def base_truth(path: Path) -> set[str]:
    """Codes the untouched base already carries from its header (real faults)."""
    item = image_input(path)
    return {f.code for check in HEADER_CHECKS for f in check(item)}


def build_cases(
    bases: dict[str, str], n: int, seed: int, out: Path
) -> list[tuple[str, str, set[str]]]:
    rng = np.random.default_rng(seed)
    names = list(DEGRADATIONS)
    loaded = {}
    for key, name in bases.items():
        ds = dcmread(DATA / name)
        loaded[key] = (ds, ds.pixel_array, base_truth(DATA / name))
    cases = []
    for index in range(n):
        key = list(loaded)[index % len(loaded)]
        ds, pixels, truth = loaded[key]
        degradation = None if rng.random() < CLEAN_SHARE else str(rng.choice(names))
        case = apply(ds, pixels, degradation, rng)
        path = out / f"case{index:04d}.dcm"
        case.save_as(path, enforce_file_format=True)
        codes = set(truth)
        if degradation is not None:
            codes.add(DEGRADATIONS[degradation][0])
        cases.append((str(case.SOPInstanceUID), f"{key}:{degradation or 'clean'}", codes))
    return cases


def send(paths: list[Path], port: int) -> None:
    ae = AE(ae_title="BENCH")
    ae.maximum_pdu_size = 0
    for sop in (
        ComputedRadiographyImageStorage,
        DigitalXRayImageStorageForPresentation,
        SecondaryCaptureImageStorage,
    ):
        ae.add_requested_context(sop, [ExplicitVRLittleEndian])
    for _ in range(50):
        assoc = ae.associate("127.0.0.1", port, ae_title="RADQC")
        if assoc.is_established:
            break
        time.sleep(0.5)
    if not assoc.is_established:
        raise SystemExit("association rejected")
    for path in paths:
        status = assoc.send_c_store(dcmread(path))
        if getattr(status, "Status", None) != 0:
            print("store failed", path.name, status)
    assoc.release()


def poll(base: str, token: str, expected: int, timeout: float = 600) -> dict[str, set[str]]:
    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found: dict[str, set[str]] = {}
        done = 0
        cursor = None
        while True:
            params: dict[str, str | int] = {"kind": "image", "limit": 200}
            if cursor:
                params["cursor"] = cursor
            page = httpx.get(f"{base}/api/v1/items", params=params, headers=headers).json()
            for item in page["items"]:
                done += item["status"] == "done"
                found[item["sop_instance_uid"]] = {
                    f["code"] for f in item["findings"] if f["code"] != "qc.summary"
                }
            cursor = page.get("next_cursor")
            if not cursor:
                break
        if done >= expected:
            return found
        time.sleep(1.0)
    raise SystemExit("timed out waiting for the service")


def report(
    cases: list[tuple[str, str, set[str]]],
    found: dict[str, set[str]],
    bases_truth: dict[str, set[str]],
) -> None:
    covered = sorted({code for code, _ in DEGRADATIONS.values()})
    print(f"{'code':20s} {'tp':>4s} {'fp':>4s} {'fn':>4s} {'prec':>6s} {'rec':>6s} {'f1':>6s}")
    f1s = []
    for code in covered:
        tp = sum(1 for uid, _, t in cases if code in t and code in found.get(uid, set()))
        fp = sum(1 for uid, _, t in cases if code not in t and code in found.get(uid, set()))
        fn = sum(1 for uid, _, t in cases if code in t and code not in found.get(uid, set()))
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        f1s.append(f1)
        print(f"{code:20s} {tp:4d} {fp:4d} {fn:4d} {p:6.2f} {r:6.2f} {f1:6.2f}")
    print(f"macro-F1 over {len(covered)} codes: {sum(f1s) / len(f1s):.3f}")
    errors = [(uid, t, label) for uid, label, t in cases if not label.endswith("clean")]
    clean = [(uid, t, label) for uid, label, t in cases if label.endswith("clean")]
    # Detected: the injected error's code was found, or any code the untouched base does not
    # carry (every base's own header faults are in every case's truth, so they do not count).
    detected = sum(
        1
        for uid, t, label in errors
        if DEGRADATIONS[label.split(":")[1]][0] in found.get(uid, set())
        or found.get(uid, set()) - bases_truth[label.split(":")[0]]
    )
    print(f"detection rate: {detected}/{len(errors)} = {detected / max(1, len(errors)):.2f}")
    false = [label for uid, t, label in clean if found.get(uid, set()) - t]
    print(
        f"false-flag rate on clean images: {len(false)}/{len(clean)} = "
        f"{len(false) / max(1, len(clean)):.2f}"
    )
    misses: dict[str, int] = {}
    for uid, label, t in cases:
        if not label.endswith("clean") and not (
            found.get(uid, set()) & t & set(covered) - {"cxr.metadata"} or "header" in label
        ):
            misses[label.split(":")[1]] = misses.get(label.split(":")[1], 0) + 1
    print("missed by degradation:", dict(sorted(misses.items())))
    extra: dict[str, dict[str, int]] = {}
    for uid, label, t in cases:
        for code in sorted(found.get(uid, set()) - t):
            by_code = extra.setdefault(label.split(":")[1], {})
            by_code[code] = by_code.get(code, 0) + 1
    print("false flags by degradation:", dict(sorted(extra.items())))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=120)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--all-bases", action="store_true")
    parser.add_argument("--tune", action="store_true", help="the tuning bases only")
    args = parser.parse_args()
    bases = {**TUNE, **HELD_OUT} if args.all_bases else TUNE if args.tune else HELD_OUT
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "cases").mkdir()
        t0 = time.monotonic()
        cases = build_cases(bases, args.cases, args.seed, work / "cases")
        print(f"built {len(cases)} cases from {sorted(bases)} in {time.monotonic() - t0:.1f}s")
        token = secrets.token_hex(16)
        http, dicom = free_port(), free_port()
        env = {
            **os.environ,
            "RADQC_DATA_DIR": str(work / "data"),
            "RADQC_HTTP_PORT": str(http),
            "RADQC_DICOM_PORT": str(dicom),
            "RADQC_API_TOKENS": f"reader:{token}",
            "RADQC_WORKERS": "2",
        }
        radqc = str(ROOT / ".venv" / "bin" / "radqc")
        server = subprocess.Popen(
            [radqc, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            base = f"http://127.0.0.1:{http}"
            for _ in range(100):
                try:
                    if httpx.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.3)
            t1 = time.monotonic()
            send(sorted((work / "cases").iterdir()), dicom)
            found = poll(base, token, len(cases))
            print(f"sent and reviewed in {time.monotonic() - t1:.1f}s")
        finally:
            server.terminate()
            server.wait(timeout=30)
        report(cases, found, {key: base_truth(DATA / name) for key, name in bases.items()})


if __name__ == "__main__":
    RulesEngine()  # imports resolved before the server starts
    main()
