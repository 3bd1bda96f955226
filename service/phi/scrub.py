"""De-identification of report text before it leaves the process.

Two layers, in order: every identifier radqc already knows for the item (``known.redact``), then a
free-text filter for what nobody told us: e-mails, labelled and long numbers, phones, street
addresses, institutions, dates (shifted), ages (banded) and people's names found by their cues
(titles, labels, "discussed with", signatures, "..., MRN"). The filter finds spans on the text as
it came and replaces them in one pass, so one detector never reads another's placeholder.

What the QC checks need stays: laterality, anatomy, measurements ("3.2 cm", "T10"), sex words,
relative dates ("2 days ago", "prior study") and ``XXXX`` tokens (redacted upstream). Dates are
shifted by a stable per-patient offset so intervals inside one patient's text survive; a birth
date is removed. No library or model is used: none ran offline with acceptable precision (see
``bench/deid/README.md``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from service.phi.known import KnownIdentifiers


def date_shift_days(patient_key: str) -> int:
    """A stable shift of -365..-1 days for one patient (same key, same shift)."""
    digest = hashlib.sha256(patient_key.encode()).digest()
    return -(1 + int.from_bytes(digest[:4], "big") % 365)


def age_band(age: int) -> str:
    """Ages to decade bands; 90 and over collapse (HIPAA safe harbour)."""
    if age >= 90:
        return "90+"
    low = age // 10 * 10
    return f"{low}-{low + 9}"


def deidentify(text: str, patient_key: str, known: KnownIdentifiers | None = None) -> str:
    """``text`` without identifiers, its dates shifted and ages banded for ``patient_key``."""
    if known is not None:
        text = known.redact(text)
    days = date_shift_days(patient_key)
    hits = [hit for detect in _DETECTORS for hit in detect(text, days)]
    return _replace(text, _resolve(hits))


# --- spans ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    replacement: str


def _resolve(hits: list[_Hit]) -> list[_Hit]:
    """Non-overlapping hits; earlier detectors win, an overlap widens the winner."""
    chosen: list[_Hit] = []
    for hit in hits:
        clash = [c for c in chosen if c.start < hit.end and hit.start < c.end]
        if not clash:
            chosen.append(hit)
        elif any(hit.start < c.start or hit.end > c.end for c in clash):
            for c in clash:
                chosen.remove(c)
            start = min(hit.start, *(c.start for c in clash))
            end = max(hit.end, *(c.end for c in clash))
            winner = clash[0].replacement
            chosen.append(_Hit(start, end, winner if winner.startswith("[") else "[REDACTED]"))
    return sorted(chosen, key=lambda h: h.start)


def _replace(text: str, hits: list[_Hit]) -> str:
    out, last = [], 0
    for hit in hits:
        out += [text[last : hit.start], hit.replacement]
        last = hit.end
    out.append(text[last:])
    return "".join(out)


def _sub(
    pattern: re.Pattern[str], text: str, repl: Callable[[re.Match[str]], str | None], group: int = 0
) -> Iterator[_Hit]:
    for m in pattern.finditer(text):
        new = repl(m)
        if new is not None:
            yield _Hit(m.start(group), m.end(group), new)


# --- numbers, e-mails, phones ---------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\[[A-Z]+\]")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_URL = re.compile(r"\b(?:https?://|www\.)\S+[\w/]")
_ID_LABEL = (
    r"MRN|MR\s?#|MR\s?no\.?|med(?:ical)?\s+rec(?:ord)?s?(?:\s+(?:number|no\.?|#))?\s*#?"
    r"|hospital\s+(?:number|no\.?)|patient\s+(?:id|number|no\.?)|unit\s+(?:no\.?|number)"
    r"|NHS\s+(?:number|no\.?)|CHI|SSN|social\s+security(?:\s+number)?|acc(?:ession)?\s*(?:#|no\.?)?"
    r"|accession\s+number|(?:study|exam|order|visit|case|encounter|account|requisition)"
    r"\s*(?:id|no\.?|number|#)|ID"
)
_LABELLED_ID = re.compile(
    rf"\b(?:{_ID_LABEL})(?![\w])\s*[:#]?\s*"
    r"(\d{3}\s\d{3}\s\d{4}\b|(?=[\w./-]*\d)[A-Z0-9][\w./-]*[A-Z0-9])",
    re.IGNORECASE,
)
_PHONE = re.compile(
    r"(?<![\w+])(?:"
    r"\+\d{1,3}(?:[\s.-]?\(?\d{1,5}\)?){2,5}"  # international
    r"|(?:1[\s.-])?\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}"  # North American
    r"|(?:0\d{2,4}|\(0\d{1,4}\))\s?\d{3,4}\s?\d{3,4}"  # UK and other trunk-prefixed
    r")(?![\w-])"
)
# A local number ("555-0142") looks like a range ("normal 232-1137"): only after a phone cue.
_LOCAL_PHONE = re.compile(
    r"(?i:\b(?:call|phone|tel|telephone|contact|reach|number|mobile|cell|fax|room|desk)\b|:)"
    r"[^.\n\d]{0,30}?(?<![\w-])(\d{3}-\d{4})(?![\w-])"
)
_SHORT_PHONE = re.compile(
    r"(?:\b(?:ext\.?|extension|pager|page|bleep|beep|tel\.?|phone|call)\s*[:#]?\s*|\bx)(\d{4,6})\b",
    re.IGNORECASE,
)
_LONG_NUMBER = re.compile(r"(?<![\w.])[A-Z]{0,4}\d[\dA-Z-]*(?!\w|\.\d)")
_NOT_ID = re.compile(r"^\d{1,4}-\d{1,4}$|(?i:^[\d.]+(?:x[\d.]+)+|(?:mm|cm|ml|cc|kg|hu)$)")


def _contacts(text: str, days: int) -> Iterator[_Hit]:
    yield from _sub(_PLACEHOLDER, text, lambda m: m.group())
    yield from _sub(_EMAIL, text, lambda m: "[EMAIL]")
    yield from _sub(_URL, text, lambda m: "[URL]")


def _labelled_ids(text: str, days: int) -> Iterator[_Hit]:
    yield from _sub(_LABELLED_ID, text, lambda m: "[ID]", group=1)


def _phones(text: str, days: int) -> Iterator[_Hit]:
    yield from _sub(_PHONE, text, lambda m: "[PHONE]" if _digits(m.group()) >= 7 else None)
    yield from _sub(_LOCAL_PHONE, text, lambda m: "[PHONE]", group=1)
    yield from _sub(_SHORT_PHONE, text, lambda m: "[PHONE]", group=1)


def _long_numbers(text: str, days: int) -> Iterator[_Hit]:
    def repl(m: re.Match[str]) -> str | None:
        token = m.group()
        return "[ID]" if _digits(token) >= 6 and not _NOT_ID.search(token) else None

    yield from _sub(_LONG_NUMBER, text, repl)


def _digits(s: str) -> int:
    return sum(ch.isdigit() for ch in s)


# --- dates and ages -------------------------------------------------------------------------------

_MONTHS = "january february march april may june july august september october november december"
_MONTHS_LIST = _MONTHS.split()
_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?)"
)
_ORD = r"(?:st|nd|rd|th)?"
_BIRTH = re.compile(r"(?:DOB|D\.O\.B\.?|date of birth|birth\s?date|born(?: on)?)\W{0,3}$", re.I)
_DATE_CUE = re.compile(r"(?i:\b(?:on|dated?|from|since|of|DOB|born)\b|:)\W*$")
_ISO_DATE = re.compile(r"\b(\d{4})([-/.])(\d{1,2})\2(\d{1,2})\b(?!\.\d)")
_NUM_DATE = re.compile(r"(?<![\d./-])(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?![\d/-]|\.\d)")
_DAY_MONTH = re.compile(
    rf"\b(\d{{1,2}}){_ORD}([ /-])({_MONTH})(?:(,? |[/-])(\d{{4}}))?(?!\w|[/-]\d)"
)
_MONTH_DAY = re.compile(
    rf"\b({_MONTH})([ /-])(\d{{1,2}}){_ORD}(?:(,? |[/-])(\d{{4}}))?(?!\w|\.\d| ?(?:mm|cm|x)\b)"
)
_MONTH_YEAR = re.compile(rf"\b({_MONTH}),? (\d{{4}})\b")


def _dates(text: str, days: int) -> Iterator[_Hit]:
    def shift(m: re.Match[str], year: int, month: int, day: int) -> date | str | None:
        try:
            d = date(year, month, day)
        except ValueError:
            return None  # not a date: "39/42/79" is left as written
        birth = _BIRTH.search(text[max(0, m.start() - 20) : m.start()])
        return "[DATE]" if birth else d + timedelta(days=days)

    def iso(m: re.Match[str]) -> str | None:
        s = shift(m, int(m.group(1)), int(m.group(3)), int(m.group(4)))
        if not isinstance(s, date):
            return s
        sep = m.group(2)
        return f"{s.year}{sep}{s.month:02d}{sep}{s.day:02d}"

    def numeric(m: re.Match[str]) -> str | None:
        a, sep, b, y = int(m.group(1)), m.group(2), int(m.group(3)), m.group(4)
        cue = _DATE_CUE.search(text[max(0, m.start() - 16) : m.start()])
        if sep != "/" and len(y) == 2 and not cue:
            return None  # "ribs 9-10-11" is not a date
        year = int(y) if len(y) == 4 else (2000 + int(y) if int(y) < 40 else 1900 + int(y))
        day_first = sep == "." or a > 12  # European when it must be, or when written with dots
        s = shift(m, year, b, a) if day_first else shift(m, year, a, b)
        if not isinstance(s, date):
            return s
        first, second = (s.day, s.month) if day_first else (s.month, s.day)
        yy = f"{s.year}" if len(y) == 4 else f"{s.year % 100:02d}"
        return f"{first:0{len(m.group(1))}d}{sep}{second:0{len(m.group(3))}d}{sep}{yy}"

    def day_month(m: re.Match[str]) -> str | None:
        day, sep, word, ysep, year = m.groups()
        s = shift(m, int(year or 2000), _month(word), int(day))
        if not isinstance(s, date):
            return s
        tail = f"{ysep}{s.year}" if year else ""
        return f"{s.day}{sep}{_month_name(s.month, word)}{tail}"

    def month_day(m: re.Match[str]) -> str | None:
        word, sep, day, ysep, year = m.groups()
        s = shift(m, int(year or 2000), _month(word), int(day))
        if not isinstance(s, date):
            return s
        tail = f"{ysep}{s.year}" if year else ""
        return f"{_month_name(s.month, word)}{sep}{s.day}{tail}"

    def month_year(m: re.Match[str]) -> str | None:
        s = shift(m, int(m.group(2)), _month(m.group(1)), 15)
        if not isinstance(s, date):
            return s
        return f"{_month_name(s.month, m.group(1))} {s.year}"

    yield from _sub(_ISO_DATE, text, iso)
    yield from _sub(_NUM_DATE, text, numeric)
    yield from _sub(_DAY_MONTH, text, day_month)
    yield from _sub(_MONTH_DAY, text, month_day)
    yield from _sub(_MONTH_YEAR, text, month_year)


def _month(word: str) -> int:
    key = word.rstrip(".").lower()[:3]
    return next(i for i, name in enumerate(_MONTHS_LIST, 1) if name.startswith(key))


def _month_name(month: int, like: str) -> str:
    """The month written as ``like`` is: full name, or three letters (with its dot)."""
    full = _MONTHS_LIST[month - 1].capitalize()
    bare = like.rstrip(".")
    return full if len(bare) > 4 or bare == "May" else full[:3] + like[len(bare) :]


_AGE = re.compile(
    r"\b(?:(?P<n1>\d{1,3})[- ]?(?:years?|yrs?|y)[- ]?old"
    r"|(?P<n2>\d{1,3}) ?(?:y/o|yo|y\.o\.)|(?P<n3>\d{1,3}) years? of age"
    r"|(?:aged|age:?) (?P<n4>\d{1,3}))(?!\w)(?![ \t]*(?:weeks?|wks?|days?|months?|mos?|hours?)\b)",
    re.IGNORECASE,
)


def _ages(text: str, days: int) -> Iterator[_Hit]:
    """The age becomes its band, the words around it stay: "59 y/o" -> "50-59 y/o"."""
    for m in _AGE.finditer(text):
        group = next(g for g in ("n1", "n2", "n3", "n4") if m.group(g))
        yield _Hit(m.start(group), m.end(group), age_band(int(m.group(group))))


# --- places ---------------------------------------------------------------------------------------

_CAP = r"(?:St\.|[A-Z][\w'\u2019-]*)"
_STREET_TYPE = (
    r"Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Court|Ct|Place|Pl|Close"
    r"|Crescent|Cres|Terrace|Terr|Grove|Square|Sq|Highway|Hwy|Parkway|Pkwy|Circle|Cir|Row|Walk"
    r"|Gardens|Mews|Trail|Hill|Park"
)
_NOT_PLACE = r"(?!(?:Left|Right|Bilateral|No|The|There|This|Findings|Impression)\b)"
_STATE = (
    r"AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH"
    r"|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY"
)
_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}"
# A street, then (after commas only, so "12 Baker Street. Left lung clear" keeps its next
# sentence) a town, a state and ZIP code or a UK postcode.
_ADDRESS = re.compile(
    rf"\b\d{{1,5}}[A-Z]?,? (?:(?:{_CAP} ){{1,4}}(?:{_STREET_TYPE})\b"
    rf"|(?:Calle|Rue|rue|Avenida|Via|Rua|Strada|Carrer) (?:[\w'\u2019-]+ ){{0,3}}{_CAP})"
    rf"(?:,(?: \d{{4,5}})? {_NOT_PLACE}{_CAP}(?: {_NOT_PLACE}{_CAP}){{0,2}})*"
    rf"(?:,? (?:{_STATE}) \d{{5}}(?:-\d{{4}})?|,? {_POSTCODE}\b)?"
)
_LIVES_IN = re.compile(
    r"\b(?:lives|living|resides|residing|moved)[ \t]+(?:in|near|to)[ \t]+"
    rf"({_CAP}(?: {_CAP}){{0,2}})"
)
_UNIT = re.compile(r"\b(?:Apt|Apartment|Suite|Ste|Flat)\.? ?#? ?\d+[A-Z]?\b(?! ?(?:mm|cm)\b)")
_PO_BOX = re.compile(r"\bP\.? ?O\.? Box \d+\b", re.IGNORECASE)
_ZIP = re.compile(rf"\b(?:{_STATE}) \d{{5}}(?:-\d{{4}})?\b|\b{_POSTCODE}\b")
_INST_WORD = (
    r"Hospital|Medical Cent(?:er|re)|Health Cent(?:er|re)|Clinic|Infirmary|Health System|Healthcare"
    r"|Imaging Cent(?:er|re)|Institute|(?:NHS )?Foundation Trust|NHS Trust|Surgery Cent(?:er|re)"
)
_INST_FOREIGN = (
    r"H[oô]pital|Klinikum|Universitätsklinikum|Ospedale|Policlinico|Cl[ií]nica|Krankenhaus"
    r"|Centre Hospitalier|Hospital (?:Universitario|General|de|del|das|do)"
)
_PARTICLE = r"(?:of|de|del|della|der|di|da|das|do|du|la|le|the|St\.?|San|Santa|Saint) "
_INSTITUTION = re.compile(
    rf"\b(?:(?:{_CAP} |{_PARTICLE}){{0,4}}?{_CAP} (?:{_INST_WORD})\b"
    rf"(?: of(?: the)? {_CAP}(?: {_CAP})?)?"
    rf"|(?:{_INST_FOREIGN})(?: (?:{_PARTICLE})*{_CAP}){{1,3}})"
)


def _places(text: str, days: int) -> Iterator[_Hit]:
    yield from _sub(_ADDRESS, text, lambda m: "[ADDRESS]")
    yield from _sub(_UNIT, text, lambda m: "[ADDRESS]")
    yield from _sub(_LIVES_IN, text, lambda m: "[ADDRESS]", group=1)
    yield from _sub(_PO_BOX, text, lambda m: "[ADDRESS]")
    yield from _sub(_ZIP, text, lambda m: "[ADDRESS]")

    def institution(m: re.Match[str]) -> str | None:
        words = [w.strip("'\u2019.").lower() for w in m.group().split()]
        named = [
            w for w in words if len(w) > 2 and w not in _words()["generic_places"] | _not_names()
        ]
        return "[INSTITUTION]" if named else None

    yield from _sub(_INSTITUTION, text, institution)


# --- names ----------------------------------------------------------------------------------------

_WORD = r"(?:[^\W\d_]['\u2019](?=[^\W\d_]))?[^\W\d_]+(?:[-'\u2019][^\W\d_]+)*"
_NAME_TOKEN = re.compile(_WORD)
_INITIAL = re.compile(r"[A-Z]\.?(?=[ \t^]+[^\W\d_])")
_GAP = re.compile(r"[ \t]+|\^")
_ROLE_GAP = re.compile(r"[ \t]*,?[ \t]*")
_COMMA = re.compile(r",[ \t]*")
_REDACTED = re.compile(r"^[Xx]{2,}$")  # "Dr. XXXX": redacted upstream, kept as it is
_LABELS = (
    r"(?:patient'?s?|pt|full|family|given|first|last|sur)[ \t]?name|(?<!\w[ \t])name|patient"
    r"|pt|re|(?:referring|ordering|requesting|attending)"
    r"(?:[ \t](?:physician|doctor|provider|clinician|md))?"
    r"|(?:reporting[ \t]|reading[ \t]|interpreting[ \t])?radiologist|physician|provider"
    r"|technologist|tech|radiographer|sonographer|resident|fellow|consultant|surgeon|clinician"
    r"|doctor|pcp|gp"
    r"|copies[ \t]to|attn|contact|next[ \t]of[ \t]kin|nok|emergency[ \t]contact|guardian|author"
    r"|reader|signed|signature|[a-z]+[ \t]by"
)
_LABEL = re.compile(rf"(?i:\b(?:{_LABELS}))[ \t]*:")
_TITLE = re.compile(
    r"\b(?:(?P<lower>Dr|DR|dr|Prof|PROF)\.?|(?:Mr|mr|Mrs|mrs|Ms|Mx)\.?|(?:MR|MRS|MS)\."
    r"|Miss|Doctor|Professor|Sister|Nurse|Rev|Dame|Sir|Mister)(?=[ \t])"
)
_BY = re.compile(
    r"\b(?:(?:electronically|digitally)[ \t])?(?:signed|dictated|transcribed|verified|read|reviewed"
    r"|approved|interpreted|reported|referred|requested|performed|acknowledged|authenticated"
    r"|read[ \t]back)[ \t]by\b(?![ \t]*:)",
    re.IGNORECASE,
)
_TALK = re.compile(
    r"(?<![\w-])(?:(?P<lower>discussed[ \t]with|d/w|(?:spoke|spoken|talked)[ \t](?:to|with))"
    r"|reviewed[ \t]with|conferred[ \t]with|called(?:[ \t]to)?|paged|notified|informed"
    r"|(?:tele)?phoned(?:[ \t]to)?|communicated[ \t](?:to|with)|conveyed[ \t]to|relayed[ \t]to"
    r"|reported[ \t]to|given[ \t]to|faxed[ \t]to|sent[ \t]to|copied[ \t]to|c/o)\b",
    re.IGNORECASE,
)
_PATIENT = re.compile(r"\b(?:Patient|PATIENT|patient|Pt|pt)[ \t]+")
_RELATIVE = re.compile(
    r"\b(?:wife|husband|spouse|partner|son|daughter|mother|father|sister|brother|friend|carer"
    r"|caregiver|guardian|neighbou?r)[ \t]*,[ \t]*(?=[^\W\d_][^,\n]{0,40},)"
)
_CREDENTIAL = r"MD|M\.D\.|DO|FRCR|FRCPC|FRANZCR|MBBS|MBChB|PhD|RN|NP|PA-C|RT\(R\)"
_BEFORE = re.compile(
    rf"(?:{_WORD}[ \t]+){{0,3}}{_WORD}(?="
    r",?[ \t]*\(?(?:MRN|DOB|D\.O\.B|NHS\b)"
    r"|,[ \t]*(?:aged?[ \t]+)?\d{1,3}[ -]?(?:y|yo|yrs?|years?)\b"
    rf"|,?[ \t]+(?:{_CREDENTIAL})(?!\w)"
    r"|[ \t]+(?:is|was)[ \t]+an?[ \t]+\d{1,3}|[ \t]+(?:presents|presented|complains)\b)"
)


def _names(text: str, days: int) -> Iterator[_Hit]:
    for m in _LABEL.finditer(text):
        yield from _name_at(text, m.end(), lower_ok=True, comma_ok=True, caps_ok=True)
    for m in _TITLE.finditer(text):
        lower = bool(m.group("lower"))
        yield from _name_at(text, m.end(), lower_ok=lower, caps_ok=True, titled=True)
    for m in _BY.finditer(text):
        yield from _name_at(text, _skip_roles(text, m.end()))
    for m in _TALK.finditer(text):
        yield from _name_at(text, _skip_roles(text, m.end()), lower_ok=bool(m.group("lower")))
    for m in _PATIENT.finditer(text):
        yield from _name_at(text, m.end())
    for m in _RELATIVE.finditer(text):  # "the patient's wife, Aoife, was present"
        yield from _name_at(text, m.end())
    for m in _BEFORE.finditer(text):
        yield from _name_before(text, m)


def _skip_roles(text: str, pos: int) -> int:
    """Past "the referring clinician," to the name that may follow."""
    while True:
        gap = _ROLE_GAP.match(text, pos)
        at = gap.end() if gap else pos
        m = _NAME_TOKEN.match(text, at)
        if not m or m.group().lower() not in _words()["role_skip"]:
            return at
        pos = m.end()


def _is_name_word(word: str, stop: frozenset[str], *, lower_ok: bool, caps_ok: bool) -> bool:
    if word.lower() in stop or _REDACTED.match(word):
        return False
    if word[0].isupper():
        return caps_ok or len(word) == 1 or not word.isupper()  # "sent to the PACS"
    return lower_ok


def _name_at(
    text: str,
    pos: int,
    *,
    lower_ok: bool = False,
    comma_ok: bool = False,
    caps_ok: bool = False,
    titled: bool = False,
) -> Iterator[_Hit]:
    """The run of name words from ``pos`` (one line at most), as one hit.

    After a title a clinical word is a name too: "Dr Small", "Mr White".
    """
    stop = _words()["not_names"] if titled else _not_names()
    start = end = -1
    count = 0
    i = pos
    while count < 4:
        gap = _GAP.match(text, i)
        if gap:
            i = gap.end()
        elif count and not (comma_ok and text.startswith(",", i)):
            break
        if count and comma_ok and text.startswith(",", i):
            after = _COMMA.match(text, i)
            nxt = _NAME_TOKEN.match(text, after.end()) if after else None
            if not nxt or len(nxt.group()) < 2 or nxt.group().lower() in stop:
                break
            comma_ok, i = False, nxt.start()
        initial = _INITIAL.match(text, i)
        if initial:
            start = i if start < 0 else start
            end, i = initial.end(), initial.end()
            continue
        m = _NAME_TOKEN.match(text, i)
        if not m:
            break
        word = m.group()
        low = word.lower()
        if low in _words()["particles"] and count:
            i = m.end()
            continue
        if not _is_name_word(word, stop, lower_ok=lower_ok, caps_ok=caps_ok):
            break
        start = i if start < 0 else start
        end = m.end() - (2 if low.endswith(("'s", "\u2019s")) else 0)
        count += 1
        i = m.end()
        if end < i:  # a possessive ends the name
            break
    if count and not text.startswith(":", end) and not _team_follows(text, end):
        yield _Hit(start, end, "[NAME]")


def _team_follows(text: str, end: int) -> bool:
    """ "called to the Stroke Team": the words before a team word name a team, not a person."""
    gap = _GAP.match(text, end)
    m = _NAME_TOKEN.match(text, gap.end()) if gap else None
    return bool(m and m.group().lower() in _words()["team_words"])


def _name_before(text: str, m: re.Match[str]) -> Iterator[_Hit]:
    """ "Nkechi Goncalves is a 64-year-old...": the capitalised words right before the cue."""
    stop = _not_names()
    words = list(_NAME_TOKEN.finditer(m.group()))
    while words and not _is_name_word(words[0].group(), stop, lower_ok=False, caps_ok=False):
        words.pop(0)
    if words and all(_is_name_word(w.group(), stop, lower_ok=False, caps_ok=False) for w in words):
        yield _Hit(m.start() + words[0].start(), m.start() + words[-1].end(), "[NAME]")


@cache
def _not_names() -> frozenset[str]:
    return _words()["not_names"] | _words()["clinical"]


@cache
def _words() -> dict[str, frozenset[str]]:
    """The sections of ``data/words.txt``, lower-cased."""
    text = (resources.files("service.phi") / "data" / "words.txt").read_text(encoding="utf-8")
    sections: dict[str, set[str]] = {}
    current: set[str] = set()
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], set())
        elif line and not line.startswith("#"):
            current.add(line.lower())
    return {name: frozenset(words) for name, words in sections.items()}


_DETECTORS: list[Callable[[str, int], Iterator[_Hit]]] = [
    _contacts,
    _dates,
    _labelled_ids,
    _phones,
    _places,
    _ages,
    _names,
    _long_numbers,
]
