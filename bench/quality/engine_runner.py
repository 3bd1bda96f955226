"""Run a tree's rules engine on benchmark cases, in its own process.

    python bench/quality/engine_runner.py --root TREE --kind report|image CASES.jsonl OUT.jsonl

``TREE`` is a source tree holding ``service/`` (this repository, or an older commit exported with
``git archive``). Its ``service`` package is imported first on ``sys.path``, so the benchmark
process itself never imports ``service`` and one benchmark can compare two engine versions.
Inputs are built as the pipeline builds them from what it stored: a report's text, its sections
(``service.reports.sections``), the patient's sex and the ordered exam; an image's header read
without pixels and the path of its file. Image items also get the study checks, as a one-image
study (each case is its own study). Writes one JSON line per case: id, codes found (each with
its highest confidence), error.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any


def _fields(cls: type, wanted: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments ``cls`` accepts (older trees have fewer input fields)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in wanted.items() if k in names}


def _top(findings: Any) -> dict[str, float]:
    """Each code found, with its highest confidence."""
    top: dict[str, float] = {}
    for f in findings:
        top[f.code] = max(top.get(f.code, 0.0), float(f.confidence))
    return top


def report_codes(engine: Any, case: dict[str, Any], index: int) -> dict[str, float]:
    from service.engines.base import ReportInput
    from service.reports.sections import sections_dict

    item = ReportInput(
        **_fields(
            ReportInput,
            {
                "item_id": index,
                "report_id": case["id"],
                "version": 1,
                "text": case["text"],
                "sections": sections_dict(case["text"]),
                "patient_sex": case.get("patient_sex"),
                "exam_code": case.get("exam_code"),
                "exam_display": case.get("exam_display"),
                "status": "final",
            },
        )
    )
    return _top(engine.review(item))


def image_codes(engines: tuple[Any, Any], case: dict[str, Any], index: int) -> dict[str, float]:
    from pydicom import dcmread

    from service.engines.base import ImageInput, StudyInput

    engine, study_engine = engines
    header = dcmread(case["path"], stop_before_pixels=True)
    item = ImageInput(
        **_fields(
            ImageInput,
            {
                "item_id": index,
                "sop_instance_uid": str(header.SOPInstanceUID),
                "version": 1,
                "path": case["path"],
                "header": header,
            },
        )
    )
    found = list(engine.review(item))
    if study_engine is not None:
        study = StudyInput(
            **_fields(
                StudyInput,
                {
                    "study_instance_uid": str(header.StudyInstanceUID),
                    "images": [(index, header)],
                    "paths": {index: case["path"]},
                },
            )
        )
        for findings in study_engine.review_study(study).values():
            found.extend(findings)
    return _top(found)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--kind", choices=("report", "image"), required=True)
    parser.add_argument("cases", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    sys.path.insert(0, str(args.root.resolve()))
    from service.engines import rules

    engine: Any = rules.RulesEngine()
    if args.kind == "image":
        engine = (engine, getattr(rules, "StudyRulesEngine", lambda: None)())
    run = report_codes if args.kind == "report" else image_codes
    started = time.perf_counter()
    with args.cases.open() as cases, args.out.open("w") as out:
        for index, line in enumerate(cases, start=1):
            case = json.loads(line)
            try:
                codes, error = run(engine, case, index), None
            except Exception as exc:  # a crash is a result too: reported, not fatal
                codes, error = {}, f"{type(exc).__name__}: {exc}"[:300]
            row = {"id": case["id"], "codes": codes, "error": error}
            out.write(json.dumps(row) + "\n")
    version = getattr(rules, "RULES_VERSION", "?")
    where = str(Path(rules.__file__).parents[2])
    print(json.dumps({"version": version, "root": where, "seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main()
