"""Canonical JSON and the content hash built on it: the same content always gives the same bytes
and the same hash, whatever the order of its keys. Received reports (idempotent storage) and
published Observations (a new version only when the content changed) are hashed with it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from typing import Any


def canonical_json(value: Any) -> bytes:
    """Sorted keys, compact separators, UTF-8 (no ``\\u`` escapes)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def content_hash(resource: Mapping[str, Any], *, without: Collection[str] = ()) -> str:
    """SHA-256 (hex) of the canonical JSON of ``resource`` without the top-level ``without``
    keys (e.g. ``meta``, which a server may change without changing the content)."""
    content = {key: value for key, value in resource.items() if key not in without}
    return hashlib.sha256(canonical_json(content)).hexdigest()
