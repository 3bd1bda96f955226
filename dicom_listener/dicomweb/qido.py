"""QIDO-RS (PS3.18 10.6) over what radqc received: ``GET /dicomweb/studies``,
``/dicomweb/studies/{study}/instances`` and ``/dicomweb/instances``, for the reading roles.

Matching keys by keyword or tag (``AccessionNumber`` or ``00080050``): the UIDs (a list separated
by ``,`` or ``\\``), ``AccessionNumber`` and ``PatientID`` (``*`` and ``?`` wildcards),
``Modality`` and ``ModalitiesInStudy``; ``limit`` and ``offset``. Other keys are ignored and named
in a Warning header, as PS3.18 asks; ``includefield`` and ``fuzzymatching`` change nothing (every
attribute radqc keeps is returned). An instance sent again with other bytes is listed once, as its
latest version.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydicom.datadict import keyword_for_tag
from pydicom.dataset import Dataset
from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from service.api.auth import Reader
from service.api.deps import components
from service.components import Components
from service.models import Instance, Study, latest_versions

router = APIRouter()
DICOM_JSON: Final = "application/dicom+json"
MAX_LIMIT: Final = 1000
_IGNORED: Final = frozenset({"limit", "offset", "includefield", "fuzzymatching"})
_STUDY_KEYS: Final = frozenset(
    {"StudyInstanceUID", "AccessionNumber", "PatientID", "ModalitiesInStudy"}
)
_INSTANCE_KEYS: Final = frozenset(
    {
        "StudyInstanceUID",
        "AccessionNumber",
        "PatientID",
        "Modality",
        "SeriesInstanceUID",
        "SOPInstanceUID",
        "SOPClassUID",
    }
)
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Offset = Annotated[int, Query(ge=0)]


def _keys(request: Request, supported: frozenset[str]) -> tuple[dict[str, str], list[str]]:
    """The matching keys by keyword, and the parameters not supported."""
    keys: dict[str, str] = {}
    unsupported: list[str] = []
    for name, value in request.query_params.items():
        if name in _IGNORED:
            continue
        keyword = _keyword(name)
        if keyword in supported and value:
            keys[keyword] = value
        elif keyword not in supported:
            unsupported.append(name)
    return keys, unsupported


def _keyword(name: str) -> str:
    if len(name) == 8:
        try:
            return keyword_for_tag(int(name, 16)) or name
        except ValueError:
            return name
    return name


def _uids(value: str) -> list[str]:
    return [uid.strip() for uid in value.replace("\\", ",").split(",") if uid.strip()]


def _text(column: InstrumentedAttribute[str | None], value: str) -> ColumnElement[bool]:
    """Single value matching, with ``*`` and ``?`` wildcards (PS3.4 C.2.2.2.4)."""
    if "*" not in value and "?" not in value:
        return column == value
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(escaped.replace("*", "%").replace("?", "_"), escape="\\")


def _instance_filters(keys: Mapping[str, str]) -> list[ColumnElement[bool]]:
    matching: dict[str, Any] = {
        "StudyInstanceUID": lambda v: Study.study_instance_uid.in_(_uids(v)),
        "SeriesInstanceUID": lambda v: Instance.series_instance_uid.in_(_uids(v)),
        "SOPInstanceUID": lambda v: Instance.sop_instance_uid.in_(_uids(v)),
        "SOPClassUID": lambda v: Instance.sop_class_uid.in_(_uids(v)),
        "AccessionNumber": lambda v: _text(Study.accession, v),
        "PatientID": lambda v: _text(Instance.patient_id, v),
        "Modality": lambda v: Instance.modality.in_(_uids(v)),
        "ModalitiesInStudy": lambda v: Instance.modality.in_(_uids(v)),
    }
    return [matching[keyword](value) for keyword, value in keys.items()]


def _answer(datasets: Sequence[Dataset], unsupported: Sequence[str]) -> Response:
    response = JSONResponse([ds.to_json_dict() for ds in datasets], media_type=DICOM_JSON)
    if unsupported:
        names = ", ".join(sorted(unsupported))[:200]
        response.headers["Warning"] = (
            f"299 radqc: The following query parameters are not supported and were ignored: {names}"
        )
    return response


@router.get("/studies", summary="QIDO-RS: search for studies")
def search_studies(
    request: Request,
    _: Reader,
    comps: Annotated[Components, Depends(components)],
    limit: Limit = 100,
    offset: Offset = 0,
) -> Response:
    keys, unsupported = _keys(request, _STUDY_KEYS)
    with comps.db.reader() as session:
        studies = _studies(session, keys, limit, offset)
    return _answer(studies, unsupported)


@router.get("/studies/{study}/instances", summary="QIDO-RS: search for a study's instances")
def search_study_instances(
    request: Request,
    study: str,
    _: Reader,
    comps: Annotated[Components, Depends(components)],
    limit: Limit = 100,
    offset: Offset = 0,
) -> Response:
    return _search_instances(request, comps, limit, offset, study=study)


@router.get("/instances", summary="QIDO-RS: search for instances")
def search_instances(
    request: Request,
    _: Reader,
    comps: Annotated[Components, Depends(components)],
    limit: Limit = 100,
    offset: Offset = 0,
) -> Response:
    return _search_instances(request, comps, limit, offset)


def _search_instances(
    request: Request, comps: Components, limit: int, offset: int, study: str | None = None
) -> Response:
    """Both instance searches; ``study`` (from the path) overrides a StudyInstanceUID key."""
    keys, unsupported = _keys(request, _INSTANCE_KEYS)
    if study is not None:
        keys["StudyInstanceUID"] = study
    with comps.db.reader() as session:
        instances = _instances(session, keys, limit, offset)
    return _answer(instances, unsupported)


def _latest_instances() -> Select[Instance, Study]:
    latest, is_latest = latest_versions()
    return (
        select(Instance, Study).join(Study, Instance.study_id == Study.id).join(latest, is_latest)
    )


def _instances(session: Session, keys: Mapping[str, str], limit: int, offset: int) -> list[Dataset]:
    query = _latest_instances().where(*_instance_filters(keys))
    rows = session.execute(query.order_by(Instance.id).limit(limit).offset(offset)).all()
    return [_instance_dataset(instance, study) for instance, study in rows]


def _instance_dataset(instance: Instance, study: Study) -> Dataset:
    ds = Dataset()
    ds.SOPClassUID = instance.sop_class_uid
    ds.SOPInstanceUID = instance.sop_instance_uid
    if study.accession:
        ds.AccessionNumber = study.accession
    if instance.modality:
        ds.Modality = instance.modality
    if instance.patient_id:
        ds.PatientID = instance.patient_id
    ds.StudyInstanceUID = study.study_instance_uid
    if instance.series_instance_uid:
        ds.SeriesInstanceUID = instance.series_instance_uid
    ds.AvailableTransferSyntaxUID = instance.transfer_syntax_uid
    return ds


def _studies(session: Session, keys: Mapping[str, str], limit: int, offset: int) -> list[Dataset]:
    matching = _latest_instances().where(*_instance_filters(keys)).with_only_columns(Study.id)
    page = session.scalars(
        select(Study).where(Study.id.in_(matching)).order_by(Study.id).limit(limit).offset(offset)
    ).all()
    members: dict[int, list[Instance]] = {study.id: [] for study in page}
    if members:
        query = _latest_instances().where(Study.id.in_(list(members))).order_by(Instance.id)
        for instance, _study in session.execute(query):
            members[instance.study_id].append(instance)
    return [_study_dataset(study, members[study.id]) for study in page]


def _study_dataset(study: Study, instances: Sequence[Instance]) -> Dataset:
    ds = Dataset()
    if study.accession:
        ds.AccessionNumber = study.accession
    modalities = sorted({instance.modality for instance in instances if instance.modality})
    if modalities:
        ds.ModalitiesInStudy = modalities
    patient = next((instance.patient_id for instance in instances if instance.patient_id), None)
    if patient:
        ds.PatientID = patient
    ds.StudyInstanceUID = study.study_instance_uid
    series = {instance.series_instance_uid for instance in instances}
    ds.NumberOfStudyRelatedSeries = len(series)
    ds.NumberOfStudyRelatedInstances = len(instances)
    return ds
