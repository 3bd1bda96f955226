"""Study-level checks on real headers: images of one study must describe one patient."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from pydicom import dcmread
from pydicom.dataset import Dataset

from service.engines.base import StudyInput
from service.engines.rules import RULES_VERSION, StudyRulesEngine
from service.taxonomy import Severity
from tests.service.engines.support import CXR_FILES

ENGINE = StudyRulesEngine()


def _header(data: Path, name: str) -> Dataset:
    return dcmread(data / CXR_FILES[name], stop_before_pixels=True, force=True)


def _study(*headers: Dataset) -> StudyInput:
    uid = str(headers[0].StudyInstanceUID)
    return StudyInput(uid, tuple((i + 1, ds) for i, ds in enumerate(headers)))


def test_one_patient_in_the_study_is_clean(shared_data: Path) -> None:
    nih = [_header(shared_data, f"test{i}") for i in (1, 4, 5, 6)]  # one study, one patient
    assert {str(ds.StudyInstanceUID) for ds in nih} == {str(nih[0].StudyInstanceUID)}
    assert ENGINE.review_study(_study(*nih)) == {}
    rg1 = [_header(shared_data, name) for name in ("rg1", "rg1_j2kr", "rg1_j2ki")]
    assert ENGINE.review_study(_study(*rg1)) == {}


def test_another_patient_id_in_the_same_study_is_critical(shared_data: Path) -> None:
    # another patient's image filed under test1's study
    test1, refiled = _header(shared_data, "test1"), _header(shared_data, "test2")
    refiled.StudyInstanceUID = test1.StudyInstanceUID
    results = ENGINE.review_study(_study(test1, refiled))
    assert sorted(results) == [1, 2]
    for findings in results.values():
        assert len(findings) == 1
        found = findings[0]
        assert (found.code, found.severity, found.scope) == (
            "cxr.metadata",
            Severity.CRITICAL,
            "study",
        )
        assert (found.engine, found.engine_version) == ("rules", RULES_VERSION)
        assert found.evidence == [
            {"tag": "(0010,0020)", "keyword": "PatientID", "distinct_values": 2, "images": 2}
        ]
        assert "value" not in found.evidence[0]  # the tag is named, the IDs are not shown


def test_sex_and_birth_date_conflicts_are_major_and_apart(shared_data: Path) -> None:
    """Issue 15: each element the images disagree on is its own finding (one verdict each)."""
    first = _header(shared_data, "rg1")
    second = copy.deepcopy(first)
    second.PatientSex = "M" if first.PatientSex != "M" else "F"
    second.PatientBirthDate = "19010101"
    results = ENGINE.review_study(_study(first, second))
    assert sorted(results) == [1, 2]
    for found in results.values():
        assert [e["keyword"] for f in found for e in f.evidence] == [
            "PatientSex",
            "PatientBirthDate",
        ]
        assert all(f.severity == Severity.MAJOR and f.scope == "study" for f in found)
        sex, birth = found
        assert "disagree on PatientSex;" in sex.message and "BirthDate" not in sex.message
        assert "disagree on PatientBirthDate;" in birth.message
        assert "19010101" not in json.dumps([f.evidence for f in found]) + birth.message
    assert results[1][0].evidence is not results[2][0].evidence  # stored apart, per image


def test_missing_values_and_single_images_are_not_conflicts(shared_data: Path) -> None:
    first = _header(shared_data, "rg1")
    bare = copy.deepcopy(first)
    del bare.PatientSex
    bare.PatientBirthDate = ""
    bare.PatientID = "  " + str(first.PatientID) + " "  # padding is not another value
    assert ENGINE.review_study(_study(first, bare)) == {}
    assert ENGINE.review_study(_study(first)) == {}
    assert ENGINE.review_study(StudyInput("1.2.3", ())) == {}
