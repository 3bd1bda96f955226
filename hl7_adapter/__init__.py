"""HL7 v2 reports over MLLP (issue 12 part 3; DESIGN §3).

The RIS that speaks no FHIR sends ORU^R01 (or MDM^T02) messages over MLLP; each report becomes
the core's :class:`service.ingest.ReceivedReport`, stored with its QC job in one transaction
before the ``AA`` acknowledgement goes back. The adapter only speaks the wire:

- :mod:`hl7_adapter.framing`: MLLP frames off a socket (start block, end block, size and time
  limits, garbage), never trusting the peer;
- :mod:`hl7_adapter.message`: the MSH header (encoding characters, character set) and the
  parse with python-hl7;
- :mod:`hl7_adapter.reports`: ORU/MDM segments mapped to the received report
  (:mod:`hl7_adapter.report_text` joins the OBX text);
- :mod:`hl7_adapter.receive`: one message in, one ACK out (AA after commit, AE, AR);
- :mod:`hl7_adapter.ack`: the ACK message;
- :mod:`hl7_adapter.listener`: the asyncio MLLP server, started and stopped like the Storage SCP.
"""

from hl7_adapter.listener import MLLPListener

__all__ = ["MLLPListener"]
