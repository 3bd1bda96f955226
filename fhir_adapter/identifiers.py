"""FHIR Identifiers as radqc reads them from what the RIS sent: an Identifier cut to what a
reference needs, its v2-0203 type code, and the patient's identifier of a DiagnosticReport (its
subject's own identifier, else the contained Patient's ``MR`` identifier, else one with a
system, else its first).

Both the Observations radqc stores (:mod:`fhir_adapter.observations`) and the view written back
to the hospital (:mod:`fhir_adapter.references`) name the patient this way."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def clean(identifier: object) -> dict[str, Any] | None:
    """An Identifier cut to what a reference needs (type, system, value); None without a value."""
    if not isinstance(identifier, dict) or not isinstance(identifier.get("value"), str):
        return None
    return {k: identifier[k] for k in ("type", "system", "value") if identifier.get(k)}


def type_code(identifier: Mapping[str, Any]) -> str | None:
    """The first coding's code of the identifier's type (``MR``, ``ACSN``...)."""
    kind = identifier.get("type")
    codings = kind.get("coding") if isinstance(kind, dict) else None
    for coding in codings if isinstance(codings, list) else ():
        if isinstance(coding, dict) and isinstance(coding.get("code"), str):
            return str(coding["code"])
    return None


def report_patient(resource: Mapping[str, Any]) -> dict[str, Any] | None:
    """The patient's identifier of a DiagnosticReport: ``subject.identifier``, else the ``MR``
    identifier (else the first) of the contained Patient that ``subject.reference`` points to."""
    subject = resource.get("subject")
    if not isinstance(subject, dict):
        return None
    own = clean(subject.get("identifier"))
    if own is not None:
        return own
    reference = subject.get("reference")
    if not isinstance(reference, str) or not reference.startswith("#"):
        return None
    for contained in resource.get("contained") or ():
        if not isinstance(contained, dict) or contained.get("id") != reference[1:]:
            continue
        if contained.get("resourceType") != "Patient":
            return None
        identifiers = [i for i in contained.get("identifier") or () if clean(i) is not None]
        mrn = [i for i in identifiers if type_code(i) == "MR"]
        qualified = [i for i in identifiers if i.get("system")]
        return clean((mrn or qualified or identifiers or [None])[0])
    return None
