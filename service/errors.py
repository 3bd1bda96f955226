"""radqc's one exception hierarchy; third-party errors are translated into it at the edges."""

from __future__ import annotations


class RadqcError(Exception):
    """Base of every error radqc raises on purpose."""


class ConfigurationError(RadqcError):
    """A setting is missing or invalid; raised at start-up, listing every problem."""


class StorageError(RadqcError):
    """A file could not be written durably (disk full, permissions, I/O error)."""


class InvalidInputError(RadqcError):
    """Received data is malformed or does not meet the contract. ``location`` names the element."""

    def __init__(self, message: str, *, location: str | None = None) -> None:
        super().__init__(message)
        self.location = location


class NotFoundError(RadqcError):
    """The requested object does not exist."""


class EngineError(RadqcError):
    """A QC engine could not produce a result for an item."""


class DeliveryError(RadqcError):
    """A write-back to the hospital FHIR server did not succeed; it is retried later."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
