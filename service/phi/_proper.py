"""Names and places found by the lexicon (:func:`service.phi._lexicon.proper`) where the case or
the position already points at one, and the names found once, found again everywhere.

- "HERNANDEZ, LUIS A", "OKAFOR^CHIDINMA": a family name in capitals, a comma or caret, a given
  name, all words the lexicon takes for names;
- "per Nkechi's request": a name in the possessive before what belongs to a person;
- "transferred from Karolinska", "biopsy at Sloan Kettering": capitalised words after where a
  patient was or what was done elsewhere, one of them a name, none clinical;
- names in Chinese, Japanese or Korean script in an English report;
- names spelled out in dictation: "spelled r-a-m-o-s dash o-c-a-m-p-o";
- "Mount Auburn", "St Mary's": hospitals named after a mount or a saint;
- :func:`name_pairs`: two or three capitalised words in a row that are all names for the
  lexicon, with no cue at all ("see note by Eleni Papadaki");
- :func:`again`: the words of every name found, wherever else they occur ("Liu, Yang ... Liu
  Yang").
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from service.phi._lexicon import looks_medical, not_names, proper, words
from service.phi._lexicon import names as lexicon
from service.phi._spans import Hit

_NAME = r"[^\W\d_][\w'\u2019]*(?:-[^\W\d_][\w'\u2019]*)*"
_CAPS = r"[A-Z][A-Z'\u2019]+(?:-[A-Z][A-Z'\u2019]+)*"
_FAMILY_GIVEN = re.compile(
    rf"(?<![\w-])({_CAPS}(?: {_CAPS})?)(?:,[ \t]*|\^)([A-Z][\w'\u2019]+(?:-[A-Z][\w'\u2019]+)*)"
    r"(?:[ \t^]([A-Z][\w'\u2019]*)\.?)?(?![\w-])"
)
_POSSESSIVE = re.compile(rf"\b({_NAME})['\u2019]s[ \t]+(\w+)")
_PLACE_CUE = re.compile(
    r"\b(?i:(?:transferred|referred|flown|airlifted|returned|travell?ed|came|comes|originally"
    r"|moved|admitted|discharged|imaged|scanned|seen|followed|treated|performed|obtained|done"
    r"|acquired|biopsied|operated|worked[ \t]up|is|was|lives|lived|trip|travel|holiday"
    r"|vacation|visit|visiting|flight|flew)(?:[ \t]+[a-z]+){0,3}?"
    r"[ \t]+(?:from|at|to|in|near)"
    r"|(?:films?|images?|studies|study|CT|MRI|MR|US|PET|XR|x-rays?|scans?|imaging|biopsy|surgery"
    r"|comparison|outside|prior)[ \t]+(?:from|at|of)|compared[ \t]+(?:with|to)"
    r"|(?:team|teams|service|unit|colleagues|clinicians?|radiologists?|surgeons?)[ \t]+at"
    r"|(?:village|town|city|island|region|district|province|county|suburb)[ \t]+of)[ \t]+"
)
_LINK = r"(?:[ \t]+(?:and|&|of|de|la|du|St\.?)[ \t]+|[ \t]+|,[ \t]*)"
_PLACE_RUN = re.compile(
    rf"(?:[Tt]he[ \t]+)?(?:St\.?[ \t]+)?{_NAME}(?:{_LINK}(?:St\.?[ \t]+)?(?=[A-Z]){_NAME}){{0,3}}"
)
_SAINT = re.compile(
    r"(?<!\d )\b(?:Mount|Mt\.?|Saint|St\.?|Ste\.?) ([A-Z][a-z]+(?:['\u2019]s)?)"
    r"(?: (?!Hospital|Clinic)[A-Z][a-z]+)?(?![\w'\u2019-])"
)
_TITLE_WORD = r"[A-Z][a-z]+(?:['\u2019-][A-Za-z][a-z]+)*"
_PAIR = re.compile(
    rf"(?<![\w'\u2019-])({_TITLE_WORD}) ({_TITLE_WORD})(?: ({_TITLE_WORD}))?(?![\w-])"
)
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\u3040-\u30ff]{2,}")
_SPELLED = re.compile(
    r"\b(?:spelled|spelt|spelling)[ \t:]+"
    r"((?:[A-Za-z](?:-[A-Za-z])+|dash|hyphen|space|apostrophe)"
    r"(?:[ \t,]+(?:[A-Za-z](?:-[A-Za-z])+|dash|hyphen|space|apostrophe))*)",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*")


def proper_names(text: str, days: int) -> Iterator[Hit]:
    yield from _family_given(text)
    yield from _saints(text)
    yield from _possessives(text)
    yield from _cued_places(text)
    for m in _CJK.finditer(text):
        yield Hit(m.start(), m.end(), "[NAME]")
    for m in _SPELLED.finditer(text):
        yield Hit(m.start(1), m.end(1), "[NAME]")


def _family_given(text: str) -> Iterator[Hit]:
    for m in _FAMILY_GIVEN.finditer(text):
        family, given, middle = m.groups()
        names = [*family.split(), given]
        if not all(proper(n) for n in names):
            continue
        if not given.isupper() and given.lower() not in lexicon()["first"]:
            continue  # "ASA, Procardia": a list of drugs
        end = m.end(2)
        if middle and (len(middle) == 1 or proper(middle)):
            end = m.end()
        yield Hit(m.start(), end, "[NAME]")


def _saints(text: str) -> Iterator[Hit]:
    """ "Mount Auburn", "St Mary's for follow-up": a hospital named after a mount or a saint; not
    "St John's wort" (a common noun follows) nor "12 St Mary's Road" (an address)."""
    for m in _SAINT.finditer(text):
        after = _TOKEN.match(text, m.end() + 1) if text[m.end() : m.end() + 1] == " " else None
        possessive = m.group(1).endswith(("'s", "\u2019s"))
        if after and possessive and after.group().islower() and after.group() not in not_names():
            continue
        if _thing_follows(text, m.end()):
            continue
        if re.sub(r"['\u2019]s$", "", m.group(1).lower()) in not_names() | words()["eponyms"]:
            continue
        yield Hit(m.start(), m.end(), "[INSTITUTION]")


def _possessives(text: str) -> Iterator[Hit]:
    for m in _POSSESSIVE.finditer(text):
        if m.group(2).lower() in words()["person_things"] and proper(m.group(1)):
            yield Hit(m.start(1), m.end(1), "[NAME]")


def _cued_places(text: str) -> Iterator[Hit]:
    """Capitalised words after a place cue, up to the first that is clinical or lower-case."""
    stop = not_names() | words()["team_words"]
    for cue in _PLACE_CUE.finditer(text):
        run = _PLACE_RUN.match(text, cue.end())
        if not run:
            continue
        tokens = list(_TOKEN.finditer(run.group()))
        kept: list[re.Match[str]] = []
        for t in tokens:
            word = t.group()
            if word.lower() not in _CONNECTORS and (word.lower() in stop or word[0].islower()):
                break
            kept.append(t)
        while kept and kept[-1].group().lower() in _CONNECTORS:
            kept.pop()
        caps = _upper_line(text, cue.start())  # "TRANSFERRED FROM WESTMEAD": capitals are words
        if any(proper(t.group()) and (caps or not t.group().isupper()) for t in kept):
            base = run.start()
            yield Hit(base + kept[0].start(), base + kept[-1].end(), "[PLACE]")


def _upper_line(text: str, pos: int) -> bool:
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    line = text[start : end if end >= 0 else len(text)]
    return sum(c.isupper() for c in line) > 3 * sum(c.islower() for c in line)


_CONNECTORS = frozenset({"the", "and", "of", "de", "la", "du", "st"})


def name_pairs(text: str, days: int) -> Iterator[Hit]:
    """Two or three capitalised words in a row, every one a name for the lexicon, with no cue:
    "see note by Eleni Papadaki", "Exam for Ebere Nwosu". Merged after the other detectors (their
    hits win where they overlap), and its words are not looked for again (:func:`again`), so that
    a pair of drug or device names taken for a person stays a local mistake."""
    for m in _PAIR.finditer(text):
        tokens = [t for t in m.groups() if t]
        if all(proper(t) for t in tokens) and not _thing_follows(text, m.end()):
            yield Hit(m.start(), m.end(), "[NAME]")


def _thing_follows(text: str, end: int) -> bool:
    """ "Austin Moore prosthesis", "St. Louis encephalitis": an eponym, not a person or place."""
    after = _TOKEN.match(text, end + 1) if text[end : end + 1] == " " else None
    word = after.group().lower() if after else ""
    return word in words()["eponym_heads"] or word in words()["clinical"] or looks_medical(word)


def again(text: str, hits: list[Hit]) -> list[Hit]:
    """Every other occurrence of a word of a name found, when the lexicon takes it for a name."""
    found = {
        t.group().lower()
        for h in hits
        if h.replacement == "[NAME]"
        for t in _TOKEN.finditer(text, h.start, h.end)
        if len(t.group()) > 2
        and proper(t.group())
        and not (t.group().isupper() and len(t.group()) < 5)
    }
    if not found:
        return []
    pattern = re.compile(
        rf"(?<![\w'\u2019-])(?:{'|'.join(map(re.escape, sorted(found)))})(?![\w-])", re.IGNORECASE
    )
    return [Hit(m.start(), m.end(), "[NAME]") for m in pattern.finditer(text)]
