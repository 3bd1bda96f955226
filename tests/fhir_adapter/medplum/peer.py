"""Talking to the Medplum test server (``server.cjs``): its FHIR API, read with Medplum's own
routes (read, history, search with ``_summary=count``), and its test controls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import httpx

References = Literal["accept", "refuse"]


@dataclass(frozen=True, slots=True)
class Exchange:
    """One FHIR request the server answered."""

    method: str
    path: str
    status: int
    sha256: str  # of the body sent

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300


class MedplumPeer:
    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.base_url = f"{origin}/fhir"
        self._http = httpx.Client(base_url=origin, timeout=30.0)

    def close(self) -> None:
        self._http.close()

    def reset(self, references: References) -> None:
        """Empty the repository and the request log; ``refuse``: refuse a write whose literal
        references name nothing stored here."""
        answer = self._http.post("/_test/reset", json={"references": references})
        answer.raise_for_status()

    def seed(self, resource: dict[str, Any]) -> None:
        """Store ``resource`` as it is (a Patient the hospital already has)."""
        self._http.post("/_test/seed", json=resource).raise_for_status()

    def exchanges(self) -> list[Exchange]:
        answer = self._http.get("/_test/requests")
        answer.raise_for_status()
        return [Exchange(r["method"], r["path"], r["status"], r["sha256"]) for r in answer.json()]

    def puts(self, observation_id: str | None = None) -> list[Exchange]:
        return [
            e
            for e in self.exchanges()
            if e.method == "PUT"
            and e.path.startswith("/fhir/Observation/")
            and (observation_id is None or e.path == f"/fhir/Observation/{observation_id}")
        ]

    # -- Medplum's FHIR API ------------------------------------------------------------------
    def read(self, observation_id: str) -> dict[str, Any] | None:
        answer = self._http.get(f"/fhir/Observation/{observation_id}")
        if answer.status_code == 404:
            return None
        answer.raise_for_status()
        body: dict[str, Any] = answer.json()
        return body

    def history(self, observation_id: str) -> list[dict[str, Any]]:
        """Every version the server stored of an Observation, oldest first."""
        answer = self._http.get(f"/fhir/Observation/{observation_id}/_history")
        if answer.status_code == 404:
            return []
        answer.raise_for_status()
        entries = answer.json().get("entry") or []
        return [entry["resource"] for entry in reversed(entries)]

    def count(self, **query: str) -> int:
        """How many Observations the server holds (Medplum's search, ``_summary=count``)."""
        answer = self._http.get("/fhir/Observation", params={**query, "_summary": "count"})
        answer.raise_for_status()
        return int(answer.json()["total"])
