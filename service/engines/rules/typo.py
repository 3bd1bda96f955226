"""``report.typo``: misspellings and dictation errors that change or obscure meaning.

Vocabulary: the English word list of pyspellchecker 0.9.1 (MIT, ``data/english_words.txt.gz``)
and radqc's own radiology list (``data/medical_words.txt``). A word is flagged only when it is
unknown *and* one edit (insertion, deletion, substitution, transposition) away from a known word:
a misspelling has an obvious intended word, while an unknown drug name, eponym or rare term
usually does not. Never read: words under four letters, words with more than one capital
(``XXXX``, ``CT``, ``AP``), capitalised words inside a sentence (names, brands), words touching
digits, and words with a medical or drug suffix (-itis, -ectomy, -olol, -mab...).

Known homophones and speech-recognition confusions are read in context by
:mod:`.homophones` (plural/pleural, know/no, write/right, infusion/effusion...).
"""

from __future__ import annotations

import bisect
import gzip
import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from service.engines.base import Finding
from service.engines.rules._clinical import main_spans
from service.engines.rules._findings import finding, text_evidence
from service.engines.rules._report import ReportView
from service.engines.rules.homophones import check_homophones
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
_COMMON = 300  # corpus count from which an English word is a likely intended word


_RARE = 50  # the list's floor: its rarest words include old misspellings ("withing")
_FREQUENT = 20000  # corpus count of a word common enough to be the intended one


@dataclass(frozen=True, slots=True)
class _Vocabulary:
    known: frozenset[str]  # every known word
    targets: frozenset[str]  # the words a misspelling is taken to stand for
    medical: frozenset[str]
    rare: frozenset[str]  # known English words at the list's floor, not medical
    frequent: dict[str, int]  # very common English words and their counts


@cache
def _vocab() -> _Vocabulary:
    """The word lists, loaded once."""
    data = resources.files("service.engines.rules") / "data"
    english: set[str] = set()
    common: set[str] = set()
    rare: set[str] = set()
    frequent: dict[str, int] = {}
    with gzip.open(str(data / "english_words.txt.gz"), "rt", encoding="utf-8") as handle:
        for line in handle:
            if line[:1] == "#":
                continue
            word, _, count_text = line.rstrip("\n").partition("\t")
            english.add(word)
            count = int(count_text) if count_text.isdigit() else 0
            if count >= _COMMON:
                common.add(word)
            if count >= _FREQUENT:
                frequent[word] = count
            elif 0 < count <= _RARE:
                rare.add(word)
    medical = (data / "medical_words.txt").read_text(encoding="utf-8")
    extra = {w for line in medical.splitlines() if not line.startswith("#") for w in line.split()}
    return _Vocabulary(
        frozenset(english | extra),
        frozenset(common | extra),
        frozenset(extra),
        frozenset(rare - extra),
        frequent,
    )


def _vocabularies() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(every known word, the words a misspelling is taken to stand for, the medical words)."""
    v = _vocab()
    return v.known, v.targets, v.medical


def vocabulary() -> frozenset[str]:
    """The known words, lower case."""
    return _vocabularies()[0]


def _suffixed(word: str) -> bool:
    """A word with a Latin, medical or drug ending; "-ous" is an English adjective ending, not
    the Latin "-us" ("emphysematous")."""
    return word.endswith(_SUFFIXES) and not word.endswith("ous")


# a plural "-s" never follows a sibilant: "processs" is no plural of "process"
_SIBILANT = ("s", "x", "z", "ch", "sh")


def _known(word: str, vocab: frozenset[str]) -> bool:
    if word in vocab or _suffixed(word):
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
        stem = word[: -len(ending)]
        if ending == "s" and stem.endswith(_SIBILANT):
            continue
        if word.endswith(ending) and stem + replacement in vocab:
            return True
    return False


def _edits1(word: str) -> set[str]:
    """The strings one edit from ``word`` that may be known words: every deletion and
    transposition, but a letter replaced or inserted only where a known word starts with what
    precedes it and ends with what follows it. Intersected with the word lists this gives what
    all the 54n + 25 edits give; a misspelling's slip is at one place, so this builds a few
    dozen strings instead of hundreds (building them was most of a report's spelling check)."""
    letters = string.ascii_lowercase
    n = len(word)
    starts, ends = _sorted_words()
    head = _longest_shared(word, starts)  # word[:i] starts a known word for i <= head
    tail = _longest_shared(word[::-1], ends)  # word[j:] ends one for j >= n - tail
    splits = [(word[:i], word[i:]) for i in range(n + 1)]
    deletes = [a + b[1:] for a, b in splits if b]
    transposes = [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
    replaces = [
        a + c + b[1:] for a, b in splits[max(0, n - 1 - tail) : head + 1] if b for c in letters
    ]
    inserts = [a + c + b for a, b in splits[max(0, n - tail) : head + 1] for c in letters]
    return set(deletes + transposes + replaces + inserts)


@cache
def _sorted_words() -> tuple[list[str], list[str]]:
    """The known words in order, and written backwards in order (for _edits1)."""
    known = _vocab().known
    return sorted(known), sorted(w[::-1] for w in known)


def _longest_shared(word: str, ordered: list[str]) -> int:
    """The length of the longest start of ``word`` that starts a word of ``ordered`` (sorted):
    the word sharing the longest start with it is one of its two neighbours in the order."""
    at = bisect.bisect_left(ordered, word)
    longest = 0
    for other in ordered[max(0, at - 1) : at + 1]:
        shared = 0
        for a, b in zip(word, other, strict=False):  # up to the shorter one
            if a != b:
                break
            shared += 1
        longest = max(longest, shared)
    return longest


def correction(word: str) -> str | None:
    """The known word one edit from an unknown ``word``; None if it is known or has none."""
    return _correction(word.lower())


@lru_cache(maxsize=16384)
def _correction(lower: str) -> str | None:
    """Words recur across reports ("the", "pleural", a common misspelling): each distinct
    word is looked up once while it stays among the 16,384 most recent."""
    vocab, targets, medical = _vocabularies()
    if len(lower) < 4 or len(lower) > 30:
        return None
    if _known(lower, vocab):
        # an unknown word taken for an inflection ("maked", "proces") is still a slip when a
        # very common word is one edit away; a word with a medical or drug ending is one when a
        # radiology word is one edit away ("firbosis", "osseus"), otherwise it is left alone
        if lower in vocab:
            return None
        if _suffixed(lower):
            near = sorted(w for w in _edits1(lower) & medical if len(w) >= 6)
            return near[0] if len(lower) >= 6 and near else None
        return _frequent_neighbour(lower)
    # a radiology word is the likelier intent: "consoldation" is "consolidation", not "consolation"
    # (the ~54n strings one edit away meet the word lists as set intersections, in C: this is
    # most of the time a report's spelling check takes)
    edits = _edits1(lower)
    candidates = sorted(
        (w for w in edits & targets if len(w) >= 4),
        key=lambda w: (w not in medical, w),
    )
    if not candidates and len(lower) >= 8:
        # few long words lie one edit from another: a long unknown word next to any known one
        # ("carrdiopulmonary") is a slip even when that word is rare in general English
        candidates = sorted((edits & vocab) - _vocab().rare)
    return candidates[0] if candidates else None


def _frequent_neighbour(lower: str) -> str | None:
    """The most common English word one edit from ``lower`` of which it is not the plural;
    None for short words (four letters leave too many neighbours) and possessives."""
    if len(lower) < 5 or "'" in lower:
        return None
    frequent = _vocab().frequent
    index = _deletion_index()
    near = set(index.get(lower, ()))
    for variant in _deletes(lower):
        near.update(index.get(variant, ()))
    # not the word's singular ("diaphragms" is no slip for "diaphragm")
    candidates = [w for w in near if _one_edit(lower, w) and lower not in (w + "s", w + "es")]
    return max(candidates, key=lambda w: (frequent[w], w)) if candidates else None


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


@cache
def _deletion_index() -> dict[str, tuple[str, ...]]:
    """Each very common word under itself and under every one-letter deletion of it (the
    symmetric-delete index of SymSpell, Garbe 2012): a word's neighbours are then found with
    a few look-ups instead of the 54n + 25 strings one edit away."""
    index: dict[str, list[str]] = {}
    for word in _vocab().frequent:
        for key in {word, *_deletes(word)}:
            index.setdefault(key, []).append(word)
    return {key: tuple(words) for key, words in index.items()}


def _one_edit(a: str, b: str) -> bool:
    """Whether ``b`` is one insertion, deletion, substitution or transposition from ``a``."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        if a[i + 1 :] == b[i + 1 :]:
            return True  # substitution
        return a[i : i + 2] == b[i : i + 2][::-1] and a[i + 2 :] == b[i + 2 :]
    longer, shorter = (a, b) if len(a) > len(b) else (b, a)
    return longer[i + 1 :] == shorter[i:]


@lru_cache(maxsize=4096)
def _rare_slip(lower: str) -> str | None:
    """A word at the word list's floor one edit from a very common word ("withing")."""
    return _frequent_neighbour(lower) if lower in _vocab().rare else None


def clear_word_cache() -> None:
    _correction.cache_clear()
    _rare_slip.cache_clear()


def _misspellings(view: ReportView) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []
    v = _vocab()
    for span in main_spans(view):
        for m in _WORD.finditer(view.text, span.start, span.end):
            word = m.group(0)
            lower = word.lower()
            if len(word) < 4 or (lower in v.known and lower not in v.rare):
                continue  # the common case, decided before any other work (correction: None)
            before = view.text[max(span.start, m.start() - 2) : m.start()].strip()
            if word[0].isupper() and before and before[-1] not in ".:;!?)0123456789":
                continue  # a capitalised word inside a sentence: a name or a brand
            fix = _rare_slip(lower) if lower in v.known else correction(word)
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


CHECKS: tuple[Callable[[ReportView], list[Finding]], ...] = (check_spelling, check_homophones)
