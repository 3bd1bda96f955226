"""The engine interface: what an engine is given, and what it returns.

Engines never touch the session, the queue or the network except through what is handed to them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydicom.dataset import Dataset

from service.phi.known import KnownIdentifiers
from service.taxonomy import CODES, Kind, Severity

Evidence = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Finding:
    """One error an engine found; ``evidence`` lists text spans, image regions or DICOM tags."""

    code: str
    severity: Severity
    message: str
    evidence: list[Evidence]
    confidence: float
    engine: str
    engine_version: str
    scope: str = "item"

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown finding code {self.code!r}")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError("confidence must be within 0..1")


@dataclass(frozen=True, slots=True)
class ImageInput:
    """A received DICOM object: its header (pixels not loaded) and where the file is."""

    item_id: int
    sop_instance_uid: str
    version: int
    path: str
    header: Dataset
    previous_sha256: str | None = None
    # Every identifier radqc holds for the image's patient and study (this header, the reports
    # of its accession): what must never leave for an external engine (service.phi).
    known_identifiers: KnownIdentifiers = field(default_factory=KnownIdentifiers)


@dataclass(frozen=True, slots=True)
class ReportInput:
    """A received report version: its plain text, the sections found in it, and its context."""

    item_id: int
    report_id: str
    version: int
    text: str
    sections: dict[str, Any]
    patient_sex: str | None = None
    exam_code: str | None = None
    exam_display: str | None = None
    status: str | None = None
    accession: str | None = None
    # Headers (no pixels) of the images received under the same accession or study, latest
    # version of each, for cross-source checks (sex, laterality, view).
    image_headers: tuple[Dataset, ...] = ()
    # Every identifier radqc holds for the report's patient and study (the resource as received,
    # the headers of its images): what must never leave for an external engine (service.phi).
    known_identifiers: KnownIdentifiers = field(default_factory=KnownIdentifiers)


@dataclass(frozen=True, slots=True)
class StudyInput:
    """The images of one study once it is stable: their item ids and headers."""

    study_instance_uid: str
    images: Sequence[tuple[int, Dataset]] = field(default_factory=tuple)
    # Where each image item's stored file is, for checks that need the pixels.
    paths: Mapping[int, str] = field(default_factory=dict)


QCInput = ImageInput | ReportInput


class Engine(Protocol):
    """A QC engine for items of the kinds it names."""

    name: str
    version: str
    kinds: frozenset[Kind]

    def review(self, item: QCInput) -> list[Finding]: ...


class StudyEngine(Protocol):
    """An engine of study-level checks, run when a study is stable."""

    name: str
    version: str

    def review_study(self, study: StudyInput) -> dict[int, list[Finding]]: ...
