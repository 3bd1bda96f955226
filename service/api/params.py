"""The one definition of a row id in the HTTP layer, for path, query and body alike.

Every primary key in radqc's schema is an SQL ``INTEGER``: 32 bits on PostgreSQL, whatever
SQLite would hold. An id outside ``1..2**31-1`` names no row, and sent to the database it fails
the statement (PostgreSQL: integer out of range; SQLite: Python int too large) instead of
answering "not found". :data:`RowId` refuses it with 422 before any query runs; its bounds are
in the OpenAPI schema, so clients and fuzzers see them.
"""

from __future__ import annotations

from typing import Annotated

from annotated_types import Interval

MAX_ROW_ID = 2**31 - 1  # PostgreSQL integer; see service/models.py and service/loop/models.py

RowId = Annotated[int, Interval(ge=1, le=MAX_ROW_ID)]
"""A primary key: ``item_id: RowId`` in a path, ``item_id: RowId | None = None`` in a query,
``finding_id: RowId`` in a body model."""
