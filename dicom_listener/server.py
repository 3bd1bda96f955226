"""radqc's DICOM Storage SCP: one pynetdicom server, started and stopped by the composition root.

``StorageSCP(settings, db, files, options).start()`` returns at once; associations are served on
their own threads. ``stop()`` refuses new associations and lets those in progress finish.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any, Final

from pynetdicom import AE, evt
from pynetdicom.transport import ThreadedAssociationServer

from dicom_listener import handlers
from dicom_listener.contexts import add_supported_contexts
from dicom_listener.receiver import InstanceReceiver
from service.config import Settings
from service.db import Database
from service.errors import RadqcError
from service.ingest import QueueOptions
from service.storage import FileStore

logger = logging.getLogger(__name__)

_POLL_SECONDS: Final = 0.05


class SharedPortServer(ThreadedAssociationServer):
    """Binds with SO_REUSEPORT, so that several listener processes accept on one port and the
    kernel spreads new associations over them (``RADQC_DICOM_LISTENER_PROCESSES``)."""

    def server_bind(self) -> None:
        assert self.socket is not None
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        super().server_bind()


class StorageSCP:
    """Accepts C-ECHO and chest X-ray C-STOREs on ``settings.dicom_host:dicom_port``."""

    def __init__(
        self, settings: Settings, db: Database, files: FileStore, options: QueueOptions
    ) -> None:
        self._settings = settings
        self._files = files
        self._receiver = InstanceReceiver(db, files, options)
        self._ae = self._build_ae(settings)
        self._server: ThreadedAssociationServer | None = None
        self._port: int | None = None

    @staticmethod
    def _build_ae(settings: Settings) -> AE:
        ae = AE(ae_title=settings.dicom_ae_title)
        ae.maximum_pdu_size = 0  # unlimited: far fewer, larger P-DATA PDUs (see NOTES.md)
        ae.maximum_associations = settings.dicom_max_associations
        ae.require_calling_aet = list(settings.dicom_allowed_ae_titles)  # empty: any caller
        add_supported_contexts(ae)
        return ae

    def _handlers(self) -> list[tuple[Any, ...]]:
        return [
            (evt.EVT_C_STORE, handlers.handle_store, [self._receiver]),
            (evt.EVT_C_ECHO, handlers.handle_echo),
            (evt.EVT_ACCEPTED, handlers.log_accepted),
            (evt.EVT_REJECTED, handlers.log_rejected),
            (evt.EVT_RELEASED, handlers.log_released),
            (evt.EVT_ABORTED, handlers.log_aborted),
        ]

    def start(self) -> None:
        """Bind and listen, then return. Port 0 binds an ephemeral port (see :attr:`port`)."""
        if self._server is not None:
            raise RadqcError("the Storage SCP is already running")
        swept = self._files.sweep_incoming()
        if swept:
            logger.warning("removed %d partial file(s) left by an earlier crash", swept)
        address = (self._settings.dicom_host, self._settings.dicom_port)
        shared = self._settings.dicom_listener_processes > 1
        try:
            server = self._ae.make_server(
                address,
                ae_title=self._settings.dicom_ae_title,
                evt_handlers=self._handlers(),
                server_class=SharedPortServer if shared else ThreadedAssociationServer,
            )
        except OSError as exc:
            raise RadqcError(f"cannot listen on {address[0]}:{address[1]}: {exc.strerror}") from exc
        # What AE.start_server(block=False) does after make_server; the server's shutdown()
        # removes itself from that list again.
        self._ae._servers.append(server)
        threading.Thread(target=server.serve_forever, name="dicom-acceptor", daemon=True).start()
        self._server = server
        self._port = int(server.server_address[1])
        logger.info(
            "Storage SCP %s listening on %s:%d",
            self._settings.dicom_ae_title,
            self._settings.dicom_host,
            self.port,
        )

    @property
    def port(self) -> int:
        """The bound TCP port (the real one when ``dicom_port`` is 0)."""
        if self._port is None:
            raise RadqcError("the Storage SCP has not been started")
        return self._port

    def stop(self, timeout: float = 30) -> None:
        """Stop accepting; let associations in progress finish for up to ``timeout`` seconds."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()  # closes the listening socket; running associations carry on
        deadline = time.monotonic() + timeout
        while server.active_associations and time.monotonic() < deadline:
            time.sleep(_POLL_SECONDS)
        remaining = server.active_associations
        for assoc in remaining:
            assoc.abort()
        for assoc in remaining:
            assoc.join(timeout=5)
        if remaining:
            logger.warning(
                "aborted %d association(s) still open after %.0f s", len(remaining), timeout
            )
        logger.info("Storage SCP stopped")
