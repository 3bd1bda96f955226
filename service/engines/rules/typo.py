"""``report.typo``: misspellings and dictation errors that change or obscure meaning.

Vocabulary: the English word list of pyspellchecker 0.9.1 (MIT, ``data/english_words.txt.gz``)
and radqc's own radiology list (``data/medical_words.txt``). A word is flagged only when it is
unknown *and* one edit (insertion, deletion, substitution, transposition) away from a known word:
a misspelling has an obvious intended word, while an unknown drug name, eponym or rare term
usually does not. Never read: words under four letters, words with more than one capital
(``XXXX``, ``CT``, ``AP``), capitalised words inside a sentence (names, brands), words touching
digits, and words with a medical or drug suffix (-itis, -ectomy, -olol, -mab...).

Known homophones and speech-recognition confusions are read in context: plural/pleural,
ileum/ilium, discreet/discrete, long/lung, callous/callus, hearth/heart.
"""

from __future__ import annotations

import gzip
import re
import string
from collections.abc import Callable
from functools import cache, lru_cache
from importlib import resources

from service.engines.base import Finding
from service.engines.rules._clinical import main_spans
from service.engines.rules._findings import finding, text_evidence
from service.engines.rules._report import ReportView
from service.taxonomy import Severity

CODE = "report.typo"
_WORD = re.compile(r"(?<![\w-])[A-Za-z][a-z]+(?:'[a-z]+)?(?![\w-])")
_SUFFIXES = (
    # Latin anatomy and eponymous terms (teres, ovale, planus, soleus, flavum)
    "us",
    "um",
    "ae",
    "alis",
    "aris",
    "ale",
    "eus",
    "ii",
    "ius",
    "itis",
    "osis",
    "ectomy",
    "otomy",
    "ostomy",
    "plasty",
    "emia",
    "oma",
    "omas",
    "algia",
    "pathy",
    "graphy",
    "gram",
    "scopy",
    "megaly",
    "ectasis",
    "lysis",
    "plegia",
    "trophy",
    "mab",
    "nib",
    "pril",
    "olol",
    "sartan",
    "statin",
    "azole",
    "cillin",
    "mycin",
    "floxacin",
    "pine",
    "done",
    "pam",
    "lam",
    "xaban",
    "parin",
    "tide",
    "vir",
    "mide",
    "zide",
    "sone",
    "ectal",
    "ocele",
    "orrhea",
    "philia",
)
_HOMOPHONES: tuple[tuple[re.Pattern[str], str, float], ...] = (
    (re.compile(r"\bplural\b", re.IGNORECASE), "'plural' where 'pleural' is meant", 0.9),
    (
        re.compile(r"\bdiscreet(?:ly)?\b", re.IGNORECASE),
        "'discreet' where 'discrete' is meant",
        0.85,
    ),
    (
        re.compile(
            r"\bileum\b(?=[^.]{0,60}\b(?:bone|crest|wing|fracture|iliac|acetabul\w*|"
            r"sacroiliac)\b)|\b(?:bone|crest|wing|fracture|iliac|acetabul\w*|sacroiliac)\b"
            r"[^.]{0,60}\bileum\b",
            re.IGNORECASE,
        ),
        "'ileum' (bowel) in a statement about bone: 'ilium' is meant",
        0.8,
    ),
    (
        re.compile(
            r"\bilium\b(?=[^.]{0,60}\b(?:bowel|loops?|ileocecal|cecum|colon|obstruction|"
            r"terminal|mucosa\w*)\b)|\b(?:bowel|loops?|terminal|ileocecal|cecum|colon|"
            r"obstruction|mucosa\w*)\b[^.]{0,60}\bilium\b",
            re.IGNORECASE,
        ),
        "'ilium' (bone) in a statement about bowel: 'ileum' is meant",
        0.8,
    ),
    (
        re.compile(
            r"\blong (?:fields?|volumes?|bases?|apex|apices|parenchyma|nodules?|markings|"
            r"zones?)\b",
            re.IGNORECASE,
        ),
        "'long' where 'lung' is meant",
        0.85,
    ),
    (
        re.compile(r"\bcallous (?:formation|formations)\b", re.IGNORECASE),
        "'callous' where 'callus' is meant",
        0.8,
    ),
    (
        re.compile(
            r"\bhearth? (?:size|silhouette|is|shadow)\b(?<!\bheart size)(?<!\bheart is)"
            r"(?<!\bheart silhouette)(?<!\bheart shadow)",
            re.IGNORECASE,
        ),
        "'hearth' where 'heart' is meant",
        0.85,
    ),
)


_COMMON = 300  # corpus count from which an English word is a likely intended word


@cache
def _vocabularies() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(every known word, the words a misspelling is taken to stand for, the medical words),
    loaded once."""
    data = resources.files("service.engines.rules") / "data"
    english: set[str] = set()
    common: set[str] = set()
    with gzip.open(str(data / "english_words.txt.gz"), "rt", encoding="utf-8") as handle:
        for line in handle:
            if line[:1] == "#":
                continue
            word, _, count = line.rstrip("\n").partition("\t")
            english.add(word)
            if count.isdigit() and int(count) >= _COMMON:
                common.add(word)
    medical = (data / "medical_words.txt").read_text(encoding="utf-8")
    extra = {w for line in medical.splitlines() if not line.startswith("#") for w in line.split()}
    return frozenset(english | extra), frozenset(common | extra), frozenset(extra)


def vocabulary() -> frozenset[str]:
    """The known words, lower case."""
    return _vocabularies()[0]


def _known(word: str, vocab: frozenset[str]) -> bool:
    if word in vocab or word.endswith(_SUFFIXES):
        return True
    if f"{word}s" in vocab or f"{word}es" in vocab:
        return True  # the singular of a known plural ("phlebolith")
    for ending, replacement in (
        ("'s", ""),
        ("s", ""),
        ("es", ""),
        ("ies", "y"),
        ("ed", ""),
        ("ed", "e"),
        ("ing", ""),
        ("ing", "e"),
        ("ly", ""),
        ("al", ""),
    ):
        if word.endswith(ending) and word[: -len(ending)] + replacement in vocab:
            return True
    return False


def _edits1(word: str) -> set[str]:
    letters = string.ascii_lowercase
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = [a + b[1:] for a, b in splits if b]
    transposes = [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
    replaces = [a + c + b[1:] for a, b in splits if b for c in letters]
    inserts = [a + c + b for a, b in splits for c in letters]
    return set(deletes + transposes + replaces + inserts)


def correction(word: str) -> str | None:
    """The known word one edit from an unknown ``word``; None if it is known or has none."""
    return _correction(word.lower())


@lru_cache(maxsize=16384)
def _correction(lower: str) -> str | None:
    """Words recur across reports ("the", "pleural", a common misspelling): each distinct
    word is looked up once while it stays among the 16,384 most recent."""
    vocab, targets, medical = _vocabularies()
    if len(lower) < 4 or len(lower) > 30 or _known(lower, vocab):
        return None
    # a radiology word is the likelier intent: "consoldation" is "consolidation", not "consolation"
    candidates = sorted(
        (w for w in _edits1(lower) if w in targets and len(w) >= 4),
        key=lambda w: (w not in medical, w),
    )
    return candidates[0] if candidates else None


def clear_word_cache() -> None:
    _correction.cache_clear()


def _misspellings(view: ReportView) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []
    vocab = vocabulary()
    for span in main_spans(view):
        for m in _WORD.finditer(view.text, span.start, span.end):
            word = m.group(0)
            if len(word) < 4 or word.lower() in vocab:
                continue  # the common case, decided before any other work (correction: None)
            before = view.text[max(span.start, m.start() - 2) : m.start()].strip()
            if word[0].isupper() and before and before[-1] not in ".:;!?)0123456789":
                continue  # a capitalised word inside a sentence: a name or a brand
            fix = correction(word)
            if fix is not None:
                found.append((m.start(), m.end(), fix))
    return found


def check_spelling(view: ReportView) -> list[Finding]:
    hits = _misspellings(view)
    if not hits:
        return []
    evidence = [
        {**text_evidence(view.section_at(s), view.text, s, e), "suggestion": fix}
        for s, e, fix in hits[:10]
    ]
    shown = ", ".join(f"'{view.text[s:e]}' ('{fix}'?)" for s, e, fix in hits[:3])
    message = f"Possible misspelling: {shown}; correct the report."
    return [finding(CODE, Severity.MINOR, message, evidence, 0.7)]


# Every homophone pattern starts one of these words at a word boundary: a report without them
# ("along" and "prolonged" are not "long") needs no further reading.
_HOMOPHONE_WORDS = re.compile(
    r"\b(?:plural|discreet|ileum|ilium|long|callous|hearth)", re.IGNORECASE
)


def check_homophones(view: ReportView) -> list[Finding]:
    if _HOMOPHONE_WORDS.search(view.text) is None:
        return []  # most reports: none of the words, so no context to read
    results: list[Finding] = []
    for regex, what, confidence in _HOMOPHONES:
        m = regex.search(view.text)
        if m is None:
            continue
        evidence = [text_evidence(view.section_at(m.start()), view.text, m.start(), m.end())]
        message = f"Dictation error: {what}; correct the word."
        results.append(finding(CODE, Severity.MAJOR, message, evidence, confidence))
    return results[:3]


CHECKS: tuple[Callable[[ReportView], list[Finding]], ...] = (check_spelling, check_homophones)
