"""What radqc already knows identifies an item's patient and study, and finding it in text.

Why: a free-text filter guesses; these are certainties. Every identifier radqc holds for an item,
from every source, is collected here: the DICOM headers of its images (PatientName in every
component order and with initials, PatientID, OtherPatientIDs, AccessionNumber, the study's UIDs,
the referring, performing and reading physicians and operators, InstitutionName and address, the
patient's birth date, address and phones) and the FHIR DiagnosticReport as it was received (the
subject's display and identifier, a contained Patient's name, identifiers, telecom, address and
birth date, contained Practitioners, performer and resultsInterpreter displays, the report's own
identifiers). The same matcher serves the scrubber (:mod:`service.phi.scrub`, which replaces
what it finds) and the egress guard (:mod:`service.phi.guard`, which refuses a request that still
contains any of it), so the two can never disagree about what a known identifier looks like.

Matching is case- and accent-insensitive and tolerant of order and punctuation: a name matches in
any order of its components, each component alone ("Mr Quillfeather's"), and as dotted initials
("Z.Q."); an identifier matches with or without its separators ("MRN-0042-77", "004277"); a
birth date in the usual numeric and month-name forms. A name component that is also a word the
QC checks need ("left", "heart", "white") is matched only as part of the whole name, so a patient
called White does not erase "white matter" (documented trade-off: the rest of the name still goes).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

KINDS = ("name", "id", "date", "contact", "address", "institution")

_SEP = r"[\W_]+"  # one or more separators between words
_GAP = r"[\W_]*"  # optional separators inside an identifier
_MIN_ID_CHARS = 4  # shorter ids ("1", "r1") would match everywhere
_MIN_NAME_CHARS = 2
_STREET_TYPES = tuple(
    tuple(forms.split("/"))
    for forms in (
        "street/st/str",
        "road/rd",
        "avenue/ave/av",
        "lane/ln",
        "drive/dr",
        "boulevard/blvd",
        "court/ct",
        "place/pl",
        "square/sq",
        "terrace/terr",
        "crescent/cres",
        "highway/hwy",
        "parkway/pkwy",
    )
)
_MONTHS = """
    january february march april may june july august september october november december
""".split()  # noqa: SIM905

# Words the checks need: a name component equal to one of these is only matched as part of the
# whole name (see the module docstring).
_CLINICAL_WORDS = frozenset(
    """
    left right bilateral heart lung lungs chest rib ribs bone bones spine neck head hand
    foot white black grey gray brown green rose may june april august mark will see clear
    normal male female man woman boy girl mr mrs ms dr prof patient study exam view film
    chest line tube wire clip port apex base hilum hila mass nodule effusion edema lobe
    lower upper middle small large mild moderate severe stable new old acute chronic no not
    with without and the of for to in on at by from is are was were be as or an a pa ap lat
    frontal lateral portable
    """.split()  # noqa: SIM905
)


@dataclass(frozen=True, slots=True)
class Span:
    """A known identifier found in text: its kind and where (character offsets)."""

    kind: str
    start: int
    end: int


def fold(text: str) -> str:
    """Lower case without accents, one character for one character (offsets stay valid)."""
    out = []
    for char in text:
        base = unicodedata.normalize("NFKD", char)[:1] or char
        low = base.lower()
        out.append(low if len(low) == 1 else base)
    return "".join(out)


def _words(value: str) -> list[str]:
    return [w for w in re.split(r"[\s,^]+", fold(value).strip()) if w]


def _word_pattern(word: str) -> str:
    """One word, separators inside it optional ("o'neil" matches "ONeil" and "O Neil")."""
    parts = [re.escape(p) for p in re.split(r"[\W_]+", word) if p]
    return _GAP.join(parts)


def _bounded(pattern: str) -> str:
    return rf"(?<![^\W_]){pattern}(?![^\W_])"


def _letters(word: str) -> int:
    return sum(c.isalpha() for c in word)


class KnownIdentifiers:
    """The identifiers known for one item, by kind; combine with ``|``."""

    def __init__(self, patterns: Mapping[str, Iterable[str]] | None = None) -> None:
        self._patterns: dict[str, frozenset[str]] = {
            kind: frozenset(p for p in (patterns or {}).get(kind, ()) if p) for kind in KINDS
        }
        self._regex: re.Pattern[str] | None = None

    def __or__(self, other: KnownIdentifiers) -> KnownIdentifiers:
        return KnownIdentifiers({k: self._patterns[k] | other._patterns[k] for k in KINDS})

    def __len__(self) -> int:
        return sum(len(p) for p in self._patterns.values())

    def kinds(self) -> set[str]:
        return {kind for kind, patterns in self._patterns.items() if patterns}

    def _compiled(self) -> re.Pattern[str] | None:
        if self._regex is None and len(self):
            groups = []
            for kind in KINDS:
                alternatives = sorted(self._patterns[kind], key=len, reverse=True)
                if alternatives:
                    groups.append(f"(?P<{kind}>{'|'.join(_bounded(a) for a in alternatives)})")
            self._regex = re.compile("|".join(groups))
        return self._regex

    def find(self, text: str) -> list[Span]:
        """Every known identifier in ``text``, left to right, longest first where they overlap."""
        regex = self._compiled()
        if regex is None or not text:
            return []
        return [
            Span(m.lastgroup or "id", m.start(), m.end())
            for m in regex.finditer(fold(text))
            if m.end() > m.start()
        ]

    def redact(self, text: str) -> str:
        """``text`` with every known identifier replaced by ``[KIND]`` (``[NAME]``, ``[ID]``...)."""
        out: list[str] = []
        last = 0
        for span in self.find(text):
            out.append(text[last : span.start])
            out.append(f"[{span.kind.upper()}]")
            last = span.end
        out.append(text[last:])
        return "".join(out)


class _Builder:
    """Collects identifier values as patterns, by kind."""

    def __init__(self) -> None:
        self.patterns: dict[str, set[str]] = {kind: set() for kind in KINDS}

    def build(self) -> KnownIdentifiers:
        return KnownIdentifiers(self.patterns)

    def person(self, components: Iterable[str | None]) -> None:
        """A person's name from its components (family, given, middle...; any may hold several
        words). Every order of the words, each word alone unless it is a clinical word, and the
        dotted initials of the given and family names."""
        words = [w for c in components if c for w in _words(c) if _letters(w) >= 1]
        words = [w.strip(".") for w in words if w.strip(".")]
        if not words:
            return
        parts = [_word_pattern(w) for w in words[:5]]
        for order in itertools.permutations(parts[:4]):
            self.patterns["name"].add(_SEP.join(order))
        for word, part in zip(words, parts, strict=False):
            if _letters(word) >= _MIN_NAME_CHARS and word not in _CLINICAL_WORDS:
                self.patterns["name"].add(part)
        initials = [re.escape(w[0]) for w in words if w[0].isalpha()]
        if len(initials) >= 2:
            for letters in (initials, initials[::-1]):
                self.patterns["name"].add(r"\.\s*".join(letters) + r"\.")

    def dicom_person(self, value: object) -> None:
        """A DICOM PN value: ``Family^Given^Middle^Prefix^Suffix`` (alphabetic group only)."""
        text = str(value or "").split("=")[0]
        if text.strip():
            self.person(text.split("^")[:3])

    def identifier(self, value: object, kind: str = "id") -> None:
        text = fold(str(value or "")).strip()
        chars = re.sub(r"[\W_]+", "", text)
        if len(chars) >= _MIN_ID_CHARS:
            self.patterns[kind].add(_GAP.join(re.escape(c) for c in chars))

    def phone(self, value: object) -> None:
        digits = re.sub(r"\D", "", str(value or ""))
        if len(digits) >= 7:
            self.patterns["contact"].add(_GAP.join(digits))
            self.patterns["contact"].add(_GAP.join(digits[-7:]))  # the local number alone

    def email(self, value: object) -> None:
        text = fold(str(value or "")).strip()
        if "@" in text:
            self.patterns["contact"].add(re.escape(text))
            self.identifier(text.split("@")[0], "contact")

    def phrase(self, value: object, kind: str) -> None:
        """An address line, a city or an institution: its words in order, any separators; a
        street type in its usual abbreviations too ("Baker Street", "Baker St.")."""
        words = [w for w in re.split(r"[\W_]+", fold(str(value or ""))) if w]
        if not words or sum(len(w) for w in words) < _MIN_ID_CHARS:
            return
        parts = [re.escape(w) for w in words]
        for i, word in enumerate(words):
            forms = next((f for f in _STREET_TYPES if word in f), None)
            if forms and i > 0:
                parts[i] = "(?:" + "|".join(forms) + ")"
        self.patterns[kind].add(_SEP.join(parts))

    def birth_date(self, value: object) -> None:
        """A DICOM DA (``YYYYMMDD``) or FHIR date (``YYYY-MM-DD``) in the usual written forms."""
        digits = re.sub(r"\D", "", str(value or ""))
        if len(digits) != 8:
            return
        year, month, day = digits[:4], int(digits[4:6]), int(digits[6:])
        if not (1 <= month <= 12 and 1 <= day <= 31):
            return
        m, d = rf"0?{month}", rf"0?{day}"
        name = _MONTHS[month - 1]
        forms = [
            _SEP.join((year, m, d)),
            _SEP.join((m, d, year)),
            _SEP.join((d, m, year)),
            digits,
            _SEP.join((f"{name[:3]}[a-z]*", d, year)),
            _SEP.join((d, f"{name[:3]}[a-z]*", year)),
        ]
        self.patterns["date"].update(forms)


_DICOM_PEOPLE = (
    "PatientName",
    "ReferringPhysicianName",
    "PerformingPhysicianName",
    "NameOfPhysiciansReadingStudy",
    "OperatorsName",
    "PhysiciansOfRecord",
    "RequestingPhysician",
    "OtherPatientNames",
    "PatientMotherBirthName",
)
_DICOM_IDS = (
    "PatientID",
    "AccessionNumber",
    "StudyID",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "SOPInstanceUID",
    "IssuerOfPatientID",
)


def _values(ds: Dataset, keyword: str) -> list[object]:
    value = ds.get(keyword)
    if value is None or value == "":
        return []
    if isinstance(value, MultiValue | list | tuple):
        return list(value)
    return [value]


def from_dicom(ds: Dataset) -> KnownIdentifiers:
    """The identifiers in a DICOM header (pixels are not read)."""
    b = _Builder()
    for keyword in _DICOM_PEOPLE:
        for value in _values(ds, keyword):
            b.dicom_person(value)
    for keyword in _DICOM_IDS:
        for value in _values(ds, keyword):
            b.identifier(value)
    for value in _values(ds, "OtherPatientIDs"):
        b.identifier(value)
    for other in ds.get("OtherPatientIDsSequence", None) or ():
        b.identifier(other.get("PatientID"))
    b.birth_date(ds.get("PatientBirthDate"))
    b.phrase(ds.get("PatientAddress"), "address")
    for value in _values(ds, "PatientTelephoneNumbers"):
        b.phone(value)
    b.phrase(ds.get("InstitutionName"), "institution")
    b.phrase(ds.get("InstitutionAddress"), "address")
    return b.build()


def from_ids(*values: str | None) -> KnownIdentifiers:
    """Identifiers given as plain values (an accession, a report id)."""
    b = _Builder()
    for value in values:
        b.identifier(value)
    return b.build()


def from_fhir(resource: Mapping[str, Any]) -> KnownIdentifiers:
    """The identifiers in a FHIR resource as received: a DiagnosticReport with its contained
    resources (Patient, Practitioner, ImagingStudy...), or a Patient or Practitioner itself."""
    b = _Builder()
    for key, node in _walk("", resource):
        _fhir_node(b, key, node)
    return b.build()


# Elements whose Reference.display names a person (or, for an Organization, an institution).
_PERSON_REFERENCES = frozenset(
    """
    subject patient performer resultsInterpreter requester author practitioner
    generalPractitioner attester interpreter referrer
    """.split()  # noqa: SIM905
)


def _walk(key: str, value: object) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every object in the tree with the key it stands under (list items keep the list's)."""
    if isinstance(value, Mapping):
        yield key, value
        for child_key, child in value.items():
            yield from _walk(str(child_key), child)
    elif isinstance(value, list):
        for child in value:
            yield from _walk(key, child)


def _fhir_node(b: _Builder, key: str, node: Mapping[str, Any]) -> None:
    """One element of the resource tree: the identifying shapes FHIR gives people and places."""
    kind = node.get("resourceType")
    if kind in ("Patient", "Practitioner", "RelatedPerson", "Person"):
        for name in node.get("name") or ():
            if isinstance(name, Mapping):
                _fhir_name(b, name)
        b.birth_date(node.get("birthDate"))
    elif kind == "Organization":
        b.phrase(node.get("name"), "institution")
    if "value" in node and node.get("system") in _TELECOM_SYSTEMS:
        _telecom(b, node)
    elif key == "identifier" and "value" in node:
        b.identifier(node.get("value"))
    elif key in _PERSON_REFERENCES:
        _reference(b, node)
    if key == "address" and isinstance(node, Mapping):
        for line in node.get("line") or ():
            b.phrase(line, "address")
        b.phrase(node.get("city"), "address")
        b.identifier(node.get("postalCode"), "address")
        b.phrase(node.get("text"), "address")


def _reference(b: _Builder, node: Mapping[str, Any]) -> None:
    """A Reference to a person: its display is a name, and the id it points to may be an MRN
    (``Patient/MRN-0042``); an Organization's display is an institution."""
    reference = node.get("reference")
    display = node.get("display")
    organisation = isinstance(reference, str) and reference.startswith("Organization/")
    if isinstance(display, str):
        if organisation:
            b.phrase(display, "institution")
        else:
            b.person([display])
    if isinstance(reference, str) and "/" in reference and not reference.startswith("#"):
        b.identifier(reference.rsplit("/", 1)[-1])
    identifier = node.get("identifier")
    if isinstance(identifier, Mapping):
        b.identifier(identifier.get("value"))


def _fhir_name(b: _Builder, name: Mapping[str, Any]) -> None:
    given = name.get("given") or []
    b.person([name.get("family"), *(g for g in given if isinstance(g, str))])
    if isinstance(name.get("text"), str):
        b.person([name["text"]])


_TELECOM_SYSTEMS = frozenset({"phone", "fax", "email", "pager", "sms", "url", "other"})


def _telecom(b: _Builder, node: Mapping[str, Any]) -> None:
    if node.get("system") == "email":
        b.email(node.get("value"))
    else:
        b.phone(node.get("value"))
