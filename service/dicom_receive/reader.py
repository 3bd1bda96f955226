"""A read-only, seekable binary stream over a buffer, without copying it.

The received dataset arrives as a buffer (a C-STORE's ``BytesIO`` buffer, a slice of a spooled
HTTP body); pydicom's readers want a file. ``io.BytesIO(view)`` would copy a 10 MB image first.
"""

from __future__ import annotations

import io
from typing import BinaryIO, cast

from service.storage import Buffer


class BufferReader(io.RawIOBase):
    """Reads ``buffer``; :meth:`close` releases the view it holds."""

    def __init__(self, buffer: Buffer) -> None:
        super().__init__()
        self._view = memoryview(buffer).cast("B")
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, target: Buffer) -> int:  # type: ignore[override]
        out = memoryview(target).cast("B")
        count = max(0, min(len(out), len(self._view) - self._pos))
        out[:count] = self._view[self._pos : self._pos + count]
        self._pos += count
        return count

    def read(self, size: int | None = -1) -> bytes:
        total = len(self._view)
        end = total if size is None or size < 0 else min(total, self._pos + size)
        start = min(self._pos, end)
        self._pos = max(self._pos, end)
        return bytes(self._view[start:end])

    def readall(self) -> bytes:
        return self.read(-1)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._view)}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._pos = base + offset
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        if not self.closed:
            self._view.release()
        super().close()

    def as_binary(self) -> BinaryIO:
        """This stream typed as the ``BinaryIO`` pydicom's readers are annotated with."""
        return cast(BinaryIO, self)
