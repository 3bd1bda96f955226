"""Running an engine version on benchmark cases (in subprocesses) and finding the previous one.

The previous rules version is the commit before the newest commit that changed
``RULES_VERSION``; its ``service/`` is exported with ``git archive`` into a temporary folder
(read-only for the repository: no worktree, no checkout) and run by ``engine_runner.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.quality.common import HERE, REPO

RUNNER = HERE / "engine_runner.py"


def run_engine(
    root: Path,
    kind: str,
    cases: list[dict[str, Any]],
    workers: int = 1,
    min_confidence: float = 0.0,
) -> tuple[dict[str, frozenset[str]], dict[str, str], str]:
    """Codes found per case id, errors per case id, and the engine version, for tree ``root``.

    With ``min_confidence`` only findings at or above it count: what the dashboard flags under
    ``RADQC_FLAG_MIN_CONFIDENCE`` (findings below are stored but do not flag the item)."""
    chunks = [cases[i::workers] for i in range(workers)]
    found: dict[str, frozenset[str]] = {}
    errors: dict[str, str] = {}
    version = "?"
    with tempfile.TemporaryDirectory(prefix="radqc-bench-") as tmp:
        procs = []
        for i, chunk in enumerate(chunks):
            src, out = Path(tmp) / f"in{i}.jsonl", Path(tmp) / f"out{i}.jsonl"
            src.write_text("".join(json.dumps(c) + "\n" for c in chunk))
            cmd = [
                sys.executable,
                str(RUNNER),
                "--root",
                str(root),
                "--kind",
                kind,
                str(src),
                str(out),
            ]
            procs.append((subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True), out))
        for proc, out in procs:
            stdout, _ = proc.communicate()
            if proc.returncode != 0:
                raise SystemExit(f"engine runner failed for {root} ({proc.returncode})")
            version = json.loads(stdout.strip().splitlines()[-1])["version"]
            for line in out.read_text().splitlines():
                row = json.loads(line)
                codes = row["codes"]  # older runners wrote a list, newer a code -> confidence map
                if isinstance(codes, dict):
                    codes = [c for c, conf in codes.items() if conf >= min_confidence]
                found[row["id"]] = frozenset(codes)
                if row["error"]:
                    errors[row["id"]] = row["error"]
    return found, errors, version


def previous_rules_commit() -> str:
    """The commit before the newest one that changed the RULES_VERSION line."""
    changed = subprocess.run(
        [
            "git",
            "-C",
            str(REPO),
            "log",
            "-G",
            "^RULES_VERSION = ",
            "--format=%H",
            "-1",
            "--",
            "service/engines/rules",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", f"{changed}^"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def export_tree(commit: str) -> Path:
    """``service/`` of ``commit`` in a temporary folder (cached by commit id: a revision such
    as HEAD is resolved first, so a moving name never reuses another commit's export)."""
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--verify", f"{commit}^{{commit}}"],
        capture_output=True,
        check=True,
        text=True,
    ).stdout.strip()
    target = Path(tempfile.gettempdir()) / f"radqc-prev-{commit[:12]}"
    if not (target / "service").is_dir():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", "--format=tar", commit, "service"],
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target
