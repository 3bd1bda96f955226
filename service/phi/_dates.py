"""Dates (shifted by the patient's offset) and ages (banded)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta

from service.phi._spans import Hit, sub

_MONTHS = "january february march april may june july august september october november december"
_MONTHS_LIST = _MONTHS.split()
_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?"
    r"|JANUARY|FEBRUARY|MARCH|APRIL|MAY|JUNE|JULY|AUGUST|SEPTEMBER|OCTOBER|NOVEMBER|DECEMBER"
    r"|(?:JAN|FEB|MAR|APR|JUN|JUL|AUG|SEPT?|OCT|NOV|DEC)\.?)"
)
_ORD = r"(?:st|nd|rd|th)?"
_BIRTH = re.compile(r"(?:DOB|D\.O\.B\.?|date of birth|birth\s?date|born(?: on)?)\W{0,3}$", re.I)
_DATE_CUE = re.compile(r"(?i:\b(?:on|dated?|from|since|of|DOB|born)\b|:)\W*$")
_ISO_DATE = re.compile(r"\b(\d{4})([-/.])(\d{1,2})\2(\d{1,2})\b(?!\.\d)")
_NUM_DATE = re.compile(r"(?<![\d./-])(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?![\d/-]|\.\d)")
_DAY_MONTH = re.compile(
    rf"\b(\d{{1,2}})(?:({_ORD}) of |({_ORD}[ /-]))({_MONTH})(?:(,? |[/-])(\d{{4}}))?(?!\w|[/-]\d)"
)
_MONTH_DAY = re.compile(
    rf"\b({_MONTH})([ /-])(\d{{1,2}}){_ORD}(?:(,? |[/-])(\d{{4}}))?(?!\w|\.\d| ?(?:mm|cm|x)\b)"
)
# Month and day after a date cue: "on 3/14"; month and year: "03/2024"
_MONTH_DAY_NUM = re.compile(
    r"(?i:\b(?:on|dated?|from|since|of|until|till)[ \t]+)((0?[1-9]|1[0-2])/(0?[1-9]|[12]\d|3[01]))"
    r"(?![/\d.])(?![ \t]*(?:strength|power|murmur|ratio)\b)"
)
_MONTH_YEAR_NUM = re.compile(r"(?<![\d/.-])(0?[1-9]|1[0-2])/((?:19|20)\d\d)(?![/\d])")
_ROMAN_MONTHS = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]
_ROMAN_DATE = re.compile(
    rf"\b(\d{{1,2}})([./ -])({'|'.join(reversed(_ROMAN_MONTHS))})\2(\d{{4}})\b"
)
_MONTH_YEAR = re.compile(rf"\b({_MONTH}),? (\d{{4}})\b")
_MONTH_RANGE = re.compile(rf"\b({_MONTH}) (\d{{1,2}})([-\u2013])(\d{{1,2}}),? (\d{{4}})\b")
# Dates said aloud (dictation): "march fourteenth", "the fourteenth of march two thousand twenty
# four", "thursday the 3rd of may"; holidays with a year: "Christmas Eve 2023".
_UNITS = "one two three four five six seven eight nine"
_ORDINAL = (
    r"(?:(?:twenty|thirty)[- ]?)?(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)"
    r"|tenth|eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth"
    r"|nineteenth|twentieth|thirtieth"
)
_NUMBER_WORDS = (
    rf"(?:{_UNITS.replace(' ', '|')}|ten|eleven|twelve|\w+teen|twenty|thirty|forty|fifty|sixty"
    r"|seventy|eighty|ninety|hundred|thousand|and|oh)"
)
_YEAR_WORDS = rf"(?:(?:two thousand|nineteen|twenty)(?:[- ]{_NUMBER_WORDS})*|\d{{4}})"
_MONTH_WORDS = _MONTHS.replace(" ", "|")
_WEEKDAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_SPOKEN_DATE = re.compile(
    rf"(?i:\b(?:{_WEEKDAY},? )?(?:the )?(?:{_ORDINAL}) of (?:{_MONTH_WORDS})"
    rf"|\b(?:{_WEEKDAY},? )?(?:{_MONTH_WORDS}) (?:the )?(?!first|second)(?:{_ORDINAL}))"
    rf"(?i:,? {_YEAR_WORDS}\b)?"
    rf"|(?i:\b(?:christmas|new year'?s|thanksgiving|easter|halloween|boxing|independence|memorial"
    rf"|labou?r|valentine'?s|diwali|eid|hanukkah|yom kippur|passover|ramadan)"
    rf"(?: (?:eve|day|sunday|monday|weekend))?,? \d{{4}})\b"
)


class _Shift:
    """Dates of one text moved by one offset; a birth date is removed instead."""

    def __init__(self, text: str, days: int) -> None:
        self.text, self.days = text, days

    def __call__(self, m: re.Match[str], year: int, month: int, day: int) -> date | str | None:
        try:
            d = date(year, month, day)
        except ValueError:
            return None  # not a date: "39/42/79" is left as written
        birth = _BIRTH.search(self.text[max(0, m.start() - 20) : m.start()])
        return "[DATE]" if birth else d + timedelta(days=self.days)

    def iso(self, m: re.Match[str]) -> str | None:
        s = self(m, int(m.group(1)), int(m.group(3)), int(m.group(4)))
        if not isinstance(s, date):
            return s
        sep = m.group(2)
        return f"{s.year}{sep}{s.month:02d}{sep}{s.day:02d}"

    def numeric(self, m: re.Match[str]) -> str | None:
        a, sep, b, y = int(m.group(1)), m.group(2), int(m.group(3)), m.group(4)
        cue = _DATE_CUE.search(self.text[max(0, m.start() - 16) : m.start()])
        if sep != "/" and len(y) == 2 and not cue:
            return None  # "ribs 9-10-11" is not a date
        year = int(y) if len(y) == 4 else (2000 + int(y) if int(y) < 40 else 1900 + int(y))
        day_first = sep == "." or a > 12  # European when it must be, or when written with dots
        s = self(m, year, b, a) if day_first else self(m, year, a, b)
        if not isinstance(s, date):
            return s
        first, second = (s.day, s.month) if day_first else (s.month, s.day)
        yy = f"{s.year}" if len(y) == 4 else f"{s.year % 100:02d}"
        return f"{first:0{len(m.group(1))}d}{sep}{second:0{len(m.group(3))}d}{sep}{yy}"

    def day_month(self, m: re.Match[str]) -> str | None:
        day, of, sep, word, ysep, year = m.groups()
        s = self(m, int(year or 2000), _month(word), int(day))
        if not isinstance(s, date):
            return s
        tail = f"{ysep}{s.year}" if year else ""
        if of is not None:  # "5th of May 1944"
            return f"{s.day}{_ordinal(s.day) if of else ''} of {_month_name(s.month, word)}{tail}"
        suffix = _ordinal(s.day) if sep[0].isalpha() else ""  # "3rd March" -> "28th March"
        return f"{s.day}{suffix}{sep[-1]}{_month_name(s.month, word)}{tail}"

    def month_day(self, m: re.Match[str]) -> str | None:
        word, sep, day, ysep, year = m.groups()
        s = self(m, int(year or 2000), _month(word), int(day))
        if not isinstance(s, date):
            return s
        tail = f"{ysep}{s.year}" if year else ""
        return f"{_month_name(s.month, word)}{sep}{s.day:0{len(day)}d}{tail}"

    def month_year(self, m: re.Match[str]) -> str | None:
        s = self(m, int(m.group(2)), _month(m.group(1)), 15)
        if not isinstance(s, date):
            return s
        return f"{_month_name(s.month, m.group(1))} {s.year}"

    def roman(self, m: re.Match[str]) -> str | None:
        """ "14.III.2024" (day, month in Roman numerals, year)."""
        day, sep, month, year = m.groups()
        s = self(m, int(year), _ROMAN_MONTHS.index(month) + 1, int(day))
        if not isinstance(s, date):
            return s
        return f"{s.day}{sep}{_ROMAN_MONTHS[s.month - 1]}{sep}{s.year}"

    def month_day_num(self, m: re.Match[str]) -> str | None:
        s = self(m, 2000, int(m.group(2)), int(m.group(3)))  # a leap year: "2/29" is a date
        if not isinstance(s, date):
            return s
        return f"{s.month:0{len(m.group(2))}d}/{s.day:0{len(m.group(3))}d}"

    def month_year_num(self, m: re.Match[str]) -> str | None:
        s = self(m, int(m.group(2)), int(m.group(1)), 15)
        if not isinstance(s, date):
            return s
        return f"{s.month:0{len(m.group(1))}d}/{s.year}"

    def month_range(self, m: re.Match[str]) -> str | None:
        """ "Sept 2-4, 2023": both ends move together."""
        word, first, dash, last, year = m.groups()
        start = self(m, int(year), _month(word), int(first))
        end = self(m, int(year), _month(word), int(last))
        if not isinstance(start, date) or not isinstance(end, date):
            return "[DATE]" if "[DATE]" in (start, end) else None
        head = f"{_month_name(start.month, word)} {start.day}{dash}"
        if end.month != start.month:
            head += f"{_month_name(end.month, word)} "
        return f"{head}{end.day}, {end.year}"


def dates(text: str, days: int) -> Iterator[Hit]:
    shift = _Shift(text, days)
    yield from sub(_ISO_DATE, text, shift.iso)
    yield from sub(_NUM_DATE, text, shift.numeric)
    yield from sub(_MONTH_RANGE, text, shift.month_range)
    yield from sub(_ROMAN_DATE, text, shift.roman)
    yield from sub(_MONTH_DAY_NUM, text, shift.month_day_num, group=1)
    yield from sub(_MONTH_YEAR_NUM, text, shift.month_year_num)
    yield from sub(_DAY_MONTH, text, shift.day_month)
    yield from sub(_MONTH_DAY, text, shift.month_day)
    yield from sub(_MONTH_YEAR, text, shift.month_year)
    yield from sub(_SPOKEN_DATE, text, lambda m: "[DATE]")


def _ordinal(day: int) -> str:
    return "th" if 10 < day % 100 < 14 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def _month(word: str) -> int:
    key = word.rstrip(".").lower()[:3]
    return next(i for i, name in enumerate(_MONTHS_LIST, 1) if name.startswith(key))


def _month_name(month: int, like: str) -> str:
    """The month written as ``like`` is: full name, or three letters (with its dot), in its case."""
    full = _MONTHS_LIST[month - 1].capitalize()
    bare = like.rstrip(".")
    name = full if bare.lower() in _MONTHS_LIST else full[:3] + like[len(bare) :]
    return name.upper() if bare.isupper() else name


_AGE = re.compile(
    r"\b(?:(?P<n1>\d{1,3})[- ]?(?:years?|yrs?|y)[- ]?old"
    r"|(?P<n2>\d{1,3}) ?(?:y/o|yo|y\.o\.)|(?P<n3>\d{1,3}) years? of age"
    r"|(?:aged|age:?) (?P<n4>\d{1,3})"
    r"|(?:aged|age:?)[ \t]?(?P<n5>9\d|1[01]\d)[ \t]?(?:y|yrs?|years?)(?=[ \t]|$))"
    r"(?!\w)(?![ \t]*(?:weeks?|wks?|days?|months?|mos?|hours?)\b)",
    re.IGNORECASE,
)
# Only from 90 on (HIPAA's limit): "91M fall", "101 F"; "67F" stays as the checks read it.
_AGE_SEX = re.compile(r"(?<![\w.+-])(9\d|1[01]\d)[ \t]?(?:y|yo|Y)?[ \t]?/?[ \t]?[MF](?![\w/])")
# From 90 on without "old": "a woman of 94 years", "F 92", "M/95"
_OLD_AGE = re.compile(
    r"(?<![\w.])(?:(9\d|1[01]\d)[ -]?(?:years?|yrs?)\b(?![ \t]+(?:ago|prior|before|earlier))"
    r"|(?<![\w/])[MF][ \t]?[,/]?[ \t]?(9\d|1[01]\d)(?![\w/.]))"
)
_SPOKEN_AGE = re.compile(
    r"\b(?:ninety(?:[- ](?:one|two|three|four|five|six|seven|eight|nine))?"
    r"|(?:a|one) hundred(?:(?: and)? [a-z]+(?:[- ][a-z]+)?)?)(?=[- ](?:years?|yrs?)[- ]old\b)",
    re.IGNORECASE,
)


def ages(text: str, days: int) -> Iterator[Hit]:
    """The age becomes its band, the words around it stay: "59 y/o" -> "50-59 y/o"."""
    for m in _AGE.finditer(text):
        group = next(g for g in ("n1", "n2", "n3", "n4", "n5") if m.group(g))
        yield Hit(m.start(group), m.end(group), age_band(int(m.group(group))))
    yield from sub(_AGE_SEX, text, lambda m: "90+", group=1)
    yield from sub(_SPOKEN_AGE, text, lambda m: "90+")
    for m in _OLD_AGE.finditer(text):
        n = 1 if m.group(1) else 2
        yield Hit(m.start(n), m.end(n), "90+")


def age_band(age: int) -> str:
    """Ages to decade bands; 90 and over collapse (HIPAA safe harbour)."""
    if age >= 90:
        return "90+"
    low = age // 10 * 10
    return f"{low}-{low + 9}"
