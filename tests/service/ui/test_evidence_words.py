"""The pieces behind the item page's words and marks, as tables: where a piece of evidence is
drawn, what it says in words, and a finding's message in plain language."""

from __future__ import annotations

import re
from typing import Any

import pytest

from service.ui import plots, words
from service.ui.evidence import describe, related_ids, shape_of
from service.ui.pages import clip

SIZE = (400, 300)  # columns, rows


@pytest.mark.parametrize(
    ("evidence", "expected"),
    [
        ({"region": [10, 20, 110, 70]}, ("box", 10, 20, 100, 50)),
        ({"region": [0, 250, 400, 300]}, ("band", 0, 250, 400, 50)),  # the whole width
        ({"region": [0, 0, 400, 300]}, ("box", 0, 0, 400, 300)),  # the whole film: a box
        ({"region": [50, 10, 50, 90]}, ("line", 50, 10, 0, 80)),
        ({"region": [-20, -5, 900, 40]}, ("band", 0, 0, 400, 40)),  # clipped to the film
        ({"region": [110, 70, 10, 20]}, ("box", 10, 20, 100, 50)),  # corners in any order
        ({"point": [30, 40]}, ("point", 30, 40, 0, 0)),
        ({"band": [100, 60]}, ("band", 0, 60, 400, 40)),
        ({"band": [5, 25], "axis": "columns"}, ("band", 5, 0, 20, 300)),
        ({"region": [1, 2, 3]}, None),
        ({"region": [1, 2, 3, "4"]}, None),
        ({"region": [1, 2, 3, float("nan")]}, None),
        ({"point": [True, 2]}, None),
        ({"tag": "(0018,5101)"}, None),
        ("text", None),
    ],
)
def test_where_evidence_is_drawn(evidence: Any, expected: tuple[Any, ...] | None) -> None:
    shape = shape_of(evidence, finding_id=7, number=1, size=SIZE)
    if expected is None:
        assert shape is None
    else:
        assert shape is not None
        assert (shape.kind, shape.x, shape.y, shape.width, shape.height) == expected


def test_evidence_in_words() -> None:
    region = {"keyword": "PixelData", "region": [1, 2, 30, 40], "metric": "centre_offset"}
    assert describe(region | {"value": 0.25, "threshold": 0.1}) == [
        "measured centre offset 0.25 (limit 0.1)",
        "on the film: x 1 to 30, y 2 to 40 px",
    ]
    quote = {"section": "IMPRESSION", "start": 3, "end": 7, "quote": "Hart"}
    assert describe(quote) == ["IMPRESSION: “Hart”"]
    assert describe({"llm_verdict": "reject", "nested": {"a": 1}}) == ["llm verdict: reject"]
    assert related_ids([{"duplicate_of_item": 12}, {"duplicate_of_item": 12}, "x"]) == [12]


@pytest.mark.parametrize(
    ("message", "plain"),
    [
        (
            "ViewPosition is missing, so the projection is not recorded; add it.",
            "View position (PA, AP, lateral) is missing, so the projection is not recorded; "
            "add it.",
        ),
        (
            "BodyPartExamined 'KNEE' is not a chest value; set it to CHEST.",
            "Body part 'KNEE' is not a chest value; set it to CHEST.",
        ),
        (
            "Modality is missing on a Digital X-Ray object; check the PatientPosition (0018,5100).",
            "Modality is missing on a Digital X-Ray object; check the patient position.",
        ),
        ("Findings say left, impression says right.", None),  # nothing to translate
        ("The McDonald criteria apply.", None),  # CamelCase but not a DICOM keyword
    ],
)
def test_messages_in_plain_language(message: str, plain: str | None) -> None:
    assert words.plain_message(message) == (plain or message)


def test_the_details_line_names_keyword_tag_and_value() -> None:
    evidence = [{"tag": "(0018,5101)", "keyword": "ViewPosition", "value": None}]
    message = "ViewPosition is missing; PatientPosition is HFS."
    assert words.tag_details(message, evidence) == [
        "ViewPosition (0018,5101) = absent",
        "PatientPosition (0018,5100)",
    ]
    shown = [{"tag": "(0018,0015)", "keyword": "BodyPartExamined", "value": "KNEE"}]
    assert words.tag_details("", shown) == ["BodyPartExamined (0018,0015) = 'KNEE'"]


def test_intervals_stay_inside_their_range() -> None:
    assert clip(1.3) == 1.0 and clip(-0.2) == 0.0 and clip(0.4) == 0.4 and clip(None) is None
    assert clip(-1.4, -1, 1) == -1.0 and clip(7.0, 0, None) == 7.0
    svg = str(plots.interval_rows([("a", 1.2, -0.3, 1.5)], "t", floor=0.5))
    numbers = [float(x) for x in re.findall(r"x[12]?='([-\d.]+)'", svg)]
    assert min(numbers) >= 8 and max(numbers) <= 8 + 420 + 8  # the axis, its labels' offset
