"""The second-opinion report generator: each case carries exactly the error it claims, clean
cases are the bases unchanged, and the generator imports nothing of the engine (no engine run)."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bench.quality.second_opinion import generator as g

_BASE = g.Report(
    exam_line="PA and lateral views of the chest.",
    indication="Cough.",
    comparison="None.",
    findings="",
    impression="",
    exam_code="XRCH2V",
    exam_display="XR Chest 2 Views",
    patient_sex="female",
)


def _base(bid: str, findings: str, impression: str, **kw: object) -> g.Base:
    rep = replace(_BASE, findings=findings, impression=impression, **kw)  # type: ignore[arg-type]
    return g.Base(bid, "test", rep, None)


BASES = [
    _base(
        "b1",
        "There is a small left pleural effusion. The heart is mildly enlarged, consistent with "
        "cardiomegaly. No pneumothorax. Calcified granuloma in the left upper lobe.",
        "Small left pleural effusion. Mild cardiomegaly.",
    ),
    _base(
        "b2",
        "The heart is normal in size. The mediastinum is unremarkable. No focal consolidation, "
        "pleural effusion or pneumothorax. Degenerative changes of the thoracic spine.",
        "No acute cardiopulmonary abnormality.",
        patient_sex="male",
    ),
    _base(
        "b3",
        "Sternotomy wires are intact. Tortuous thoracic aorta. Osseous structures without acute "
        "abnormality.",
        "No acute disease. Tortuous aorta without change.",
        exam_line="Single portable AP view of the chest.",
        exam_display="XR Chest 1 View",
    ),
    _base(
        "b4",
        "Sternotomy wires are intact. Mild degenerative changes of the spine. Thoracic aorta "
        "is calcified.",
        "Negative for acute process; approximately stable appearance of the bilateral hila.",
        patient_sex="male",
    ),
]


@pytest.fixture(scope="module")
def cases() -> list[g.Case]:
    g.set_vocab(BASES)
    return g.build_cases(BASES, per_kind=2, seed=3)


def test_clean_cases_are_the_bases_unchanged(cases: list[g.Case]) -> None:
    clean = {c.base_id: c for c in cases if c.code is None}
    assert set(clean) == {b.base_id for b in BASES}
    for b in BASES:
        assert clean[b.base_id].report == b.report
        assert clean[b.base_id].payload()["text"] == b.report.text()


def test_most_kinds_apply_and_carry_their_code(cases: list[g.Case]) -> None:
    made = {c.kind for c in cases if c.code}
    assert len(made) >= len(g.KINDS) - 4, sorted(set(g.KINDS) - made)
    base = {b.base_id: b.report for b in BASES}
    for c in cases:
        if c.code is None:
            continue
        assert c.code == g.KINDS[c.kind][0] and c.code in g.CODES
        assert c.report != base[c.base_id], c.case_id
        assert c.evidence


def _changed_fields(a: g.Report, b: g.Report) -> set[str]:
    return {f for f in a.__dataclass_fields__ if getattr(a, f) != getattr(b, f)}


def test_each_case_carries_exactly_its_error(cases: list[g.Case]) -> None:
    base = {b.base_id: b.report for b in BASES}
    for c in cases:
        if c.code is None:
            continue
        b, r = base[c.base_id], c.report
        changed = _changed_fields(b, r)
        if c.code == "report.laterality" and c.kind != "lat_exam_side":
            assert changed <= {"findings", "impression"}
            assert re.search(r"\b(left|right)\b", r.findings + " " + (r.impression or ""), re.I)
        if c.kind == "lat_flip_one_section":
            # the flipped section now names the other side for the shared finding
            assert changed in ({"findings"}, {"impression"})
        if c.code == "report.sex":
            said = g.sex_in_words(whole := r.indication + " " + r.findings)
            assert said is not None and said != r.patient_sex, (c.case_id, whole)
        if c.kind == "om_impression_missing":
            assert r.impression is None and changed <= {"impression", "empty_impression_header"}
        if c.kind == "om_findings_missing":
            assert r.findings is None and changed == {"findings"}
        if c.kind.startswith("om_truncated"):
            cut = r.impression if c.kind == "om_truncated_impression" else r.findings
            assert cut and not cut.endswith(".")
        if c.kind in ("meas_unit_swap",):
            assert re.search(r"\d mm", r.text()) and re.search(r"\d cm", r.text())
        if c.kind in ("meas_size_changed", "meas_decimal_slip"):
            nums = re.findall(r"\d+(?:\.\d+)?", (r.findings or "") + " " + (r.impression or ""))
            assert len(set(nums)) >= 2
        if c.code == "report.typo":
            assert changed <= {"findings", "impression"} and len(changed) == 1
        if c.kind == "typo_keyboard":
            (f,) = changed
            old, new = getattr(b, f).split(), getattr(r, f).split()
            assert len(old) == len(new) and sum(x != y for x, y in zip(old, new, strict=False)) == 1
        if c.kind == "exam_order_other":
            assert changed == {"exam_code", "exam_display"} and "Chest" not in r.exam_display
        if c.kind == "exam_views":
            assert "exam_display" in changed
        if c.kind == "term_placeholder":
            assert any(p in r.text() for p in g.PLACEHOLDERS)
        if c.kind == "term_abbreviation":
            assert changed <= {"findings", "impression"}


def test_split_is_stable_and_balanced() -> None:
    ids = [f"iu-even-{i}" for i in range(0, 2000, 2)]
    test = [i for i in ids if g.split_of(i, 7) == "test"]
    assert 400 < len(test) < 600
    assert test == [i for i in ids if g.split_of(i, 7) == "test"]


def test_generator_imports_no_engine_or_first_benchmark() -> None:
    code = (
        "import sys; import bench.quality.second_opinion.generator;"
        " import bench.quality.second_opinion.run;"
        "bad=[m for m in sys.modules if m=='service' or m.startswith('service.')"
        " or m.startswith('bench.quality.report_')]; print(bad); assert not bad"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, cwd=root)
