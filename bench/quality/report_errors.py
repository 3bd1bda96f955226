"""Report cases: real reports as bases, each either left untouched (clean) or given one error.

Imports nothing from ``service/`` and shares no word list with it (``reports.py`` asserts the
first; the vocabularies are in :mod:`bench.quality.report_vocab`). Bases:

- ``shared``: the IU chest X-ray reports in shared/data/reports (odd-numbered, findings and
  impression present; exam "XR CHEST 2 VIEWS", LOINC 36643-5) and the MTSamples reports with
  findings and impression (exam from the sample name), as they are in shared/.
- ``unseen``: the even-numbered IU reports, never in shared/ (see ``sources.py``), with the exam
  description Open-i gives them.

Bases are split into ``dev`` and ``test`` by a hash of their id and the seed. A clean case is an
unmodified base; an error case is a base with one injected error of one code and kind.
"""

from __future__ import annotations

import csv
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from bench.quality.common import SHARED, in_split
from bench.quality.sources import IU_UNSEEN

REPORT_CODES = (
    "report.laterality",
    "report.sex",
    "report.inconsistency",
    "report.omission",
    "report.measurement",
    "report.typo",
    "report.exam_mismatch",
    "report.terminology",
)
CXR_CODE, CXR_DISPLAY = "36643-5", "XR CHEST 2 VIEWS"
_NORMAL_IMPRESSION = re.compile(
    r"\b(?:no acute|no active|normal (?:chest|exam|study|radiograph)|negative|unremarkable|"
    r"no (?:significant )?abnormalit|no evidence of (?:active|acute))",
    re.I,
)


@dataclass(frozen=True, slots=True)
class Report:
    """One report: its whole text, where its findings and impression are, and its context."""

    report_id: str
    source: str
    text: str
    findings: str
    impression: str
    exam_code: str | None
    exam_display: str | None
    patient_sex: str | None = None

    def _findings_at(self) -> int:
        return self.text.find(self.findings)

    def _impression_at(self) -> int:
        after = self._findings_at() + len(self.findings)
        at = self.text.find(self.impression, after)
        return at if at >= 0 else self.text.rfind(self.impression)

    def _replaced(self, at: int, old: str, new: str) -> str:
        return self.text[:at] + new + self.text[at + len(old) :]

    def with_findings(self, new: str) -> Report:
        text = self._replaced(self._findings_at(), self.findings, new)
        return replace(self, text=text, findings=new)

    def with_impression(self, new: str) -> Report:
        text = self._replaced(self._impression_at(), self.impression, new)
        return replace(self, text=text, impression=new)

    def add_finding(self, sentence: str) -> Report:
        return self.with_findings(f"{self.findings.rstrip()}  {sentence}")

    def lead_impression(self, sentence: str) -> Report:
        return self.with_impression(f"{sentence}  {self.impression.lstrip()}")

    def state_in_impression(self, sentence: str) -> Report:
        """The impression states ``sentence``: it replaces a normal impression (which would
        otherwise contradict the new finding too), else it leads the impression."""
        if _NORMAL_IMPRESSION.search(self.impression):
            return self.with_impression(sentence)
        return self.lead_impression(sentence)

    def without_impression(self) -> Report:
        start = self._impression_at()
        heading = self.text.rfind("IMPRESSION", 0, start)
        cut = self.text[:heading].rstrip(" ,\n") + self.text[start + len(self.impression) :]
        return replace(self, text=cut.rstrip(" ,\n"), impression="")

    def with_context(self, line: str) -> Report:
        """A line before the report body (history / indication)."""
        return replace(self, text=f"{line}\n{self.text}")


@dataclass(frozen=True, slots=True)
class Case:
    case_id: str
    report: Report
    codes: frozenset[str]
    kind: str  # "clean" or "<code> / <kind>"
    inserted: str = ""  # the wrong words the error put in, for the independence audit


Injector = Callable[[Report, random.Random], tuple[Report, str] | None]


def _iu_text(row: dict[str, str]) -> str:
    parts = [
        f"{heading}: {row[column].strip()}"
        for heading, column in (("INDICATION", "indication"), ("COMPARISON", "comparison"))
        if row.get(column, "").strip()
    ]
    parts += [f"FINDINGS: {row['findings'].strip()}", f"IMPRESSION: {row['impression'].strip()}"]
    return "\n".join(parts)


def _iu(rows: list[dict[str, str]], source: str, prefix: str) -> list[Report]:
    found = []
    for row in rows:
        if not (row["findings"].strip() and row["impression"].strip()):
            continue
        uid = row["uid"] if row["uid"].startswith("CXR") else f"CXR{row['uid']}"
        display = row.get("image", "").strip() or CXR_DISPLAY
        code = None if row.get("image", "").strip() else CXR_CODE
        found.append(
            Report(
                f"{prefix}-{uid}",
                source,
                _iu_text(row),
                row["findings"].strip(),
                row["impression"].strip(),
                code,
                display,
            )
        )
    return found


def _mtsamples() -> list[Report]:
    found = []
    with (SHARED / "data/reports/mtsamples_radiology.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            text, fnd, imp = (
                row["transcription"],
                row["findings"].strip(),
                row["impression"].strip(),
            )
            if not (fnd and imp) or text.count(fnd) != 1 or text.count(imp) != 1:
                continue
            found.append(
                Report(f"mt-{row['note_id']}", "shared", text, fnd, imp, None, row["sample_name"])
            )
    return found


def load_bases(which: str, split: str, seed: int) -> list[Report]:
    """The bases of ``which`` ("shared" or "unseen") in ``split``, each with a patient sex."""
    if which == "shared":
        with (SHARED / "data/reports/iu_openi_cxr_reports.csv").open(newline="") as handle:
            bases = _iu(list(csv.DictReader(handle)), "shared", "iu") + _mtsamples()
    else:
        if not IU_UNSEEN.exists():
            return []
        with IU_UNSEEN.open(newline="") as handle:
            bases = _iu(list(csv.DictReader(handle)), "unseen", "iu")
    bases = [b for b in bases if in_split(b.report_id, seed, split)]
    rng = random.Random(seed)
    with_sex = []
    for base in bases:
        sex = _sex_for(base.text, rng)
        if sex is not None:  # a report whose own words disagree on the sex is left out
            with_sex.append(replace(base, patient_sex=sex))
    return with_sex


_MALE = re.compile(r"\b(?:he|his|him|man|male|gentleman|mr|prostat\w*|testic\w*)\b", re.I)
_FEMALE = re.compile(
    r"\b(?:she|her|woman|female|lady|mrs|breasts?|mastectomy|uter\w*|ovar\w*|pregnan\w*)\b",
    re.I,
)


def _sex_for(text: str, rng: random.Random) -> str | None:
    """The sex on record for a base, as a RIS would send it: what its own words say, else
    drawn at random; None when its words say both."""
    male, female = bool(_MALE.search(text)), bool(_FEMALE.search(text))
    if male and female:
        return None
    if male or female:
        return "male" if male else "female"
    return rng.choice(("male", "female"))
