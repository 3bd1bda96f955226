"""FileStore: content-addressed, durable, and nothing left behind when a step fails."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
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


# --- the orphan sweep: files a failed or killed store left without a row ------------------------

HOUR_AGO = 3600.0


def _backdate(path: Path, seconds: float = HOUR_AGO) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def _rows(*relpaths: str) -> Callable[[str], set[str]]:
    """A ``referenced`` callback over a fixed set of rows' paths."""
    return lambda prefix: {path for path in relpaths if path.startswith(prefix)}


def test_put_of_bytes_already_stored_refreshes_their_time(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    stored = store.put([b"stored before, reused now"])
    _backdate(store.path(stored.relpath))

    assert store.put([b"stored before, reused now"]) == stored

    assert time.time() - store.path(stored.relpath).stat().st_mtime < 60


def test_sweep_removes_only_old_files_that_no_row_references(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    orphan, kept, young = (store.put([content]) for content in (b"orphan", b"kept", b"young"))
    for stored in (orphan, kept):
        _backdate(store.path(stored.relpath))
    strangers = [tmp_path / "notes.txt", tmp_path / orphan.relpath[:6] / "other.dcm"]
    for path in strangers:
        path.write_bytes(b"not a content-addressed file")
        _backdate(path)
    asked: list[str] = []

    def referenced(prefix: str) -> set[str]:
        asked.append(prefix)
        return _rows(kept.relpath)(prefix)

    assert store.sweep_orphans(referenced, older_than_seconds=600) == 1

    assert not store.path(orphan.relpath).exists()
    assert store.path(kept.relpath).exists()
    assert store.path(young.relpath).exists()  # its row may be committing right now
    assert all(path.exists() for path in strangers)
    assert sorted(asked) == sorted({orphan.sha256[0], kept.sha256[0]})  # only where needed


def test_a_file_a_writer_reuses_while_the_sweep_runs_is_kept(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    stored = store.put([b"about to be stored again"])
    _backdate(store.path(stored.relpath))

    def referenced(prefix: str) -> set[str]:
        # Between the sweep's listing and its decision, a sender stores the same bytes again;
        # its row is not committed yet.
        store.put([b"about to be stored again"])
        return set()

    assert store.sweep_orphans(referenced, older_than_seconds=600) == 0
    assert store.path(stored.relpath).read_bytes() == b"about to be stored again"
    assert list(tmp_path.rglob("*.sweep-*")) == []


def test_a_writer_stores_anew_bytes_a_sweep_has_claimed(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    stored = store.put([b"claimed"])
    path = store.path(stored.relpath)
    _backdate(path)
    claim = path.with_name(path.name + ".sweep-1-0123abcd")
    path.rename(claim)  # what a sweep in another process does before it decides

    assert store.put([b"claimed"]) == stored
    assert path.read_bytes() == b"claimed"
    # The interrupted sweep's claim is settled later: dropped, the writer's file stays.
    assert store.sweep_orphans(_rows(stored.relpath), older_than_seconds=600) == 0
    assert path.read_bytes() == b"claimed"
    assert not claim.exists()


def test_a_claim_left_by_an_interrupted_sweep_is_put_back_when_a_row_references_it(
    tmp_path: Path,
) -> None:
    store = FileStore(tmp_path)
    stored = store.put([b"referenced after all"])
    path = store.path(stored.relpath)
    _backdate(path)
    path.rename(path.with_name(path.name + ".sweep-1-0123abcd"))

    assert store.sweep_orphans(_rows(stored.relpath), older_than_seconds=600) == 0
    assert path.read_bytes() == b"referenced after all"
    assert list(tmp_path.rglob("*.sweep-*")) == []


def test_a_stopped_sweep_deletes_nothing(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    stored = store.put([b"orphan"])
    _backdate(store.path(stored.relpath))
    stop = threading.Event()
    stop.set()

    assert store.sweep_orphans(_rows(), older_than_seconds=600, stop=stop) == 0
    assert store.path(stored.relpath).exists()


def test_sweeps_racing_writers_never_delete_a_file_whose_row_commits(tmp_path: Path) -> None:
    """Two sweeps and a writer that stores old orphans' bytes again, then commits their rows: every
    committed row keeps its file, and every orphan left alone goes."""
    store = FileStore(tmp_path)
    contents = [f"image {index}".encode() for index in range(300)]
    for content in contents:
        _backdate(store.path(store.put([content]).relpath))
    committed: set[str] = set()
    lock = threading.Lock()

    def referenced(prefix: str) -> set[str]:
        with lock:
            return {path for path in committed if path.startswith(prefix)}

    def writer() -> None:
        for content in contents[::2]:  # every other image is sent again
            relpath = store.put([content]).relpath
            with lock:
                committed.add(relpath)

    threads = [threading.Thread(target=writer)] + [
        threading.Thread(target=store.sweep_orphans, args=(referenced,)) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    store.sweep_orphans(referenced, older_than_seconds=0)  # what is left once all are idle

    assert all(store.path(relpath).exists() for relpath in committed)
    assert {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.dcm")} == committed
    assert list(tmp_path.rglob("*.sweep-*")) == []


def test_new_folders_reach_the_disk_in_their_parents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file in a folder put creates is durable only with the folder's own name synced in its
    parent: every folder created on the way is, and the file's folder after the rename."""
    from service import storage

    synced: list[Path] = []
    real = storage._fsync_folder

    def recording(folder: Path) -> None:
        synced.append(folder)
        real(folder)

    monkeypatch.setattr(storage, "_fsync_folder", recording)
    root = tmp_path / "new" / "store"
    stored = FileStore(root).put([b"first content"])

    first, second = stored.relpath.split("/")[:2]
    made = [tmp_path / "new", root, root / INCOMING, root / first, root / first / second]
    for folder in made:
        assert folder.parent in synced, f"{folder.name} created but its parent not synced"
    assert synced[-1] == root / first / second  # the rename into the file's folder, last
    synced.clear()
    FileStore(root).put([b"first content"])  # reused: nothing new, nothing renamed
    assert synced == []
