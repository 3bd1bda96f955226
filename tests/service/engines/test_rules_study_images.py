"""Study-level image checks on real files: duplicates and a missing lateral view."""

from __future__ import annotations

from pathlib import Path

from pydicom import dcmread

from service.engines.base import StudyInput
from service.engines.rules import study_images
from tests.conftest import DATA as SHARED_DATA

DATA = SHARED_DATA / "cxr"
TEST1 = DATA / "udacity_nih_test1.dcm"
NHSX = next(DATA.glob("nhsx_nih_*.dcm"))
TEST2 = DATA / "udacity_nih_test2.dcm"


def _study(*paths: Path) -> StudyInput:
    images = [(i + 1, dcmread(p, stop_before_pixels=True)) for i, p in enumerate(paths)]
    return StudyInput("1.2.3", images, {i + 1: str(p) for i, p in enumerate(paths)})


def test_same_pixels_under_another_identity_are_duplicates() -> None:
    found = study_images.check_duplicates(_study(TEST1, NHSX))
    assert set(found) == {1, 2}
    assert all(f.code == "cxr.metadata" and f.scope == "study" for fs in found.values() for f in fs)


def test_different_images_are_not_duplicates() -> None:
    assert study_images.check_duplicates(_study(TEST1, TEST2)) == {}


def test_missing_lateral_when_two_views_requested() -> None:
    study = _study(TEST1)
    study.images[0][1].RequestedProcedureDescription = "XR CHEST PA AND LATERAL"
    assert set(study_images.check_missing_view(study)) == {1}
    study.images[0][1].RequestedProcedureDescription = "XR CHEST 1 VIEW"
    assert study_images.check_missing_view(study) == {}
