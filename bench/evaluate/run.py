"""Evaluation speed over 100k audited items, and the audit item page's server time.

Each figure is printed next to a baseline measured in the same run on the same data:
- evaluation: radqc's full run (load from the database, per-code and per-configuration figures
  with Wilson and 1,000-replicate bootstrap intervals, slices, store the run) against
  scikit-learn's precision_recall_fscore_support on the same arrays (no intervals, no I/O);
- item page: ``GET /ui/items/{id}`` (HTML with findings, audits, highlighted report text) and the
  server-rendered X-ray PNG, against ``GET /healthz`` on the same in-process app.

    .venv/bin/python bench/evaluate/run.py [--items 100000]

Targets (issue 5): evaluation <= 5 s; audit item page <= 300 ms server time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pydicom
from fastapi.testclient import TestClient
from sklearn.metrics import precision_recall_fscore_support
from sqlalchemy import insert

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from service.app import build_api  # noqa: E402
from service.components import Components  # noqa: E402
from service.config import Settings  # noqa: E402
from service.db import Database  # noqa: E402
from service.ingest import QueueOptions, ReceivedInstance, ingest, store_instance  # noqa: E402
from service.loop.audited_sample import CODE_LIST, SampleQuery, load_sample  # noqa: E402
from service.loop.evaluation import EvaluationRequest, EvaluationService  # noqa: E402
from service.loop.models import Audit, AuditFinding, AuditMissed, AuditSelection  # noqa: E402
from service.migrate import upgrade  # noqa: E402
from service.models import FindingRow, Item  # noqa: E402
from service.pipeline import NullPublisher, Pipeline  # noqa: E402
from service.storage import FileStore  # noqa: E402

TOKEN = "bench-admin-token-0123456789"
SHARED = Path(os.environ.get("RADQC_SHARED_DIR", REPO.parent / "shared"))
IMAGE = SHARED / "data" / "cxr" / "pydicom-data_RG1_UNCR_CR_chest_PA.dcm"
REPORT_CODES = [c for c in CODE_LIST if c.startswith("report.")]


def seed_audits(db: Database, n: int, seed: int = 0) -> None:
    """n audited report items: two engine configurations, random truth, unequal weights."""
    rng = np.random.default_rng(seed)
    k = len(REPORT_CODES)
    truth = rng.random((n, k)) < 0.05
    rules = np.where(truth, rng.random((n, k)) < 0.75, rng.random((n, k)) < 0.02)
    llm = np.where(truth, rng.random((n, k)) < 0.6, rng.random((n, k)) < 0.03)
    base = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    with db.engine.begin() as conn:
        conn.execute(
            insert(Item),
            [
                {
                    "id": i + 1,
                    "kind": "report",
                    "status": "done",
                    "flagged": bool(rules[i].any() or llm[i].any()),
                    "conflict": False,
                    "received_at": base + dt.timedelta(minutes=5 * i),
                    "report_id": f"r{i}",
                    "report_version": 1,
                }
                for i in range(n)
            ],
        )
        conn.execute(
            insert(Audit),
            [
                {
                    "id": i + 1,
                    "item_id": i + 1,
                    "version": 1,
                    "auditor": "bench",
                    "created_at": base,
                }
                for i in range(n)
            ],
        )
        findings, judged, missed = [], [], []
        for engine, flags in (("rules", rules), ("llm", llm)):
            for i, j in zip(*np.nonzero(flags), strict=True):
                findings.append(
                    {
                        "item_id": int(i) + 1,
                        "code": REPORT_CODES[j],
                        "severity": "major",
                        "message": "bench",
                        "evidence": [],
                        "confidence": 0.8,
                        "engine": engine,
                        "engine_version": f"{engine}-1",
                        "scope": "item",
                        "created_at": base,
                    }
                )
                judged.append(
                    {"audit_id": int(i) + 1, "code": REPORT_CODES[j], "engine": engine,
                     "engine_version": f"{engine}-1", "severity": "major", "confidence": 0.8,
                     "verdict": "confirmed" if truth[i, j] else "rejected", "reason": None}
                )  # fmt: skip
        for i, j in zip(*np.nonzero(truth & ~rules & ~llm), strict=True):
            missed.append({"audit_id": int(i) + 1, "code": REPORT_CODES[j], "evidence": None})
        conn.execute(insert(FindingRow), findings)
        conn.execute(insert(AuditFinding), judged)
        if missed:
            conn.execute(insert(AuditMissed), missed)
        probability = np.where(rules.any(1) | llm.any(1), 1.0, 0.1)
        conn.execute(
            insert(AuditSelection),
            [
                {"item_id": i + 1, "strategy": "bench", "inclusion_probability": float(p),
                 "selected_on": "2024-01-01", "selected_at": base}
                for i, p in enumerate(probability)
            ],
        )  # fmt: skip


def bench_evaluation(db: Database) -> tuple[float, float, int]:
    service = EvaluationService(db)
    started = time.perf_counter()
    run = service.run(EvaluationRequest(), "bench")
    ours = time.perf_counter() - started
    with db.reader() as session:
        sample = load_sample(session, SampleQuery())
    started = time.perf_counter()
    precision_recall_fscore_support(sample.truth, sample.flags(None), average=None, zero_division=0)
    baseline = time.perf_counter() - started
    return ours, baseline, run.n_items


def add_image(comps: Components) -> int:
    header = pydicom.dcmread(IMAGE, stop_before_pixels=True)
    stored = comps.files.put([IMAGE.read_bytes()])
    received = ReceivedInstance(
        sop_instance_uid="1.2.826.0.1.3680043.99.1",
        sop_class_uid=str(header.SOPClassUID),
        study_instance_uid="1.2.826.0.1.3680043.99",
        series_instance_uid="1.2.826.0.1.3680043.99.2",
        modality="CR",
        accession="BENCH",
        patient_id=None,
        transfer_syntax_uid=str(header.file_meta.TransferSyntaxUID),
        path=stored.relpath,
        sha256=hashlib.sha256(IMAGE.read_bytes()).hexdigest(),
        size_bytes=stored.size,
        calling_ae="BENCH",
    )
    return ingest(comps.db, store_instance, received, QueueOptions(1, 3600)).item_id


def _median_ms(client: TestClient, path: str, repeat: int = 30) -> float:
    client.get(path)  # warm up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, (path, response.status_code)
    return 1000 * statistics.median(times)


def bench_page(comps: Components, image_item: int) -> dict[str, float]:
    app = build_api(comps)
    with TestClient(app) as client:
        client.cookies.set("radqc_token", TOKEN)
        return {
            "healthz (baseline)": _median_ms(client, "/healthz"),
            "item page, report": _median_ms(client, "/ui/items/1"),
            "item page, X-ray": _median_ms(client, f"/ui/items/{image_item}"),
            "X-ray PNG (2140x1760 CR, MONOCHROME1)": _median_ms(
                client, f"/ui/items/{image_item}/image.png", repeat=10
            ),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        url = f"sqlite:///{data / 'bench.sqlite3'}"
        upgrade(url)
        settings = Settings(data_dir=data, database_url=url, api_tokens={TOKEN: "admin"})
        db = Database(url)
        files = FileStore(settings.dicom_dir)
        comps = Components(settings, db, files, Pipeline(db, files, [], [], NullPublisher()))
        started = time.perf_counter()
        seed_audits(db, args.items)
        print(f"seeded {args.items} audited items in {time.perf_counter() - started:.1f} s")
        ours, baseline, n = bench_evaluation(db)
        print(f"evaluation of {n} audited items: {ours:.2f} s (target <= 5 s)")
        print(f"baseline, sklearn precision_recall_fscore_support, same arrays: {baseline:.3f} s")
        image_item = add_image(comps)
        for name, ms in bench_page(comps, image_item).items():
            print(f"{name:<40} median {ms:7.1f} ms server time")
        print("target: audit item page <= 300 ms")
        db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
