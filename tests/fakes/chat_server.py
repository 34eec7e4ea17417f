"""A real HTTP server on 127.0.0.1 that speaks OpenAI's Chat Completions API, scripted by tests.

    with FakeChatServer() as server:
        server.enqueue('{"title": "x"}', 429, ChatReply(content=None, refusal="no"))
        model = OpenAICompatibleModel(api_key="sk-test", base_url=server.base_url)
        ...
        assert server.requests[0]["response_format"]["type"] == "json_schema"

Each POST /v1/chat/completions takes the next queued reply; with the queue empty it asks the
`default_responder` (for end-to-end runs, e.g. the CLI with OPENAI_BASE_URL=server.base_url).
A reply is a content string, a dict or pydantic model (sent as JSON content), an HTTP error status
(int), a `ChatReply`, an `ErrorReply`, or a callable taking the parsed request body and returning
any of those. Usage is counted like a real server: o200k_base tokens of the messages and reply.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Union

from pydantic import BaseModel

from faceless.providers.llm.tokens import count_chat_tokens, count_text_tokens
from tests.fakes.loopback import LoopbackServer

COMPLETIONS_PATH = "/v1/chat/completions"


@dataclass(frozen=True)
class ChatReply:
    """A 200 reply with full control over the choice."""

    content: str | None
    refusal: str | None = None
    finish_reason: str = "stop"
    model: str | None = None  # None: echo the request's model, as OpenAI does with aliases
    include_usage: bool = True  # some compatible servers omit `usage`


# What real OpenAI sends for each status (type, code, message).
_STANDARD_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys."),
    403: ("invalid_request_error", "model_not_allowed", "You are not allowed to use this model."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist or you do not have access to it."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again shortly."),
    500: ("server_error", None, "The server had an error while processing your request. Sorry about that!"),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}


@dataclass(frozen=True)
class ErrorReply:
    """An error response in OpenAI's shape: {"error": {"message", "type", "param", "code"}}."""

    status: int
    message: str | None = None  # None: the standard message for the status
    type: str | None = None
    code: str | None = None
    # The SDK honours retry-after-ms (up to 2 min) instead of its 0.5 s+ backoff: keeps tests fast.
    retry_after_ms: int | None = 10
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        standard_type, standard_code, standard_message = _STANDARD_ERRORS.get(
            self.status, ("server_error" if self.status >= 500 else "invalid_request_error", None, f"HTTP {self.status}")
        )
        return {
            "error": {
                "message": self.message or standard_message,
                "type": self.type or standard_type,
                "param": None,
                "code": self.code if self.code is not None else standard_code,
            }
        }


Responder = Callable[[dict[str, Any]], "Reply"]
Reply = Union[str, int, dict, BaseModel, ChatReply, ErrorReply, Responder]


def schema_name(body: dict[str, Any]) -> str | None:
    """The `json_schema.name` a request asks for (our adapter uses the pydantic model's name)."""
    response_format = body.get("response_format") or {}
    return (response_format.get("json_schema") or {}).get("name")


def respond_by_schema(replies: dict[str, Reply]) -> Responder:
    """A default responder that answers by the requested schema name, e.g. {"Script": script_json}."""

    def respond(body: dict[str, Any]) -> Reply:
        name = schema_name(body)
        if name not in replies:
            return ErrorReply(400, message=f"FakeChatServer has no reply for schema {name!r}", code="fake_no_reply")
        return replies[name]

    return respond


class FakeChatServer(LoopbackServer):
    """Start with `with FakeChatServer() as server:` (or .start()/.close())."""

    def __init__(self, default_responder: Responder | None = None, api_key: str | None = None) -> None:
        super().__init__()
        self.default_responder = default_responder
        self.api_key = api_key  # when set, other Bearer tokens get a real-shaped 401
        self.requests: list[dict[str, Any]] = []  # every parsed request body, in arrival order
        self.headers: list[dict[str, str]] = []  # their headers (lower-cased names)
        self.responder_errors: list[BaseException] = []  # exceptions raised by callables
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # ------------------------------------------------------------------ scripting

    def enqueue(self, *replies: Reply) -> None:
        with self._lock:
            self._queue.extend(replies)

    @property
    def pending(self) -> int:
        """Replies queued and not yet served."""
        with self._lock:
            return len(self._queue)

    # ------------------------------------------------------------------ serving (handler threads)

    def _record(self, body: dict[str, Any], headers: dict[str, str]) -> None:
        with self._lock:
            self.requests.append(body)
            self.headers.append(headers)

    def _next_reply(self) -> Reply:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        if self.default_responder is not None:
            return self.default_responder
        return ErrorReply(400, message="FakeChatServer has no reply queued and no default responder", code="fake_no_reply")

    def _respond(self, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        """(status, JSON body, extra headers) for one chat completion request."""
        reply = self._next_reply()
        while callable(reply) and not isinstance(reply, (BaseModel, ChatReply, ErrorReply)):
            try:
                reply = reply(body)
            except Exception as error:  # surfaced to the test, and as a non-retryable 400
                self.responder_errors.append(error)
                reply = ErrorReply(400, message=f"FakeChatServer responder raised {error!r}", code="fake_responder_error")
        if isinstance(reply, int):
            reply = ErrorReply(reply)
        if isinstance(reply, ErrorReply):
            headers = dict(reply.headers)
            if reply.retry_after_ms is not None:
                headers["retry-after-ms"] = str(reply.retry_after_ms)
            return reply.status, reply.body(), headers
        if isinstance(reply, BaseModel):
            reply = ChatReply(content=reply.model_dump_json())
        elif isinstance(reply, dict):
            reply = ChatReply(content=json.dumps(reply))
        elif isinstance(reply, str):
            reply = ChatReply(content=reply)
        return 200, self._completion(body, reply), {}

    def _completion(self, body: dict[str, Any], reply: ChatReply) -> dict[str, Any]:
        completion: dict[str, Any] = {
            "id": f"chatcmpl-fake{next(self._ids):06d}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": reply.model or body.get("model", "unknown"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply.content, "refusal": reply.refusal},
                    "logprobs": None,
                    "finish_reason": reply.finish_reason,
                }
            ],
            "system_fingerprint": "fp_fake",
        }
        if reply.include_usage:
            prompt_tokens = count_chat_tokens(_text_messages(body.get("messages", [])))
            completion_tokens = count_text_tokens(reply.content or reply.refusal or "")
            completion["usage"] = {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            }
        return completion


def _text_messages(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Messages with string content (content-part lists are flattened to their text)."""
    flat = []
    for message in messages:
        content = message.get("content") or ""
        if isinstance(content, list):
            content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
        flat.append({"role": str(message.get("role", "")), "content": str(content)})
    return flat


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.0: one request per connection, so shutdown never waits on an idle keep-alive socket.
    protocol_version = "HTTP/1.0"
    timeout = 10  # a stuck client cannot hold a handler thread forever
    server: ThreadingHTTPServer

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        fake: FakeChatServer = self.server.fake  # type: ignore[attr-defined]
        if self.path.rstrip("/") != COMPLETIONS_PATH:
            self._send(404, ErrorReply(404, message=f"Unknown path {self.path}", code="unknown_url").body())
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"null")
            if not isinstance(body, dict):
                raise ValueError("the body is not a JSON object")
        except ValueError as error:
            self._send(400, ErrorReply(400, message=f"We could not parse the JSON body of your request: {error}").body())
            return
        fake._record(body, {name.lower(): value for name, value in self.headers.items()})
        if fake.api_key is not None and self.headers.get("Authorization") != f"Bearer {fake.api_key}":
            self._send(401, ErrorReply(401).body())
            return
        status, payload, headers = fake._respond(body)
        self._send(status, payload, headers)

    def do_GET(self) -> None:  # noqa: N802
        self._send(404, ErrorReply(404, message=f"Unknown path {self.path}", code="unknown_url").body())

    def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", f"req_fake_{status}")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        return


FakeChatServer.handler = _Handler
