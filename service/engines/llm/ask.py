"""One question to the model with one corrective retry: the shared step of both LLM engines.

Why: a malformed answer is retried once with the validation error appended, then returned as an
error string, so the caller records it on the item instead of crashing or storing nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from service.engines.llm.client import Completion, LLMClient
from service.engines.llm.schema import MalformedOutput, ReviewOutput, json_schema, parse_output


@dataclass(slots=True)
class Answer:
    output: ReviewOutput | None
    calls: list[Completion] = field(default_factory=list)
    error: str | None = None


async def ask(client: LLMClient, messages: list[dict[str, Any]], allowed: frozenset[str]) -> Answer:
    """Ask, validate, retry once with the validation error; LLMUnavailable propagates."""
    calls: list[Completion] = []
    error = ""
    for _ in range(2):
        done = await client.complete(messages, json_schema())
        calls.append(done)
        try:
            return Answer(parse_output(done.text, allowed), calls)
        except MalformedOutput as exc:
            error = str(exc)
            messages = [
                *messages,
                {"role": "assistant", "content": done.text},
                {
                    "role": "user",
                    "content": f"Your answer was invalid ({error}). "
                    "Answer again with one JSON object matching the schema.",
                },
            ]
    return Answer(None, calls, f"malformed LLM output: {error}")
