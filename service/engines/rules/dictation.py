"""``report.typo``: dictation slips a spelling check cannot see (known words, wrongly placed).

- a word said twice ("of of", "is is"): speech recognition and editing leave doubled words; a
  few words may legitimately repeat ("had had", "that that") and are left alone;
- a voice command transcribed as text instead of obeyed: the punctuation and editing commands of
  front-end speech recognition (Nuance Dragon/PowerScribe, the commands the dictation-error
  studies list: Quint et al., AJR 2008; Ringler et al., Health Informatics J 2017; Hodgson and
  Coiera, JAMIA 2016): "scratch that", "new paragraph", "next line", "full stop", "comma",
  "period" where the full stop belongs;
- word boundaries lost or added: two words run together ("pleuraleffusion") or one word split
  ("calc ified"), found with the spelling vocabulary: the token is unknown and its parts are
  known words, or two neighbouring tokens, one of them unknown, join into a known word.

Only the findings and impression are read (the indication quotes the order).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from service.engines.base import Finding
from service.engines.rules._clinical import main_spans
from service.engines.rules._findings import finding, text_evidence
from service.engines.rules._report import ReportView, lowered
from service.engines.rules.typo import _vocab, correction
from service.taxonomy import Severity

CODE = "report.typo"

# --- repeated words ------------------------------------------------------------------------
_REPEATED = re.compile(r"\b([A-Za-z]+)[ \t]+\1\b(?!-)", re.IGNORECASE)
# words English repeats on purpose ("that that", "had had"), and de-identification tokens
_MAY_REPEAT = frozenset({"that", "had", "xxxx", "x"})


def check_repeated_words(view: ReportView) -> list[Finding]:
    hits: list[tuple[int, int]] = []
    for span in main_spans(view):
        for m in _REPEATED.finditer(view.text, span.start, span.end):
            word = m.group(1)
            if word.lower() in _MAY_REPEAT or (word.isupper() and len(word) > 1):
                continue  # "XXXX XXXX" (de-identified), "CT CT" as an abbreviation list
            hits.append(m.span())
    if not hits:
        return []
    evidence = [text_evidence(view.section_at(a), view.text, a, b) for a, b in hits[:5]]
    shown = ", ".join(f"'{view.text[a:b]}'" for a, b in hits[:3])
    message = f"Repeated word: {shown}; delete the repetition."
    return [finding(CODE, Severity.MINOR, message, evidence, 0.8)]


# --- voice commands left in the text -------------------------------------------------------
# editing and formatting commands: never report wording
_COMMANDS = re.compile(
    r"\b(?:scratch|strike|delete|undo|erase) that\b|\b(?:new|next) paragraph\b|"
    r"\bfull stop\b|\bend (?:of )?dictation\b|\b(?:stop|pause) dictat\w+\b|"
    r"\b(?:open|close|begin|end) (?:paren|parenthesis|parentheses|bracket|quote)\b|"
    r"\bquestion mark\b|\bexclamation (?:point|mark)\b|\bsemicolon\b|"
    r"\bcomma\b(?![- ]shaped)",
)  # matched on the lowered text (_report.lowered): faster than re.IGNORECASE
# commands that are also words: only where the punctuation they stand for belongs, at the end of
# a sentence ("... pneumothorax period.", "... unchanged next line."), after a word that does
# not make them a noun phrase ("the postoperative period", "a new line was placed")
_END_COMMAND = re.compile(
    r"\b(?P<before>[A-Za-z]+)[ \t]+(?P<cmd>period|next line|new line)[ \t]*(?=[.;,]|$)",
    re.IGNORECASE | re.MULTILINE,
)
# one of which a text must contain for _END_COMMAND to be read at all (in the lowered text): the
# pattern opens with any word, so it is tried at every word of a report, and almost no report has
# a command left in it. A command spelled with a Turkish dotted or dotless I ("PERİOD"), which
# re.IGNORECASE would take for an "i", is no longer read as one.
_END_CUES = ("period", "next line", "new line")
_NOUN_BEFORE = frozenset(
    [
        "a",
        "an",
        "the",
        "this",
        "that",
        "any",
        "no",
        "new",
        "same",
        "each",
        "every",
        "one",
        "time",
        "postoperative",
        "postop",
        "perioperative",
        "post-operative",
        "neonatal",
        "interval",
        "observation",
        "recovery",
        "follow-up",
        "followup",
        "short",
        "brief",
        "long",
        "prolonged",
        "latent",
        "incubation",
        "refractory",
        "waiting",
        "washout",
        "trial",
        "week",
        "month",
        "year",
        "day",
        "hour",
        "minute",
        "second",
        "menstrual",
        "gestational",
        "transition",
        "grace",
        "study",
        "sampling",
        "reporting",
        "central",
        "arterial",
        "venous",
        "picc",
        "midline",
    ]
)


def _command_hits(view: ReportView) -> list[tuple[int, int]]:
    hits: list[tuple[int, int]] = []
    for span in main_spans(view):
        low = lowered(view)
        hits += [m.span() for m in _COMMANDS.finditer(low, span.start, span.end)]
        if not any(cue in low[span.start : span.end] for cue in _END_CUES):
            continue
        body = view.text[span.start : span.end]
        for m in _END_COMMAND.finditer(body):
            if m.group("before").lower() in _NOUN_BEFORE:
                continue
            hits.append((span.start + m.start("cmd"), span.start + m.end("cmd")))
    return sorted(hits)


def check_dictation_commands(view: ReportView) -> list[Finding]:
    hits = _command_hits(view)
    if not hits:
        return []
    evidence = [text_evidence(view.section_at(a), view.text, a, b) for a, b in hits[:5]]
    shown = ", ".join(f"'{view.text[a:b]}'" for a, b in hits[:3])
    message = (
        f"Voice command transcribed as text: {shown}; remove it and apply the punctuation or "
        "edit it stood for."
    )
    return [finding(CODE, Severity.MINOR, message, evidence, 0.8)]


# --- word boundaries -------------------------------------------------------------------------
# a token run together from two words has seven letters or more (a part is three letters or
# more, the right one four); shorter tokens are not read at all (most words of a report)
_MIN_RUN = 7
_TOKEN = re.compile(rf"(?<![\w-])[A-Za-z][a-z]{{{_MIN_RUN - 1},}}(?![\w-])")
# a word and the next one: the first is taken (the search goes on from the second, which starts
# the next pair), the second only looked at; taking nothing tries the pattern at every letter
_PAIR = re.compile(r"(?<![\w-])([A-Za-z][a-z]+)[ \t](?=([a-z]{2,})(?![\w-]))")
_MIN_PART = 4  # "pleural" + "effusion"; shorter parts make too many accidental words


def _word(word: str) -> bool:
    """A known word of four letters or more, as written or as a plain inflection
    ("effusions", "opacities"), never a bare ending ("ings" is not "ing" + "s")."""
    known = _vocab().targets
    if word in known or (len(word) >= 8 and word in _vocab().known):
        return True  # a long word is rarely an accident, however rare it is
    for ending, repl in (("s", ""), ("es", ""), ("ies", "y"), ("ed", ""), ("ed", "e")):
        stem = word[: -len(ending)] + repl if word.endswith(ending) else ""
        if len(stem) >= _MIN_PART and stem in known:
            return True
    return False


# combining forms and prefixes: "hydro" + "pneumothorax" is one word, not two
_PREFIXES = frozenset(
    [
        "para",
        "intra",
        "inter",
        "extra",
        "peri",
        "supra",
        "infra",
        "retro",
        "trans",
        "hyper",
        "hypo",
        "post",
        "ante",
        "anti",
        "semi",
        "pseudo",
        "micro",
        "macro",
        "multi",
        "poly",
        "over",
        "under",
        "super",
        "ultra",
        "mega",
        "mono",
        "bronch",
        "hemi",
        "self",
    ]
)
# words that also close compounds ("gyriform", "bandlike", "homeward")
_SUFFIX_WORDS = frozenset(
    ["form", "like", "less", "ward", "wards", "wise", "ness", "ment", "able", "ible"]
)
# short words that run into the next one ("thechest", "nofocal")
_FUNCTION_WORDS = frozenset(["the", "and", "are", "with", "without", "of"])


def _run_together(token: str) -> tuple[str, str] | None:
    """The two known words an unknown token is made of, if one split gives them."""
    token = token.lower()
    if len(token) < _MIN_RUN or token in _vocab().known or correction(token) is not None:
        return None
    medical = _vocab().medical
    for i in range(3, len(token) - _MIN_PART + 1):
        left, right = token[:i], token[i:]
        if left in _PREFIXES or left.endswith("o") or right in _SUFFIX_WORDS or not _word(right):
            continue  # "cardio", "radio", "echo": combining forms
        if left in _FUNCTION_WORDS or (
            len(left) >= _MIN_PART
            and _word(left)
            and (left in medical or right in medical or len(token) >= 10)
        ):
            return left, right
    return None


def _split_word(left: str, right: str) -> str | None:
    """The known word two neighbouring tokens make when one of them is not a word."""
    known = _vocab().targets
    if left.lower() in known and right in known:
        return None  # most pairs of a report: two listed words (the test below, without endings)
    joined = (left + right).lower()
    if len(joined) < 6 or not _word(joined):
        return None
    if _word(left.lower()) and _word(right):
        return None  # "a cute", "in to": real words either way (homophones read those)
    return joined


def _sentence_start(text: str, floor: int, at: int) -> bool:
    before = text[max(floor, at - 3) : at].strip()
    return not before or before[-1] in ".:;!?)0123456789"


def _boundary_hits(view: ReportView) -> list[tuple[int, int, str]]:
    hits: list[tuple[int, int, str]] = []
    for span in main_spans(view):
        for m in _TOKEN.finditer(view.text, span.start, span.end):
            if m.group(0)[0].isupper() and not _sentence_start(view.text, span.start, m.start()):
                continue  # a capitalised word inside a sentence: a name or a brand
            parts = _run_together(m.group(0))
            if parts is not None:
                hits.append((m.start(), m.end(), " ".join(parts)))
        for m in _PAIR.finditer(view.text, span.start, span.end):
            joined = _split_word(m.group(1), m.group(2))
            if joined is not None:
                end = m.start(2) + len(m.group(2))
                hits.append((m.start(1), end, joined))
    return sorted(set(hits))


def check_word_boundaries(view: ReportView) -> list[Finding]:
    hits = _boundary_hits(view)
    if not hits:
        return []
    evidence = [
        {**text_evidence(view.section_at(a), view.text, a, b), "suggestion": fix}
        for a, b, fix in hits[:5]
    ]
    shown = ", ".join(f"'{view.text[a:b]}' ('{fix}'?)" for a, b, fix in hits[:3])
    message = f"Words run together or split: {shown}; correct the spacing."
    return [finding(CODE, Severity.MINOR, message, evidence, 0.75)]


CHECKS: tuple[Callable[[ReportView], list[Finding]], ...] = (
    check_repeated_words,
    check_dictation_commands,
    check_word_boundaries,
)
