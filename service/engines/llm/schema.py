"""The finding schema the model must answer with, and parsing of what it returns.

Why: models differ in what structured output they support; whatever came back (JSON schema,
JSON mode, or free text with a JSON object in it, with ``<think>`` blocks) is validated against
one pydantic model, so a malformed answer is an explicit error, never a silently empty list.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from service.errors import RadqcError


class MalformedOutput(RadqcError):
    """The model's answer is not valid JSON of the finding schema."""


class LLMFinding(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str
    severity: Literal["critical", "major", "minor"]
    message: str = Field(min_length=1, max_length=500)
    quote: str = ""
    confidence: float = Field(ge=0.0, le=1.0)


class RuleVerdict(BaseModel):
    model_config = ConfigDict(extra="forbid")
    index: int = Field(ge=0)
    verdict: Literal["confirm", "reject"]
    confidence: float = Field(ge=0.0, le=1.0)


class ReviewOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    findings: list[LLMFinding]
    rule_verdicts: list[RuleVerdict] = Field(default_factory=list)


_THINK = re.compile(r"<think>.*?(?:</think>|\Z)", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


def json_schema() -> dict[str, Any]:
    """The schema sent as ``response_format`` json_schema (a fresh copy: callers may change it)."""
    schema: dict[str, Any] = json.loads(_schema_json())
    return schema


@functools.cache
def _schema_json() -> str:
    # Generating it cost ~1 ms per call (bench/llm); it never changes while the process runs.
    return json.dumps(ReviewOutput.model_json_schema())


def strip_reasoning(text: str) -> str:
    """Remove reasoning models' ``<think>`` blocks (also an unterminated one)."""
    return _THINK.sub("", text).strip()


def _extract_json(text: str) -> str:
    fenced = _FENCE.search(text)
    if fenced:
        return fenced.group(1).strip()
    start, end = text.find("{"), text.rfind("}")
    if start == -1 or end <= start:
        raise MalformedOutput("no JSON object in the model's answer")
    return text[start : end + 1]


def parse_output(text: str, allowed_codes: frozenset[str]) -> ReviewOutput:
    """Parse and validate a model answer; raise :class:`MalformedOutput` naming the problem."""
    body = _extract_json(strip_reasoning(text))
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise MalformedOutput(f"invalid JSON: {exc}") from exc
    try:
        out = ReviewOutput.model_validate(data)
    except ValidationError as exc:
        raise MalformedOutput(f"schema violation: {exc.errors(include_url=False)}") from exc
    unknown = sorted({f.code for f in out.findings} - allowed_codes)
    if unknown:
        raise MalformedOutput(f"codes not allowed for this task: {unknown}")
    return out
