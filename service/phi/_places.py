"""Street addresses, towns after "lives in", postcodes and institutions."""

from __future__ import annotations

import re
from collections.abc import Iterator

from service.phi._lexicon import not_names, proper, words
from service.phi._spans import Hit, sub

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
_POSTCODE = r"(?:[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}|[A-Z]\d[A-Z] ?\d[A-Z]\d)"  # UK, Canada
# A street, then (after commas only, so "12 Baker Street. Left lung clear" keeps its next
# sentence) a town (and its postal code), a state and ZIP code or a UK or Canadian postcode.
_ADDRESS = re.compile(
    rf"\b\d{{1,5}}[A-Z]?,? (?:(?:{_CAP} ){{1,4}}(?:{_STREET_TYPE})\b"
    rf"|(?:Calle|Rue|rue|Avenida|Via|Rua|Strada|Carrer) (?:[\w'\u2019-]+ ){{0,3}}{_CAP})"
    rf"(?:,(?: \d{{4,5}})? {_NOT_PLACE}{_CAP}(?: {_NOT_PLACE}{_CAP}){{0,2}}(?: \d{{4,6}}\b)?)*"
    rf"(?:,? (?:{_STATE}) \d{{5}}(?:-\d{{4}})?|,? {_POSTCODE}\b)?"
)
# A named street without a number: "junction of Ocean Avenue and 5th Street, Santa Monica"
_STREET_NAME = (
    rf"(?:(?:\d{{1,3}}(?:st|nd|rd|th)|{_NOT_PLACE}[A-Z][a-z'\u2019-]+) ){{1,3}}"
    r"(?:Street|Avenue|Road|Boulevard|Lane|Drive|Highway|Parkway)\b"
)
_STREET = re.compile(
    rf"\b{_STREET_NAME}(?: (?:and|&) {_STREET_NAME})?"
    rf"(?:, {_NOT_PLACE}[A-Z][a-z]+(?: [A-Z][a-z]+)?(?=[.,;)\n]|$))?"
)
# After an address label, the address runs to the end of its clause: "Address: Plot No. 45,
# Sector 21, Gurugram, Haryana 122016. HRCT ..."; "lives at 45 w 112th st #4c ..., walked in".
_ADDRESS_LABEL = re.compile(
    r"(?i:\b(?:(?:home|postal|mailing|current|permanent|patient'?s?)[ \t]+)?(?:address|residence)"
    r"[ \t]*[:-][ \t]*|\b(?:lives|living|resides|residing|staying)[ \t]+at[ \t]+(?=\d))"
    # A full stop ends the clause before a capital, a digit or "(" ("Springfield. 67-year-old
    # male" keeps its clinical sentence), unless it closes an abbreviation ("Plot No. 45").
    r"([^\n;]{3,120}?)(?=[ \t]*(?:\n|;|$|(?<!No)(?<!St)(?<!Rd)(?<!Ave)(?<!Apt)(?<!Dr)(?<!Ln)"
    r"\.(?:[ \t]+[A-Z0-9(]|[ \t]*$)"
    r"|,[ \t]+(?:[a-z]+ed|and|who|with|for|presents?|presenting)\b))"
)
# Rural route, house and plot numbers: "RR 2 Box 118", "Hse 14, Rd 7, Dhanmondi, Dhaka-1205"
_UNIT_WORD = (
    r"(?:House|Hse|H\.? ?No\.?|Plot(?: No\.?)?|Flat|Road|Rd|Block|Sector|Street|St|Lane|Ward"
    r"|Door No\.?|Avenue)"
)
_LOCAL_ADDRESS = re.compile(
    r"\b(?:(?:RR|R\.R\.|Rural Route|HC|Star Route) ?\d+,? (?:P\.?O\.? )?Box \d+"
    rf"|{_UNIT_WORD}\.? ?#? ?\d+[A-Z]?(?:, ?{_UNIT_WORD}\.? ?#? ?\d+[A-Z]?)+)"
    rf"(?:,? {_NOT_PLACE}[A-Z][a-z]+(?: [A-Z][a-z]+)?(?:[ -]+\d{{4,6}}\b)?){{0,3}}"
    rf"(?:,? (?:{_STATE}) \d{{5}}(?:-\d{{4}})?)?"
)
# A postal code closing comma-separated place names: "Near Railway Station, Nashik - 422101"
_PIN_ADDRESS = re.compile(
    r"(?:\b(?:(?:Near|Opp\.?|Behind) )?[A-Z][\w'\u2019-]*(?: [A-Z][\w'\u2019-]*){0,3}, ){1,3}"
    r"[A-Z][a-z]+(?: [A-Z][a-z]+)? ?[-\u2013]? ?\d{6}\b"
    r"|\b[A-Z][a-z]+(?: [A-Z][a-z]+)? ?[-\u2013] ?\d{6}\b"
)
_LIVES_IN = re.compile(
    r"\b(?:lives|living|resides|residing|moved|relocated)"
    r"(?:[ \t]+(?:on|in|at)[ \t]+an?[ \t]+(?:farm|ranch|village|town|station|island))?"
    r"[ \t]+(?:in|near|to|outside)[ \t]+"
    rf"({_CAP}(?: {_CAP}){{0,2}})"
)
_UNIT = re.compile(r"\b(?:Apt|Apartment|Suite|Ste|Flat)\.? ?#? ?\d+[A-Z]?\b(?! ?(?:mm|cm)\b)")
_PO_BOX = re.compile(r"\bP\.? ?O\.? Box \d+\b", re.IGNORECASE)
_ZIP = re.compile(
    rf"\b(?:{_NOT_PLACE}[A-Z][a-z]+ ){{0,2}}(?:{_STATE}) \d{{5}}(?:-\d{{4}})?\b|\b{_POSTCODE}\b"
    r"|(?i:\b(?:zip(?: code)?|post ?code|postal code|pin(?: code)?)\b)[ \t:#]*"
    rf"(\d{{5,6}}|{_POSTCODE})"
)
_STATE_NAMES = (
    "Alabama|Alaska|Arizona|Arkansas|California|Colorado|Connecticut|Delaware|Florida|Georgia"
    "|Hawaii|Idaho|Illinois|Indiana|Iowa|Kansas|Kentucky|Louisiana|Maine|Maryland|Massachusetts"
    "|Michigan|Minnesota|Mississippi|Missouri|Montana|Nebraska|Nevada|New Hampshire|New Jersey"
    "|New Mexico|New York|North Carolina|North Dakota|Ohio|Oklahoma|Oregon|Pennsylvania"
    "|Rhode Island|South Carolina|South Dakota|Tennessee|Texas|Utah|Vermont|Virginia|Washington"
    "|West Virginia|Wisconsin|Wyoming"
)
# A town before its state: "Tucson, AZ", "Springfield, Illinois" (the state itself is kept)
_CITY_STATE = re.compile(
    rf"\b((?:{_NOT_PLACE}[A-Z][a-z]+ ){{0,2}}{_NOT_PLACE}[A-Z][a-z]+), "
    rf"(?:{_STATE}|{_STATE_NAMES})\b(?! \d)"
)
_INST_STRONG = (
    "Hospital|Medical Cent(?:er|re)|Health Cent(?:er|re)|Clinic|Infirmary|Health System|Healthcare"
    "|Imaging Cent(?:er|re)|Institute|(?:NHS )?Foundation Trust|NHS Trust|Surgery Cent(?:er|re)"
    "|Polyclinic|Sanatorium|Memorial|(?:Medical|Family|General|Group|Dental) Practice"
    "|(?:Radiology|Imaging|Medical|Health|Physicians?|Surgical) (?:Group|Associates|Partners)"
)
# Words that also name things other than a place of care ("Molecular Imaging", "Cancer Centre"):
# an institution only with a word the lexicon takes for a name ("Lakeshore Imaging").
_INST_WEAK = "College|Diagnostics?(?: Cent(?:er|re))?|Cent(?:er|re)|Imaging|Radiology"
_INST_FOREIGN = (
    r"H[oô]pital|Klinikum|Universitätsklinikum|Ospedale|Policlinico|Cl[ií]nica|Krankenhaus"
    r"|Centre Hospitalier|Hospital (?:Universitario|General|de|del|das|do)"
)
_PARTICLE = r"(?:of|de|del|della|der|di|da|das|do|du|la|le|the|St\.?|San|Santa|Saint) "
# Title case or capitals: "Cleveland Clinic", "SHREE SAI DIAGNOSTIC CENTRE"
_STRONG = f"{_INST_STRONG}|{_INST_STRONG.upper()}"
_WEAK = f"{_INST_WEAK}|{_INST_WEAK.upper()}"
_INSTITUTION = re.compile(
    rf"\b(?:(?:{_CAP} |{_PARTICLE}){{0,4}}?{_CAP} (?:(?P<strong>{_STRONG})|{_WEAK})\b"
    rf"(?: (?:(?P<strong2>{_STRONG})|{_WEAK})\b)*"
    rf"(?: of(?: the)? {_CAP}(?: {_CAP})?)?"
    rf"|(?P<foreign>{_INST_FOREIGN})(?: (?:{_PARTICLE})*{_CAP}){{1,3}})"
)
_HOSPITAL_NAMED = re.compile(rf"\bHospital ({_CAP})(?: {_CAP})?")
# Where the institution is: "Tata Memorial Centre, Parel", "(Cedar Rapids)", "CLINIC ABU DHABI"
_INST_TAIL = re.compile(
    r",? \(?([A-Z][a-z]+(?: [A-Z][a-z]+)?)\)?(?=[.,;)\n]|$)"
    r"|(?: ([A-Z]{2,}(?: [A-Z]{2,})?))(?= [-\u2013]|\n|$)"
)


def places(text: str, days: int) -> Iterator[Hit]:
    yield from sub(_ADDRESS, text, lambda m: "[ADDRESS]")
    yield from sub(_ADDRESS_LABEL, text, lambda m: "[ADDRESS]", group=1)
    yield from sub(_LOCAL_ADDRESS, text, lambda m: "[ADDRESS]")
    yield from sub(_PIN_ADDRESS, text, lambda m: "[ADDRESS]")
    yield from sub(_STREET, text, lambda m: "[ADDRESS]")
    yield from sub(_UNIT, text, lambda m: "[ADDRESS]")
    yield from sub(_LIVES_IN, text, lambda m: "[ADDRESS]", group=1)
    yield from sub(_PO_BOX, text, lambda m: "[ADDRESS]")
    yield from sub(_ZIP, text, lambda m: "[ADDRESS]")
    yield from sub(_CITY_STATE, text, _city, group=1)
    yield from _institutions(text)


def _city(m: re.Match[str]) -> str | None:
    stop = not_names() | words()["generic_places"]
    return None if any(w.lower() in stop for w in m.group(1).split()) else "[ADDRESS]"


def _institutions(text: str) -> Iterator[Hit]:
    yield from _named_institutions(text)
    for m in _HOSPITAL_NAMED.finditer(text):  # "Hospital Italiano", "Hospital Sírio-Libanês"
        if proper(m.group(1)):
            yield Hit(m.start(), m.end(), "[INSTITUTION]")


def _named_institutions(text: str) -> Iterator[Hit]:
    generic = words()["generic_places"] | not_names()
    for m in _INSTITUTION.finditer(text):
        tokens = [w.strip("'\u2019.") for w in m.group().split()]
        named = [w for w in tokens if len(w) > 2 and w.lower() not in generic]
        strong = m.group("strong") or m.group("strong2") or m.group("foreign")
        if not named or not (strong or any(proper(w) for w in named)):
            continue
        end = m.end()
        tail = _INST_TAIL.match(text, end)
        if tail:
            place = (tail.group(1) or tail.group(2)).lower().split()
            if not any(w in generic for w in place):
                end = tail.end()
        yield Hit(m.start(), end, "[INSTITUTION]")
