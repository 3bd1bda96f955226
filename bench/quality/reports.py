"""Report-quality benchmark: known errors in real reports, through the running service.

Builds cases with :mod:`bench.quality.inject` (every report code, several surface forms each,
about 40% clean), starts ``radqc serve`` in a subprocess (temporary data folder, free ports,
two workers), PUTs each case as a FHIR DiagnosticReport (contained Patient with the gender,
``code`` for the exam), polls ``GET /api/v1/items?kind=report`` until every item is done, and
prints per code precision, recall and F1, macro-F1, the detection rate (error cases with any
finding) and the false-flag rate (clean cases with any finding).

Thresholds were tuned on half 0 of the reports; the default run reports half 1.

Usage: ``.venv/bin/python bench/quality/reports.py [--half 1] [--per-code 40] [--seed 3]``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # runnable as a script as well as with -m

from bench.quality.inject import REPORT_CODES, Case, build_cases  # noqa: E402

SHARED = Path(os.environ.get("RADQC_SHARED_DIR", REPO.parent / "shared"))
RADQC = REPO / ".venv/bin/radqc"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def resource(case: Case) -> dict[str, Any]:
    coding = [{"system": "http://loinc.org", "code": case.exam_code}] if case.exam_code else []
    if coding and case.exam_display:
        coding[0]["display"] = case.exam_display
    report: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "id": case.case_id,
        "status": "final",
        "code": {"coding": coding, "text": case.exam_display or "Radiology report"},
        "presentedForm": [{"contentType": "text/plain", "data": _b64(case.text)}],
    }
    if case.patient_sex:
        report["contained"] = [{"resourceType": "Patient", "id": "p", "gender": case.patient_sex}]
        report["subject"] = {"reference": "#p"}
    return report


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def start_service(tmp: Path) -> tuple[subprocess.Popen[bytes], str, str, str]:
    ingest, reader = secrets.token_hex(12), secrets.token_hex(12)
    port = free_port()
    env = {
        **os.environ,
        "RADQC_DATA_DIR": str(tmp),
        "RADQC_HTTP_PORT": str(port),
        "RADQC_DICOM_PORT": str(free_port()),
        "RADQC_API_TOKENS": f"ingest:{ingest},reader:{reader}",
        "RADQC_WORKERS": "2",
    }
    log = (tmp / "serve.log").open("wb")
    proc = subprocess.Popen([str(RADQC), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base, ingest, reader
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit(f"radqc serve did not start; see {tmp / 'serve.log'}")


def send(client: httpx.Client, base: str, token: str, cases: list[Case]) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}
    for case in cases:
        response = client.put(
            f"{base}/fhir/DiagnosticReport/{case.case_id}",
            content=json.dumps(resource(case)),
            headers=headers,
        )
        if response.status_code not in (200, 201):
            raise SystemExit(f"PUT {case.case_id}: {response.status_code} {response.text[:200]}")


def collect(client: httpx.Client, base: str, token: str, n: int) -> dict[str, set[str]]:
    """report id -> the codes of its findings, once all ``n`` items are done."""
    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"kind": "report", "limit": 200}
            if cursor:
                params["cursor"] = cursor
            page = client.get(f"{base}/api/v1/items", params=params, headers=headers).json()
            items += page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                break
        done = [i for i in items if i["status"] in ("done", "failed")]
        if len(done) >= n:
            failed = [i for i in items if i["status"] == "failed"]
            if failed:
                print(f"{len(failed)} items failed: {failed[0].get('error')}", file=sys.stderr)
            return {i["report_id"]: {f["code"] for f in i["findings"]} for i in items}
        time.sleep(1.0)
    raise SystemExit("timed out waiting for the items to be processed")


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def score(cases: list[Case], predicted: dict[str, set[str]]) -> None:
    counts: dict[str, Counter[str]] = {code: Counter() for code in REPORT_CODES}
    forms: Counter[tuple[str, bool]] = Counter()
    for case in cases:
        found = predicted.get(case.case_id, set()) & set(REPORT_CODES)
        for code in REPORT_CODES:
            truth, flagged = code in case.codes, code in found
            counts[code][
                "tp" if truth and flagged else "fp" if flagged else "fn" if truth else "tn"
            ] += 1
        if case.codes:
            forms[(f"{next(iter(case.codes))} / {case.form}", bool(found & case.codes))] += 1
    print(f"{'code':24} {'tp':>4} {'fp':>4} {'fn':>4} {'prec':>6} {'recall':>6} {'f1':>6}")
    f1s = []
    for code, c in counts.items():
        p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
        r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
        f1s.append(_f1(p, r))
        print(f"{code:24} {c['tp']:4} {c['fp']:4} {c['fn']:4} {p:6.2f} {r:6.2f} {f1s[-1]:6.2f}")
    errors = [c for c in cases if c.codes]
    clean = [c for c in cases if not c.codes]
    detected = sum(bool(predicted.get(c.case_id, set()) & set(REPORT_CODES)) for c in errors)
    false = [c for c in clean if predicted.get(c.case_id, set()) & set(REPORT_CODES)]
    print(f"macro-F1 {sum(f1s) / len(f1s):.3f}")
    print(f"detection rate {detected}/{len(errors)} = {detected / len(errors):.1%}")
    print(f"false flags on clean {len(false)}/{len(clean)} = {len(false) / len(clean):.1%}")
    for case in false[:8]:
        print(f"   clean flagged: {case.case_id} {sorted(predicted.get(case.case_id, set()))}")
    print("recall per surface form:")
    for form in sorted({f for f, _ in forms}):
        hit, miss = forms[(form, True)], forms[(form, False)]
        print(f"   {form:60} {hit}/{hit + miss}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--half", type=int, default=1, choices=(0, 1))
    parser.add_argument("--per-code", type=int, default=40)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    cases = build_cases(SHARED / "data", args.half, args.per_code, 0.4, args.seed)
    print(f"{len(cases)} cases ({sum(not c.codes for c in cases)} clean), half {args.half}")
    with tempfile.TemporaryDirectory() as folder:
        proc, base, ingest, reader = start_service(Path(folder))
        try:
            started = time.perf_counter()
            with httpx.Client(timeout=30) as client:
                send(client, base, ingest, cases)
                predicted = collect(client, base, reader, len(cases))
            print(f"sent and processed in {time.perf_counter() - started:.1f} s")
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    score(cases, predicted)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
