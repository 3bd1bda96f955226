"""Durable, content-addressed file storage for received DICOM objects.

A file is written to a temporary name under ``.incoming/``, fsynced, renamed to its final name and
the folder fsynced: after :meth:`FileStore.put` returns, the bytes survive a crash. The name is
the SHA-256 of the content, so storing the same bytes twice keeps one file.

The SHA-256 is computed on a second thread while the bytes are written: hashlib and file writes
both release the GIL, so a 10 MB image costs max(hash, write) rather than their sum on the C-STORE
critical path (see bench/ingest/README.md).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from service.errors import StorageError

Buffer = bytes | bytearray | memoryview

INCOMING: Final = ".incoming"


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
            if target.exists() and target.stat().st_size == size:
                tmp.unlink()
                return StoredFile(relpath, sha, size)
            target.parent.mkdir(parents=True, exist_ok=True)
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

    def _write_incoming(self, parts: Sequence[Buffer]) -> Path:
        """Write ``parts`` to a new fsynced file under ``.incoming/`` and return its path."""
        folder = self.root / INCOMING
        folder.mkdir(parents=True, exist_ok=True)
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


def _fsync_folder(folder: Path) -> None:
    """Make a rename into ``folder`` durable."""
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
