"""Gemini "nano banana" images: `POST /v1beta/models/{model}:generateContent` through Google's
`google-genai` SDK, asking for an IMAGE response at the aspect ratio nearest to the output's.

The reply's candidate carries the picture as `inlineData` (PNG bytes and a MIME type); a blocked
prompt comes back as `promptFeedback.blockReason` or a safety finish reason with no image. The
SDK retries 408/429/5xx and dropped connections (with backoff, `retry_options`); what is left is
translated into our error classes. `base_url` points it at a proxy or, in tests, a local server.
"""

from __future__ import annotations

import logging
from typing import Any

from faceless.errors import (
    ConfigurationError,
    FacelessError,
    ProviderRejectedError,
    ProviderResponseError,
    ProviderThrottledError,
    TransientProviderError,
)
from faceless.providers.base import GeneratedImage, ImageRequest
from faceless.providers.images.native import as_png, closest_ratio

log = logging.getLogger(__name__)

PROVIDER_NAME = "gemini"
DEFAULT_MODEL = "gemini-2.5-flash-image"
API_VERSION = "v1beta"
# The ratios generateContent accepts for images, and gemini-2.5-flash-image's native size for each.
NATIVE_SIZES: dict[str, tuple[int, int]] = {
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
_SAFETY_FINISH = {"SAFETY", "IMAGE_SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION", "IMAGE_PROHIBITED_CONTENT"}


class GeminiImageGenerator:
    """`ImageGenerator` over Gemini's generateContent with an image response."""

    name = PROVIDER_NAME

    def __init__(
        self,
        api_key: str,
        model: str = DEFAULT_MODEL,
        base_url: str | None = None,
        max_retries: int = 2,
        timeout: float = 120.0,
        retry_initial_delay: float = 1.0,
        client: Any = None,
    ) -> None:
        if client is None and not api_key:
            raise ConfigurationError("GEMINI_API_KEY is empty; set it or use another image provider")
        self.model = model
        self.timeout = timeout
        self.base_url = base_url or "https://generativelanguage.googleapis.com"
        if client is None:
            from google import genai
            from google.genai import types

            options = types.HttpOptions(
                base_url=base_url,
                api_version=API_VERSION,
                timeout=int(timeout * 1000),  # milliseconds
                retry_options=types.HttpRetryOptions(
                    attempts=max_retries + 1, initial_delay=retry_initial_delay, max_delay=30.0, jitter=retry_initial_delay
                ),
            )
            client = genai.Client(api_key=api_key, vertexai=False, http_options=options)
        self.client = client

    def aspect_ratio(self, request: ImageRequest) -> str:
        return closest_ratio(list(NATIVE_SIZES), request.width, request.height)

    # what the result depends on: the paid-call cache keys on it
    def cache_inputs(self, request: ImageRequest) -> dict[str, Any]:
        return {"prompt": request.prompt, "aspect_ratio": self.aspect_ratio(request)}

    def generate(self, request: ImageRequest) -> GeneratedImage:
        from google.genai import errors, types

        ratio = self.aspect_ratio(request)
        config = types.GenerateContentConfig(
            response_modalities=["IMAGE"],
            image_config=types.ImageConfig(aspect_ratio=ratio),
            candidate_count=1,
        )
        try:
            response = self.client.models.generate_content(model=self.model, contents=request.prompt, config=config)
        except errors.APIError as error:
            raise self._translate(error) from error
        except Exception as error:  # the SDK's transport errors (httpx2), after its own retries
            if _is_transport_error(error):
                raise TransientProviderError(f"could not reach Gemini ({self.model}, {self.base_url}): {error}") from error
            raise
        data = self._image_bytes(response)
        png, width, height = as_png(data, f"Gemini {self.model}")
        wanted = NATIVE_SIZES.get(ratio)
        if wanted is not None and (width, height) != wanted and self.model == DEFAULT_MODEL:
            log.warning("%s returned %dx%d for aspect ratio %s", self.model, width, height, ratio)
        return GeneratedImage(data=png, width=width, height=height, provider=PROVIDER_NAME, model=self.model)

    def _image_bytes(self, response: Any) -> bytes:
        feedback = getattr(response, "prompt_feedback", None)
        block = getattr(feedback, "block_reason", None) if feedback is not None else None
        if block:
            raise ProviderRejectedError(f"Gemini blocked the prompt ({_name(block)}; {self.model})")
        candidates = getattr(response, "candidates", None) or []
        if not candidates:
            raise ProviderResponseError(f"Gemini answered with no candidate ({self.model})")
        candidate = candidates[0]
        parts = getattr(getattr(candidate, "content", None), "parts", None) or []
        for part in parts:
            inline = getattr(part, "inline_data", None)
            if inline is not None and inline.data and (inline.mime_type or "").startswith("image/"):
                return inline.data if isinstance(inline.data, bytes) else bytes(inline.data)
        finish = _name(getattr(candidate, "finish_reason", None))
        if finish in _SAFETY_FINISH:
            raise ProviderRejectedError(f"Gemini refused to draw the prompt (finish reason {finish}; {self.model})")
        text = " ".join(p.text for p in parts if getattr(p, "text", None))[:200]
        raise ProviderResponseError(
            f"Gemini answered without an image (finish reason {finish or 'none'}; {self.model})" + (f": {text!r}" if text else "")
        )

    def _translate(self, error: Any) -> FacelessError:
        code = int(getattr(error, "code", 0) or 0)
        where = f"{self.model}, {self.base_url}"
        detail = (getattr(error, "message", None) or str(error))[:300]
        if code == 429:
            return ProviderThrottledError(f"Gemini is rate-limiting us (429; {where}): {detail}")
        if code >= 500 or code in (408, 409):
            return TransientProviderError(f"Gemini failed ({code}; {where}): {detail}")
        return ProviderRejectedError(f"Gemini rejected the request ({code} {getattr(error, 'status', '')}; {where}): {detail}")


def _name(value: Any) -> str:
    if value is None:
        return ""
    return str(getattr(value, "value", None) or getattr(value, "name", None) or value)


def _is_transport_error(error: BaseException) -> bool:
    for module_name in ("httpx2", "httpx"):
        try:
            module = __import__(module_name)
        except ImportError:
            continue
        if isinstance(error, module.TransportError):
            return True
    return isinstance(error, (ConnectionError, TimeoutError))
