"""The long-lived objects of a radqc process, created once at start-up and handed in."""

from __future__ import annotations

from dataclasses import dataclass

from service.config import Settings
from service.db import Database
from service.ingest import QueueOptions
from service.pipeline import Pipeline
from service.storage import FileStore


@dataclass
class Components:
    settings: Settings
    db: Database
    files: FileStore
    pipeline: Pipeline

    @property
    def queue_options(self) -> QueueOptions:
        return QueueOptions(
            max_attempts=self.settings.job_max_attempts,
            study_stable_seconds=self.settings.study_stable_seconds,
        )
