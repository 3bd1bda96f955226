"""Section parsing on the report styles real RIS systems and public collections use."""

from __future__ import annotations

import re
from pathlib import Path

from service.reports.sections import section_text, sections_dict, split_sections
from tests.service.engines.support import iu_rows, iu_text, mtsamples_rows


def _names(text: str) -> list[str]:
    return [s.name for s in split_sections(text)]


def test_iu_style_headings_with_offsets() -> None:
    text = (
        "COMPARISON: None.\nINDICATION: Positive TB test\n"
        "FINDINGS: The cardiac silhouette is normal. There are no XXXX of a pleural effusion.\n"
        "IMPRESSION: Normal chest x-XXXX."
    )
    sections = split_sections(text)
    assert [s.name for s in sections] == ["comparison", "indication", "findings", "impression"]
    for section in sections:
        assert text[section.start : section.end] == section.text
    assert sections[-1].text == "Normal chest x-XXXX."
    assert sections[2].text.startswith("The cardiac silhouette")


def test_mtsamples_comma_style() -> None:
    text = (
        "EXAM: , Two views of the soft tissues of the neck.,HISTORY:,  Swelling of the neck.,"
        "FINDINGS: , The trachea appears normal.,IMPRESSION:,1. Patent airway.,2. Slight asymmetry."
    )
    stored = sections_dict(text)
    assert [s["name"] for s in stored["sections"]] == [
        "exam",
        "indication",
        "findings",
        "impression",
    ]
    assert section_text(text, stored, "findings") == "The trachea appears normal."
    assert section_text(text, stored, "impression") == "1. Patent airway.,2. Slight asymmetry."


def test_numbered_impression_and_bare_heading() -> None:
    text = "FINDINGS\nLungs are clear.\n\nIMPRESSION\n1. No pneumothorax.\n2. Stable heart size.\n"
    stored = sections_dict(text)
    assert [s["name"] for s in stored["sections"]] == ["findings", "impression"]
    impression = section_text(text, stored, "impression")
    assert impression == "1. No pneumothorax.\n2. Stable heart size."


def test_bare_heading_must_be_upper_case() -> None:
    # "Impression" alone on a line in running text is not taken as a heading
    assert _names("The heart is normal.\nImpression\nof the trachea is noted.") == ["body"]


def test_conclusion_and_opinion_are_the_impression() -> None:
    assert _names("Findings: clear lungs.\nConclusion: normal.") == ["findings", "impression"]
    assert _names("REPORT: clear lungs. OPINION: normal study.") == ["findings", "impression"]
    assert _names("FINAL IMPRESSION: normal.")[-1] == "impression"


def test_combined_findings_impression_heading() -> None:
    sections = split_sections("FINDINGS/IMPRESSION: Clear lungs, no effusion.")
    assert [s.name for s in sections] == ["findings_impression"]
    assert sections[0].text == "Clear lungs, no effusion."


def test_no_headings_is_one_body() -> None:
    text = "  Heart size normal. Lungs clear.  "
    sections = split_sections(text)
    assert [(s.name, s.text) for s in sections] == [("body", "Heart size normal. Lungs clear.")]
    assert text[sections[0].start : sections[0].end] == sections[0].text
    assert split_sections("") == []
    assert split_sections(" \n ") == []


def test_words_inside_sentences_are_not_headings() -> None:
    text = "FINDINGS: No findings: of note. History of smoking.\nIMPRESSION: normal."
    assert _names(text) == ["findings", "impression"]


def test_empty_section_at_the_end() -> None:
    text = "FINDINGS: Clear lungs.\nIMPRESSION:"
    sections = split_sections(text)
    assert sections[-1].name == "impression"
    assert sections[-1].start == sections[-1].end == len(text)


def test_stored_format_is_json_ready() -> None:
    stored = sections_dict("PREAMBLE TEXT\nFINDINGS: a.\nIMPRESSION: b.")
    assert set(stored) == {"sections"}
    assert stored["sections"][0] == {"name": "preamble", "heading": "", "start": 0, "end": 13}
    for entry in stored["sections"]:
        assert set(entry) == {"name", "heading", "start", "end"}


def test_all_iu_reports_split_into_their_columns(shared_data: Path) -> None:
    rows = iu_rows(shared_data)
    # a few source rows hold a second, whole report inside their impression column
    doubled = [r for r in rows if re.search(r"(IMPRESSION|FINDINGS):", r["impression"])]
    assert len(doubled) <= len(rows) // 100
    for row in rows:
        if row in doubled:
            continue
        text = iu_text(row)
        stored = sections_dict(text)
        for name in ("findings", "impression"):
            expected = row[name].strip() or None
            assert section_text(text, stored, name) == expected, row["uid"]


def test_mtsamples_with_both_headings_have_both_sections(shared_data: Path) -> None:
    rows = [
        r
        for r in mtsamples_rows(shared_data)
        if {"FINDINGS", "IMPRESSION"} <= set(r["section_headers"].split("|"))
    ]
    assert len(rows) >= 30
    for row in rows:
        names = _names(row["transcription"])
        assert {"findings", "impression"} <= set(names), row["note_id"]
