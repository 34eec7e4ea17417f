"""A real HTTP server on 127.0.0.1 that speaks two image APIs, scripted by tests:

- OpenAI Images: `POST /v1/images/generations` (Bearer key), gpt-image family and dall-e-3, with the
  sizes, qualities and parameters each accepts (anything else gets OpenAI's 400), answering
  `{"created", "data": [{"b64_json"}], ...}` with a PNG of the requested size;
- Gemini: `POST /v1beta/models/{model}:generateContent` (`x-goog-api-key`), answering a candidate
  whose parts hold `inlineData {mimeType, data}`: a PNG of the model's native size for the
  requested `generationConfig.imageConfig.aspectRatio`.

    with FakeImagesServer() as server:
        server.enqueue("openai", 429)            # the next OpenAI call is rate-limited
        server.enqueue("gemini", GeminiBlocked()) # the next Gemini call is blocked by safety
        OpenAIImageGenerator(api_key="sk-test", base_url=server.openai_base_url)
        GeminiImageGenerator(api_key="g-test", base_url=server.gemini_base_url)

Each picture is a white canvas with a black disc in the middle (diameter 60% of the short side)
and a 2-pixel black frame, so a test can tell a stretched picture from a cover-fitted one.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Union

from PIL import Image, ImageDraw

from tests.fakes.loopback import LoopbackServer

OPENAI_PATH = "/v1/images/generations"
GEMINI_PATH = re.compile(r"^/v1beta/models/(?P<model>[^/:]+):generateContent$")

GPT_IMAGE_SIZES = {"1024x1024", "1536x1024", "1024x1536"}
GPT_IMAGE_QUALITIES = {"low", "medium", "high", "auto"}
DALL_E_3_SIZES = {"1024x1024", "1792x1024", "1024x1792"}
DALL_E_3_QUALITIES = {"standard", "hd"}
# gpt-image-1 output tokens per quality and shape (square, other)
_GPT_IMAGE_TOKENS = {"low": (272, 408), "medium": (1056, 1584), "high": (4160, 6240), "auto": (1056, 1584)}
# gemini-2.5-flash-image: native size per requested aspect ratio (1290 output tokens each)
GEMINI_SIZES = {
    "1:1": (1024, 1024),
    "2:3": (832, 1248),
    "3:2": (1248, 832),
    "3:4": (864, 1184),
    "4:3": (1184, 864),
    "4:5": (896, 1152),
    "5:4": (1152, 896),
    "9:16": (768, 1344),
    "16:9": (1344, 768),
    "21:9": (1536, 672),
}


@dataclass(frozen=True)
class ErrorReply:
    """An HTTP error in the API's own shape (OpenAI's `error.type/code`, Google's `error.status`)."""

    status: int
    message: str | None = None
    code: str | None = None  # OpenAI `error.code`, e.g. "content_policy_violation"
    google_status: str | None = None  # Google `error.status`, e.g. "RESOURCE_EXHAUSTED"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class GeminiBlocked:
    """A 200 whose prompt was blocked: `promptFeedback.blockReason`, no candidates."""

    reason: str = "PROHIBITED_CONTENT"


@dataclass(frozen=True)
class GeminiTextOnly:
    """A 200 whose candidate holds only text (the model described instead of drawing)."""

    text: str = "I can't draw that, but here is a description."
    finish_reason: str = "STOP"


@dataclass(frozen=True)
class ImageOf:
    """A 200 with a picture of this size and format, whatever was asked (a misbehaving server)."""

    width: int
    height: int
    format: str = "PNG"


Reply = Union[int, ErrorReply, GeminiBlocked, GeminiTextOnly, ImageOf, Callable[[dict[str, Any]], Any]]


@dataclass
class Recorded:
    api: str  # "openai" | "gemini"
    path: str
    body: dict[str, Any]
    headers: dict[str, str]


def picture(width: int, height: int, image_format: str = "PNG") -> bytes:
    """A white picture with a centred black disc and a thin frame: distortion is easy to measure."""
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    radius = 0.3 * min(width, height)
    cx, cy = width / 2, height / 2
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill="black")
    draw.rectangle((0, 0, width - 1, height - 1), outline="black", width=2)
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, compress_level=1) if image_format == "PNG" else image.save(buffer, format=image_format)
    return buffer.getvalue()


class FakeImagesServer(LoopbackServer):
    """Start with `with FakeImagesServer() as server:` (or .start()/.close())."""

    def __init__(self, openai_key: str | None = None, gemini_key: str | None = None, delay_seconds: float = 0.0) -> None:
        super().__init__()
        self.openai_key = openai_key  # when set, other Bearer tokens get a real-shaped 401
        self.gemini_key = gemini_key  # when set, other x-goog-api-key values get a real-shaped 400
        self.delay_seconds = delay_seconds  # how long each picture takes to "render"
        self.requests: list[Recorded] = []
        self._queues: dict[str, deque[Reply]] = {"openai": deque(), "gemini": deque()}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return f"{self.base_url}/v1"

    @property
    def gemini_base_url(self) -> str:
        return self.base_url

    # ------------------------------------------------------------------ scripting

    def enqueue(self, api: str, *replies: Reply) -> None:
        with self._lock:
            self._queues[api].extend(replies)

    def calls(self, api: str | None = None) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if api is None or r.api == api]

    def _next(self, api: str) -> Reply | None:
        with self._lock:
            return self._queues[api].popleft() if self._queues[api] else None

    def _record(self, recorded: Recorded) -> None:
        with self._lock:
            self.requests.append(recorded)

    # ------------------------------------------------------------------ OpenAI Images

    def openai_reply(self, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        scripted = _resolve(self._next("openai"), body)
        if isinstance(scripted, ErrorReply):
            return _openai_error(scripted)
        model = body.get("model") or "dall-e-2"
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt:
            return _openai_error(ErrorReply(400, "Missing required parameter: 'prompt'.", code="missing_required_parameter"))
        if model.startswith("gpt-image"):
            sizes, qualities, default_quality = GPT_IMAGE_SIZES, GPT_IMAGE_QUALITIES, "auto"
            if "response_format" in body:
                return _openai_error(ErrorReply(400, "Unknown parameter: 'response_format'.", code="unknown_parameter"))
        elif model == "dall-e-3":
            sizes, qualities, default_quality = DALL_E_3_SIZES, DALL_E_3_QUALITIES, "standard"
        else:
            return _openai_error(ErrorReply(404, f"The model '{model}' does not exist.", code="model_not_found"))
        size = body.get("size", "1024x1024")
        quality = body.get("quality", default_quality)
        if size not in sizes:
            return _openai_error(
                ErrorReply(400, f"Invalid value: '{size}'. Supported values are: {', '.join(sorted(sizes))}.", code="invalid_value")
            )
        if quality not in qualities:
            return _openai_error(ErrorReply(400, f"Invalid value: '{quality}'.", code="invalid_value"))
        if body.get("n", 1) != 1:
            return _openai_error(ErrorReply(400, "Invalid 'n': this fake draws one image.", code="invalid_value"))
        width, height = (int(v) for v in size.split("x"))
        image_format = "PNG"
        if isinstance(scripted, ImageOf):
            width, height, image_format = scripted.width, scripted.height, scripted.format
        time.sleep(self.delay_seconds)
        encoded = base64.b64encode(picture(width, height, image_format)).decode()
        reply: dict[str, Any] = {"created": int(time.time())}
        if model.startswith("gpt-image"):
            square, other = _GPT_IMAGE_TOKENS[quality]
            output_tokens = square if width == height else other
            input_tokens = max(1, len(prompt) // 4)
            reply.update(
                {
                    "data": [{"b64_json": encoded}],
                    "background": "opaque",
                    "output_format": "png",
                    "quality": "medium" if quality == "auto" else quality,
                    "size": size,
                    "usage": {
                        "input_tokens": input_tokens,
                        "input_tokens_details": {"image_tokens": 0, "text_tokens": input_tokens},
                        "output_tokens": output_tokens,
                        "total_tokens": input_tokens + output_tokens,
                    },
                }
            )
        else:
            if body.get("response_format", "url") == "url":
                reply["data"] = [{"url": f"{self.base_url}/fake/img-{next(self._ids)}.png", "revised_prompt": prompt}]
            else:
                reply["data"] = [{"b64_json": encoded, "revised_prompt": prompt}]
        return 200, reply, {}

    # ------------------------------------------------------------------ Gemini generateContent

    def gemini_reply(self, model: str, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        scripted = _resolve(self._next("gemini"), body)
        if isinstance(scripted, ErrorReply):
            return _google_error(scripted)
        if "image" not in model:
            return _google_error(
                ErrorReply(400, "Model does not support the requested response modalities: image", google_status="INVALID_ARGUMENT")
            )
        contents = body.get("contents")
        if not isinstance(contents, list) or not contents:
            return _google_error(ErrorReply(400, "* GenerateContentRequest.contents: contents is not specified", google_status="INVALID_ARGUMENT"))
        config = body.get("generationConfig") or {}
        ratio = (config.get("imageConfig") or {}).get("aspectRatio", "1:1")
        if ratio not in GEMINI_SIZES:
            return _google_error(ErrorReply(400, f"Unsupported aspect ratio: {ratio}", google_status="INVALID_ARGUMENT"))
        prompt_tokens = sum(len(part.get("text", "")) // 4 + 1 for c in contents for part in c.get("parts", []))
        response: dict[str, Any] = {
            "modelVersion": model,
            "responseId": f"fake-{next(self._ids)}",
        }
        if isinstance(scripted, GeminiBlocked):
            response["promptFeedback"] = {"blockReason": scripted.reason}
            response["usageMetadata"] = {"promptTokenCount": prompt_tokens, "totalTokenCount": prompt_tokens}
            return 200, response, {}
        if isinstance(scripted, GeminiTextOnly):
            parts = [{"text": scripted.text}]
            finish = scripted.finish_reason
        else:
            width, height = GEMINI_SIZES[ratio]
            image_format = "PNG"
            if isinstance(scripted, ImageOf):
                width, height, image_format = scripted.width, scripted.height, scripted.format
            time.sleep(self.delay_seconds)
            mime = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}[image_format]
            parts = [{"inlineData": {"mimeType": mime, "data": base64.b64encode(picture(width, height, image_format)).decode()}}]
            finish = "STOP"
        response["candidates"] = [{"content": {"parts": parts, "role": "model"}, "finishReason": finish, "index": 0}]
        response["usageMetadata"] = {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": 1290,
            "totalTokenCount": prompt_tokens + 1290,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt_tokens}],
            "candidatesTokensDetails": [{"modality": "IMAGE", "tokenCount": 1290}],
        }
        return 200, response, {}


def _resolve(reply: Reply | None, body: dict[str, Any]) -> Any:
    while callable(reply) and not isinstance(reply, (ErrorReply, GeminiBlocked, GeminiTextOnly, ImageOf)):
        reply = reply(body)
    if isinstance(reply, int):
        return ErrorReply(reply)
    return reply


_OPENAI_TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 404: "invalid_request_error", 429: "requests"}
_OPENAI_MESSAGES = {
    401: "Incorrect API key provided.",
    429: "Rate limit reached for images per minute. Please try again shortly.",
    500: "The server had an error while processing your request.",
    503: "The engine is currently overloaded, please try again later.",
}


def _openai_error(reply: ErrorReply) -> tuple[int, dict[str, Any], dict[str, str]]:
    body = {
        "error": {
            "message": reply.message or _OPENAI_MESSAGES.get(reply.status, f"HTTP {reply.status}"),
            "type": _OPENAI_TYPES.get(reply.status, "server_error" if reply.status >= 500 else "invalid_request_error"),
            "param": None,
            "code": reply.code,
        }
    }
    # the SDK honours retry-after-ms; a short one keeps tests fast
    return reply.status, body, {"retry-after-ms": "10", **reply.headers}


_GOOGLE_STATUS = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def _google_error(reply: ErrorReply) -> tuple[int, dict[str, Any], dict[str, str]]:
    status = reply.google_status or _GOOGLE_STATUS.get(reply.status, "UNKNOWN")
    message = reply.message or {
        429: "Resource has been exhausted (e.g. check quota).",
        500: "An internal error has occurred.",
        503: "The model is overloaded. Please try again later.",
    }.get(reply.status, status)
    return reply.status, {"error": {"code": reply.status, "message": message, "status": status}}, dict(reply.headers)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection: shutdown never waits on keep-alive
    timeout = 10
    server: ThreadingHTTPServer

    def do_POST(self) -> None:  # noqa: N802
        fake: FakeImagesServer = self.server.fake  # type: ignore[attr-defined]
        path = self.path.split("?", 1)[0]
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"null")
            if not isinstance(body, dict):
                raise ValueError("the body is not a JSON object")
        except ValueError as error:
            self._send(400, {"error": {"code": 400, "message": f"Invalid JSON payload received. {error}", "status": "INVALID_ARGUMENT"}})
            return
        if path.rstrip("/") == OPENAI_PATH:
            fake._record(Recorded("openai", path, body, headers))
            if fake.openai_key is not None and headers.get("authorization") != f"Bearer {fake.openai_key}":
                self._send(*_openai_error(ErrorReply(401, code="invalid_api_key")))
                return
            self._send(*fake.openai_reply(body))
            return
        match = GEMINI_PATH.match(path)
        if match:
            fake._record(Recorded("gemini", path, body, headers))
            if fake.gemini_key is not None and headers.get("x-goog-api-key") != fake.gemini_key:
                self._send(*_google_error(ErrorReply(400, "API key not valid. Please pass a valid API key.", google_status="INVALID_ARGUMENT")))
                return
            self._send(*fake.gemini_reply(match.group("model"), body))
            return
        self._send(404, {"error": {"message": f"Unknown path {path}", "code": 404}})

    def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        return


FakeImagesServer.handler = _Handler
