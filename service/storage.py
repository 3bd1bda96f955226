"""Durable, content-addressed file storage for received DICOM objects.

A file is written to a temporary name in its final folder, fsynced, renamed into place and the
folder fsynced: after :meth:`FileStore.put` returns, the bytes survive a crash. The name is the
SHA-256 of the content, so storing the same bytes twice writes nothing new.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from service.errors import StorageError

Buffer = bytes | bytearray | memoryview


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


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, relpath: str) -> Path:
        return self.root / relpath

    def put(self, parts: Sequence[Buffer], *, suffix: str = ".dcm") -> StoredFile:
        """Store the concatenation of ``parts`` durably; raise :class:`StorageError` on failure."""
        sha, size = digest(parts)
        relpath = f"{sha[:2]}/{sha[2:4]}/{sha}{suffix}"
        target = self.root / relpath
        try:
            if target.exists() and target.stat().st_size == size:
                return StoredFile(relpath, sha, size)
            target.parent.mkdir(parents=True, exist_ok=True)
            self._write_atomic(target, parts)
        except OSError as exc:
            raise StorageError(f"cannot store {relpath}: {exc.strerror or exc}") from exc
        return StoredFile(relpath, sha, size)

    @staticmethod
    def _write_atomic(target: Path, parts: Sequence[Buffer]) -> None:
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                for part in parts:
                    handle.write(part)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, target)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
