"""The ACK that answers a message (HL7 v2 original acknowledgement mode).

``MSH`` turns the sender's header around (its MSH-3/4 become our MSH-5/6; MSH-11, MSH-12 and
MSH-18 are echoed), ``MSA`` carries the code, the control id of the message answered (MSA-2) and
the reason (MSA-3), and for ``AE``/``AR`` an ``ERR`` segment (v2.5 layout: ERR-2 location, ERR-3
the table 0357 code, ERR-4 severity, ERR-8 the reason) says what and where. Built from the
header fields as sent, so a message python-hl7 could not parse is answered too.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from hl7_adapter.errors import AckCode, ErrorCode
from hl7_adapter.message import DEFAULT_ENCODING_CHARACTERS

APPLICATION = "RADQC"


def escape(text: str, separator: str, encoding: str) -> str:
    """``text`` safe inside a field: separators escaped, line breaks as spaces."""
    component, repetition, esc, sub = (encoding[i] for i in range(4))
    out = text.replace(esc, f"{esc}E{esc}")
    for char, code in ((separator, "F"), (component, "S"), (repetition, "R"), (sub, "T")):
        out = out.replace(char, f"{esc}{code}{esc}")
    return " ".join(out.split())


def build_ack(
    code: AckCode,
    msh: Sequence[str] = (),
    *,
    reason: str = "",
    error: ErrorCode | None = None,
    location: str = "",
) -> str:
    """The ACK message (segments joined by CR, ending with one) for a message whose MSH fields,
    as sent, are ``msh`` (MSH-1 first); empty when the header could not be read."""
    separator, encoding = (msh[0], msh[1]) if len(msh) > 1 else ("|", DEFAULT_ENCODING_CHARACTERS)
    component = encoding[0]

    def field(number: int) -> str:
        return msh[number - 1] if number <= len(msh) else ""

    trigger = field(9).split(component)[1] if component in field(9) else ""
    now = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S+0000")
    header = [
        "MSH",
        encoding,
        field(5) or APPLICATION,
        field(6),
        field(3),
        field(4),
        now,
        "",
        component.join(("ACK", trigger, "ACK")) if trigger else "ACK",
        uuid.uuid4().hex[:20],
        field(11) or "P",
        field(12) or "2.5",
    ]
    if field(18):
        header += [""] * (17 - len(header)) + [field(18)]
    text = escape(reason, separator, encoding)
    segments = [separator.join(header), separator.join(["MSA", code.value, field(10), text])]
    if code is not AckCode.ACCEPT and error is not None:
        where = location.replace("^", component)
        what = component.join((*error.value.split("^"), "HL70357"))
        segments.append(separator.join(["ERR", "", where, what, "E", "", "", "", text]))
    return "\r".join(segments) + "\r"
