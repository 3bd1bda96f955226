"""Plain-text rendering of an evaluation run for the terminal (``radqc evaluate``)."""

from __future__ import annotations

import sys
from typing import Any, TextIO


def _fmt(figure: dict[str, Any] | None, percent: bool = False) -> str:
    if not figure or figure.get("value") is None:
        return "-"
    scale, unit = (100, "%") if percent else (1, "")
    value = f"{figure['value'] * scale:.1f}{unit}" if percent else f"{figure['value']:.3f}"
    if figure.get("low") is None or figure.get("high") is None:
        return value
    if percent:
        return f"{value} [{figure['low'] * scale:.1f}-{figure['high'] * scale:.1f}]"
    return f"{value} [{figure['low']:.3f}-{figure['high']:.3f}]"


def render_table(run_id: int, metrics: dict[str, Any]) -> str:
    lines = [
        f"evaluation run {run_id}: engine {metrics.get('engine', 'all')}, "
        f"{metrics.get('n_items', 0)} audited items",
        "",
        f"{'code':<22}{'TP':>6}{'FP':>6}{'FN':>6}  {'precision':<24}{'recall':<24}{'F1':<24}",
    ]
    for code, row in sorted(metrics.get("per_code", {}).items()):
        lines.append(
            f"{code:<22}{row['tp']:>6}{row['fp']:>6}{row['fn']:>6}  "
            f"{_fmt(row['precision']):<24}{_fmt(row['recall']):<24}{_fmt(row['f1']):<24}"
        )
    lines += [
        "",
        f"macro-F1        {_fmt(metrics.get('macro_f1'))}",
        f"micro-F1        {_fmt(metrics.get('micro_f1'))}",
        f"detection rate  {_fmt(metrics.get('detection_rate'), percent=True)}",
        f"ADR             {_fmt(metrics.get('additional_discovery_rate'), percent=True)}",
    ]
    return "\n".join(lines)


class ProgressBar:
    """A one-line progress bar on a terminal (stderr); silent when not a terminal."""

    def __init__(self, stream: TextIO | None = None, width: int = 30) -> None:
        self.stream = stream or sys.stderr
        self.width = width

    def __call__(self, step: str, done: int, total: int) -> None:
        filled = int(self.width * done / total) if total else self.width
        bar = "#" * filled + "-" * (self.width - filled)
        end = "\n" if done >= total and step == "slices" else ""
        self.stream.write(f"\r[{bar}] {done}/{total} {step[:30]:<30}{end}")
        self.stream.flush()


def _signed(value: Any) -> str:
    return "-" if value is None else f"{value:+.3f}"


def render_comparison(report: dict[str, Any]) -> str:
    """Champion against challenger: per code P/R/F1 of each and the paired F1 difference."""
    a, b = report["champion"], report["challenger"]
    lines = [
        f"champion {a['name']} v{a['version']} (id {a['id']}) against challenger "
        f"{b['name']} v{b['version']} (id {b['id']}) on {report['n_items']} audited items "
        f"({report['n_audited']} audited in all); a = champion, b = challenger",
        "",
        f"{'code':<22}{'P a':>7}{'R a':>7}{'F1 a':>7}{'P b':>7}{'R b':>7}{'F1 b':>7}"
        f"  {'F1 b-a [95% paired]':<28}",
    ]

    def value(row: dict[str, Any], key: str) -> str:
        figure = row.get(key) or {}
        return "-" if figure.get("value") is None else f"{figure['value']:.3f}"

    for code, row in sorted(report["per_code"].items()):
        diff = row["f1_difference"]
        interval = (
            f"[{_signed(diff['low'])}, {_signed(diff['high'])}]"
            if diff.get("low") is not None
            else ""
        )
        cells = "".join(
            f"{value(row[side], key):>7}"
            for side in ("champion", "challenger")
            for key in ("precision", "recall", "f1")
        )
        lines.append(f"{code:<22}{cells}  {_signed(diff['value'])} {interval}")
    macro = report["macro_f1"]
    diff = macro["difference"]
    lines += [
        "",
        f"macro-F1 champion {_fmt(macro['champion'])}  challenger {_fmt(macro['challenger'])}",
        f"macro-F1 difference (challenger - champion) {_signed(diff['value'])} "
        f"[{_signed(diff['low'])}, {_signed(diff['high'])}]",
    ]
    return "\n".join(lines)
