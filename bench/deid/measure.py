"""De-identification measures: identifier recall on the canaries, clinical words lost on reports.

Kept apart from ``run.py`` so that the same measures can score any candidate (a library under
evaluation, the regex baseline, ``service.phi.scrub``) in one way. Nothing here knows how a
filter works: a "clinical word" is defined from the report text alone.
"""

from __future__ import annotations

import csv
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

from tests.support.phi_canaries import Canary, damaged, leaked

Deidentify = Callable[[Canary], str]

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("RADQC_SHARED_DIR", REPO.parent / "shared"))
KINDS = (
    "name",
    "physician",
    "mrn",
    "accession",
    "phone",
    "email",
    "address",
    "institution",
    "date",
    "age",
)

WORD = re.compile(r"[^\W_]+(?:[.'\u2019/-][^\W_]+)*")
# Words that the QC checks need, chosen from radiology vocabulary (not from any filter).
LATERALITY = {
    "left",
    "right",
    "bilateral",
    "bilaterally",
    "unilateral",
    "ipsilateral",
    "contralateral",
    "l",
    "r",
}
ANATOMY = {
    "lung",
    "lungs",
    "lobe",
    "lobes",
    "apex",
    "apices",
    "base",
    "bases",
    "hilum",
    "hilar",
    "heart",
    "cardiac",
    "mediastinum",
    "mediastinal",
    "pleura",
    "pleural",
    "rib",
    "ribs",
    "clavicle",
    "clavicles",
    "diaphragm",
    "hemidiaphragm",
    "spine",
    "thoracic",
    "lumbar",
    "cervical",
    "vertebra",
    "vertebral",
    "trachea",
    "carina",
    "aorta",
    "aortic",
    "atrium",
    "ventricle",
    "costophrenic",
    "chest",
    "thorax",
    "abdomen",
    "pelvis",
    "kidney",
    "liver",
    "breast",
    "shoulder",
    "humerus",
    "scapula",
    "sternum",
    "neck",
    "head",
    "brain",
    "bowel",
    "hip",
    "knee",
    "femur",
    "lingula",
    "midlung",
    "upper",
    "lower",
    "middle",
    "anterior",
    "posterior",
    "lateral",
    "medial",
    "axillary",
    "subclavian",
    "svc",
    "jugular",
    "bronchus",
    "bronchi",
    "airway",
}
MEASURE = re.compile(
    r"^(?:\d+(?:\.\d+)?(?:mm|cm|m|ml|cc|kg|g|%|hu)?|mm|cm|ml|cc|hu|[tlcs]\d{1,2}(?:-[tlcs]?\d{1,2})?"
    r"|\d{1,2}(?:st|nd|rd|th))$",
    re.IGNORECASE,
)
# Dates and ages are identifiers (shifted and banded on purpose), not clinical words.
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?"
NOT_CLINICAL = re.compile(
    r"\b\d{1,4}(?:[/.-]\d{1,2}){1,2}(?:[/.-]\d{2,4})?\b"
    rf"|\b{_MONTH} \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}}\b|\b\d{{1,2}} {_MONTH},? \d{{4}}\b"
    r"|\b\d{1,3}[- ]?(?:years?|yrs?|y)[- ]?old\b|\b\d{1,3} ?(?:y/o|yo)\b|\bage:? \d{1,3}\b",
    re.IGNORECASE,
)


@dataclass
class Recall:
    found: Counter[str] = field(default_factory=Counter)
    total: Counter[str] = field(default_factory=Counter)
    cases_damaged: int = 0
    cases: int = 0
    misses: list[tuple[str, str, str]] = field(default_factory=list)  # case, identifier, output

    def rate(self, kind: str | None = None) -> float:
        found = sum(self.found.values()) if kind is None else self.found[kind]
        total = sum(self.total.values()) if kind is None else self.total[kind]
        return found / total if total else 1.0


def canary_recall(cases: Iterable[Canary], deidentify: Deidentify) -> Recall:
    """Share of identifiers removed, per canary kind, and cases whose clinical text changed."""
    result = Recall()
    for case in cases:
        out = deidentify(case)
        missed = leaked(case, out)
        result.total[case.kind] += len(case.identifiers)
        result.found[case.kind] += len(case.identifiers) - len(missed)
        result.misses += [(case.case_id, m, out) for m in missed]
        result.cases += 1
        result.cases_damaged += bool(damaged(case, out))
    return result


@dataclass
class Damage:
    words: int = 0
    removed: int = 0
    strict_words: int = 0
    strict_removed: int = 0
    removed_words: Counter[str] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return self.removed / self.words if self.words else 0.0

    @property
    def strict_rate(self) -> float:
        return self.strict_removed / self.strict_words if self.strict_words else 0.0


def strict(word: str) -> bool:
    """Laterality, anatomy and measurement tokens: what the QC checks read first."""
    low = word.lower()
    return low in LATERALITY or low in ANATOMY or bool(MEASURE.match(word))


def report_damage(texts: Iterable[str], deidentify: Callable[[str], str]) -> Damage:
    """Words of the reports that do not come out of ``deidentify`` unchanged.

    The reports are already de-identified at the source, so every word they hold is a clinical
    word, except dates and ages (``06/04/07``, ``59 y/o``), which are shifted and banded on
    purpose.
    """
    damage = Damage()
    for text in texts:
        skip = [m.span() for m in NOT_CLINICAL.finditer(text)]
        found = list(WORD.finditer(text))
        before = [m.group() for m in found]
        clinical = [not any(a <= m.start() < b for a, b in skip) for m in found]
        after = WORD.findall(deidentify(text))
        matcher = SequenceMatcher(None, before, after, autojunk=False)
        kept = [False] * len(before)
        for block in matcher.get_matching_blocks():
            for k in range(block.a, block.a + block.size):
                kept[k] = True
        for word, ok, counts in zip(before, kept, clinical, strict=True):
            if not counts:
                continue
            damage.words += 1
            is_strict = strict(word)
            damage.strict_words += is_strict
            if not ok:
                damage.removed += 1
                damage.strict_removed += is_strict
                damage.removed_words[word] += 1
    return damage


def report_texts(reports_dir: Path) -> list[str]:
    """Report texts of both CSVs: IU sections joined with their headers, MTSamples transcripts."""
    texts: list[str] = []
    with (reports_dir / "iu_openi_cxr_reports.csv").open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            parts = [
                f"{h.upper()}: {row[h]}"
                for h in ("comparison", "indication", "findings", "impression")
                if row[h].strip()
            ]
            texts.append("\n".join(parts))
    with (reports_dir / "mtsamples_radiology.csv").open(newline="", encoding="utf-8") as fh:
        texts += [row["transcription"] for row in csv.DictReader(fh)]
    return texts
