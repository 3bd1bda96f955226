"""The store that cannot write, shared with the listener's tests."""

from tests.dicom_listener.conftest import blocked_store

__all__ = ["blocked_store"]
