"""radqc's DICOM Storage SCP: one pynetdicom server, started and stopped by the composition root.

``StorageSCP(settings, db, files, options).start()`` returns at once; associations are served on
their own threads. ``stop()`` refuses new associations and lets those in progress finish.

Against senders that misbehave (issue 10): a connection becomes an association only once its whole
A-ASSOCIATE-RQ has arrived within the ACSE timeout (:mod:`dicom_listener.guard`); one address
holds at most ``dicom_max_associations_per_peer`` associations; the called AE title must be ours
unless ``dicom_require_called_ae_title`` is off; a read or write stuck for the network timeout ends
its association. At start, stored files that a crash or a failed commit left without a row are
swept in the background (:meth:`service.storage.FileStore.sweep_orphans`).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Final

from pynetdicom import AE, evt
from pynetdicom.transport import ThreadedAssociationServer

from dicom_listener import handlers
from dicom_listener.contexts import add_supported_contexts
from dicom_listener.guard import ConnectionLimits, GuardedAssociationServer
from service.config import Settings
from service.db import Database
from service.dicom_receive import DicomReceiver
from service.errors import RadqcError
from service.ingest import QueueOptions
from service.storage import FileStore

logger = logging.getLogger(__name__)

_POLL_SECONDS: Final = 0.05


class StorageSCP:
    """Accepts C-ECHO and chest X-ray C-STOREs on ``settings.dicom_host:dicom_port``."""

    def __init__(
        self, settings: Settings, db: Database, files: FileStore, options: QueueOptions
    ) -> None:
        self._settings = settings
        self._files = files
        self._receiver = DicomReceiver(db, files, options)
        self._ae = self._build_ae(settings)
        self._server: ThreadedAssociationServer | None = None
        self._port: int | None = None
        self._stopping = threading.Event()
        self._sweeper: threading.Thread | None = None

    @staticmethod
    def _build_ae(settings: Settings) -> AE:
        ae = AE(ae_title=settings.dicom_ae_title)
        ae.maximum_pdu_size = 0  # unlimited: far fewer, larger P-DATA PDUs (see NOTES.md)
        ae.maximum_associations = settings.dicom_max_associations
        ae.require_calling_aet = list(settings.dicom_allowed_ae_titles)  # empty: any caller
        ae.require_called_aet = settings.dicom_require_called_ae_title
        ae.acse_timeout = settings.dicom_acse_timeout_seconds
        ae.network_timeout = settings.dicom_network_timeout_seconds
        ae.dimse_timeout = settings.dicom_dimse_timeout_seconds
        add_supported_contexts(ae)
        return ae

    def _handlers(self) -> list[tuple[Any, ...]]:
        per_peer = self._settings.dicom_max_associations_per_peer
        return [
            (evt.EVT_C_STORE, handlers.handle_store, [self._receiver]),
            (evt.EVT_C_ECHO, handlers.handle_echo),
            (evt.EVT_REQUESTED, handlers.refuse_over_peer_limit, [per_peer]),
            (evt.EVT_ACCEPTED, handlers.log_accepted),
            (evt.EVT_REJECTED, handlers.log_rejected),
            (evt.EVT_RELEASED, handlers.log_released),
            (evt.EVT_ACSE_RECV, handlers.note_abort),
            (evt.EVT_ABORTED, handlers.log_aborted),
        ]

    def _limits(self) -> ConnectionLimits:
        return ConnectionLimits(
            acse_timeout=self._settings.dicom_acse_timeout_seconds,
            network_timeout=self._settings.dicom_network_timeout_seconds,
            per_peer=self._settings.dicom_max_associations_per_peer,
        )

    def start(self) -> None:
        """Bind and listen, then return. Port 0 binds an ephemeral port (see :attr:`port`)."""
        if self._server is not None:
            raise RadqcError("the Storage SCP is already running")
        swept = self._files.sweep_incoming()
        if swept:
            logger.warning("removed %d partial file(s) left by an earlier crash", swept)
        address = (self._settings.dicom_host, self._settings.dicom_port)
        try:
            server = self._ae.make_server(
                address,
                ae_title=self._settings.dicom_ae_title,
                evt_handlers=self._handlers(),
                server_class=GuardedAssociationServer,
                limits=self._limits(),
                reuse_port=self._settings.dicom_listener_processes > 1,
            )
        except OSError as exc:
            raise RadqcError(f"cannot listen on {address[0]}:{address[1]}: {exc.strerror}") from exc
        # What AE.start_server(block=False) does after make_server; the server's shutdown()
        # removes itself from that list again.
        self._ae._servers.append(server)
        threading.Thread(target=server.serve_forever, name="dicom-acceptor", daemon=True).start()
        self._server = server
        self._port = int(server.server_address[1])
        self._stopping.clear()
        self._sweeper = threading.Thread(
            target=self._sweep_orphans, name="orphan-sweep", daemon=True
        )
        self._sweeper.start()
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
        self._stopping.set()
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
        if self._sweeper is not None:
            self._sweeper.join(timeout=5)
        logger.info("Storage SCP stopped")

    def _sweep_orphans(self) -> None:
        """Remove stored files left without a row by an earlier crash or failed commit."""
        try:
            removed = self._files.sweep_orphans(
                self._receiver.referenced_paths, stop=self._stopping
            )
        except Exception as exc:  # the database may be down: the next start sweeps again
            # Only the class name: a database error's message may quote bound parameters.
            logger.warning("sweeping unreferenced stored files failed: %s", type(exc).__name__)
            return
        if removed:
            logger.warning(
                "removed %d stored file(s) no instance references (a store interrupted after "
                "its file was written)",
                removed,
            )
