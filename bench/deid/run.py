"""De-identification benchmark: the regex baseline against ``service.phi.scrub``, in one run.

For each filter prints identifier recall over the PHI canaries (overall and per identifier kind),
the clinical words of the real reports that did not come out unchanged (all words, and the
laterality / anatomy / measurement tokens alone), and speed in reports per second. See README.md.

Usage: ``.venv/bin/python bench/deid/run.py [--misses 10]``.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # runnable as a script as well as with -m

from bench.deid import regex_baseline as baseline  # noqa: E402
from bench.deid.heldout_canaries import CASES as HELDOUT  # noqa: E402
from bench.deid.measure import (  # noqa: E402
    KINDS,
    SHARED,
    Damage,
    Recall,
    canary_recall,
    report_damage,
    report_texts,
)
from service.phi import scrub  # noqa: E402
from service.phi.guard import identifiers_in  # noqa: E402
from tests.support.phi_canaries import (  # noqa: E402
    Canary,
    KnownPatient,
    canaries,
    known_identifiers,
)


def _baseline(case: Canary) -> str:
    return baseline.deidentify(case.text, case.case_id)


def _scrub(case: Canary) -> str:
    return scrub.deidentify(case.text, case.case_id)


def _scrub_known(case: Canary) -> str:
    return scrub.deidentify(case.text, case.case_id, known_identifiers(case))


# For the reports (already de-identified at the source) the known identifiers are a made-up
# patient's: nothing to find, but the cost of looking is in the speed.
_SOMEONE = known_identifiers(
    Canary(
        "k",
        "name",
        "",
        (),
        (),
        KnownPatient("Marlowe^Ottoline^Q", "MRN-0042-7731", "ACC-2024-77123", "19470316"),
    )
)

FILTERS: list[tuple[str, Callable[[Canary], str], Callable[[str], str]]] = [
    ("regex baseline", _baseline, lambda t: baseline.deidentify(t, "k")),
    ("scrub", _scrub, lambda t: scrub.deidentify(t, "k")),
    ("scrub + known ids", _scrub_known, lambda t: scrub.deidentify(t, "k", _SOMEONE)),
]


# The held-out canaries in two halves: ``dev`` (even positions) may be looked at when improving the
# filter, ``test`` (odd positions) never is: only its figures are printed, never its leaks.
HELDOUT_DEV = HELDOUT[0::2]
HELDOUT_TEST = HELDOUT[1::2]


def _heldout(
    cases: list[dict[str, Any]], on_text: Callable[[str], str]
) -> tuple[float, float, float, list[str]]:
    """On held-out canaries (written by someone who never saw the filter): the share of PHI
    strings gone (verbatim), the share gone word by word (every word of 3+ characters of the
    string absent from the output), the share of clinical strings kept, and the leaks."""
    gone = whole = kept = 0
    leaks: list[str] = []
    phi_total = sum(len(c["phi"]) for c in cases)
    clinical_total = sum(len(c["clinical"]) for c in cases)
    for case in cases:
        out = on_text(case["text"])
        words_out = set(re.findall(r"\w+", out.lower()))
        for phi in case["phi"]:
            gone += phi not in out
            tokens = [t for t in re.findall(r"\w+", phi.lower()) if len(t) >= 3]
            if not any(t in words_out for t in tokens):
                whole += 1
            else:
                leaks.append(f"{phi!r} in {out[:100]!r}")
        kept += sum(c in out for c in case["clinical"])
    return gone / phi_total, whole / phi_total, kept / clinical_total, leaks


def _row(name: str, recall: Recall, damage: Damage, rate: float) -> str:
    kinds = " ".join(f"{recall.rate(k) * 100:5.1f}" for k in KINDS)
    return (
        f"{name:<18} {recall.rate() * 100:6.2f} {kinds} {damage.rate * 100:6.3f} "
        f"{damage.strict_rate * 100:6.3f} {rate:8.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", type=int, default=10, help="misses to list per filter")
    args = parser.parse_args()

    every = canaries()
    free = [c for c in every if not c.needs_known and not c.stretch]
    texts = report_texts(SHARED / "data" / "reports")
    print(
        f"canaries: {len(every)} ({len(free)} free-text, "
        f"{sum(c.needs_known for c in every)} need known ids, "
        f"{sum(c.stretch for c in every)} stretch); reports: {len(texts)}"
    )
    header = " ".join(f"{k[:5]:>5}" for k in KINDS)
    print(
        "\nrecall % over the free-text canaries; words % = report words changed; strict % = "
        "laterality/anatomy/measurement tokens changed"
    )
    print(f"{'filter':<18} {'recall':>6} {header} {'words%':>6} {'strict':>6} {'reports/s':>9}")
    details = []
    for name, on_case, on_text in FILTERS:
        recall = canary_recall(free, on_case)
        start = time.perf_counter()
        damage = report_damage(texts, on_text)
        rate = len(texts) / (time.perf_counter() - start)
        print(_row(name, recall, damage, rate))
        details.append((name, on_case, recall, damage))

    print("\nother sets (recall %):")
    for name, on_case, _, _ in details:
        known = canary_recall([c for c in every if c.known is not None], on_case)
        needs = canary_recall([c for c in every if c.needs_known], on_case)
        stretch = canary_recall([c for c in every if c.stretch], on_case)
        print(
            f"  {name:<18} cases with known ids {known.rate() * 100:6.2f}   "
            f"needing them {needs.rate() * 100:6.2f}   stretch {stretch.rate() * 100:6.2f}"
        )

    guarded = [c for c in every if c.known is not None]
    refused = sum(
        bool(identifiers_in([{"role": "user", "content": c.text}], known_identifiers(c)))
        for c in guarded
    )
    print(
        f"\negress guard: unscrubbed texts of the {len(guarded)} canaries with known identifiers "
        f"refused {refused}/{len(guarded)} (target: all)"
    )

    print(
        "\nheld-out canaries (bench/deid/heldout_canaries.py, written without seeing the filter; "
        "dev = even cases, test = odd cases, never looked at):"
    )
    print(f"  {'filter':<18} {'half':<5} {'cases':>5} {'ids':>4} {'gone %':>7} {'word %':>7} "
          f"{'clinical kept %':>16}")  # fmt: skip
    leaks_of: dict[str, list[str]] = {}
    for name, _, on_text in FILTERS:
        for half, cases in (("dev", HELDOUT_DEV), ("test", HELDOUT_TEST)):
            gone, whole, kept, leaks = _heldout(cases, on_text)
            if half == "dev":
                leaks_of[name] = leaks
            ids = sum(len(c["phi"]) for c in cases)
            print(
                f"  {name:<18} {half:<5} {len(cases):5d} {ids:4d} {gone * 100:7.2f} "
                f"{whole * 100:7.2f} {kept * 100:16.2f}"
            )

    for name, _, recall, damage in details:
        print(
            f"\n{name}: {recall.cases_damaged} canaries with clinical text changed; "
            f"most changed report words {damage.removed_words.most_common(8)}"
        )
        for case_id, ident, out in recall.misses[: args.misses]:
            print(f"  missed {ident!r} ({case_id}): {out[:110]!r}")
        for leak in leaks_of[name][: args.misses]:
            print(f"  held-out (dev) leak {leak}")


if __name__ == "__main__":
    main()
