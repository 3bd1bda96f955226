"""Word lists of the free-text filter.

- ``data/words.txt`` (hand-written): function words, roles, report words, clinical words and
  radiology eponyms, by section;
- ``data/names.txt``: first names and the most frequent surnames of the US Census 1990 (public
  domain);
- the English word frequencies of ``pyspellchecker`` (MIT; built from OpenSubtitles), loaded once.

:func:`proper` combines them: a word that is probably a person's or a place's name, being neither
a usual English word nor a clinical one. Alone it decides nothing: the detectors use it only
where the position or the case already points at a name ("pt kwame asante", "HERNANDEZ, LUIS",
"transferred from Karolinska").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from importlib import resources

from spellchecker import SpellChecker

# A name in the Census lists is a name here when English uses it less often than this (counts
# in pyspellchecker's frequency list: "thomas" 988, "luis" 470, "john" 6920; "rose" 27460,
# "grant" 31589, "hill" 19314).
_FIRST_NAME_MAX = 8000
_SURNAME_MAX = 3000
# The least count of the list: the dictionary's words that no subtitle used, proper nouns among
# them ("nairobi", "farouk", "kenmore") as well as rare words ("diverticulum").
_RARE = 50
# Word shapes of medicine, for words no list holds ("hypoechoic", "tricompartmental").
_MEDICAL = re.compile(
    r"^(?:hypo|hyper|peri|para|sub|supra|infra|intra|inter|trans|retro|post|pre|non|anti|pseudo"
    r"|hemi|micro|macro|neuro|cardio|gastro|hepat|nephr|oste|arthr|pneum|bronch|angio|myo|lymph"
    r"|thromb|haem|hem[ao]|chol|crani|cerebr|spondyl|endo|epi|extra|multi|poly|uni|bi|tri|quadr"
    r"|ortho|radio|sono|mammo|fluoro|tomo|echo)[a-z]+(?:al|ar|ic|ous|ed|ing|ion|ions|ia|is"
    r"|oid|y|ies|ate|ated|ent|ant|um|a)$"
    r"|(?:itis|osis|oses|iasis|emia|aemia|uria|algia|pathy|plasty|ectomy|otomy|ostomy"
    r"|scopy|graphy|gram|grams|megaly|plegia|paresis|penia|trophy|cele|centesis|lysis|rrhea"
    r"|rrhoea|rrhage|genic|ectasis|ectasia|lithiasis|oid|ular|ical|tion|sion|ment|ness|ity|ism"
    r"|able|ible|ous|atic|etic|otic|ytic|ardic|emic|oxic|ated|ating|ized|ised|izing|plegic"
    r"|phasic|arthric|ectic)$"
    r"|^[a-z]{4,}(?:ile|ive)$|^[a-z]{5,}(?:oma|omas|omata)$"  # not "Ifeoma", "Paloma"
)
_VOWEL = re.compile(r"[aeiouy\u00e0-\u00ff]")
_REDACTED = re.compile(r"^x{2,}$")  # "XXXX": redacted upstream


@cache
def words() -> dict[str, frozenset[str]]:
    """The sections of ``data/words.txt``, lower-cased."""
    return _sections("words.txt")


@cache
def not_names() -> frozenset[str]:
    """Never a person's name after a cue (except after a title): function and clinical words."""
    return words()["not_names"] | words()["clinical"]


@cache
def _not_proper() -> frozenset[str]:
    w = words()
    return not_names() | w["eponyms"] | w["generic_places"] | w["team_words"] | w["calendar"]


@cache
def names() -> dict[str, frozenset[str]]:
    """First names (``first``) and surnames (``last``) of ``data/names.txt``."""
    return _sections("names.txt")


@cache
def english() -> Mapping[str, int]:
    """Lower-case English words and how often they occur (pyspellchecker's list)."""
    frequencies: Mapping[str, int] = SpellChecker(
        language="en", distance=1
    ).word_frequency.dictionary
    return frequencies


def looks_medical(word: str) -> bool:
    """A word shaped like medicine's own: "subpleural", "cholecystitis", "hypoechoic"."""
    return bool(_MEDICAL.search(word.lower()))


def proper(word: str) -> bool:
    """Probably a person's or a place's name: not usual English, not clinical, not an eponym."""
    low = word.lower().rstrip(".")
    if low.endswith(("'s", "\u2019s")):
        low = low[:-2]
    low = low.strip("'\u2019")
    parts = [p for p in re.split(r"['\u2019-]", low) if p]
    if not parts or any(p in _not_proper() for p in parts):
        return False
    if word.isupper() and len(low) <= 4:  # "ESR", "COPD", "XXXX"; "LEE", "LUIS" are names
        return low in names()["first"] or low in names()["last"]
    return any(_proper_part(p) for p in parts)


def _proper_part(low: str) -> bool:
    if len(low) < 2 or not low.isalpha() or not _VOWEL.search(low) or _REDACTED.match(low):
        return False
    count = english().get(low, 0)
    if count <= _RARE:  # not English, or a dictionary word no subtitle ever used: "Nairobi"
        return not looks_medical(low)
    if low in names()["first"] and count < _FIRST_NAME_MAX:
        return True
    return low in names()["last"] and count < _SURNAME_MAX


def _sections(filename: str) -> dict[str, frozenset[str]]:
    text = (resources.files("service.phi") / "data" / filename).read_text(encoding="utf-8")
    sections: dict[str, set[str]] = {}
    current: set[str] = set()
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], set())
        elif line and not line.startswith("#"):
            current.add(line.lower())
    return {name: frozenset(words) for name, words in sections.items()}
