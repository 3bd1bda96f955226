"""Image-quality benchmark: real adult frontal chest films, clean or with one known fault.

Films: the manifest films in the cache (``films.py``; none shares pixels with a film in
shared/data/cxr, checked and printed before anything runs). Every film is one clean case; each
kind of fault in :mod:`bench.quality.film_faults` gets ``--per-kind`` cases on films taken in
turn from a seeded shuffle. Half of all cases are re-encoded losslessly (JPEG-LS, JPEG 2000,
RLE). Each case is its own patient and study. The rules engine of this tree runs on the files in
a subprocess (``engine_runner.py``: header read without pixels, the file decoded by the engine,
plus the study checks), and so does the previous rules version with ``--previous auto``.

Printed: per code (the seven the faults cover) recall with Wilson 95% CI, precision, F1 with a
bootstrap CI, macro-F1; detection over faulty cases; clean films flagged (any code of the eleven);
codes that fired with no fault of theirs; recall per kind of fault; flag-nothing and flag-all.

The films are split into dev and test by a seeded hash of the film id: thresholds are tuned on
``--split dev`` only, and the figures reported are ``--split test`` (the default).

Usage: .venv/bin/python bench/quality/images.py [--split test] [--per-kind 30] [--seed 7]
       [--previous auto|none] [--workers 1]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from pydicom import dcmread

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from bench.quality import film_faults  # noqa: E402
from bench.quality.common import in_split  # noqa: E402
from bench.quality.films import (  # noqa: E402
    Film,
    cached_films,
    check_cache,
    read_landmarks,
    usable,
)

_LEAKED = sorted(m for m in sys.modules if m == "service" or m.startswith("service."))
assert not _LEAKED, f"the film faults import service modules: {_LEAKED}"

from bench.quality.run import export_tree, previous_rules_commit, run_engine  # noqa: E402
from bench.quality.scoring import (  # noqa: E402
    Scored,
    baseline_lines,
    code_table,
    false_flag_codes,
    kind_table,
    rate_lines,
    wilson,
)

IMAGE_CODES = (
    "cxr.field_of_view",
    "cxr.centering",
    "cxr.rotation",
    "cxr.inspiration",
    "cxr.exposure",
    "cxr.sharpness",
    "cxr.artifact",
    "cxr.scapula",
    "cxr.orientation",
    "cxr.annotation",
    "cxr.metadata",
)
COVERED = tuple(c for c in IMAGE_CODES if c in {code for code, _, _ in film_faults.FAULTS.values()})


def split_films(split: str, seed: int) -> list[Film]:
    """The cached films of ``split``: "dev" (tune on these), "test" (report these) or "all".
    A film belongs to one split for a given seed (seeded hash of its id), so every case built
    from it, clean or faulty, is on the same side. Films whose lungs run into an edge in the
    source are left out (:func:`bench.quality.films.usable`)."""
    films, _ = usable(cached_films())
    if split == "all":
        return films
    return [f for f in films if in_split(f.film_id, seed, split)]


def build_cases(per_kind: int, seed: int, out: Path, films: list[Film]) -> list[dict[str, object]]:
    """Write the case files; return one record per case (id, path, truth, kind, transfer)."""
    rng = np.random.default_rng(seed)
    bases = {f.film_id: dcmread(f.cached) for f in films}
    readings = read_landmarks()
    plan: list[tuple[str, str | None]] = [(f.film_id, None) for f in films]
    order = [films[i].film_id for i in rng.permutation(len(films))]
    turn = 0
    for kind in film_faults.FAULTS:
        for _ in range(per_kind):
            plan.append((order[turn % len(order)], kind))
            turn += 1
    cases = []
    for index, (film_id, kind) in enumerate(plan):
        case_id = f"c{index:04d}-{film_id}"
        compress = bool(rng.random() < 0.5)
        ds = film_faults.make_case(
            bases[film_id], kind, rng, case_id, compress, readings[film_id].marks
        )
        path = out / f"{case_id}.dcm"
        ds.save_as(path, enforce_file_format=True)
        code = film_faults.FAULTS[kind][0] if kind else None
        cases.append(
            {
                "id": case_id,
                "path": str(path),
                "truth": frozenset({code}) if code else frozenset(),
                "kind": f"{code} / {kind}" if kind else "clean",
                "source": film_id.split("-")[0],
                "transfer": "lossless" if compress else "uncompressed",
            }
        )
    return cases


def _scored(cases: list[dict[str, object]], found: dict[str, frozenset[str]]) -> list[Scored]:
    return [
        Scored(str(c["id"]), c["truth"], str(c["kind"]), found.get(str(c["id"]), frozenset()))  # type: ignore[arg-type]
        for c in cases
    ]


def _share(hits: int, n: int) -> str:
    lo, hi = wilson(hits, n)
    return f"{hits:3d}/{n:<3d} = {100 * hits / max(n, 1):5.1f}% [{100 * lo:4.1f}, {100 * hi:5.1f}]"


def _slices(cases: list[dict[str, object]], found: dict[str, frozenset[str]]) -> list[str]:
    """Detection and clean films flagged, by transfer syntax and by source collection."""
    lines = []
    for key in ("transfer", "source"):
        for value in sorted({str(c[key]) for c in cases}):
            part = _scored([c for c in cases if c[key] == value], found)
            err = [s for s in part if s.truth]
            clean = [s for s in part if not s.truth]
            hit = sum(bool(s.truth & s.predicted) for s in err)
            flagged = sum(bool(s.predicted) for s in clean)
            lines.append(
                f"  {key}={value:13} detection {_share(hit, len(err))}   "
                f"clean flagged {_share(flagged, len(clean))}"
            )
    return lines


def report(
    label: str, cases: list[dict[str, object]], found: dict[str, frozenset[str]], seed: int
) -> None:
    scored = _scored(cases, found)
    table, _ = code_table(scored, COVERED, seed=seed)
    print(f"\n--- {label}")
    print("\n".join(table))
    print("\n".join(rate_lines(scored, IMAGE_CODES)))
    print(f"codes fired on clean films: {false_flag_codes(scored, IMAGE_CODES)}")
    uncovered = Counter(code for s in scored for code in s.predicted - set(COVERED))
    print(f"codes with no injected fault, cases where they fired: {dict(uncovered) or '-'}")
    print("by transfer and by source (detection = true code found; clean = flagged clean films):")
    print("\n".join(_slices(cases, found)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--split",
        default="test",
        choices=("dev", "test", "all"),
        help="films to use: tune on dev, report test (a seeded hash of the film id)",
    )
    parser.add_argument("--per-kind", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--previous", default="auto", help="auto, none, or a git revision")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--min-confidence",
        type=float,
        default=0.0,
        help="count only findings at or above this confidence (RADQC_FLAG_MIN_CONFIDENCE)",
    )
    args = parser.parse_args()
    if not cached_films():
        raise SystemExit("no films in the cache: run python -m bench.quality.films build first")
    print("independence: importing the film faults loaded no service module (asserted)")
    print(check_cache(cached_films()))
    _, left_out = usable(cached_films())
    print(
        f"left out as bases, lungs running into an edge in the source film "
        f"(films_landmarks.csv): {len(left_out)}: {', '.join(left_out)}"
    )
    films = split_films(args.split, args.seed)
    print(
        f"split {args.split!r} (seed {args.seed}): {len(films)} films, "
        f"{Counter(f.source for f in films)}"
    )
    with tempfile.TemporaryDirectory(prefix="radqc-images-") as tmp:
        started = time.perf_counter()
        cases = build_cases(args.per_kind, args.seed, Path(tmp), films)
        n_err = sum(bool(c["truth"]) for c in cases)
        print(
            f"{len(cases)} cases ({n_err} with one fault, {len(cases) - n_err} clean; "
            f"{sum(c['transfer'] == 'lossless' for c in cases)} sent lossless-compressed), "
            f"built in {time.perf_counter() - started:.0f} s"
        )
        payload = [{"id": c["id"], "path": c["path"]} for c in cases]
        started = time.perf_counter()
        found, errors, version = run_engine(
            REPO, "image", payload, args.workers, args.min_confidence
        )
        print(
            f"ran {version} (this tree) in {time.perf_counter() - started:.0f} s; "
            f"{len(errors)} raised"
        )
        report(f"{version} (this tree)", cases, found, args.seed)
        print("\nrecall per kind of fault (true code found; 'any' = any finding):")
        print("\n".join(kind_table(_scored(cases, found))))
        print("\nbaselines on the same cases (the seven covered codes):")
        print("\n".join(baseline_lines(_scored(cases, found), COVERED)))
        if args.previous != "none":
            commit = previous_rules_commit() if args.previous == "auto" else args.previous
            started = time.perf_counter()
            prev, prev_errors, prev_version = run_engine(
                export_tree(commit), "image", payload, args.workers, args.min_confidence
            )
            report(
                f"previous rules {prev_version} (commit {commit[:10]}; {len(prev_errors)} raised; "
                f"{time.perf_counter() - started:.0f} s)",
                cases,
                prev,
                args.seed,
            )


if __name__ == "__main__":
    main()
