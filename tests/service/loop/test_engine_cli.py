"""The champion/challenger commands, run as the real ``radqc`` CLI in a subprocess against the
test database: engines, challenger, export + replay (with its progress bar), compare, promote."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sqlalchemy import select

from service.components import Components
from service.config import Settings
from service.loop.models import EngineConfig, EnginePromotion, ShadowResult
from tests.service.loop.support import audited_reports
from tests.service.loop.test_evaluation_runs import _cli


def test_replay_compare_and_promote_through_the_cli(
    comps: Components, settings: Settings, tmp_path: Path
) -> None:
    known = audited_reports(comps, 6, seed=5)
    listed = _cli(settings, "engines")
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"\d+\* live\s+1\s+champion", listed.stdout), listed.stdout

    added = _cli(settings, "challenger", "--name", "all-rules", "--parameters", '{"rules": {}}')
    assert added.returncode == 0, added.stderr
    config_id = int(re.search(r"engine configuration (\d+)", added.stdout).group(1))  # type: ignore[union-attr]

    out = tmp_path / "curated"
    assert _cli(settings, "export", "--out", str(out)).returncode == 0
    replayed = _cli(settings, "replay", "--config", str(config_id), "--curated", str(out))
    assert replayed.returncode == 0, replayed.stderr
    assert "6 ran, 0 failed" in replayed.stdout
    assert "6/6" in replayed.stderr  # the progress bar
    with comps.db.reader() as session:
        stored = session.scalars(
            select(ShadowResult.item_id).where(ShadowResult.config_id == config_id)
        ).all()
        champion = session.scalar(select(EngineConfig.id).where(EngineConfig.name == "live"))
    assert sorted(stored) == sorted(known.item_ids)

    # The live champion has not been replayed: replay it too, then compare on the same items.
    assert _cli(settings, "replay", "--config", str(champion)).returncode == 0
    compared = _cli(settings, "compare", "--challenger", str(config_id))
    assert compared.returncode == 0, compared.stderr
    assert "macro-F1 difference (challenger - champion)" in compared.stdout
    as_json = _cli(settings, "compare", "--challenger", str(config_id), "--json")
    assert json.loads(as_json.stdout)["n_items"] == 6

    promoted = _cli(
        settings, "promote", str(config_id), "--reason", "replayed better", "--user", "alice"
    )
    assert promoted.returncode == 0, promoted.stderr
    with comps.db.reader() as session:
        trail = session.scalars(select(EnginePromotion).order_by(EnginePromotion.id)).all()
        role = session.scalar(select(EngineConfig.role).where(EngineConfig.id == config_id))
    assert role == "champion"
    assert (trail[-1].promoted_by, trail[-1].from_config_id, trail[-1].reason) == (
        "cli:alice",
        champion,
        "replayed better",
    )
    refused = _cli(settings, "promote", str(config_id), "--reason", "again")
    assert refused.returncode == 1
