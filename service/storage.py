"""Durable, content-addressed file storage for received DICOM objects.

A file is written to a temporary name under ``.incoming/``, fsynced, renamed to its final name and
the folder fsynced: after :meth:`FileStore.put` returns, the bytes survive a crash. The name is
the SHA-256 of the content, so storing the same bytes twice keeps one file.

The SHA-256 is computed on a second thread while the bytes are written: hashlib and file writes
both release the GIL, so a 10 MB image costs max(hash, write) rather than their sum on the C-STORE
critical path (see bench/ingest/README.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from service.errors import NotFoundError, StorageError

Buffer = bytes | bytearray | memoryview

INCOMING: Final = ".incoming"
# A stored file no row references is deleted by the orphan sweep once nobody has stored or reused
# it for this long: far longer than any transaction that may be about to reference it.
ORPHAN_GRACE_SECONDS: Final = 600.0
_CLAIM: Final = ".sweep-"
_STORED_NAME: Final = re.compile(r"([0-9a-f]{64}\.dcm)(\.sweep-[0-9]+-[0-9a-f]{8})?")


class FileRemovedError(NotFoundError):
    """An image's stored file was deleted by ``radqc retention`` (``instances.file_removed_at``,
    :mod:`service.retention`): the item, its findings and Observations stay, but the film can
    no longer be shown or processed again."""

    def __init__(self, item_id: int, removed_at: dt.datetime) -> None:
        super().__init__(
            f"item {item_id}: its stored DICOM file was removed by retention on "
            f"{removed_at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC; its findings and "
            "Observations stay, but the film can no longer be shown or processed again"
        )
        self.item_id = item_id
        self.removed_at = removed_at


@dataclass(frozen=True, slots=True)
class StoredFile:
    relpath: str
    sha256: str
    size: int


def digest(parts: Sequence[Buffer]) -> tuple[str, int]:
    sha = hashlib.sha256()
    size = 0
    for part in parts:
        sha.update(part)
        size += len(part)
    return sha.hexdigest(), size


class _BackgroundDigest(threading.Thread):
    """:func:`digest` of ``parts`` on its own thread; read :attr:`result` after :meth:`join`."""

    def __init__(self, parts: Sequence[Buffer]) -> None:
        super().__init__(name="radqc-sha256", daemon=True)
        self._parts = parts
        self.result: tuple[str, int] | None = None

    def run(self) -> None:
        self.result = digest(self._parts)


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, relpath: str) -> Path:
        return self.root / relpath

    def put(self, parts: Sequence[Buffer], *, suffix: str = ".dcm") -> StoredFile:
        """Store the concatenation of ``parts`` durably; raise :class:`StorageError` on failure."""
        hashing = _BackgroundDigest(parts)
        hashing.start()
        try:
            tmp = self._write_incoming(parts)
        except OSError as exc:
            raise StorageError(f"cannot store a received file: {exc.strerror or exc}") from exc
        finally:
            hashing.join()
        assert hashing.result is not None
        sha, size = hashing.result
        relpath = f"{sha[:2]}/{sha[2:4]}/{sha}{suffix}"
        target = self.root / relpath
        try:
            if _reuse(target, size):
                tmp.unlink()
                return StoredFile(relpath, sha, size)
            _make_folders(target.parent)
            os.replace(tmp, target)
            _fsync_folder(target.parent)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise StorageError(f"cannot store {relpath}: {exc.strerror or exc}") from exc
        return StoredFile(relpath, sha, size)

    def sweep_incoming(self, older_than_seconds: float = 3600) -> int:
        """Delete temporary files a crashed writer left under ``.incoming/``; return how many.

        Only files older than ``older_than_seconds`` go: other processes sharing the store may be
        writing the younger ones right now.
        """
        folder = self.root / INCOMING
        if not folder.is_dir():
            return 0
        cutoff = time.time() - older_than_seconds
        removed = 0
        for path in folder.iterdir():
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:  # another process swept it first
                continue
        return removed

    def sweep_orphans(
        self,
        referenced: Callable[[str], Collection[str]],
        *,
        older_than_seconds: float = ORPHAN_GRACE_SECONDS,
        stop: threading.Event | None = None,
    ) -> int:
        """Delete stored files that no row references and that no writer has stored or reused for
        ``older_than_seconds``; return how many.

        Such a file is left when a store is killed, or its commit fails, after :meth:`put`.
        ``referenced(prefix)`` returns the stored relpaths starting with ``prefix`` (one hex digit)
        that a row references. Safe while other processes store and sweep: a file younger than the
        grace time may belong to a row being committed right now, and a file is claimed by a
        rename before it is deleted, then kept after all if a writer reused it meanwhile (``put``
        refreshes the time of a file it reuses).
        """
        cutoff = time.time() - older_than_seconds
        removed = 0
        for prefix in "0123456789abcdef":
            if stop is not None and stop.is_set():
                break
            old, claims = self._sweep_candidates(prefix, cutoff)
            if not old and not claims:
                continue
            keep = set(referenced(prefix))
            removed += sum(
                self._remove_unused(path, cutoff) for rel, path in old if rel not in keep
            )
            for rel, claim in claims:  # left by a sweep that stopped half-way
                removed += _settle_claim(claim, self.root / rel, cutoff, rel in keep)
        return removed

    def _sweep_candidates(
        self, prefix: str, cutoff: float
    ) -> tuple[list[tuple[str, Path]], list[tuple[str, Path]]]:
        """Content-addressed files under ``prefix``: those older than ``cutoff``, and claims."""
        old: list[tuple[str, Path]] = []
        claims: list[tuple[str, Path]] = []
        for folder in sorted(self.root.glob(f"{prefix}?/??/")):
            for entry in os.scandir(folder):
                match = _STORED_NAME.fullmatch(entry.name)
                if match is None or not entry.name.startswith(folder.parent.name + folder.name):
                    continue
                rel = f"{folder.parent.name}/{folder.name}/{match[1]}"
                if match[2]:
                    claims.append((rel, Path(entry.path)))
                    continue
                try:
                    if entry.stat().st_mtime < cutoff:
                        old.append((rel, Path(entry.path)))
                except FileNotFoundError:
                    continue
        return old, claims

    def _remove_unused(self, path: Path, cutoff: float) -> int:
        """Delete ``path`` unless a writer reused it since it was listed; 1 if deleted."""
        claim = path.with_name(f"{path.name}{_CLAIM}{os.getpid()}-{uuid.uuid4().hex[:8]}")
        try:
            os.rename(path, claim)  # from now on a writer that wants these bytes writes anew
        except FileNotFoundError:  # another sweeper took it
            return 0
        return _settle_claim(claim, path, cutoff, referenced=False)

    def _write_incoming(self, parts: Sequence[Buffer]) -> Path:
        """Write ``parts`` to a new fsynced file under ``.incoming/`` and return its path."""
        folder = self.root / INCOMING
        _make_folders(folder)
        fd, name = tempfile.mkstemp(dir=folder)
        tmp = Path(name)
        try:
            with os.fdopen(fd, "wb") as handle:
                for part in parts:
                    handle.write(part)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return tmp


def _reuse(target: Path, size: int) -> bool:
    """Whether ``target`` already holds the bytes being stored; if so its time is refreshed, so
    that an orphan sweep running now leaves it alone (see :meth:`FileStore.sweep_orphans`)."""
    try:
        if target.stat().st_size != size:
            return False
        os.utime(target)
    except OSError:  # gone (claimed by a sweep), or not ours to touch: store it anew
        return False
    return True


def _settle_claim(claim: Path, path: Path, cutoff: float, referenced: bool) -> int:
    """Delete a claimed file, or put it back when a row references it or a writer reused it
    after the sweep listed it; 1 if deleted."""
    try:
        if not referenced and claim.stat().st_mtime < cutoff:
            claim.unlink()
            return 1
        _restore(claim, path)
    except FileNotFoundError:  # another sweeper settled it
        pass
    return 0


def _restore(claim: Path, path: Path) -> None:
    try:
        os.link(claim, path)  # never over the file a writer may have stored anew meanwhile
    except FileExistsError:
        pass
    except OSError:  # no hard links on this file system: the same bytes, moved back
        os.replace(claim, path)
        return
    claim.unlink()


def _make_folders(folder: Path) -> None:
    """Create ``folder`` and the parents it lacks, each new one made durable in its parent (a new
    folder's name lives in its parent's entries, which must reach the disk before a file stored
    in it is acknowledged). A folder another writer is creating right now is synced here too."""
    if folder.is_dir():
        return
    _make_folders(folder.parent)
    try:
        folder.mkdir()
    except FileExistsError:
        if not folder.is_dir():
            raise
    _fsync_folder(folder.parent)


def _fsync_folder(folder: Path) -> None:
    """Make a rename into ``folder`` durable."""
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
