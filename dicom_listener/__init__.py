"""DICOM Storage SCP adapter: turns C-STORE requests into received objects."""
