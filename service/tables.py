"""Every table radqc stores, in one metadata: the core's (:mod:`service.models`), the closed
loop's (:mod:`service.loop.models`, beside the loop's code) and the PACS deliveries'
(:mod:`service.pacs.models`).

Why a module of its own: Alembic, the migration test and anything that needs the whole schema
import it; the two model modules then never import each other (no import cycle in the core).
"""

from __future__ import annotations

from service.loop import models as loop_models
from service.models import Base
from service.pacs import models as pacs_models

metadata = Base.metadata

__all__ = ["loop_models", "metadata", "pacs_models"]
