"""Versioned prompt templates; a template's hash goes into every LLM finding's engine_version.

Why: when the QC lead compares models, a change of wording is a change of engine, so it must be
visible on each finding.
"""

from __future__ import annotations

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
        env = jinja2.Environment(
            autoescape=False,  # noqa: S701 - a prompt, not HTML
            undefined=jinja2.StrictUndefined,
        )
        return env.from_string(self.source).render(**context)


def load(name: str) -> PromptTemplate:
    """Load ``prompts/<name>.j2`` from the package."""
    source = resources.files("service.engines.llm").joinpath(f"prompts/{name}.j2").read_text()
    return PromptTemplate(name=name, source=source)
