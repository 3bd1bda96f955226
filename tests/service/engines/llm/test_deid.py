"""De-identification rules, table-driven (the end-to-end canary test is in the engine tests)."""

from __future__ import annotations

from datetime import date

import pytest

from service.engines.llm.deid import age_band, date_shift_days, deidentify


@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        ("Patient: Zebediah Quixworth. Normal.", "Zebediah", "Normal."),
        ("Dr. Amy Wong reviewed.", "Amy Wong", "reviewed."),
        ("MRN: QX7731904", "QX7731904", "MRN"),
        ("Accession: ACC99887766 left lung", "ACC99887766", "left lung"),
        ("call (555) 867-5309 now", "867-5309", "now"),
        ("mail a.b@example.org", "a.b@example.org", "mail"),
        ("at 4411 Marigold Lane, Springfield.", "Marigold", "at"),
        ("A 67-year-old female, right side", "67-year", "60-69 year old female, right side"),
        ("There are no XXXX of effusion.", "zzz-none", "no XXXX of effusion"),
        ("Nodule 3.5 cm in 2 views", "zzz-none", "Nodule 3.5 cm in 2 views"),
    ],
)
def test_identifiers_removed_and_clinical_content_kept(text: str, gone: str, kept: str) -> None:
    out = deidentify(text, "p1")
    assert gone not in out
    assert kept in out


def test_dates_shift_consistently_per_patient() -> None:
    a = deidentify("on 2023-03-14 and 2023-03-24", "p1")
    b = deidentify("seen 2023-03-14", "p1")
    c = deidentify("seen 2023-03-14", "p2")
    assert "2023-03-14" not in a
    first = a.split()[1]
    assert first in b  # same patient, same shift
    assert date_shift_days("p1") != date_shift_days("p2") or first in c
    d1, d2 = (date.fromisoformat(a.split()[i]) for i in (1, 3))
    assert (d2 - d1).days == 10  # the interval survives the shift


def test_known_identifiers_removed_and_age_band() -> None:
    assert "R-77" not in deidentify("report R-77 final", "p", known_identifiers=("R-77",))
    assert age_band(93) == "90+" and age_band(40) == "40-49"
