"""Run the rules engine (black box) on the second-opinion cases and print the figures.

    .venv/bin/python bench/quality/second_opinion/run.py [--split test] [--per-kind 40] [--seed 7]
        [--examples 3] [--weak 0.8] [--dump DIR]

Bases: the even-numbered IU reports cached by ``python -m bench.quality.sources reports``
(``$RADQC_BENCH_DATA``, default ~/.cache/radqc-bench), split dev/test by a seeded hash of the
report id. The engine of this tree runs in a subprocess through ``bench/quality/engine_runner.py``;
this process never imports ``service`` (asserted below).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO))

from bench.quality.second_opinion import generator as g  # noqa: E402

_LEAKED = sorted(
    m
    for m in sys.modules
    if m == "service" or m.startswith("service.") or m.startswith("bench.quality.report_")
)
assert not _LEAKED, f"the second-opinion generator imports detector or injector modules: {_LEAKED}"

CACHE = Path(os.environ.get("RADQC_BENCH_DATA", Path.home() / ".cache" / "radqc-bench"))
IU_EVEN = CACHE / "reports" / "iu_even_reports.csv"


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return (float("nan"), float("nan"))
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (max(0.0, c - h), min(1.0, c + h))


def pct(x: float) -> str:
    return "  n/a" if x != x else f"{100 * x:5.1f}"


def f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan")


def macro_f1(rows: list[tuple[frozenset[str], frozenset[str]]]) -> float:
    vals = []
    for c in g.CODES:
        tp = sum(1 for t, f in rows if c in t and c in f)
        fp = sum(1 for t, f in rows if c not in t and c in f)
        fn = sum(1 for t, f in rows if c in t and c not in f)
        if tp + fp + fn:
            vals.append(f1(tp, fp, fn))
    return sum(vals) / len(vals)


def run_engine(cases: list[g.Case]) -> tuple[dict[str, frozenset[str]], str]:
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "cases.jsonl", Path(tmp) / "out.jsonl"
        with src.open("w") as h:
            for c in cases:
                h.write(json.dumps(c.payload()) + "\n")
        proc = subprocess.run(
            [
                sys.executable,
                str(REPO / "bench/quality/engine_runner.py"),
                "--root",
                str(REPO),
                "--kind",
                "report",
                str(src),
                str(out),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        found, errors = {}, 0
        for line in out.open():
            row = json.loads(line)
            errors += row["error"] is not None
            found[row["id"]] = frozenset(k for k in row["codes"] if k in g.CODES)
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    return found, f"{info['version']} ({info['seconds']:.1f} s, {errors} crashes)"


def short(s: str, n: int = 170) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 3] + "..."


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", default="test", choices=("dev", "test", "all"))
    ap.add_argument("--per-kind", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--examples", type=int, default=3)
    ap.add_argument("--weak", type=float, default=0.8, help="kinds under this recall get examples")
    ap.add_argument("--boot", type=int, default=500)
    ap.add_argument("--dump", type=Path, help="write cases and results as JSONL here")
    args = ap.parse_args(argv)

    if not IU_EVEN.exists():
        print(f"missing {IU_EVEN}: run python -m bench.quality.sources reports --snapshot DIR")
        return 2
    started = time.perf_counter()
    bases = g.load_iu(IU_EVEN)
    g.set_vocab(bases)
    chosen = [
        b for b in bases if args.split == "all" or g.split_of(b.base_id, args.seed) == args.split
    ]
    cases = g.build_cases(chosen, args.per_kind, args.seed)
    found, engine = run_engine(cases)
    rows = [
        (frozenset([c.code]) if c.code else frozenset(), found.get(c.case_id, frozenset()))
        for c in cases
    ]
    clean = [(c, f) for c, (_, f) in zip(cases, rows, strict=False) if c.code is None]
    errs = [(c, f) for c, (_, f) in zip(cases, rows, strict=False) if c.code is not None]

    print(
        f"second-opinion report benchmark: bases iu-even ({len(bases)} usable,"
        f" {len(chosen)} in {args.split}),"
        f" seed {args.seed}, {len(g.KINDS)} kinds x up to {args.per_kind}"
    )
    print(f"cases: {len(clean)} clean + {len(errs)} with one error; engine {engine}")
    print("service modules imported by this process: none (asserted)\n")

    print(f"{'code':24} {'n':>4} {'recall':>6} {'95% CI':>13} {'prec':>6} {'F1':>6}  tp  fp  fn")
    for code in g.CODES:
        tp = sum(1 for t, f in rows if code in t and code in f)
        fp = sum(1 for t, f in rows if code not in t and code in f)
        fn = sum(1 for t, f in rows if code in t and code not in f)
        n = tp + fn
        lo, hi = wilson(tp, n)
        prec = tp / (tp + fp) if tp + fp else float("nan")
        print(
            f"{code:24} {n:4d} {pct(tp / n if n else float('nan'))} [{pct(lo)},{pct(hi)}]"
            f" {pct(prec)} {pct(f1(tp, fp, fn))} {tp:3d} {fp:3d} {fn:3d}"
        )
    mf = macro_f1(rows)
    import random

    rnd = random.Random(args.seed)
    boots = sorted(
        macro_f1([rows[rnd.randrange(len(rows))] for _ in rows]) for _ in range(args.boot)
    )
    lo, hi = boots[int(0.025 * args.boot)], boots[int(0.975 * args.boot) - 1]
    print(f"\nmacro-F1 {mf:.3f} [{lo:.3f}, {hi:.3f}] (bootstrap over cases, {args.boot} resamples)")
    core = [(t, f) for c, (t, f) in zip(cases, rows, strict=True) if c.kind not in g.BORDERLINE]
    core_errs = [(c, f) for c, f in errs if c.kind not in g.BORDERLINE]
    core_det = sum(1 for c, f in core_errs if c.code in f)
    print(
        f"without the borderline kinds ({', '.join(sorted(g.BORDERLINE))}): macro-F1"
        f" {macro_f1(core):.3f}, detection {pct(core_det / len(core_errs))} %"
    )
    for label, keep in (("kinds the first benchmark also has", False), ("novel kinds", True)):
        sub = [
            (t, f)
            for c, (t, f) in zip(cases, rows, strict=True)
            if c.code is None or (c.kind in g.NOVEL) == keep
        ]
        sub_errs = [(c, f) for c, f in errs if (c.kind in g.NOVEL) == keep]
        hit = sum(1 for c, f in sub_errs if c.code in f)
        print(
            f"{label} ({len(sub_errs)} cases, with the clean ones): macro-F1 {macro_f1(sub):.3f},"
            f" detection {pct(hit / len(sub_errs))} %"
        )
    det = sum(1 for c, f in errs if c.code in f)
    anyf = sum(1 for c, f in errs if f)
    print(
        f"detection (true code found): {det}/{len(errs)} = {pct(det / len(errs))} %"
        f" [{pct(wilson(det, len(errs))[0])}, {pct(wilson(det, len(errs))[1])}]"
    )
    print(f"detection (any report code): {anyf}/{len(errs)} = {pct(anyf / len(errs))} %")
    ff = sum(1 for _, f in clean if f)
    lo, hi = wilson(ff, len(clean))
    byc = Counter(code for _, f in clean for code in f)
    print(
        f"false flags on clean reports: {ff}/{len(clean)} = {pct(ff / len(clean))} %"
        f" [{pct(lo)}, {pct(hi)}]"
        f"  by code: {dict(byc.most_common())}"
    )
    wrong = Counter((c.code, x) for c, f in errs for x in f if x != c.code)
    top = ", ".join(f"{a[7:]}->{b[7:]} {n}" for (a, b), n in wrong.most_common(8))
    print(f"other codes flagged on error cases: {sum(wrong.values())}  top: {top}")

    print(f"\n{'kind':36} {'code':14} {'n':>3} {'recall':>6} {'95% CI':>13} {'any':>6}")
    per_kind: dict[str, list[tuple[g.Case, frozenset[str]]]] = defaultdict(list)
    for c, f in errs:
        per_kind[c.kind].append((c, f))
    weak = []
    for kind in g.KINDS:
        items = per_kind.get(kind, [])
        if not items:
            print(f"{kind:36} (no applicable base)")
            continue
        k = sum(1 for c, f in items if c.code in f)
        a = sum(1 for _, f in items if f)
        lo, hi = wilson(k, len(items))
        short_code = (items[0][0].code or "")[7:]
        print(
            f"{kind:36} {short_code:14} {len(items):3d} {pct(k / len(items))}"
            f" [{pct(lo)},{pct(hi)}] {pct(a / len(items))}"
        )
        if k / len(items) < args.weak:
            weak.append((k / len(items), kind, [(c, f) for c, f in items if c.code not in f]))

    print(f"\nexamples of misses (kinds under {args.weak:.0%} recall, weakest first):")
    for rate, kind, misses in sorted(weak):
        print(f"- {kind} ({pct(rate).strip()} %):")
        for c, f in misses[: args.examples]:
            got = ",".join(sorted(x.split(".")[1] for x in f)) or "nothing"
            print(f"    [{c.base_id}] {short(c.evidence)}  -> flagged: {got}")

    print("\nexamples of false flags on clean reports:")
    shown = Counter()
    for c, f in clean:
        for code in sorted(f):
            if shown[code] < args.examples:
                shown[code] += 1
                r = c.report
                print(
                    f"    {code} [{c.base_id}] sex={r.patient_sex} order='{r.exam_display}' "
                    f"F: {short(r.findings or '', 110)} | I: {short(r.impression or '', 70)}"
                )
    print(f"\ntotal {time.perf_counter() - started:.1f} s")
    if args.dump:
        args.dump.mkdir(parents=True, exist_ok=True)
        with (args.dump / f"cases_{args.split}.jsonl").open("w") as h:
            for c, (_, f) in zip(cases, rows, strict=False):
                h.write(
                    json.dumps(
                        {
                            **c.payload(),
                            "code": c.code,
                            "kind": c.kind,
                            "evidence": c.evidence,
                            "found": sorted(f),
                        }
                    )
                    + "\n"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
