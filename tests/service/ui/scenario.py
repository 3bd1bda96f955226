"""A scenario with something on every page: reports and films with evidence of every shape
(box, band, point, a DICOM tag, a duplicate), a small film and a large one, audits, an
evaluation run, a champion and a challenger with shadow results, and canaries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pydicom
from PIL import Image
from pydicom.uid import ExplicitVRLittleEndian

from service.components import Components
from service.engines.base import Finding, QCInput
from service.engines.rules._findings import tag_evidence, text_evidence
from service.loop.audit import AuditRequest, AuditService, MissedIn, VerdictIn
from service.loop.audit_draw import AuditSampler, SamplingPlan
from service.loop.engine_configs import EngineRegistry, default_rules, record_at_startup
from service.loop.evaluation import EvaluationRequest, EvaluationService
from service.loop.models import CanaryResult, ShadowResult
from service.models import FindingRow
from service.taxonomy import Kind, Severity
from tests.service.api.support import add_image, add_report
from tests.service.ui.support import run_qc_jobs

SOURCE_FILM = "cxr/txv_siim_1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm"
SMALL_SIDE = 440
SMALL_FILM = "small.dcm"  # written by small_film(): the source film shrunk to 440 x 440
LARGE_FILM = "cxr/pydicom-data_RG1_UNCR_CR_chest_PA.dcm"  # 1841 x 1955
REPORT = (
    "FINDINGS: Opacity in the left lower lobe. Heart size normal. The costophrenic angles "
    "are sharp and there is no pleural effusion or pneumothorax seen on this examination.\n"
    "IMPRESSION: Right lower lobe pneumonia. Hart size normal."
)
VIEW_MESSAGE = (
    "ViewPosition is missing, so the projection (PA, AP or lateral) is not recorded; add it."
)
BOX = [40, 60, 200, 220]  # x0, y0, x1, y1 on the small film
POINT = [300, 120]


def _finding(
    code: str, severity: Severity, message: str, evidence: list[dict[str, object]]
) -> Finding:
    return Finding(code, severity, message, evidence, 0.9, "rules", "ui-pages-1")


@dataclass
class PlannedEngine:
    """Findings planned per item id (the ids are known once the items are stored)."""

    name: str = "rules"
    version: str = "ui-pages-1"
    kinds: frozenset[Kind] = frozenset({"image", "report"})
    plan: dict[int, list[Finding]] = field(default_factory=dict)

    def review(self, item: QCInput) -> list[Finding]:
        return self.plan.get(item.item_id, [])


def _plan(ids: dict[str, int]) -> dict[int, list[Finding]]:
    right = REPORT.index("Right lower lobe")
    hart = REPORT.index("Hart")
    exposure = {"metric": "mean_brightness", "value": 0.81, "threshold": 0.7}
    return {
        ids["report"]: [
            _finding(
                "report.laterality",
                Severity.CRITICAL,
                "Findings say left, impression says right.",
                [text_evidence("IMPRESSION", REPORT, right, right + 16)],
            ),
            _finding(
                "report.typo",
                Severity.MINOR,
                "'Hart' is probably 'Heart'.",
                [text_evidence("IMPRESSION", REPORT, hart, hart + 4)],
            ),
        ],
        ids["small"]: [
            _finding(
                "cxr.exposure",
                Severity.MAJOR,
                "The lungs are too bright: over-exposed.",
                [{"tag": "(7FE0,0010)", "keyword": "PixelData", "region": BOX, **exposure}],
            ),
            _finding(
                "cxr.metadata", Severity.MINOR, VIEW_MESSAGE, [tag_evidence("ViewPosition", None)]
            ),
            _finding(
                "cxr.inspiration",
                Severity.MINOR,
                "The diaphragm is high: inadequate inspiration.",
                [{"band": [300, 340], "axis": "rows", "metric": "lung_height", "value": 0.4}],
            ),
            _finding(
                "cxr.centering", Severity.MINOR, "The thorax is off-centre.", [{"point": POINT}]
            ),
        ],
        ids["large"]: [
            _finding(
                "cxr.field_of_view",
                Severity.MAJOR,
                "The lung apices are cut off at the top of the film.",
                [{"keyword": "PixelData", "region": [0, 0, 1841, 150]}],
            ),
            _finding(
                "cxr.artifact",
                Severity.MAJOR,
                "Two images of this study show the same picture under different instance UIDs.",
                [tag_evidence("SOPInstanceUID", None, duplicate_of_item=ids["small"])],
            ),
        ],
    }


def _findings(comps: Components, item_id: int) -> dict[str, int]:
    with comps.db.reader() as session:
        rows = session.query(FindingRow).filter(FindingRow.item_id == item_id).all()
        return {row.code: row.id for row in rows}


def small_film(shared_data: Path, folder: Path) -> Path:
    """A real chest film shrunk to 440 x 440 pixels, stored uncompressed under ``folder``."""
    dataset = pydicom.dcmread(shared_data / SOURCE_FILM)
    pixels = Image.fromarray(dataset.pixel_array).resize((SMALL_SIDE, SMALL_SIDE))
    dataset.PixelData = np.asarray(pixels, dtype=np.uint8).tobytes()
    dataset.Rows = dataset.Columns = SMALL_SIDE
    dataset.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    target = folder / SMALL_FILM
    dataset.save_as(target, enforce_file_format=True)
    return target


def seed_pages(comps: Components, shared_data: Path, folder: Path) -> dict[str, int]:
    small_film(shared_data, folder)
    ids = {
        "report": add_report(comps, "pg-rep-1", accession="PG-1", text=REPORT),
        "small": add_image(comps, folder, "1.2.840.88.1", "1.2.840.88", "PG-1", SMALL_FILM),
        "large": add_image(comps, shared_data, "1.2.840.88.2", "1.2.840.88", "PG-1", LARGE_FILM),
        "clean": add_report(comps, "pg-rep-2", accession="PG-2"),
    }
    run_qc_jobs(comps, PlannedEngine(plan=_plan(ids)))
    drawn = {d.item_id for d in AuditSampler(comps.db, SamplingPlan()).run(seed=1)}
    assert {ids["report"], ids["small"], ids["large"]} <= drawn
    return ids


def seed_loop(comps: Components, ids: dict[str, int]) -> dict[str, int]:
    """An audit of the report, an evaluation run, a challenger with shadow results, canaries."""
    found = _findings(comps, ids["report"])
    AuditService(comps.db).submit(
        ids["report"],
        "auditor:pages",
        AuditRequest(
            verdicts=[
                VerdictIn(found["report.laterality"], "confirmed"),
                VerdictIn(found["report.typo"], "rejected", "the name of a dictation macro"),
            ],
            missed=[MissedIn("report.omission", "effusion not in the impression")],
        ),
    )
    run = EvaluationService(comps.db).run(EvaluationRequest(), "auditor:pages")
    champion = record_at_startup(comps.db, comps.settings)
    assert champion is not None
    registry = EngineRegistry(comps.db)
    rules = default_rules() | {"disabled_codes": ["report.typo"]}
    challenger = registry.record("no-typos", {"rules": rules}, "admin:pages")
    now = dt.datetime.now(dt.UTC)
    with comps.db.transaction() as session:
        for config, codes in (
            (champion.id, ["report.laterality", "report.typo"]),
            (challenger.id, ["report.laterality"]),
        ):
            session.add(
                ShadowResult(
                    config_id=config,
                    item_id=ids["report"],
                    source="replay",
                    findings=[],
                    codes=codes,
                )
            )
            for n, caught in enumerate((True, True, False)):
                session.add(
                    CanaryResult(
                        config_id=config,
                        item_id=ids["report"],
                        code="report.laterality",
                        form="swap_side",
                        caught=caught or config == champion.id,
                        created_at=now - dt.timedelta(hours=n),
                    )
                )
    return {"run": run.id, "champion": champion.id, "challenger": challenger.id}
