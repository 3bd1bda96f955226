"""HL7 v2 segments pasted into report text ("PID|1||7731902^^^RBH^MR||OKAFOR^CHIDINMA..."): the
fields that identify someone, by their place in the segment (HL7 v2.x field definitions)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from service.phi._spans import Hit

# Per segment, the fields that identify someone, by placeholder: name, id, date, address, phone,
# institution ("O"), anything ("R"). Other fields (codes, the exam, OBX-5's result text) stay for
# the other detectors to read.
_SPEC = {
    "MSH": "O 4 6; D 7; I 10",
    "EVN": "D 2 3 6; N 5; O 7",
    "PID": "I 2 3 4 18 19 20 21; N 5 6 9; D 7 29 33; A 11 12 23; P 13 14; R 26",
    "PD1": "O 3; N 4",
    "NK1": "N 2 30; A 4 32; P 5 6 31; I 12 33; O 13; D 16",
    "PV1": "O 3 6 39; N 7 8 9 17 52; I 19 50; D 44 45",
    "PV2": "D 8 9; N 13",
    "ORC": "I 2 3 4; D 9 15; N 10 11 12 19; O 13 17 21; A 22 24; P 23",
    "OBR": "I 2 3 18 19 20 21; D 6 7 8 14 22 27 36; N 10 16 28 32 33 34 35; P 17",
    "OBX": "D 14 19; O 15 23; N 16 25; A 24",
    "TXA": "D 4 6 7 8; N 5 9 10 11 22 23; I 12 13 14 16",
    "MRG": "I 1 2 3 4 5 6; N 7",
    "DG1": "D 5 19; N 16",
    "IN1": "R " + " ".join(map(str, range(2, 50))),
    "IN2": "R " + " ".join(map(str, range(1, 70))),
    "GT1": "R " + " ".join(map(str, range(2, 56))),
}
_PLACEHOLDERS = {
    "N": "[NAME]",
    "I": "[ID]",
    "D": "[DATE]",
    "A": "[ADDRESS]",
    "P": "[PHONE]",
    "O": "[INSTITUTION]",
    "R": "[REDACTED]",
}
_FIELDS: dict[str, dict[int, str]] = {
    segment: {
        int(number): _PLACEHOLDERS[part.split()[0]]
        for part in spec.split(";")
        for number in part.split()[1:]
    }
    for segment, spec in _SPEC.items()
}
_SEGMENT = re.compile(
    rf"(?:^|(?<=[\r\n ]))({'|'.join(_FIELDS)})\|([^\r\n]*?)(?=[\r\n]|$| [A-Z][A-Z0-9]{{2}}\|)"
)


def hl7(text: str, days: int) -> Iterator[Hit]:
    if "|" not in text:
        return
    for m in _SEGMENT.finditer(text):
        fields = _FIELDS[m.group(1)]
        # MSH-1 is the separator itself: MSH-2 is the first field after it.
        number = 2 if m.group(1) == "MSH" else 1
        pos = m.start(2)
        for value in m.group(2).split("|"):
            kind = fields.get(number)
            if kind and value.strip("^~& "):
                yield Hit(pos, pos + len(value), kind)
            pos += len(value) + 1
            number += 1
