"""What the load driver sends: the real chest X-rays and reports of ``shared/data``.

- Images: the 15 chest radiographs at the top of ``shared/data/cxr`` (CR, DX and Secondary
  Capture; uncompressed, JPEG baseline, JPEG 2000), sent in turn, each copy with new Study,
  Series and SOP Instance UIDs and a new accession number, so that every copy is a new study and
  a new item (the header-only and veterinary files are left out: they are not chest films).
- Reports: the Indiana University chest X-ray reports and the MTSamples radiology reports (about
  one in fifteen), as a RIS sends them: a FHIR R4 DiagnosticReport with the text as
  ``presentedForm`` (text/plain), an accession identifier, a subject, each under a new id.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ImplicitVRLittleEndian, generate_uid

from tests.fhir_adapter.reports_support import (
    ACSN_TYPE,
    LOINC_CXR,
    RealReport,
    iu_reports,
    mt_reports,
    plain,
)

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("RADQC_SHARED_DIR", REPO.parent / "shared"))
DATA = SHARED / "data"
MT_EVERY = 15  # one report in this many is an MTSamples transcription (any modality)


def cxr_paths(data: Path = DATA) -> list[Path]:
    """The chest films sent, in the order they are sent."""
    return sorted((data / "cxr").glob("*.dcm"))


def load_films(paths: list[Path]) -> list[Dataset]:
    """Each file as a dataset ready to send: a file without meta (legacy) gets implicit VR."""
    films: list[Dataset] = []
    for path in paths:
        ds = dcmread(path, force=True)
        meta = getattr(ds, "file_meta", None) or FileMetaDataset()
        meta.setdefault("TransferSyntaxUID", ImplicitVRLittleEndian)
        meta.MediaStorageSOPClassUID = ds.SOPClassUID
        ds.file_meta = meta
        films.append(ds)
    return films


def renew(film: Dataset, accession: str) -> str:
    """Give ``film`` (in place) new Study, Series and SOP Instance UIDs and ``accession``;
    returns the new SOP Instance UID."""
    sop = generate_uid()
    film.StudyInstanceUID = generate_uid()
    film.SeriesInstanceUID = generate_uid()
    film.SOPInstanceUID = sop
    film.AccessionNumber = accession
    film.file_meta.MediaStorageSOPInstanceUID = sop
    return sop


def report_texts(data: Path = DATA) -> list[RealReport]:
    """IU reports with an MTSamples transcription every ``MT_EVERY``-th place. The 14 IU rows
    with no text at all are left out (radqc rightly refuses them: 422)."""
    iu = [r for r in iu_reports(data) if r.text.strip()]
    mt = [r for r in mt_reports(data) if r.text.strip()]
    mixed: list[RealReport] = []
    for index, report in enumerate(iu):
        if index % (MT_EVERY - 1) == 0 and mt:
            mixed.append(mt[(index // (MT_EVERY - 1)) % len(mt)])
        mixed.append(report)
    return mixed


@dataclass(frozen=True, slots=True)
class OutgoingReport:
    report_id: str
    resource: dict[str, Any]


def diagnostic_report(report: RealReport, report_id: str, number: int) -> OutgoingReport:
    """``report`` as a RIS sends it, under ``report_id``."""
    code = {"coding": [dict(LOINC_CXR)]} if report.source == "iu" else {"text": "RADIOLOGY"}
    resource = plain(
        report.text,
        id=report_id,
        code=code,
        subject={"reference": f"Patient/load-{number % 997}"},
        identifier=[{"type": ACSN_TYPE, "value": f"RA{number:08d}"}],
    )
    return OutgoingReport(report_id, resource)
