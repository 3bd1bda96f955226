"""The ceiling: the rules engine alone, in this process, on the items the driver sends.

No queue, no database, no network: each film is written once as the listener stores it (Part 10
file), its header read as the worker reads it, and :class:`RulesEngine` reviews it (decoding the
pixels as it does in a worker); each report is parsed as the FHIR adapter parses it, outside the
timing, and reviewed. Study-level checks (a separate job in the pipeline) are not included.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydicom.dataset import Dataset

from bench.load.corpus import OutgoingReport
from fhir_adapter.reports import parse_report
from service.dicom_files import read_header
from service.engines.base import ImageInput, QCInput, ReportInput
from service.engines.rules import RulesEngine


@dataclass(frozen=True, slots=True)
class Ceiling:
    image_ms: float  # mean wall time per film
    report_ms: float  # mean wall time per report
    image_cpu_ms: float
    report_cpu_ms: float
    images: int
    reports: int

    def items_per_second(self, image_share: float) -> float:
        """Items per second on one core for a mix with this share of images."""
        mean_ms = image_share * self.image_ms + (1 - image_share) * self.report_ms
        return 1000.0 / mean_ms

    def cpu_ms_per_item(self, image_share: float) -> float:
        return image_share * self.image_cpu_ms + (1 - image_share) * self.report_cpu_ms


def image_inputs(films: Sequence[Dataset], folder: Path) -> list[ImageInput]:
    inputs = []
    for index, film in enumerate(films):
        path = folder / f"film{index}.dcm"
        film.save_as(path, enforce_file_format=True)
        header = read_header(path)
        inputs.append(ImageInput(index, str(header.SOPInstanceUID), 1, str(path), header=header))
    return inputs


def report_inputs(reports: Sequence[OutgoingReport]) -> list[ReportInput]:
    inputs = []
    for index, outgoing in enumerate(reports):
        received = parse_report(outgoing.resource, report_id=outgoing.report_id, resource_json="")
        inputs.append(
            ReportInput(
                item_id=index,
                report_id=received.report_id,
                version=1,
                text=received.text,
                sections=received.sections,
                patient_sex=received.patient_sex,
                exam_code=received.exam_code,
                exam_display=received.exam_display,
                status=received.status,
                accession=received.accession,
            )
        )
    return inputs


def _timed(review: Callable[[QCInput], object], inputs: Sequence[QCInput]) -> tuple[float, float]:
    """Mean wall and CPU milliseconds per input."""
    wall, cpu = [], []
    for item in inputs:
        started, started_cpu = time.perf_counter(), time.process_time()
        review(item)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return statistics.mean(wall) * 1000, statistics.mean(cpu) * 1000


def measure(
    films: Sequence[Dataset], reports: Sequence[OutgoingReport], repeats: int = 2
) -> Ceiling:
    """Review every film ``repeats`` times and every report once, after a warm-up pass."""
    engine = RulesEngine()
    with tempfile.TemporaryDirectory(prefix="radqc-ceiling-") as tmp:
        images = image_inputs(films, Path(tmp))
        texts = report_inputs(reports)
        warm_up: list[QCInput] = [*images[:2], *texts[:20]]
        for item in warm_up:  # word lists, regex caches, decoders
            engine.review(item)
        image_ms, image_cpu = _timed(engine.review, images * repeats)
        report_ms, report_cpu = _timed(engine.review, texts)
    return Ceiling(image_ms, report_ms, image_cpu, report_cpu, len(images) * repeats, len(texts))
