"""Real-looking HL7 v2 messages for the tests: fields placed by number, report text from the
Open-i reports in the shared data, patient data from the log canaries."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field

SEPARATOR = "|"
ENCODING = "^~\\&"
STUDY_UID = "1.2.840.113619.2.55.3.604688119.971.1607980000.111"
MRN = "MRN-0042-7731"  # a log canary
ACCESSION = "ACC-2024-77123"  # a log canary
FAMILY, GIVEN = "QUILLFEATHER", "Zyxwvut"  # log canaries
PHONE = "555-0142"  # a log canary


def segment(name: str, fields: Mapping[int, str]) -> str:
    """A segment with ``fields`` at their numbers (MSH counts MSH-1 as the separator)."""
    if name == "MSH":
        values = {1: SEPARATOR, 2: ENCODING, **fields}
        last = max(values)
        parts = [values.get(n, "") for n in range(2, last + 1)]
        return "MSH" + SEPARATOR + SEPARATOR.join(parts)
    last = max(fields) if fields else 0
    return SEPARATOR.join([name, *(fields.get(n, "") for n in range(1, last + 1))])


def escape(text: str) -> str:
    out = text.replace("\\", "\\E\\").replace("|", "\\F\\").replace("^", "\\S\\")
    return out.replace("~", "\\R\\").replace("&", "\\T\\")


@dataclass
class Oru:
    """An ORU^R01 of one radiology report; change the fields, then :meth:`text`."""

    lines: list[str]
    control_id: str = "MSG00001"
    sender: tuple[str, str] = ("RIS", "GENHOSP")
    message_type: str = "ORU^R01^ORU_R01"
    processing_id: str = "P"
    version: str = "2.5.1"
    charset: str = ""
    status: str = "F"
    accession: str = ACCESSION
    exam: str = "36643-5^XR Chest 2 Views^LN"
    sex: str = "F"
    study_uid: str | None = STUDY_UID
    value_type: str = "TX"
    observation_id: str = "18782-3^Radiology Study observation (findings)^LN"
    extra_msh: dict[int, str] = field(default_factory=dict)
    drop: frozenset[str] = frozenset()
    obx: list[str] | None = None  # OBX segments instead of the text lines

    def msh(self) -> str:
        fields = {
            3: self.sender[0],
            4: self.sender[1],
            5: "RADQC",
            6: "QC",
            7: "20261205101500+0100",
            9: self.message_type,
            10: self.control_id,
            11: self.processing_id,
            12: self.version,
            **({18: self.charset} if self.charset else {}),
            **self.extra_msh,
        }
        return segment("MSH", fields)

    def segments(self) -> list[str]:
        out = {
            "MSH": [self.msh()],
            "PID": [
                segment(
                    "PID",
                    {
                        1: "1",
                        3: f"{MRN}^^^GENHOSP&1.2.3.4&ISO^MR",
                        5: f"{FAMILY}^{GIVEN}",
                        7: "19500102",
                        8: self.sex,
                        13: PHONE,
                    },
                )
            ],
            "ORC": [segment("ORC", {1: "RE", 3: f"{self.accession}^RIS"})],
            "OBR": [
                segment(
                    "OBR",
                    {
                        1: "1",
                        3: f"{self.accession}^RIS",
                        4: self.exam,
                        7: "20261205093000+0100",
                        22: "20261205100000+0100",
                        25: self.status,
                    },
                )
            ],
            "OBX": self.obx
            if self.obx is not None
            else [
                segment(
                    "OBX",
                    {
                        1: str(n),
                        2: self.value_type,
                        3: self.observation_id,
                        5: escape(line),
                        11: "F",
                    },
                )
                for n, line in enumerate(self.lines, 1)
            ],
            "ZDS": [segment("ZDS", {1: f"{self.study_uid}^RADQC^Application^DICOM"})]
            if self.study_uid
            else [],
        }
        return [s for name, group in out.items() if name not in self.drop for s in group]

    def text(self) -> str:
        return "\r".join(self.segments()) + "\r"

    def encoded(self, encoding: str = "utf-8") -> bytes:
        return self.text().encode(encoding)


def ed_obx(data: bytes, subtype: str = "PDF", kind: str = "AP") -> str:
    content = base64.b64encode(data).decode("ascii")
    return segment(
        "OBX",
        {
            1: "1",
            2: "ED",
            3: "18748-4^Diagnostic imaging study^LN",
            5: f"RIS^{kind}^{subtype}^Base64^{content}",
            11: "F",
        },
    )
