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

from service.engines.llm.client import (
    Completion,
    LLMCallError,
    LLMClient,
    LLMUnavailable,
    PHIRefused,
)
from service.engines.llm.consensus import Consensus, combine
from service.engines.llm.schema import MalformedOutput, ReviewOutput, json_schema, parse_output
from service.phi.known import KnownIdentifiers


@dataclass(slots=True)
class Answer:
    output: ReviewOutput | None
    calls: list[Completion] = field(default_factory=list)
    error: str | None = None
    consensus: Consensus | None = None  # set when more than one sample was asked


async def ask(
    client: LLMClient,
    messages: list[dict[str, Any]],
    allowed: frozenset[str],
    known: KnownIdentifiers,
) -> Answer:
    """Ask, validate, retry once with the validation error; LLMUnavailable (and PHIRefused, when
    the egress guard stops a request) propagate with every attempt made so far."""
    calls: list[Completion] = []
    error = ""
    try:
        for _ in range(2):
            attempts = await client.complete(messages, json_schema(), known)
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
    except LLMCallError as exc:
        exc.calls[:0] = calls
        raise
    return Answer(None, calls, f"malformed LLM output: {error}")


async def ask_samples(
    client: LLMClient,
    messages: list[dict[str, Any]],
    allowed: frozenset[str],
    samples: int,
    known: KnownIdentifiers,
) -> Answer:
    """:func:`ask` ``samples`` times and combine the valid answers (see
    :mod:`service.engines.llm.consensus`). If any sample was refused by the egress guard or
    found the endpoint unavailable, the whole question is: the error carries the calls of every
    sample."""
    if samples <= 1:
        return await ask(client, messages, allowed, known)
    results = await asyncio.gather(
        *(ask(client, messages, allowed, known) for _ in range(samples)), return_exceptions=True
    )
    calls: list[Completion] = []
    failed: list[LLMCallError] = []
    answers: list[Answer] = []
    for result in results:
        if isinstance(result, LLMCallError):
            calls.extend(result.calls)
            failed.append(result)
        elif isinstance(result, BaseException):
            raise result
        else:
            calls.extend(result.calls)
            answers.append(result)
    refused = next((e for e in failed if isinstance(e, PHIRefused)), None)
    if refused is not None:
        raise PHIRefused(refused.kinds, calls) from refused
    if failed:
        raise LLMUnavailable(str(failed[0]), calls) from failed[0]
    valid = [a.output for a in answers if a.output is not None]
    if not valid:
        return Answer(None, calls, next(a.error for a in answers if a.error))
    consensus = combine(valid)
    return Answer(consensus.output, calls, None, consensus)
