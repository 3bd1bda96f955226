"""Header checks (cxr.metadata and friends) on the real CXR files, on real headers with one value
changed, and over the Open-i and RSNA header tables."""

from __future__ import annotations

import collections
import copy
from collections.abc import Callable
from pathlib import Path

import pytest
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.tag import Tag

from service.engines.base import Finding, ImageInput
from service.engines.rules import (
    HEADER_CHECKS,
    IMAGE_CHECKS,
    acquisition,
    annotation,
    header,
    subject,
)
from service.findings import by_problem, problem_key
from service.taxonomy import Severity
from tests.service.engines.support import CXR_FILES, header_input, header_table, image_input


def fired(item: ImageInput) -> dict[str, list[Finding]]:
    """Check name -> its findings, for the checks that found something."""
    results = {check.__name__: check(item) for check in IMAGE_CHECKS}
    return {name: found for name, found in results.items() if found}


# file -> the checks that must fire on it (exactly these)
EXPECTED: dict[str, set[str]] = {
    "rg1": {"check_pixel_spacing"},  # PixelSpacing 0\0 in the NEMA reference file
    "rg1_j2kr": {"check_pixel_spacing"},
    "rg1_j2ki": {"check_pixel_spacing"},
    "siim": set(),
    "siim_fake_mono1": {"check_photometric_label"},  # MONOCHROME1 label on MONOCHROME2 pixels
    "test1": {"check_view_position", "check_pixel_spacing"},
    "test2": {"check_view_position", "check_pixel_spacing"},
    "test3": {"check_view_position", "check_pixel_spacing"},
    "test4": {"check_body_part", "check_view_position", "check_pixel_spacing"},
    "test5": {"check_modality"},
    "test6": {"check_view_position", "check_patient_position", "check_pixel_spacing"},
    "nhsx": {"check_body_part", "check_view_position", "check_pixel_spacing"},
    "tfio": {"check_body_part", "check_view_position", "check_pixel_spacing"},
    "fodicom": {"check_pixel_spacing", "check_patient_sex", "check_patient_age"},
    "orthanc": {
        "check_body_part",
        "check_view_position",
        "check_patient_sex",
        "check_patient_age",
    },
    "header_only": {"check_patient_sex", "check_patient_age", "check_pixel_data"},
    "nonhuman": {"check_view_position", "check_human_subject", "check_exposure_indices"},
    "ct_scout": {"check_modality", "check_patient_sex", "check_patient_age"},
    "ct_small": {"check_modality", "check_body_part"},
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_files_raise_exactly_the_expected_checks(name: str, shared_data: Path) -> None:
    assert set(fired(image_input(shared_data / CXR_FILES[name]))) == EXPECTED[name]


def test_reference_images_are_near_clean(shared_data: Path) -> None:
    for name in ("rg1", "siim"):
        found = [f for fs in fired(image_input(shared_data / CXR_FILES[name])).values() for f in fs]
        assert all(f.severity == Severity.MINOR for f in found)
        assert len(found) <= 1


def _one(item: ImageInput, check: Callable[[ImageInput], list[Finding]]) -> Finding:
    found = check(item)
    assert len(found) == 1, found
    return found[0]


def test_known_faults_of_the_nih_conversions(shared_data: Path) -> None:
    test4 = _one(image_input(shared_data / CXR_FILES["test4"]), header.check_body_part)
    assert (test4.severity, test4.evidence[0]["value"]) == (Severity.MAJOR, "RIBCAGE")
    assert test4.evidence[0]["tag"] == "(0018,0015)"
    test5 = _one(image_input(shared_data / CXR_FILES["test5"]), header.check_modality)
    assert test5.severity == Severity.MAJOR
    assert "Modality CT" in test5.message
    test6 = image_input(shared_data / CXR_FILES["test6"])
    position = _one(test6, header.check_patient_position)
    assert position.evidence == [
        {"tag": "(0018,5100)", "keyword": "PatientPosition", "value": "XX"}
    ]
    assert "ViewPosition is missing" in _one(test6, header.check_view_position).message
    for name, view in (("test1", "PA"), ("test2", "AP"), ("test3", "AP")):
        found = _one(image_input(shared_data / CXR_FILES[name]), header.check_view_position)
        assert f"projection ({view}) is recorded in PatientPosition" in found.message
        assert found.evidence[0] == {"tag": "(0018,5101)", "keyword": "ViewPosition", "value": None}


def test_nonhuman_and_its_exposure(shared_data: Path) -> None:
    item = image_input(shared_data / CXR_FILES["nonhuman"])
    found = _one(item, subject.check_human_subject)
    assert found.severity == Severity.MAJOR
    assert found.confidence >= 0.8
    assert any("CANINE" in str(e["value"]) for e in found.evidence)
    exposure = _one(item, acquisition.check_exposure_indices)
    assert (exposure.code, exposure.severity) == ("cxr.exposure", Severity.MAJOR)
    assert "-7.0" in exposure.message


@pytest.fixture
def rg1(shared_data: Path) -> ImageInput:
    return image_input(shared_data / CXR_FILES["rg1"])


def _with(item: ImageInput, **values: str | None) -> ImageInput:
    """The real header with some values set (None removes the element)."""
    ds = copy.deepcopy(item.header)
    for keyword, value in values.items():
        if value is None:
            if keyword in ds:
                delattr(ds, keyword)
        else:
            setattr(ds, keyword, value)
    return header_input(ds)


@pytest.mark.parametrize(
    "value",
    [
        "CHEST",
        "THORAX",
        "PORTABLE CHEST",
        "NON GRID CHEST",
        "CHEST PA",
        "CHEST_LAT",
        "LUNG",
        "TORSO",
        "chest",
    ],
)
def test_chest_body_parts_pass(rg1: ImageInput, value: str) -> None:
    assert header.check_body_part(_with(rg1, BodyPartExamined=value)) == []


@pytest.mark.parametrize(
    ("value", "severity"),
    [
        ("RIBCAGE", Severity.MAJOR),
        ("ABDOMEN", Severity.MAJOR),
        ("HAND", Severity.MAJOR),
        ("EXTREMETY", Severity.MAJOR),
        ("THORACIC SPINE", Severity.MAJOR),
        ("SKULL", Severity.MAJOR),
        ("", Severity.MINOR),
        (None, Severity.MINOR),
        ("WIDGET", Severity.MINOR),
    ],
)
def test_other_body_parts_are_flagged(
    rg1: ImageInput, value: str | None, severity: Severity
) -> None:
    assert _one(_with(rg1, BodyPartExamined=value), header.check_body_part).severity == severity


@pytest.mark.parametrize("view", ["PA", "AP", "LL", "RL", "LATERAL", "LAT", "LARGE LATERAL", "RLD"])
def test_known_views_pass(rg1: ImageInput, view: str) -> None:
    assert header.check_view_position(_with(rg1, ViewPosition=view)) == []


@pytest.mark.parametrize("view", ["XX", "", None, "HFS"])
def test_missing_or_unknown_views_are_flagged(rg1: ImageInput, view: str | None) -> None:
    assert _one(_with(rg1, ViewPosition=view), header.check_view_position).code == "cxr.metadata"


@pytest.mark.parametrize("position", [None, "", "HFS", "FFDL", "ERECT", "SEMIERECT", "SUPINE"])
def test_valid_patient_positions_pass(rg1: ImageInput, position: str | None) -> None:
    assert header.check_patient_position(_with(rg1, PatientPosition=position)) == []


def test_invalid_patient_position_and_view_in_patient_position(rg1: ImageInput) -> None:
    assert _one(_with(rg1, PatientPosition="UP"), header.check_patient_position).confidence >= 0.9
    both = _one(_with(rg1, PatientPosition="PA"), header.check_patient_position)
    assert "holds a projection" in both.message
    assert both.confidence < 0.9


@pytest.mark.parametrize(
    ("modality", "sop", "severity"),
    [
        ("CT", None, Severity.MAJOR),
        ("MR", None, Severity.MAJOR),
        ("MG", None, Severity.MAJOR),
        ("OT", None, Severity.MINOR),
        ("", None, Severity.MINOR),
        ("CR", "1.2.840.10008.5.1.4.1.1.2", Severity.MAJOR),  # CT Image Storage
        ("CR", "1.2.840.10008.5.1.4.1.1.88.11", Severity.MAJOR),  # Basic Text SR
        ("OT", "1.2.840.10008.5.1.4.1.1.7", Severity.MINOR),
    ],
)
def test_wrong_modality_or_sop_class(
    rg1: ImageInput, modality: str, sop: str | None, severity: Severity
) -> None:
    item = _with(rg1, Modality=modality, SOPClassUID=sop or rg1.header.SOPClassUID)
    assert _one(item, header.check_modality).severity == severity


@pytest.mark.parametrize(
    ("modality", "sop"),
    [
        ("CR", "1.2.840.10008.5.1.4.1.1.1"),
        ("DX", "1.2.840.10008.5.1.4.1.1.1.1"),
        ("CR", "1.2.840.10008.5.1.4.1.1.1.1"),
        ("DX", "1.2.840.10008.5.1.4.1.1.7"),
    ],
)
def test_radiograph_modalities_pass(rg1: ImageInput, modality: str, sop: str) -> None:
    assert header.check_modality(_with(rg1, Modality=modality, SOPClassUID=sop)) == []


def test_missing_sop_class_everywhere_is_major(rg1: ImageInput) -> None:
    ds = Dataset()
    ds.Modality = "CR"
    assert _one(header_input(ds), header.check_modality).severity == Severity.MAJOR


@pytest.mark.parametrize("value", ["RGB", "YBR_FULL", "PALETTE COLOR", None])
def test_non_grey_photometric_is_major(rg1: ImageInput, value: str | None) -> None:
    item = _with(rg1, PhotometricInterpretation=value)
    assert _one(item, header.check_photometric).severity == Severity.MAJOR


def _raw(ds: Dataset, keyword_tag: int, vr: str, data: bytes) -> None:
    ds[keyword_tag] = RawDataElement(
        Tag(keyword_tag), vr, len(data), data, 0, False, True, True, False
    )


def test_pixel_spacing_variants(rg1: ImageInput) -> None:
    good = _with(rg1, PixelSpacing="0.143\\0.143")
    assert header.check_pixel_spacing(good) == []
    imager_only = _with(rg1, PixelSpacing=None, ImagerPixelSpacing="0.15\\0.15")
    assert header.check_pixel_spacing(imager_only) == []
    assert "Neither" in _one(_with(rg1, PixelSpacing=None), header.check_pixel_spacing).message
    malformed = copy.deepcopy(rg1.header)
    _raw(malformed, 0x00280030, "DS", b"abc\\1 ")
    assert (
        "not a valid spacing" in _one(header_input(malformed), header.check_pixel_spacing).message
    )


@pytest.mark.parametrize(
    ("sex", "flagged"),
    [("M", False), ("F", False), ("O", False), ("", True), (None, True), ("X", True)],
)
def test_patient_sex(rg1: ImageInput, sex: str | None, flagged: bool) -> None:
    assert bool(header.check_patient_sex(_with(rg1, PatientSex=sex))) is flagged


def test_patient_age_or_birth_date(rg1: ImageInput) -> None:
    assert header.check_patient_age(_with(rg1, PatientAge="045Y", PatientBirthDate=None)) == []
    neither = _one(_with(rg1, PatientAge=None, PatientBirthDate=None), header.check_patient_age)
    assert [e["keyword"] for e in neither.evidence] == ["PatientAge", "PatientBirthDate"]
    assert all(e["value"] is None for e in neither.evidence)


def test_burned_in_annotation(rg1: ImageInput) -> None:
    found = _one(_with(rg1, BurnedInAnnotation="YES"), annotation.check_burned_in_annotation)
    assert (found.code, found.severity) == ("cxr.annotation", Severity.MINOR)
    assert annotation.check_burned_in_annotation(_with(rg1, BurnedInAnnotation="NO")) == []


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            {"ExposureIndex": "256.88", "TargetExposureIndex": "226.22", "DeviationIndex": "0.55"},
            [],
        ),
        ({"DeviationIndex": "3.5"}, [("cxr.exposure", Severity.MINOR)]),
        ({"DeviationIndex": "-4.2"}, [("cxr.exposure", Severity.MAJOR)]),
        (
            {"ExposureIndex": "100", "TargetExposureIndex": "400"},
            [("cxr.exposure", Severity.MAJOR)],
        ),
        (
            {"ExposureIndex": "250", "TargetExposureIndex": "250", "DeviationIndex": "2.5"},
            [("cxr.metadata", Severity.MINOR)],
        ),
        ({"ExposureIndex": "0"}, [("cxr.metadata", Severity.MINOR)]),
    ],
)
def test_exposure_indices(
    rg1: ImageInput, values: dict[str, str], expected: list[tuple[str, Severity]]
) -> None:
    found = acquisition.check_exposure_indices(_with(rg1, **values))
    assert [(f.code, f.severity) for f in found] == expected


def test_species_module_and_veterinary_wording(rg1: ImageInput) -> None:
    dog = _one(
        _with(rg1, PatientSpeciesDescription="Canis lupus familiaris"), subject.check_human_subject
    )
    assert dog.confidence >= 0.95
    assert dog.severity == Severity.MAJOR
    assert subject.check_human_subject(_with(rg1, PatientSpeciesDescription="Homo sapiens")) == []
    assert _one(_with(rg1, StudyDescription="CANINE THORAX 2 VIEWS"), subject.check_human_subject)
    empty_registration = copy.deepcopy(rg1.header)
    empty_registration.BreedRegistrationSequence = Sequence([])  # as in 474 Open-i headers
    assert subject.check_human_subject(header_input(empty_registration)) == []
    assert subject.check_human_subject(_with(rg1, StudyDescription="CAT scan follow-up")) == []


def test_each_invalid_exposure_index_is_its_own_finding(rg1: ImageInput) -> None:
    """Issue 15: two invalid elements are two problems, each with its own evidence."""
    found = acquisition.check_exposure_indices(
        _with(rg1, ExposureIndex="0", TargetExposureIndex="-5")
    )
    assert [(f.code, [e["keyword"] for e in f.evidence]) for f in found] == [
        ("cxr.metadata", ["ExposureIndex"]),
        ("cxr.metadata", ["TargetExposureIndex"]),
    ]
    assert found[0].message.startswith("ExposureIndex (0) cannot be")
    assert found[1].message.startswith("TargetExposureIndex (-5) cannot be")


def test_an_animal_named_as_the_body_part_is_one_problem(rg1: ImageInput) -> None:
    """BodyPartExamined "DOG" is a veterinary subject, reported once (not also as an unknown
    body part, whose advice "set it to CHEST" would be wrong); another region is still one."""
    dog = _with(rg1, BodyPartExamined="DOG")
    assert header.check_body_part(dog) == []
    assert _one(dog, subject.check_human_subject).evidence[0]["keyword"] == "BodyPartExamined"
    canine_abdomen = _with(rg1, BodyPartExamined="CANINE ABDOMEN")
    assert _one(canine_abdomen, header.check_body_part).severity == Severity.MAJOR
    assert _one(canine_abdomen, subject.check_human_subject)


def test_each_problem_on_the_real_files_is_its_own_finding(shared_data: Path) -> None:
    """Issue 15: no two problems the checks report on one file point at the same place, so
    none is folded into another when stored (one verdict per problem). The veterinary film's
    missing ViewPosition and its veterinary subject are two findings of one code."""
    for name in EXPECTED:
        found = [f for fs in fired(image_input(shared_data / CXR_FILES[name])).values() for f in fs]
        kept = by_problem(found)
        assert len(kept) == len(found), (name, sorted(kept))
        assert all(key for _, key in kept), name  # every rule finding points somewhere
    nonhuman = fired(image_input(shared_data / CXR_FILES["nonhuman"]))
    view, animal = nonhuman["check_view_position"][0], nonhuman["check_human_subject"][0]
    assert view.code == animal.code == "cxr.metadata"
    assert problem_key(view.evidence) == "ViewPosition+PatientPosition"
    assert problem_key(animal.evidence) != problem_key(view.evidence)


def test_evidence_never_carries_patient_identity(shared_data: Path) -> None:
    for name in EXPECTED:
        item = image_input(shared_data / CXR_FILES[name])
        identity = {str(item.header.get(k, "")) for k in ("PatientName", "PatientID")} - {""}
        for finding in (f for fs in fired(item).values() for f in fs):
            shown = {str(e.get("value")) for e in finding.evidence}
            assert not shown & identity, (name, finding)
            assert not any(value in finding.message for value in identity), (name, finding)


# -- header tables ---------------------------------------------------------------------------
def _rates(datasets: list[Dataset]) -> dict[str, float]:
    counts: collections.Counter[str] = collections.Counter()
    for ds in datasets:
        item = header_input(ds)
        counts.update(check.__name__ for check in HEADER_CHECKS if check(item))
    return {check.__name__: counts[check.__name__] / len(datasets) for check in HEADER_CHECKS}


def test_finding_rates_on_open_i_headers(shared_data: Path) -> None:
    rates = _rates(list(header_table(shared_data, "nlmcxr_dicom_metadata.csv.gz", 1500, step=5)))
    # The Open-i export dropped PatientSex from every header (de-identification): all flagged.
    assert rates["check_patient_sex"] == 1.0
    # A third of Open-i (Siemens CSA-resampled images) has no ViewPosition or BodyPartExamined.
    assert 0.25 < rates["check_view_position"] < 0.45
    assert 0.25 < rates["check_body_part"] < 0.45
    for name in (
        "check_modality",
        "check_photometric",
        "check_patient_position",
        "check_patient_age",
        "check_human_subject",
        "check_exposure_indices",
        "check_burned_in_annotation",
    ):
        assert rates[name] == 0.0, name
    assert rates["check_pixel_spacing"] < 0.005


def test_finding_rates_on_rsna_headers(shared_data: Path) -> None:
    name = "kaggle_stage_2_train_images_dicom_headers.csv.gz"
    rates = _rates(list(header_table(shared_data, name, 1500, step=17)))
    # The RSNA table has no SOPClassUID or PhotometricInterpretation column: not judged here.
    for check in (
        "check_body_part",
        "check_view_position",
        "check_patient_position",
        "check_pixel_spacing",
        "check_patient_sex",
        "check_patient_age",
        "check_human_subject",
        "check_exposure_indices",
        "check_burned_in_annotation",
        "check_voi_lut",
    ):
        assert rates[check] == 0.0, check


# -- window / VOI LUT --------------------------------------------------------------------------
def test_voi_lut_present_on_real_files_passes(shared_data: Path) -> None:
    for name in ("rg1", "fodicom", "orthanc", "siim", "test1"):
        assert header.check_voi_lut(image_input(shared_data / CXR_FILES[name])) == [], name


def test_dx_for_presentation_without_window_is_flagged(rg1: ImageInput) -> None:
    item = _with(
        rg1,
        SOPClassUID="1.2.840.10008.5.1.4.1.1.1.1",
        Modality="DX",
        WindowCenter=None,
        WindowWidth=None,
    )
    found = _one(item, header.check_voi_lut)
    assert (found.code, found.severity, found.confidence) == ("cxr.metadata", Severity.MINOR, 0.85)
    assert [e["keyword"] for e in found.evidence] == [
        "WindowCenter",
        "WindowWidth",
        "VOILUTSequence",
    ]


def test_cr_without_window_is_flagged_with_low_confidence(rg1: ImageInput) -> None:
    found = _one(_with(rg1, WindowCenter=None, WindowWidth=None), header.check_voi_lut)
    assert found.confidence <= 0.5
    assert "15-bit" in found.message
    with_lut = copy.deepcopy(rg1.header)
    del with_lut.WindowCenter, with_lut.WindowWidth
    with_lut.VOILUTSequence = Sequence([Dataset()])
    assert header.check_voi_lut(header_input(with_lut)) == []


def test_eight_bit_capture_without_window_passes(shared_data: Path) -> None:
    assert header.check_voi_lut(image_input(shared_data / CXR_FILES["test2"])) == []


@pytest.mark.parametrize(
    ("centre", "width", "severity"),
    [
        ("15000", "0", Severity.MINOR),
        ("15000\\16000", "30000", Severity.MINOR),
        ("abc", "30000", Severity.MINOR),
        ("90000", "1000", Severity.MAJOR),  # beyond what 15 bits hold
        ("4000", "1", Severity.MAJOR),  # inside the range, but black and white
        ("16000", "300", Severity.MAJOR),  # under 1 % of what 15 bits hold
    ],
)
def test_unusable_windows_are_flagged(
    rg1: ImageInput, centre: str, width: str, severity: Severity
) -> None:
    ds = copy.deepcopy(rg1.header)
    for keyword, value in (("WindowCenter", centre), ("WindowWidth", width)):
        tag = Tag(ds.data_element(keyword).tag)  # type: ignore[union-attr]
        data = value.encode() + (b" " if len(value) % 2 else b"")
        ds[tag] = RawDataElement(tag, "DS", len(data), data, 0, False, True, True, False)
    assert _one(header_input(ds), header.check_voi_lut).severity == severity


def test_voi_lut_rate_on_open_i_headers(shared_data: Path) -> None:
    rates = _rates(list(header_table(shared_data, "nlmcxr_dicom_metadata.csv.gz", 1500, step=5)))
    # 355 of 7,469 Open-i headers (4.8 %) carry neither a window nor a VOI LUT.
    assert 0.02 < rates["check_voi_lut"] < 0.08


def test_a_narrow_but_usable_window_passes(rg1: ImageInput) -> None:
    """A window of 2 % of the 15-bit range still shows grey levels."""
    ds = copy.deepcopy(rg1.header)
    for keyword, value in (("WindowCenter", "16000"), ("WindowWidth", "700")):
        tag = Tag(ds.data_element(keyword).tag)  # type: ignore[union-attr]
        data = value.encode() + (b" " if len(value) % 2 else b"")
        ds[tag] = RawDataElement(tag, "DS", len(data), data, 0, False, True, True, False)
    assert header.check_voi_lut(header_input(ds)) == []
