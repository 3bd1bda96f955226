"""Write-back as the settings describe it (issue 11): the client with its authentication, TLS,
refusal limit and reference mode, and the line the start-up log gives about it.

The composition root calls :func:`build_writeback_client` once per worker process.
"""

from __future__ import annotations

import logging

from fhir_adapter.writeback import WritebackClient
from fhir_adapter.writeback_auth import (
    describe_security,
    security_from_settings,
    without_credentials,
)
from service.config import Settings
from service.db import Database

log = logging.getLogger(__name__)


def writeback_state(settings: Settings) -> str:
    """One line for the start-up log: on or off, the target (no credentials), the auth."""
    if not settings.fhir_writeback_url:
        return "FHIR write-back off (RADQC_FHIR_WRITEBACK_URL is empty): Observations are kept here"
    return (
        f"FHIR write-back on: {without_credentials(settings.fhir_writeback_url)}, "
        f"{describe_security(settings)}, references by {settings.fhir_writeback_references}; "
        "an Observation version refused "
        f"{settings.fhir_writeback_max_refusals} times is not sent again unless retried"
    )


def build_writeback_client(db: Database, settings: Settings) -> WritebackClient | None:
    """The process's write-back client (None when write-back is off); logs the state."""
    log.info("%s", writeback_state(settings))
    if not settings.fhir_writeback_url:
        return None
    return WritebackClient(
        db,
        settings.fhir_writeback_url,
        settings.fhir_writeback_timeout,
        security=security_from_settings(settings),
        max_refusals=settings.fhir_writeback_max_refusals,
        references=settings.fhir_writeback_references,
        patient_id_system=settings.fhir_writeback_patient_id_system,
    )
