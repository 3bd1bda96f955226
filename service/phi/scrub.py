"""De-identification of report text before it leaves the process.

Two layers, in order: every identifier radqc already knows for the item (``known.redact``), then a
free-text filter for what nobody told us: HL7 v2 segments pasted into the text, e-mails, URLs, IP
addresses, labelled and long numbers, phones, street addresses and towns, institutions, dates
(shifted), ages (banded) and people's names. The filter finds spans on the text as it came and
replaces them in one pass, so one detector never reads another's placeholder.

Names are found by their cues (titles, labels, "discussed with", signatures, "..., MRN", ", 44M",
"attended", a relative, "pt"), and where the case or the position points at one, by a lexicon
(``_lexicon.proper``: not English, not clinical, or a Census first name or surname that English
rarely uses): "pt kwame asante", "HERNANDEZ, LUIS", "per Nkechi's request", "transferred from
Karolinska", two such words in a row. A name found once is found again everywhere in the text.

What the QC checks need stays: laterality, anatomy, measurements ("3.2 cm", "T10"), sex words,
relative dates ("2 days ago", "prior study"), eponyms ("Murphy sign", "Sister Mary Joseph
nodule") and ``XXXX`` tokens (redacted upstream). Dates are shifted by a stable per-patient offset
so intervals inside one patient's text survive; a birth date is removed. No model is used: none
ran offline with acceptable precision (see ``bench/deid/README.md``).

The detectors live in private modules: ``_hl7`` (HL7 v2 segments), ``_ids`` (e-mails, URLs,
identifiers, phones), ``_dates`` (dates and ages), ``_places`` (addresses, institutions),
``_names`` (people, by their cues), ``_proper`` (names and places by the lexicon), on ``_spans``
(the hits and how they are merged) and ``_lexicon`` (the word lists, ``data/README``).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from service.phi import _dates, _hl7, _ids, _names, _places, _proper
from service.phi._dates import age_band
from service.phi._spans import Detector, replace, resolve

if TYPE_CHECKING:
    from service.phi.known import KnownIdentifiers

__all__ = ["age_band", "date_shift_days", "deidentify"]


def date_shift_days(patient_key: str) -> int:
    """A stable shift of -365..-1 days for one patient (same key, same shift)."""
    digest = hashlib.sha256(patient_key.encode()).digest()
    return -(1 + int.from_bytes(digest[:4], "big") % 365)


def deidentify(text: str, patient_key: str, known: KnownIdentifiers | None = None) -> str:
    """``text`` without identifiers, its dates shifted and ages banded for ``patient_key``."""
    if known is not None:
        text = known.redact(text)
    days = date_shift_days(patient_key)
    hits = resolve([hit for detect in _DETECTORS for hit in detect(text, days)])
    pairs = list(_proper.name_pairs(text, days))  # after the others, and not looked for again
    return replace(text, resolve(hits + _proper.again(text, hits) + pairs))


# Earlier detectors win where hits overlap.
_DETECTORS: list[Detector] = [
    _hl7.hl7,
    _ids.contacts,
    _dates.dates,
    _ids.labelled_ids,
    _ids.phones,
    _places.places,
    _dates.ages,
    _names.names,
    _proper.proper_names,
    _ids.long_numbers,
]
