"""The ingest benchmark (run.py) and its receivers."""
