"""One question to the model with one corrective retry, optionally asked ``n`` times: the shared
step of both LLM engines.

Why: a malformed answer is retried once with the validation error appended, then returned as an
error string, so the caller records it on the item instead of crashing or storing nothing. Every
attempt that reached the server is returned (or carried by :class:`LLMUnavailable`) for metering,
a malformed one with its error.

Self-consistency asks the same question ``samples`` times concurrently, as separate requests:
the ``n`` parameter is not supported by every OpenAI-compatible server (Ollama ignores it,
several hosted APIs refuse ``n > 1``), and separate requests are metered one by one.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from typing import Any

from service.engines.llm.client import Completion, LLMClient, LLMUnavailable
from service.engines.llm.consensus import Consensus, combine
from service.engines.llm.schema import MalformedOutput, ReviewOutput, json_schema, parse_output


@dataclass(slots=True)
class Answer:
    output: ReviewOutput | None
    calls: list[Completion] = field(default_factory=list)
    error: str | None = None
    consensus: Consensus | None = None  # set when more than one sample was asked


async def ask(client: LLMClient, messages: list[dict[str, Any]], allowed: frozenset[str]) -> Answer:
    """Ask, validate, retry once with the validation error; LLMUnavailable propagates with
    every attempt made so far."""
    calls: list[Completion] = []
    error = ""
    try:
        for _ in range(2):
            attempts = await client.complete(messages, json_schema())
            *failed, done = attempts
            calls.extend(failed)
            try:
                output = parse_output(done.text, allowed)
            except MalformedOutput as exc:
                error = str(exc)
                calls.append(replace(done, error=f"malformed: {error}"[:500], failure="malformed"))
                messages = [
                    *messages,
                    {"role": "assistant", "content": done.text},
                    {
                        "role": "user",
                        "content": f"Your answer was invalid ({error}). "
                        "Answer again with one JSON object matching the schema.",
                    },
                ]
                continue
            calls.append(done)
            return Answer(output, calls)
    except LLMUnavailable as exc:
        exc.calls[:0] = calls
        raise
    return Answer(None, calls, f"malformed LLM output: {error}")


async def ask_samples(
    client: LLMClient, messages: list[dict[str, Any]], allowed: frozenset[str], samples: int
) -> Answer:
    """:func:`ask` ``samples`` times and combine the valid answers (see
    :mod:`service.engines.llm.consensus`). If any sample found the endpoint unavailable, the
    whole question is: LLMUnavailable carries the calls of every sample."""
    if samples <= 1:
        return await ask(client, messages, allowed)
    results = await asyncio.gather(
        *(ask(client, messages, allowed) for _ in range(samples)), return_exceptions=True
    )
    calls: list[Completion] = []
    unavailable: LLMUnavailable | None = None
    answers: list[Answer] = []
    for result in results:
        if isinstance(result, LLMUnavailable):
            calls.extend(result.calls)
            unavailable = unavailable or result
        elif isinstance(result, BaseException):
            raise result
        else:
            calls.extend(result.calls)
            answers.append(result)
    if unavailable is not None:
        raise LLMUnavailable(str(unavailable), calls) from unavailable
    valid = [a.output for a in answers if a.output is not None]
    if not valid:
        return Answer(None, calls, next(a.error for a in answers if a.error))
    consensus = combine(valid)
    return Answer(consensus.output, calls, None, consensus)
