"""Report-quality benchmark: one known error injected into real reports, or none.

Cases come from :mod:`bench.quality.report_injectors` (which imports nothing from ``service/``:
checked below) on two base sets, each split into dev and test by a seeded hash:

- ``shared``: the IU and MTSamples reports in shared/data/reports;
- ``unseen``: the even-numbered IU reports, which were never in shared/ (cache them first with
  ``python -m bench.quality.sources reports --snapshot DIR``; skipped when absent).

Every base of the split is a clean case; each kind of error gets ``--per-kind`` cases. The rules
engine of this tree runs in a subprocess (``engine_runner.py``), and so does the previous rules
version (``--previous auto``, exported with ``git archive``). Printed per base set: per code
recall (Wilson 95% CI), precision, F1 (bootstrap 95% CI), macro-F1; detection over error cases;
false flags on clean cases; recall per kind of error; the flag-nothing and flag-all baselines.

Usage: .venv/bin/python bench/quality/reports.py [--split test] [--per-kind 60] [--seed 3]
       [--bases shared,unseen] [--previous auto|none|REV]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # runnable as a script as well as with -m

from bench.quality import report_injectors  # noqa: E402

# The injectors must not see the engine: nothing of service/ may be loaded by importing them.
_LEAKED = sorted(m for m in sys.modules if m == "service" or m.startswith("service."))
assert not _LEAKED, f"the report injectors import service modules: {_LEAKED}"

from bench.quality.report_errors import REPORT_CODES, Case, load_bases  # noqa: E402
from bench.quality.run import export_tree, previous_rules_commit, run_engine  # noqa: E402
from bench.quality.scoring import (  # noqa: E402
    Scored,
    baseline_lines,
    code_table,
    false_flag_codes,
    kind_table,
    rate_lines,
)

RULES_DIR = REPO / "service/engines/rules"


def _payload(case: Case) -> dict[str, str | None]:
    r = case.report
    return {
        "id": case.case_id,
        "text": r.text,
        "patient_sex": r.patient_sex,
        "exam_code": r.exam_code,
        "exam_display": r.exam_display,
    }


def _scored(cases: list[Case], found: dict[str, frozenset[str]]) -> list[Scored]:
    codes = set(REPORT_CODES)
    return [
        Scored(c.case_id, c.codes, c.kind, found.get(c.case_id, frozenset()) & codes) for c in cases
    ]


def _detector_text() -> str:
    """The detectors' code and their own word list, lower case, for the audits. The general
    English word list they also ship is left out: every real word is in it."""
    parts = [p.read_text() for p in RULES_DIR.rglob("*.py")]
    parts += [p.read_text() for p in (RULES_DIR / "data").glob("*.txt")]
    return "\n".join(parts).lower()


def audits(cases: list[Case], detector_text: str) -> list[str]:
    """How close the cases' words come to the detectors' (content overlap, not shared lists)."""
    lines = []
    detector_words = set(re.findall(r"[a-z]+", detector_text))
    medical = set(re.findall(r"[a-z]+", (RULES_DIR / "data/medical_words.txt").read_text()))
    for code in ("report.typo", "report.terminology"):
        tokens = [c.inserted for c in cases if code in c.codes and c.inserted]
        hits = sum(
            t.lower() in detector_words if t.isalpha() else t.lower() in detector_text
            for t in tokens
        )
        lines.append(
            f"{code}: {hits}/{len(tokens)} inserted wrong tokens also occur literally in the "
            f"detectors' code or medical_words.txt (same content, found independently)"
        )
    base_words: set[str] = set()
    for case in cases:
        if not case.codes:
            base_words |= set(re.findall(r"[a-z]{4,}", case.report.text.lower()))
    in_medical = len(base_words & medical)
    lines.append(
        f"base vocabulary: {in_medical}/{len(base_words)} distinct words of the clean bases are "
        f"in medical_words.txt ({in_medical / max(1, len(base_words)):.1%})"
    )
    return lines


def report_run(label: str, cases: list[Case], found: dict[str, frozenset[str]], seed: int) -> None:
    scored = _scored(cases, found)
    table, _ = code_table(scored, REPORT_CODES, seed=seed)
    print(f"\n--- {label}")
    print("\n".join(table))
    print("\n".join(rate_lines(scored, REPORT_CODES)))
    print(f"codes fired on clean cases: {false_flag_codes(scored, REPORT_CODES)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="test", choices=("dev", "test"))
    parser.add_argument("--per-kind", type=int, default=60)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--bases", default="shared,unseen")
    parser.add_argument("--previous", default="auto", help="auto, none, or a git revision")
    parser.add_argument(
        "--min-confidence",
        type=float,
        default=0.0,
        help="count only findings at or above this confidence (RADQC_FLAG_MIN_CONFIDENCE)",
    )
    args = parser.parse_args()
    print("independence: importing the injectors loaded no service module (asserted)")
    previous = None
    if args.previous != "none":
        commit = previous_rules_commit() if args.previous == "auto" else args.previous
        previous = (commit, export_tree(commit))
    detector_text = _detector_text()
    for which in args.bases.split(","):
        bases = load_bases(which, args.split, args.seed)
        if not bases:
            print(f"\n=== {which}: no bases (not cached?), skipped")
            continue
        cases = report_injectors.build_cases(bases, args.per_kind, args.seed, which)
        n_err = sum(bool(c.codes) for c in cases)
        print(
            f"\n=== base set {which!r}, split {args.split!r}, seed {args.seed}: {len(bases)} bases,"
            f" {len(cases)} cases ({n_err} with one error, {len(cases) - n_err} clean)"
        )
        print("\n".join(audits(cases, detector_text)))
        payload = [_payload(c) for c in cases]
        started = time.perf_counter()
        found, errors, version = run_engine(
            REPO, "report", payload, min_confidence=args.min_confidence
        )
        print(
            f"ran {version} (this tree) in {time.perf_counter() - started:.1f} s; "
            f"{len(errors)} cases raised"
        )
        report_run(f"{version} (this tree)", cases, found, args.seed)
        print("\nrecall per kind of error (true code found; 'any' = any finding):")
        print("\n".join(kind_table(_scored(cases, found))))
        print("\nbaselines on the same cases:")
        print("\n".join(baseline_lines(_scored(cases, found), REPORT_CODES)))
        if previous is not None:
            prev_found, prev_errors, prev_version = run_engine(
                previous[1], "report", payload, min_confidence=args.min_confidence
            )
            report_run(
                f"previous rules {prev_version} (commit {previous[0][:10]}; "
                f"{len(prev_errors)} cases raised)",
                cases,
                prev_found,
                args.seed,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
