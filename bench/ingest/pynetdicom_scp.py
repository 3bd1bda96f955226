"""The ceiling of the stack radqc's listener is built on: a bare pynetdicom Storage SCP.

Configured like radqc's listener (unlimited PDU size, every transfer syntax), its C-STORE handler
does what ``storescp +B`` does and nothing more: it writes the preamble, a File Meta group and the
dataset bytes as received to a file, without fsync, hashing or a database. Run by run.py as the
"pynetdicom +B" row, so that the table shows how much of the gap to storescp is pynetdicom's own.

Usage: ``python bench/ingest/pynetdicom_scp.py PORT OUT_DIR`` (stops on SIGTERM).
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Any

from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, evt
from pynetdicom.sop_class import (
    ComputedRadiographyImageStorage,
    DigitalXRayImageStorageForPresentation,
    Verification,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from service.dicom_receive.part10 import file_header


def main() -> int:
    port, out = int(sys.argv[1]), Path(sys.argv[2])
    counter = iter(range(1 << 62))

    def on_store(event: Any) -> int:
        header = file_header(  # radqc's own preamble and File Meta group
            str(event.context.abstract_syntax),
            str(event.request.AffectedSOPInstanceUID),
            str(event.context.transfer_syntax),
        )
        with (out / f"{next(counter)}.dcm").open("wb") as handle:
            handle.write(header)
            with event.request.DataSet.getbuffer() as data:
                for start in range(0, len(data), 1 << 20):
                    handle.write(data[start : start + (1 << 20)])
        return 0x0000

    ae = AE(ae_title="RADQC")
    ae.maximum_pdu_size = 0
    for sop_class in (ComputedRadiographyImageStorage, DigitalXRayImageStorageForPresentation):
        ae.add_supported_context(sop_class, ALL_TRANSFER_SYNTAXES)
    ae.add_supported_context(Verification)
    server = ae.start_server(
        ("127.0.0.1", port), block=False, evt_handlers=[(evt.EVT_C_STORE, on_store)]
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    assert server is not None
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
