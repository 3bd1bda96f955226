"""Applying the Alembic migrations in ``migrations/`` (``radqc migrate`` and start-up)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from service.errors import ConfigurationError

_CANDIDATES = (Path(__file__).resolve().parents[1], Path.cwd())


def _root() -> Path:
    for root in _CANDIDATES:
        if (root / "migrations" / "env.py").is_file():
            return root
    raise ConfigurationError("cannot find the migrations/ folder next to the service package")


def alembic_config(url: str) -> Config:
    root = _root()
    config = Config(str(root / "alembic.ini"))
    config.set_main_option("script_location", str(root / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)
