"""Tables of the closed loop (audits, evaluation runs, samples, engine configurations).

They share :class:`service.models.Base`; ``service.models`` imports this module so that the
metadata Alembic compares against always includes them.
"""

from __future__ import annotations
