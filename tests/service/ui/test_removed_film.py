"""An image whose stored file retention removed: its film answers 410 Gone with a message, and
its audit page says the film was removed instead of showing a broken image."""

from __future__ import annotations

from pathlib import Path

import httpx

from service.config import Settings
from service.db import Database
from service.pipeline import NullPublisher
from service.taxonomy import Severity
from tests.service.api.conftest import ADMIN, make_app, make_components
from tests.service.api.support import ScriptedEngine, add_image, drain, remove_file
from tests.support.servers import serve_app


def test_a_removed_film_is_gone_and_the_page_says_so(
    settings: Settings, db: Database, shared_data: Path
) -> None:
    comps = make_components(settings, db)
    item_id = add_image(comps, shared_data, "1.2.840.84.1", "1.2.840.84", None)
    drain(
        comps, ScriptedEngine(script={item_id: [("cxr.exposure", Severity.MAJOR)]}), NullPublisher()
    )
    with (
        serve_app(make_app(comps)) as url,
        httpx.Client(base_url=url, cookies={"radqc_token": ADMIN}, timeout=10) as client,
    ):
        assert client.get(f"/ui/items/{item_id}/image.png").status_code == 200
        assert 'id="xray"' in client.get(f"/ui/items/{item_id}").text
        remove_file(comps, item_id)
        film = client.get(f"/ui/items/{item_id}/image.png")
        page = client.get(f"/ui/items/{item_id}")
    assert film.status_code == 410, film.text
    assert "removed by retention" in film.json()["message"]
    assert page.status_code == 200
    assert 'id="film-removed"' in page.text and "removed by retention" in page.text
    assert 'id="xray"' not in page.text  # no broken image
    assert "cxr.exposure" in page.text or "Exposure" in page.text  # the findings stay
