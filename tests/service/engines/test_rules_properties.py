"""Property tests: no input makes the rules engines raise, and text evidence always quotes the
text it points at."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.tag import Tag

from service.engines.base import Finding, ImageInput, ReportInput, StudyInput
from service.engines.rules import HEADER_CHECKS, RulesEngine, StudyRulesEngine
from service.reports.sections import sections_dict, split_sections
from tests.service.engines.support import CXR_FILES, header_input, report_input

ENGINE = RulesEngine()
HEADER_ENGINE = RulesEngine(image_checks=HEADER_CHECKS)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_FRAGMENTS = st.sampled_from(
    [
        "FINDINGS:",
        "IMPRESSION:",
        "Impression -",
        "CONCLUSION:,",
        "\n",
        ", ",
        ". ",
        "XXXX",
        "x-XXXX",
        "[***]",
        "[",
        "]",
        "(",
        ")",
        "<",
        ">",
        "<<",
        ">>",
        "{{",
        "}}",
        "___",
        "??",
        " and",
        "...",
        ":",
        "1.",
        "The lungs are clear",
        "IMPRESSION\n",
        "FINDINGS/IMPRESSION:",
        "\u2026",
        "\x00",
        "\u00e9",
    ]
)
_TEXT = st.one_of(st.text(max_size=400), st.lists(_FRAGMENTS, max_size=60).map("".join))
_SECTIONS: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.just({}),
    st.just({"sections": []}),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
    st.fixed_dictionaries(
        {
            "sections": st.lists(
                st.fixed_dictionaries(
                    {
                        "name": st.sampled_from(["findings", "impression", "body", 3]),
                        "heading": st.text(max_size=5),
                        "start": st.integers(-5, 500),
                        "end": st.integers(-5, 500),
                    }
                ),
                max_size=4,
            )
        }
    ),
)


def _quotes_match(text: str, findings: list[Finding]) -> None:
    for finding in findings:
        for evidence in finding.evidence:
            start, end = evidence["start"], evidence["end"]
            assert 0 <= start <= end <= len(text)
            assert text[start:end] == evidence["quote"]


@FAST
@given(text=_TEXT, sections=_SECTIONS)
def test_any_report_text_and_stored_sections(text: str, sections: Any) -> None:
    item = ReportInput(item_id=1, report_id="r", version=1, text=text, sections=sections)
    _quotes_match(text, ENGINE.review(item))


@FAST
@given(text=_TEXT)
def test_sections_describe_the_text(text: str) -> None:
    for section in split_sections(text):
        assert 0 <= section.start <= section.end <= len(text)
        assert text[section.start : section.end] == section.text
    _quotes_match(text, ENGINE.review(report_input(text)))


@pytest.mark.parametrize(
    "text",
    [
        "<" * 200_000,
        "[" * 200_000,
        "X" * 200_000,
        "_" * 200_000,
        "FINDINGS: " * 20_000,
        "IMPRESSION\n" * 20_000,
        "(" * 100_000 + "a",
        "a, " * 100_000,
        "<a" * 100_000,
        "{" * 100_000,
        "?" * 100_000,
        "XXXX " * 50_000,
    ],
)
@pytest.mark.timeout(60)
def test_huge_and_pathological_reports_are_fast(text: str) -> None:
    started = time.perf_counter()
    findings = ENGINE.review(report_input(text))
    assert time.perf_counter() - started < 5.0
    _quotes_match(text, findings)


def test_a_huge_real_report(shared_data: Path) -> None:
    text = (shared_data / "reports/mtsamples_radiology.csv").read_text()  # 340 kB
    started = time.perf_counter()
    ENGINE.review(report_input(text))
    assert time.perf_counter() - started < 5.0


# -- headers ------------------------------------------------------------------------------------
_KEYWORDS = [
    "Modality",
    "SOPClassUID",
    "BodyPartExamined",
    "ViewPosition",
    "PatientPosition",
    "PixelSpacing",
    "ImagerPixelSpacing",
    "PhotometricInterpretation",
    "PatientSex",
    "PatientAge",
    "PatientBirthDate",
    "PatientID",
    "BurnedInAnnotation",
    "ExposureIndex",
    "TargetExposureIndex",
    "DeviationIndex",
    "PatientSpeciesDescription",
    "PatientBreedDescription",
    "InstitutionName",
    "StudyDescription",
    "Rows",
    "Columns",
    "BitsAllocated",
    "SamplesPerPixel",
    "NumberOfFrames",
]
_SEQUENCES = ["PatientSpeciesCodeSequence", "BreedRegistrationSequence", "ProcedureCodeSequence"]
_VALUES = st.one_of(
    st.binary(max_size=40),
    st.sampled_from(
        [
            b"CHEST",
            b"PA",
            b"XX",
            b"CT",
            b"0\\0",
            b"abc",
            b"-7.0",
            b"1e400",
            b"1e300",
            b"-1e300",
            b"NaN",
            b"MONOCHROME1",
            b"YES",
            b"CANINE",
            b"\xff\xfe",
            b"",
        ]
    ),
)


@st.composite
def headers(draw: st.DrawFn) -> Dataset:
    ds = Dataset()
    for keyword in draw(st.lists(st.sampled_from(_KEYWORDS), unique=True)):
        tag = tag_for_keyword(keyword)
        assert tag is not None
        data = draw(_VALUES)
        # values as read from a file: converted only when a check reads them
        ds[tag] = RawDataElement(
            Tag(tag), dictionary_VR(tag), len(data), data, 0, False, True, True, False
        )
    for keyword in draw(st.lists(st.sampled_from(_SEQUENCES), unique=True)):
        item = Dataset()
        if draw(st.booleans()):
            item.CodeMeaning = draw(st.text(max_size=20))
        setattr(ds, keyword, Sequence([item] if draw(st.booleans()) else []))
    return ds


@FAST
@given(header=headers())
def test_any_header(header: Dataset) -> None:
    for finding in HEADER_ENGINE.review(header_input(header)):
        assert finding.evidence


@settings(max_examples=40, deadline=None)
@given(header=headers())
def test_any_header_with_a_real_file(header: Dataset, shared_data: Path) -> None:
    path = str(shared_data / CXR_FILES["siim"])
    item = ImageInput(item_id=1, sop_instance_uid="1.2", version=1, path=path, header=header)
    ENGINE.review(item)


@FAST
@given(study=st.lists(headers(), max_size=4))
def test_any_study(study: list[Dataset]) -> None:
    images = tuple((i, ds) for i, ds in enumerate(study))
    results = StudyRulesEngine().review_study(StudyInput("1.2.3", images))
    assert set(results) <= {i for i, _ in images}
    assert all(f.scope == "study" for fs in results.values() for f in fs)


def test_stored_sections_round_trip() -> None:
    text = "FINDINGS: a.\nIMPRESSION: b."
    stored = sections_dict(text)
    assert (
        ENGINE.review(ReportInput(item_id=1, report_id="r", version=1, text=text, sections=stored))
        == []
    )
