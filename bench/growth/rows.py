"""The rows of one generated item: its study or report, its findings and Observations, its
jobs, and its audit (see :mod:`bench.growth.generate` for the distributions)."""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from bench.growth import shapes
from fhir_adapter.effective import effective_key
from fhir_adapter.observations import (
    DICOM_UID_SYSTEM,
    PATIENT_ID_SYSTEM,
    fhir_instant,
    finding_observation_id,
    summary_observation_id,
)
from service.taxonomy import Kind

if TYPE_CHECKING:
    from bench.growth.generate import Plan

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
UID_ROOT = "1.2.826.0.1.3680043.10.543"
DX = "1.2.840.10008.5.1.4.1.1.1.1"
CR = "1.2.840.10008.5.1.4.1.1.1"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
J2K_LOSSLESS = "1.2.840.10008.1.2.4.90"
PENDING_SHARE = 1 / 5000  # the newest items: still queued or processing
FAILED_SHARE = 0.003
SELECT = {"flagged": 0.10, "low_confidence": 0.02, "passed": 0.02}  # audit draw per stratum
LINKED_REPORTS = 0.8  # reports whose accession is a CXR study's
VERSIONED_REPORTS = 0.05  # report items that are version 2 of the report before


def moment(micros: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=micros)


def _cdf(weights: Sequence[float] | np.ndarray) -> list[float]:
    cumulative = np.cumsum(np.asarray(weights, dtype=np.float64))
    return (cumulative / cumulative[-1]).tolist()


_CONFIDENT_CDF = _cdf(shapes.CONFIDENT_SEVERITY)
_FAINT_CDF = _cdf(shapes.FAINT_SEVERITY)
_FLAGGED_CDF = _cdf(shapes.FLAGGED_WEIGHTS)


class Draws:
    """Random numbers drawn from numpy in blocks and served one at a time (a numpy call per
    number costs more than the row it decides)."""

    BLOCK = 1 << 18

    def __init__(self, rng: np.random.Generator, poisson_mean: float) -> None:
        self.rng = rng
        self.poisson_mean = poisson_mean
        self._uniform: list[float] = []
        self._counts: list[int] = []

    def random(self) -> float:
        if not self._uniform:
            self._uniform = self.rng.random(self.BLOCK).tolist()
        return self._uniform.pop()

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self.random()

    def integers(self, low: int, high: int) -> int:
        return low + int((high - low) * self.random())

    def pick(self, cdf: list[float]) -> int:
        return min(bisect.bisect_right(cdf, self.random()), len(cdf) - 1)

    def poisson(self) -> int:
        if not self._counts:
            self._counts = self.rng.poisson(self.poisson_mean, self.BLOCK).tolist()
        return int(self._counts.pop())


@dataclass
class Tables:
    """Row counts and the next id of every table."""

    counts: Counter[str] = field(default_factory=Counter)
    ids: Counter[str] = field(default_factory=Counter)

    def next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]


@dataclass
class _Finding:
    id: int
    code: str
    severity: str
    confidence: float
    engine: str
    problem: int
    variant: int
    key: str
    obs_id: str = ""


class ItemRows:
    """Builds the rows item by item; :meth:`take_chunk` hands over what was built so far."""

    def __init__(self, plan: Plan, rng: np.random.Generator, tables: Tables) -> None:
        self.plan = plan
        self.r = Draws(rng, plan.faint_per_unflagged)
        self.tables = tables
        self.rows: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        self.templates = shapes.Templates({})
        self.evidence_json: dict[tuple[str, str, int], str] = {}
        self.code_cdf = {kind: _cdf(shapes.code_weights(kind)) for kind in ("image", "report")}
        self.patients = max(10, plan.items // 4)
        self.now = plan.now
        self.pending_from = plan.items - max(3, int(plan.items * PENDING_SHARE))
        self.recent_studies: list[tuple[str, str, int]] = []  # (uid, accession, patient)
        self.open_study: tuple[int, str, str, int] | None = None  # a one-image study
        self.last_report: tuple[int, str, int, int, str, str] | None = None
        self.reports_in_chunk: dict[int, int] = {}  # report pk -> row index in this chunk

    # -- draws ---------------------------------------------------------------------------
    def _patient(self) -> int:
        if self.r.random() < 0.3:  # frequent patients: 5% of them have 30% of the exams
            return int(self.r.integers(0, max(1, self.patients // 20)))
        return int(self.r.integers(0, self.patients))

    def _codes(self, kind: Kind, count: int) -> list[str]:
        order = shapes.CODE_ORDER[kind]
        cdf = self.code_cdf[kind]
        return [order[self.r.pick(cdf)] for _ in range(count)]

    def _severity(self, confident: bool) -> str:
        cdf = _CONFIDENT_CDF if confident else _FAINT_CDF
        return shapes.SEVERITIES[self.r.pick(cdf)]

    # -- one item ------------------------------------------------------------------------
    def add(self, index: int, received_micros: int) -> None:
        item_id = self.tables.next_id("items")
        received = moment(received_micros)
        kind: Kind = "image" if self.r.random() < self.plan.image_share else "report"
        if kind == "image":
            ident = self._image(item_id, received)
        else:
            ident = self._report(item_id, received)
        if index >= self.pending_from:
            self._pending(item_id, kind, received, ident)
        elif self.r.random() < FAILED_SHARE:
            self._failed(item_id, kind, received, ident)
        else:
            self._done(item_id, kind, received, ident)

    def _image(self, item_id: int, received: dt.datetime) -> dict[str, Any]:
        n = item_id
        if self.open_study is not None and self.r.random() < 0.4:  # the lateral of a PA
            study_id, study_uid, accession, patient = self.open_study
            self.open_study = None
        else:
            study_id = self.tables.next_id("studies")
            study_uid, accession, patient = (
                f"{UID_ROOT}.1.{study_id}",
                f"A{study_id:09d}",
                self._patient(),
            )
            self.rows["studies"].append(
                (study_id, study_uid, accession, None, received, received, received)
            )
            self.open_study = (study_id, study_uid, accession, patient)
            self.recent_studies.append((study_uid, accession, patient))
            del self.recent_studies[:-2000]
            self._job("study", f"study:{study_uid}", None, study_id, received, received)
        sop = f"{UID_ROOT}.2.{n}"
        sha = hashlib.sha256(sop.encode()).hexdigest()
        instance_id = self.tables.next_id("instances")
        dx = self.r.random() < 0.7
        self.rows["instances"].append((
            instance_id, sop, 1, sha, DX if dx else CR, study_id, f"{UID_ROOT}.3.{study_id}",
            "DX" if dx else "CR", f"MRN{patient:08d}",
            EXPLICIT_LE if self.r.random() < 0.8 else J2K_LOSSLESS,
            f"{sha[:2]}/{sha[2:4]}/{sha}.dcm", int(self.r.integers(4_000_000, 11_000_000)),
            "MODALITY1", received,
        ))  # fmt: skip
        station = shapes.STATIONS[int(self.r.integers(0, len(shapes.STATIONS)))]
        site = shapes.INSTITUTIONS[int(self.r.integers(0, len(shapes.INSTITUTIONS)))]
        self.rows["item_sites"].append((item_id, station, site))
        return {
            "instance_id": instance_id, "study_id": study_id, "sop": sop, "study_uid": study_uid,
            "accession": accession, "patient": patient, "key": f"sop:{sop}:v1",
            "subject": f"{PATIENT_ID_SYSTEM}|MRN{patient:08d}",
            "derived": f"{DICOM_UID_SYSTEM}|urn:oid:{study_uid}", "derived_value": study_uid,
            "patient_value": f"MRN{patient:08d}",
        }  # fmt: skip

    def _report(self, item_id: int, received: dt.datetime) -> dict[str, Any]:
        last = self.last_report
        if (
            last is not None
            and last[0] in self.reports_in_chunk
            and self.r.random() < VERSIONED_REPORTS
        ):
            report_pk, report_id, version, patient, accession, study_uid = (
                last[0], last[1], last[2] + 1, last[3], last[4], last[5],
            )  # fmt: skip
            row = list(self.rows["reports"][self.reports_in_chunk[report_pk]])
            row[2] = version
            self.rows["reports"][self.reports_in_chunk[report_pk]] = tuple(row)
        else:
            report_pk, version = self.tables.next_id("reports"), 1
            report_id = f"r{report_pk}"
            if self.recent_studies and self.r.random() < LINKED_REPORTS:
                study_uid, accession, patient = self.recent_studies[
                    int(self.r.integers(0, len(self.recent_studies)))
                ]
            else:
                study_uid, accession, patient = "", f"R{report_pk:09d}", self._patient()
            self.reports_in_chunk[report_pk] = len(self.rows["reports"])
            self.rows["reports"].append((report_pk, report_id, 1, received))
        self.last_report = (report_pk, report_id, version, patient, accession, study_uid)
        subject = f"Patient/p{patient}"
        exam = shapes.EXAMS[0 if study_uid else 2]
        resource = shapes.report_json(report_id, subject, accession, exam)
        version_id = self.tables.next_id("report_versions")
        self.rows["report_versions"].append((
            version_id, report_pk, version, _sha(f"{report_id}:{version}"),
            resource, shapes.REPORT_TEXT, shapes.REPORT_SECTIONS, "final",
            "female" if patient % 2 else "male", subject, exam[0], exam[1], accession,
            study_uid or None, received,
        ))  # fmt: skip
        return {
            "report_version_id": version_id, "report_id": report_id, "version": version,
            "accession": accession, "study_uid": study_uid or None, "patient": patient,
            "key": f"report:{report_id}:v{version}", "subject": subject,
            "derived": f"DiagnosticReport/{report_id}/_history/{version}",
            "derived_value": f"DiagnosticReport/{report_id}/_history/{version}",
            "patient_value": subject,
        }  # fmt: skip

    def _item(
        self, item_id: int, kind: Kind, status: str, flagged: bool, ident: dict[str, Any],
        received: dt.datetime, processed: dt.datetime | None, error: str | None = None,
    ) -> None:  # fmt: skip
        image = kind == "image"
        self.rows["items"].append((
            item_id, kind, status, flagged, ident.get("instance_id"),
            ident.get("report_version_id"), ident.get("study_id"), ident.get("sop"),
            ident.get("study_uid"), ident["accession"], ident.get("report_id"),
            None if image else ident["version"], False, received, processed, error,
        ))  # fmt: skip

    def _job(
        self, kind: str, key: str, item_id: int | None, study_id: int | None,
        created: dt.datetime, updated: dt.datetime, status: str = "done", attempts: int = 1,
        error: str | None = None, lease: dt.datetime | None = None,
    ) -> None:  # fmt: skip
        self.rows["jobs"].append((
            self.tables.next_id("jobs"), kind, key, item_id, study_id, None, status, attempts,
            5, False, created, "host:1:w" if lease else None, lease, error, created, updated,
        ))  # fmt: skip

    def _pending(
        self, item_id: int, kind: Kind, received: dt.datetime, ident: dict[str, Any]
    ) -> None:
        running = self.r.random() < 0.3
        self._item(
            item_id, kind, "processing" if running else "queued", False, ident, received, None
        )
        lease = received + dt.timedelta(seconds=60) if running else None
        self._job("qc", f"item:{item_id}", item_id, None, received, received,
                  "running" if running else "queued", int(running), lease=lease)  # fmt: skip

    def _failed(
        self, item_id: int, kind: Kind, received: dt.datetime, ident: dict[str, Any]
    ) -> None:
        error = "EngineError: engine rules failed: cannot decode the pixel data"
        ended = received + dt.timedelta(minutes=10)
        self._item(item_id, kind, "failed", False, ident, received, None, error)
        self._job("qc", f"item:{item_id}", item_id, None, received, ended, "failed", 5, error)

    # -- done items: findings, Observations, audits ---------------------------------------
    def _done(self, item_id: int, kind: Kind, received: dt.datetime, ident: dict[str, Any]) -> None:
        processed = received + dt.timedelta(seconds=float(self.r.uniform(1, 20)))
        flagged = self.r.random() < self.plan.flagged_share
        findings = self._findings(item_id, kind, flagged, processed, ident)
        self._item(item_id, kind, "done", flagged, ident, received, processed)
        self._job("qc", f"item:{item_id}", item_id, None, received, processed)
        verdicts, audited_at = self._audit(item_id, kind, flagged, findings, processed)
        self._observations(item_id, kind, flagged, findings, ident, processed, verdicts, audited_at)

    def _findings(
        self, item_id: int, kind: Kind, flagged: bool, processed: dt.datetime, ident: dict[str, Any]
    ) -> list[_Finding]:
        count = shapes.FLAGGED_COUNTS[self.r.pick(_FLAGGED_CDF)] if flagged else self.r.poisson()
        out: list[_Finding] = []
        seen: Counter[str] = Counter()
        for position, code in enumerate(self._codes(kind, count)):
            confident = flagged and (position == 0 or self.r.random() < 0.6)
            confidence = float(
                self.r.uniform(0.5, 0.99) if confident else self.r.uniform(0.05, 0.49)
            )
            engine = "llm" if kind == "report" and self.r.random() < 0.2 else "rules"
            problem = seen[code]
            seen[code] += 1
            key = shapes.problem_key(kind, code, problem)
            variant = int(self.r.integers(0, 3))
            finding = _Finding(self.tables.next_id("findings"), code, self._severity(confident),
                               confidence, engine, problem, variant, key)  # fmt: skip
            finding.obs_id = finding_observation_id(ident["key"], engine, code, "item", key)
            self.rows["findings"].append((
                finding.id, item_id, code, finding.severity, shapes.message(code, variant),
                self._evidence(kind, code, problem), confidence, engine,
                shapes.RULES_VERSION if engine == "rules" else shapes.LLM_VERSION, "item", key,
                processed,
            ))  # fmt: skip
            out.append(finding)
        return out

    def _evidence(self, kind: Kind, code: str, problem: int) -> str:
        key = (kind, code, problem)
        found = self.evidence_json.get(key)
        if found is None:
            found = self.evidence_json[key] = _json(shapes.evidence(kind, code, problem))
        return found

    def _verdict(self, confidence: float) -> str:
        confirmed = self.r.random() < (0.75 if confidence >= 0.5 else 0.2)
        return "confirmed" if confirmed else "rejected"

    def _audit(
        self,
        item_id: int,
        kind: Kind,
        flagged: bool,
        findings: list[_Finding],
        processed: dt.datetime,
    ) -> tuple[dict[int, str], dt.datetime | None]:
        stratum = "flagged" if flagged else "low_confidence" if findings else "passed"
        probability = SELECT[stratum]
        if self.r.random() >= probability:
            return {}, None
        selected = processed + dt.timedelta(hours=float(self.r.uniform(6, 30)))
        if selected >= self.now:
            return {}, None
        self.rows["audit_selections"].append((
            self.tables.next_id("audit_selections"), item_id, stratum, probability,
            selected.date().isoformat(), selected,
        ))  # fmt: skip
        old = selected < self.now - dt.timedelta(days=2)
        if self.r.random() >= (0.96 if old else 0.25):
            return {}, None  # still on the worklist
        audited = min(selected + dt.timedelta(hours=float(self.r.uniform(1, 40))), self.now)
        verdicts = {f.id: self._verdict(f.confidence) for f in findings}
        versions = 2 if self.r.random() < 0.02 else 1
        for version in range(1, versions + 1):
            audit_id = self.tables.next_id("audits")
            auditor = shapes.AUDITORS[int(self.r.integers(0, len(shapes.AUDITORS)))]
            self.rows["audits"].append((audit_id, item_id, version, auditor, audited))
            for f in findings:
                self.rows["audit_findings"].append((
                    self.tables.next_id("audit_findings"), audit_id, f.id, f.code, f.engine,
                    shapes.RULES_VERSION if f.engine == "rules" else shapes.LLM_VERSION,
                    f.severity, f.confidence, verdicts[f.id], None,
                ))  # fmt: skip
            if self.r.random() < 0.08:
                missed = self._codes(kind, 1)[0]
                self.rows["audit_missed"].append(
                    (self.tables.next_id("audit_missed"), audit_id, missed, '"seen on review"')
                )
        return verdicts, audited

    def _observations(
        self, item_id: int, kind: Kind, flagged: bool, findings: list[_Finding],
        ident: dict[str, Any], processed: dt.datetime, verdicts: dict[int, str],
        audited: dt.datetime | None,
    ) -> None:  # fmt: skip
        when = fhir_instant(processed)
        sop = ident.get("sop")
        summary_id = summary_observation_id(ident["key"])
        summary = shapes.fill(
            self.templates.summary(kind, flagged), obs_id=summary_id, when=when,
            patient=ident["patient_value"], derived=ident["derived_value"], sop=sop,
            members=[f.obs_id for f in findings],
        )  # fmt: skip
        # ``observations.effective_at`` as the publisher stores it; an item's Observations share
        # their effectiveDateTime, so one resource is parsed per item, not one per row.
        effective = effective_key(summary)
        for f in findings:
            verdict = verdicts.get(f.id)
            status = {"confirmed": "final", "rejected": "cancelled"}.get(
                verdict or "", "preliminary"
            )
            template = self.templates.finding(
                kind, f.code, f.severity, f.engine, f.variant, f.problem
            )
            text = shapes.fill(
                template, obs_id=f.obs_id, when=when, patient=ident["patient_value"],
                derived=ident["derived_value"], sop=sop, confidence=f.confidence,
                status=None if verdict is None else status,
            )  # fmt: skip
            self.rows["observations"].append((
                f.obs_id, item_id, f.id, f.code, status, ident["subject"], ident["derived"], text,
                _sha(text), 2 if verdict else 1,
                audited if verdict and audited else processed, effective,
            ))  # fmt: skip
        self.rows["observations"].append((
            summary_id, item_id, None, "qc.summary", "preliminary", ident["subject"],
            ident["derived"], summary, _sha(summary), 1, processed, effective,
        ))  # fmt: skip

    # -- hand-over -----------------------------------------------------------------------
    def take_chunk(self, *, last: bool) -> dict[str, list[tuple[Any, ...]]]:
        rows, self.rows = self.rows, defaultdict(list)
        self.reports_in_chunk = {}
        for table, table_rows in rows.items():
            self.tables.counts[table] += len(table_rows)
        return rows


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
