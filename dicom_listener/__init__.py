"""DICOM Storage SCP adapter: turns C-STORE requests into received objects."""

from dicom_listener.server import StorageSCP

__all__ = ["StorageSCP"]
