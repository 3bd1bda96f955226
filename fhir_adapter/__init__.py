"""FHIR R4 adapter: DiagnosticReports in, Observations out."""
