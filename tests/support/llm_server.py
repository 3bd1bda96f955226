"""An OpenAI-compatible chat-completions server on loopback with scripted replies.

It records every request body, so tests assert on what left radqc (de-identification, prompts,
response_format), and answers from a script: each entry is a :class:`Reply`; when the script is
empty, ``default`` answers. Runs under uvicorn via :func:`tests.support.servers.serve_app`.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import deque
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from tests.support.servers import serve_app


@dataclass
class Reply:
    content: str = '{"findings": [], "rule_verdicts": []}'
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False  # close the connection without answering
    reject_response_format: bool = False  # 400 if a response_format of this type is sent
    reject_format_type: str = ""


class LLMServer:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.script: deque[Reply] = deque()
        self.default = Reply()
        self.lock = threading.Lock()
        self.app = FastAPI()
        self.app.post("/v1/chat/completions")(self._complete)

    def push(self, *replies: Reply) -> None:
        with self.lock:
            self.script.extend(replies)

    def all_sent_text(self) -> str:
        """Every message content sent so far, as one string (images included as data URLs)."""
        return json.dumps([r.get("messages") for r in self.requests])

    async def _complete(self, request: Request) -> Response:
        body = await request.json()
        with self.lock:
            self.requests.append(body)
            reply = self.script.popleft() if self.script else self.default
        if reply.delay:
            await asyncio.sleep(reply.delay)
        fmt = (body.get("response_format") or {}).get("type", "")
        if reply.reject_format_type and fmt == reply.reject_format_type:
            return JSONResponse({"error": {"message": f"{fmt} unsupported"}}, status_code=400)
        if reply.drop:  # headers out, then the connection closes mid-body
            return StreamingResponse(_dropped(), media_type="application/json")
        if reply.status != 200:
            return JSONResponse(
                {"error": {"message": "scripted"}}, status_code=reply.status, headers=reply.headers
            )
        return JSONResponse(
            {
                "id": f"cmpl-{len(self.requests)}",
                "object": "chat.completion",
                "created": 0,
                "model": body.get("model", ""),
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": reply.content},
                    }
                ],
                "usage": {
                    "prompt_tokens": len(json.dumps(body.get("messages"))) // 4,
                    "completion_tokens": len(reply.content) // 4,
                    "total_tokens": 0,
                },
            }
        )


async def _dropped() -> AsyncIterator[bytes]:
    yield b'{"id": "cmpl-'
    raise ConnectionResetError("scripted drop")


@contextmanager
def llm_server() -> Iterator[tuple[LLMServer, str]]:
    """Start a scripted server; yield it and its OpenAI base URL (``.../v1``)."""
    server = LLMServer()
    with serve_app(server.app) as url:
        yield server, f"{url}/v1"
