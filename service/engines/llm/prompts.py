"""Versioned prompt templates; a template's hash goes into every LLM finding's engine_version.

Why: when the QC lead compares models, a change of wording is a change of engine, so it must be
visible on each finding.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from importlib import resources
from typing import Any

import jinja2


@dataclass(frozen=True, slots=True)
class PromptTemplate:
    name: str
    source: str

    @property
    def sha(self) -> str:
        return hashlib.sha256(self.source.encode()).hexdigest()[:12]

    def render(self, **context: Any) -> str:
        return _compiled(self.source).render(**context)


_ENV = jinja2.Environment(
    autoescape=False,  # noqa: S701 - a prompt, not HTML
    undefined=jinja2.StrictUndefined,
)


@functools.lru_cache(maxsize=64)
def _compiled(source: str) -> jinja2.Template:
    """Compiling a template cost ~2 ms, more than the rest of a call's client work (bench/llm)."""
    return _ENV.from_string(source)


def load(name: str) -> PromptTemplate:
    """Load ``prompts/<name>.j2`` from the package."""
    source = resources.files("service.engines.llm").joinpath(f"prompts/{name}.j2").read_text()
    return PromptTemplate(name=name, source=source)
