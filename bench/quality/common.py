"""Paths and small helpers shared by the quality benchmarks (no import of ``service``).

- ``SHARED``: the project's shared data (``RADQC_SHARED_DIR``, else ``../shared`` beside the
  repository), as every bench and test finds it.
- ``CACHE``: where fetched third-party data lives, outside the repository
  (``RADQC_BENCH_DATA``, else ``~/.cache/radqc-bench``). Nothing under it is committed.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("RADQC_SHARED_DIR", REPO.parent / "shared"))
CACHE = Path(os.environ.get("RADQC_BENCH_DATA", Path.home() / ".cache" / "radqc-bench"))
HERE = Path(__file__).resolve().parent


def stable_fraction(key: str, seed: int) -> float:
    """A number in [0, 1) fixed by ``key`` and ``seed``: deterministic splits without state."""
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def in_split(key: str, seed: int, split: str, test_share: float = 0.5) -> bool:
    """Whether ``key`` belongs to ``split`` ("dev" or "test") for this ``seed``."""
    is_test = stable_fraction(key, seed) < test_share
    return is_test if split == "test" else not is_test
