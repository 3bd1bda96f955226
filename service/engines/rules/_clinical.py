"""What the report checks read from the text: sentences, findings (concepts), sides, polarity.

A concept is a finding a radiologist names (pneumothorax, effusion, nodule...) with a regex and
what the report checks know of it, in this one place: ``acute`` (an impression of "no acute
abnormality" over it is a contradiction, ``report.inconsistency``) and ``impression`` (it must
reach the impression, ``report.omission``: the words in an impression that stand for it; None
for findings that need not). Mentions carry their sentence, side and polarity, computed once
per report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from re import _constants, _parser  # type: ignore[attr-defined]  # the parse tree of a pattern
from typing import Any

from service.engines.rules._report import ReportView, Span, lowered, per_view
from service.engines.rules.negation import Polarity, polarity
from service.reports.sections import FINDINGS_NAMES, IMPRESSION_NAMES


@dataclass(frozen=True, slots=True)
class Concept:
    name: str
    # matched on the lowered text (_report.lowered), as is ``exclude``: several times faster than
    # re.IGNORECASE, and every sentence of the findings and impression is read for every concept
    regex: re.Pattern[str]
    # strings one of which every match of ``regex`` contains (``_stems``), or None: a sentence
    # holding none of them is not read with ``regex``
    stems: tuple[str, ...] | None
    acute: bool  # "no acute abnormality" over it is a contradiction
    # words in an impression that stand for it, when it must reach the impression
    impression: re.Pattern[str] | None
    # a sentence matching this is about something else (a joint effusion, a hiatal "mass")
    exclude: re.Pattern[str] | None = None

    @property
    def significant(self) -> bool:
        """It must reach the impression (``report.omission``)."""
        return self.impression is not None


def _concept(
    name: str,
    pattern: str,
    *,
    acute: bool,
    impression: str | None,
    exclude: str | None = None,
) -> Concept:
    return Concept(
        name,
        re.compile(rf"\b(?:{pattern})\b"),
        _stems(pattern),
        acute,
        re.compile(impression, re.IGNORECASE) if impression else None,
        re.compile(rf"\b(?:{exclude})") if exclude else None,
    )


def _stems(pattern: str) -> tuple[str, ...] | None:
    """Literal strings one of which every match of ``pattern`` contains, read from its parse tree,
    or None when none is known. A string ``s in sentence`` costs a fraction of a regex search,
    and most sentences name no concept: they are then not read with the concept's pattern.

    A run of literal characters is required as a whole; a group or a repetition of at least one
    requires what its content requires; an alternation requires one of what each of its
    alternatives requires (none known for one: none for all). A sequence requires what any of
    its parts requires: the part whose shortest string is the longest is kept (fewest strings on
    a tie). Classes, optional parts and look-arounds require nothing."""
    return _required(_parser.parse(pattern))


def _required(items: Any) -> tuple[str, ...] | None:
    best: tuple[str, ...] | None = None
    run: list[str] = []

    def keep(found: tuple[str, ...] | None) -> None:
        nonlocal best
        if found and (
            best is None or (min(map(len, found)), -len(found)) > (min(map(len, best)), -len(best))
        ):
            best = found

    for op, av in items:
        if op is _constants.LITERAL:
            run.append(chr(av))
            continue
        keep(("".join(run),) if run else None)
        run = []
        if op is _constants.SUBPATTERN:
            keep(_required(av[3]))
        elif op in (_constants.MAX_REPEAT, _constants.MIN_REPEAT) and av[0] >= 1:
            keep(_required(av[2]))
        elif op is _constants.BRANCH:
            union: list[str] = []
            for alternative in av[1]:
                found = _required(alternative)
                if not found:
                    union = []
                    break
                union.extend(s for s in found if s not in union)
            # a string holding another of them adds nothing ("mediastinum " after "mediastinum")
            keep(tuple(s for s in union if not any(t != s and t in s for t in union)) or None)
    keep(("".join(run),) if run else None)
    return best


_NOT_PLEURAL = (
    r"joint|tendon|sheath|knee|ankle|elbow|hip|shoulder|wrist|pericardial|bursa|sacroiliac|"
    r"subdeltoid|synovial|suprapatellar|glenohumeral|middle ear|mastoid"
)


# the radiographic sign of a pneumothorax: a visceral pleural line with no lung markings beyond it
_PNEUMOTHORAX_SIGN = (
    r"(?:visceral )?pleural (?:line|edge)[^.;]{0,40}?(?:without|with no|and no|beyond which no|"
    r"(?:with |and )?absent) "
    r"(?:lung|vascular|pulmonary|bronchovascular) markings"
)

CONCEPTS: tuple[Concept, ...] = (
    _concept(
        "pneumothorax",
        rf"(?:hydro)?pneumothora(?:x|ces)|{_PNEUMOTHORAX_SIGN}",
        acute=True,
        impression=r"pneumothora|air leak|pleural line",
    ),
    _concept(
        "pleural effusion",
        r"(?:pleural )?effusions?",
        acute=False,
        impression=r"effusion|fluid|infusion",  # "infusion": a dictation error
        exclude=_NOT_PLEURAL,
    ),
    _concept(
        "consolidation",
        r"consolidations?|airspace (?:disease|opacit(?:y|ies))",
        acute=True,
        # airspace opacity is a sign, not a diagnosis: an impression that names what fills the
        # airspaces (edema, heart failure, atelectasis, haemorrhage, aspiration) carries it
        impression=r"consolidat|pneumonia|airspace|air space|opacit|infiltrat|infect|edema|"
        r"heart failure|fluid overload|volume overload|congesti|atelecta|hemorrhag|aspiration",
    ),
    _concept(
        "pneumonia",
        r"pneumonias?",
        acute=True,
        impression=r"pneumonia|consolidat|infect|airspace|air space|opacit|infiltrat",
    ),
    _concept(
        "pulmonary edema",
        r"(?:pulmonary |interstitial |alveolar )?edema",
        acute=True,
        impression=r"edema|heart failure|chf|fluid overload|congesti",
        exclude=r"(?:laryngeal|soft[- ]tissue|subcutaneous|scrotal|bowel wall|cerebral|"
        r"vasogenic|marrow|bone marrow|periportal|gallbladder wall|pedal|extremity|mucosal|"
        r"airway|facial|periorbital|labial|penile|muscle|myo\w+) edema",
    ),
    _concept(
        "mass",
        r"mass(?:es)?",
        acute=False,
        impression=r"mass|neoplas|malignan|tumou?r|cancer|carcinoma|lesion|nodul|metasta",
    ),
    _concept(
        "nodule",
        r"nodules?|nodular opacit(?:y|ies)",
        acute=False,
        impression=r"nodul|mass|neoplas|malignan|tumou?r|cancer|carcinoma|lesion|metasta|opacit",
    ),
    _concept(
        "fracture",
        r"fractures?",
        acute=True,
        impression=r"fracture",
    ),
    _concept(
        "pneumomediastinum",
        r"pneumomediastinum",
        acute=True,
        impression=r"pneumomediastinum|mediastin",
    ),
    # a sign with many causes (vessels, nodes, fat, haematoma): it must reach the impression, but
    # it is not acute in itself, so "no acute disease" over it is an omission
    _concept(
        "widened mediastinum",
        r"widen(?:ed|ing) (?:of the )?(?:superior )?mediastinum|"
        r"mediastinum (?:is|appears) widened|mediastinal widening",
        acute=False,
        impression=r"mediastin|aort|dissection|hematoma|haematoma|adenopathy|lymph|mass|"
        r"vascular|lipomatosis",
    ),
    _concept(
        "adenopathy",
        r"(?:lymph)?adenopathy|(?:enlarged|bulky) (?:hilar |mediastinal )?lymph nodes?|"
        r"hilar (?:enlargement|mass(?:es)?)",
        acute=False,
        impression=r"adenopathy|lymph|node|hil(?:ar|um)|mass|lymphoma|sarcoid",
    ),
    _concept(
        "bone lesion",
        r"(?:lytic|blastic|sclerotic|expansile|destructive|permeative)"
        r"(?: (?:and|or) (?:lytic|blastic|sclerotic|expansile|destructive))? "
        r"(?:bone |osseous )?(?:lesions?|process|metasta\w+)",
        acute=False,
        impression=r"lesion|lytic|blastic|sclerotic|metasta|myeloma|neoplas|malignan|tumou?r",
    ),
    _concept(
        "cardiomegaly",
        r"cardiomegaly|enlarged (?:heart|cardiac silhouette)|"
        r"(?:heart|cardiac silhouette) (?:is|appears) (?:mildly |moderately )?enlarged",
        acute=False,
        impression=None,
    ),
    _concept(
        "pneumoperitoneum",
        r"pneumoperitoneum|free (?:intraperitoneal )?air",
        acute=True,
        impression=r"pneumoperitoneum|free air|perforat",
    ),
    _concept(
        "atelectasis",
        # lobar collapse is atelectasis of a whole lobe (Fleischner glossary)
        r"atelectasis|atelectatic|(?:lobar|lobe|segmental|subsegmental) collapse|"
        r"collapse of the (?:(?:right|left) )?(?:upper|middle|lower) lobe",
        acute=False,
        impression=None,
    ),
    _concept(
        "infiltrate",
        r"infiltrates?",
        acute=False,
        impression=None,
    ),
    _concept(
        "granuloma",
        r"granulomas?|granulomata",
        acute=False,
        impression=None,
    ),
    _concept(
        "hernia",
        r"hernias?",
        acute=False,
        impression=None,
    ),
)

# a sentence ends at . ! ? (not "0.5 cm") or a line end; also at two spaces before a capital (a
# sentence whose full stop the dictation lost). The runs of other characters are taken whole
# (``[^.!?\n]+``), not one character per repetition: the same sentences, several times faster.
_SENTENCE = re.compile(r"(?:[^.!?\n]+|\.(?=\d))+(?:[.!?]+|$)", re.MULTILINE)
_LOST_STOP = re.compile(r"[ \t]{2,}(?=[A-Z])")
_SIDE = re.compile(r"\b(left|right|bilateral(?:ly)?|both)\b", re.IGNORECASE)
# "prior" and "previous" name an old process ("prior granulomatous disease"), not a comparison
# ("since the prior", "previous study"); read in the lowered text, as _NEW
_OLD = re.compile(
    r"\b(?:old|healed|healing|remote|chronic|stable|unchanged|known|again|redemonstrated|"
    r"postsurgical|postoperative|persistent|previously (?:noted|seen|described|visualized|"
    r"demonstrated|identified)|(?<!since )(?<!to )(?<!than )"
    r"(?:prior|previous)(?! (?:stud|exam|film|radiograph|image|imaging|comparison|chest|"
    r"ct|x-?ray|examination|one)))\b"
)
# a finding called new is not old, whatever else the sentence says ("new since the prior")
_NEW = re.compile(r"\b(?<!no )(?:new|newly|interval development|developed)\b")


@dataclass(frozen=True, slots=True)
class Mention:
    concept: Concept
    section: str
    start: int  # offsets into the report text
    end: int
    sentence_start: int
    sentence_end: int
    polarity: Polarity
    side: str | None  # "left", "right", "bilateral" or None
    old: bool  # the sentence calls it old, chronic, stable or unchanged


@lru_cache(maxsize=64)
def sentences(text: str, span: Span) -> tuple[tuple[int, int], ...]:
    """``(start, end)`` of the sentences in a section body ("1." list numbers stay inside).

    Several checks split the same sections of one report: the last few splits are kept (a
    small cache, so it holds one report's sections, not a collection's)."""
    return tuple(_sentences(text, span))


def _sentences(text: str, span: Span) -> list[tuple[int, int]]:
    body = text[span.start : span.end]
    found: list[tuple[int, int]] = []
    for match in _SENTENCE.finditer(body):
        chunk = match.group(0)
        if not chunk.strip():
            continue
        if found and re.fullmatch(r"\s*,?\s*\d{1,2}\.", chunk):
            continue
        start = span.start + match.start()
        for lost in _LOST_STOP.finditer(chunk):
            if chunk[: lost.start()].strip():
                found.append((start, span.start + match.start() + lost.start()))
                start = span.start + match.start() + lost.start()
        found.append((start, span.start + match.end()))
    return found


_BOTH = re.compile(r"\b(?:right and left|left and right)\b", re.IGNORECASE)


def side_of(sentence: str, start: int, end: int) -> str | None:
    """The side nearest to the term within its sentence (before it preferred: a side after it
    must be much closer); "right and left" just before the term is bilateral."""
    if _BOTH.search(sentence, max(0, start - 40), start):
        return "bilateral"
    best: tuple[int, str] | None = None
    for match in _SIDE.finditer(sentence, max(0, start - 200), end + 200):
        # a side after the term ("effusion on the right") counts when none is close before it:
        # "right base opacity and left atelectasis" gives the opacity to the right
        if match.end() <= start:
            distance = start - match.end()
        elif match.start() >= end:
            distance = 3 * (match.start() - end) + 20
        else:
            distance = 0  # inside the term: "pleural line at the left apex without markings"
        if distance < 0:
            continue
        word = match.group(1).lower()
        side = "bilateral" if word.startswith(("bilateral", "both")) else word
        if best is None or distance < best[0]:
            best = (distance, side)
    return best[1] if best else None


def _mentions(view: ReportView, span: Span) -> list[Mention]:
    found: list[Mention] = []
    low = lowered(view)
    # the concepts whose stems the section holds (most sections: none or a few), then per
    # sentence those whose stems it holds; only they are read with their patterns
    section = low[span.start : span.end]
    candidates = [c for c in CONCEPTS if c.stems is None or any(s in section for s in c.stems)]
    if not candidates:
        return found
    for s_start, s_end in sentences(view.text, span):
        lower = low[s_start:s_end]  # the concepts are read here, the side and polarity as written
        sentence: str | None = None
        old = False
        for concept in candidates:
            if concept.stems is not None and not any(s in lower for s in concept.stems):
                continue
            if concept.exclude is not None and concept.exclude.search(lower):
                continue
            for match in concept.regex.finditer(lower):
                if sentence is None:
                    sentence = view.text[s_start:s_end]
                    old = _OLD.search(lower) is not None and _NEW.search(lower) is None
                found.append(
                    Mention(
                        concept,
                        span.name,
                        s_start + match.start(),
                        s_start + match.end(),
                        s_start,
                        s_end,
                        polarity(sentence, match.start(), match.end()),
                        side_of(sentence, match.start(), match.end()),
                        old,
                    )
                )
    return found


@per_view  # several checks read them
def mentions(view: ReportView) -> tuple[tuple[Mention, ...], tuple[Mention, ...]]:
    """The concept mentions of the findings and of the impression (a combined
    ``findings_impression`` section counts as both and so yields no contradiction pairs)."""
    return _compute_mentions(view)


def _compute_mentions(view: ReportView) -> tuple[tuple[Mention, ...], tuple[Mention, ...]]:
    findings = [
        m for s in view.named(FINDINGS_NAMES - IMPRESSION_NAMES) for m in _mentions(view, s)
    ]
    impression = [
        m for s in view.named(IMPRESSION_NAMES - FINDINGS_NAMES) for m in _mentions(view, s)
    ]
    return tuple(findings), tuple(impression)


def main_spans(view: ReportView) -> list[Span]:
    """The findings and impression sections, or the whole body of an unstructured report."""
    spans = view.named(FINDINGS_NAMES | IMPRESSION_NAMES)
    return spans or [s for s in view.sections if s.name in {"body", "preamble"}]


# an impression that calls the study normal or free of acute disease
NORMAL_IMPRESSION = re.compile(
    r"\b(?:no (?:acute|active|acute or active|active or acute) (?:radiographic |chest |"
    r"(?:cardio ?pulmonary|cardiac or pulmonary|pulmonary|intrathoracic|osseous|thoracic|"
    r"preoperative) )*(?:abnormalit(?:y|ies)|disease|process|findings?|pathology|changes?)|"
    r"negative for acute (?:cardio ?pulmonary |pulmonary |intrathoracic )?"
    r"(?:abnormalit(?:y|ies)|disease|process|findings?)|"
    r"normal (?:chest|study|examination|exam|radiograph)|negative (?:chest|study|examination|exam)|"
    r"no (?:radiographic )?evidence of (?:acute |active )?(?:cardio ?pulmonary )?disease|"
    r"unremarkable (?:chest|study|examination|exam))\b",
    re.IGNORECASE,
)
# "the lungs are clear": a normal statement about the airspaces ("clear of consolidation")
CLEAR_LUNGS = re.compile(
    r"\b(?:(?:the )?lungs (?:are|remain) clear|clear lungs)\b(?![^.]{0,40}\bexcept)",
    re.IGNORECASE,
)
AIRSPACE = frozenset({"consolidation", "pneumonia", "infiltrate"})
# the findings for which an impression of "no acute abnormality" is a contradiction, not an
# omission (DESIGN §4 boundaries)
ACUTE_FOR_NORMAL = frozenset(c.name for c in CONCEPTS if c.acute)
