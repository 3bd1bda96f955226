"""FileStore: content-addressed, durable, and nothing left behind when a step fails."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from service.errors import StorageError
from service.storage import INCOMING, FileStore


def _leftovers(root: Path) -> list[Path]:
    incoming = root / INCOMING
    return sorted(incoming.iterdir()) if incoming.is_dir() else []


def test_put_stores_the_parts_under_their_sha256(tmp_path: Path) -> None:
    parts = [b"\x00" * 128 + b"DICM", memoryview(b"dataset bytes " * 10_000)]
    content = b"".join(bytes(part) for part in parts)
    sha = hashlib.sha256(content).hexdigest()

    stored = FileStore(tmp_path).put(parts)

    assert stored.sha256 == sha
    assert stored.size == len(content)
    assert stored.relpath == f"{sha[:2]}/{sha[2:4]}/{sha}.dcm"
    assert (tmp_path / stored.relpath).read_bytes() == content
    assert _leftovers(tmp_path) == []


def test_the_same_bytes_twice_keep_one_file(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    first = store.put([b"same content"])
    second = store.put([b"same", b" content"])

    assert first == second
    files = list(tmp_path.rglob("*.dcm"))
    assert files == [tmp_path / first.relpath]
    assert _leftovers(tmp_path) == []


def test_different_bytes_get_different_files(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    assert store.put([b"one"]).relpath != store.put([b"two"]).relpath
    assert len(list(tmp_path.rglob("*.dcm"))) == 2


def test_an_unwritable_store_raises_storage_error(tmp_path: Path) -> None:
    root = tmp_path / "not-a-folder"
    root.write_bytes(b"a file where the store's folder should be")

    with pytest.raises(StorageError, match="cannot store"):
        FileStore(root).put([b"content"])


def test_a_failed_rename_raises_storage_error_and_leaves_no_temporary_file(
    tmp_path: Path,
) -> None:
    content = b"content whose folder cannot be made"
    sha = hashlib.sha256(content).hexdigest()
    (tmp_path / sha[:2]).write_bytes(b"a file where the hash folder should be")

    with pytest.raises(StorageError, match=sha):
        FileStore(tmp_path).put([content])

    assert _leftovers(tmp_path) == []
    assert not list(tmp_path.rglob("*.dcm"))


def test_sweep_removes_only_old_temporary_files(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    incoming = tmp_path / INCOMING
    incoming.mkdir()
    old, young = incoming / "old-partial", incoming / "young-partial"
    old.write_bytes(b"left by a crash")
    young.write_bytes(b"being written by another process")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))

    assert store.sweep_incoming(older_than_seconds=3600) == 1
    assert _leftovers(tmp_path) == [young]
    assert FileStore(tmp_path / "empty").sweep_incoming() == 0
