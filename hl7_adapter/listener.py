"""radqc's MLLP listener: an asyncio server on its own thread, started and stopped by the
composition root like the Storage SCP (``start()`` returns once bound; ``stop()`` lets messages
in progress finish).

Each connection reads one frame, hands it to :class:`~hl7_adapter.receive.MessageReceiver` on a
worker thread (the database work blocks) and writes the ACK before reading the next: MLLP is one
message at a time per connection, so a sender's order is kept. A connection that breaks the
framing is closed; the listener and the other connections go on.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from typing import Final

from hl7_adapter.framing import FrameLimits, FrameTooLarge, FramingError, frame, read_frame
from hl7_adapter.receive import Acceptance, MessageReceiver, Reply
from service import metrics
from service.config import Settings
from service.db import Database
from service.errors import RadqcError
from service.ingest import QueueOptions

log = logging.getLogger(__name__)

_STORE_THREADS: Final = 8


class _TrackedProtocol(asyncio.StreamReaderProtocol):
    """asyncio's stream protocol, keeping the set of open transports so that ``stop()`` can
    close a connection accepted in the moment it stopped, before its handler ran."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        serve: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
        transports: set[asyncio.Transport],
    ) -> None:
        super().__init__(reader, serve)
        self._open = transports
        self._connection: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._connection = transport
        self._open.add(transport)
        super().connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._connection is not None:
            self._open.discard(self._connection)
        super().connection_lost(exc)


class MLLPListener:
    """Accepts HL7 v2 messages over MLLP on ``settings.hl7_host:hl7_port``."""

    def __init__(self, settings: Settings, db: Database, options: QueueOptions) -> None:
        if settings.hl7_port is None:
            raise RadqcError("RADQC_HL7_PORT is not set")
        self._address = (settings.hl7_host, settings.hl7_port)
        self._limits = FrameLimits(
            max_bytes=settings.hl7_max_message_bytes,
            receive_timeout=settings.hl7_receive_timeout_seconds,
            idle_timeout=settings.hl7_idle_timeout_seconds,
        )
        self._max_connections = settings.hl7_max_connections
        acceptance = Acceptance(tuple(settings.hl7_allowed_senders), settings.hl7_processing_id)
        self._receiver = MessageReceiver(db, options, acceptance)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._port: int | None = None
        self._busy: dict[asyncio.Task[None], bool] = {}  # connection -> inside a message
        self._numbers = itertools.count(1)
        self._stopping = False
        self._transports: set[asyncio.Transport] = set()

    # -- life cycle (called from the composition root's thread) ---------------------------------
    def start(self) -> None:
        """Bind and listen, then return. Port 0 binds an ephemeral port (see :attr:`port`)."""
        if self._loop is not None:
            raise RadqcError("the MLLP listener is already running")
        loop = asyncio.new_event_loop()
        self._executor = ThreadPoolExecutor(_STORE_THREADS, thread_name_prefix="hl7-store")
        try:
            loop.run_until_complete(self._bind(loop))
        except OSError as exc:
            loop.close()
            self._executor.shutdown()
            host, port = self._address
            raise RadqcError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="hl7-listener", daemon=True)
        self._thread.start()
        log.info("MLLP listener on %s:%d", self._address[0], self.port)

    async def _bind(self, loop: asyncio.AbstractEventLoop) -> None:
        limit = self._limits.max_bytes + 2

        def protocol() -> asyncio.StreamReaderProtocol:
            return _TrackedProtocol(
                asyncio.StreamReader(limit, loop), self._serve, self._transports
            )

        self._server = await loop.create_server(protocol, *self._address)
        self._port = int(self._server.sockets[0].getsockname()[1])

    @property
    def port(self) -> int:
        """The bound TCP port (the real one when ``hl7_port`` is 0)."""
        if self._port is None:
            raise RadqcError("the MLLP listener has not been started")
        return self._port

    @property
    def connections(self) -> int:
        """Connections being served now."""
        return len(self._busy)

    def stop(self, timeout: float = 30) -> None:
        """Stop accepting; close idle connections; let messages in progress finish for up to
        ``timeout`` seconds (then they are cut: no ACK, so their senders send them again)."""
        loop, self._loop = self._loop, None
        if loop is None:
            return
        done = asyncio.run_coroutine_threadsafe(self._shutdown(timeout), loop)
        with suppress(Exception):
            done.result(timeout + 5)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5)
        loop.close()
        if self._executor is not None:
            self._executor.shutdown(wait=True)
        log.info("MLLP listener stopped")

    async def _shutdown(self, timeout: float) -> None:
        self._stopping = True
        if self._server is not None:
            self._server.close()
        await asyncio.sleep(0.05)  # connections accepted just now reach _serve, which closes them
        for task, busy in list(self._busy.items()):
            if not busy:
                task.cancel()
        pending = set(self._busy)
        if pending:
            _, late = await asyncio.wait(pending, timeout=timeout)
            for task in late:
                task.cancel()
            if late:
                log.warning("cut %d HL7 connection(s) still busy after %.0f s", len(late), timeout)
                await asyncio.wait(late, timeout=5)
        # Accepted, but not yet served. (A connection accepted by the kernel in the instant the
        # server closes may stay open until the process ends: asyncio of Python 3.11 drops it
        # without closing it, asserting in Server._attach.)
        for transport in list(self._transports):
            transport.abort()
        await asyncio.sleep(0)

    # -- connections (on the listener's loop) ---------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        connection = f"connection {next(self._numbers)} from {peer[0] if peer else '?'}"
        task = asyncio.current_task()
        assert task is not None
        if self._stopping:
            writer.close()
            return
        if len(self._busy) >= self._max_connections:
            log.warning("HL7 %s refused: %d connections open", connection, len(self._busy))
            metrics.REJECTED.labels(source="hl7", reason="too_many_connections").inc()
            writer.close()
            return
        self._busy[task] = False
        log.debug("HL7 %s opened", connection)
        try:
            await self._converse(reader, writer, connection, task)
        except asyncio.CancelledError:
            log.info("HL7 %s closed by shutdown", connection)
        except (ConnectionError, TimeoutError) as exc:
            log.info("HL7 %s lost: %s", connection, type(exc).__name__)
        except Exception as exc:  # never let one connection end the listener
            # only the class: a message may quote the data that caused it
            log.error("HL7 %s failed: %s", connection, type(exc).__name__)
        finally:
            self._busy.pop(task, None)
            writer.close()
            with suppress(Exception):
                await writer.wait_closed()
            log.debug("HL7 %s closed", connection)

    async def _converse(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        connection: str,
        task: asyncio.Task[None],
    ) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self._busy[task] = False
            try:
                message = await read_frame(reader, self._limits)
            except FrameTooLarge as exc:
                refusal = self._receiver.too_large(exc.prefix, connection, exc.reason)
                if refusal is not None:
                    await self._answer(writer, refusal)
                return
            except FramingError as exc:
                log.warning("HL7 %s: %s; closing", connection, exc.reason)
                metrics.REJECTED.labels(source="hl7", reason="framing").inc()
                return
            if message is None:
                return
            self._busy[task] = True
            reply = await loop.run_in_executor(
                self._executor, self._receiver.receive, message, connection
            )
            await self._answer(writer, reply)
            if reply.close:
                return

    async def _answer(self, writer: asyncio.StreamWriter, reply: Reply) -> None:
        writer.write(frame(reply.ack))
        await asyncio.wait_for(writer.drain(), self._limits.receive_timeout)
