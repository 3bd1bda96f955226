"""Report rules speed: reports per second on one core, all report checks, real reports.

Runs :class:`service.engines.rules.RulesEngine` over the Indiana University reports and the
MTSamples reports (each as a RIS sends it, with stored sections) in one process, after one warm-up
pass (the word list loads once), and prints reports/s per collection and the time each check takes.

Usage: ``.venv/bin/python -m bench.rules_speed.reports [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import time
from pathlib import Path

from service.engines.base import ReportInput
from service.engines.rules import REPORT_CHECKS, RulesEngine, typo
from service.engines.rules._report import report_view
from service.reports.sections import sections_dict
from tests.service.engines.support import iu_text

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("RADQC_SHARED_DIR", REPO.parent / "shared"))


def collections() -> dict[str, list[ReportInput]]:
    def item(i: int, text: str, display: str) -> ReportInput:
        return ReportInput(i, f"r{i}", 1, text, sections_dict(text), "male", None, display)

    with (SHARED / "data/reports/iu_openi_cxr_reports.csv").open(newline="") as handle:
        iu = [item(i, iu_text(r), "XR CHEST 2 VIEWS") for i, r in enumerate(csv.DictReader(handle))]
    with (SHARED / "data/reports/mtsamples_radiology.csv").open(newline="") as handle:
        mt = [
            item(i, r["transcription"], r["sample_name"])
            for i, r in enumerate(csv.DictReader(handle))
        ]
    return {"IU chest X-ray": iu, "MTSamples": mt}


def per_check(reports: list[ReportInput]) -> list[float]:
    """Microseconds per report each check takes, timed inside one pass over the reports with the
    checks in the engine's order: the checks share derived data of a report (sentences, concept
    mentions, the lowered text: ``_report.per_view``), which only the first check to ask for it
    computes, as in the engine. Timing one check over all the reports, then the next, would
    charge every check the whole shared cost."""
    typo.clear_word_cache()
    spent = [0] * len(REPORT_CHECKS)
    for report in reports:
        view = report_view(report)
        for i, check in enumerate(REPORT_CHECKS):
            started = time.process_time_ns()
            check(view)
            spent[i] += time.process_time_ns() - started
    return [ns / 1e3 / len(reports) for ns in spent]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    engine = RulesEngine()
    data = collections()
    for reports in data.values():
        for report in reports[:50]:
            engine.review(report)  # warm-up: word list, regex caches
    print(f"{'collection':16} {'reports':>7} {'mean chars':>10} {'reports/s (median)':>19}")
    for name, reports in data.items():
        rates = []
        for _ in range(args.repeats):
            # every pass starts with a cold word cache, so a repeated pass over the same
            # reports does not count the words it has already looked up
            typo.clear_word_cache()
            started = time.process_time()
            for report in reports:
                engine.review(report)
            rates.append(len(reports) / (time.process_time() - started))
        chars = statistics.mean(len(r.text) for r in reports)
        print(f"{name:16} {len(reports):7} {chars:10.0f} {statistics.median(rates):19.0f}")
    print("\nper check, microseconds per report (CPU):")
    print(f"  {'check':36} " + " ".join(f"{name:>16}" for name in data))
    spent = [per_check(reports) for reports in data.values()]
    for i, check in enumerate(REPORT_CHECKS):
        row = " ".join(f"{times[i]:16.1f}" for times in spent)
        print(f"  {getattr(check, '__name__', repr(check)):36} {row}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
