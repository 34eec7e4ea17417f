"""OpenAI Images (`POST /v1/images/generations`) through the `openai` SDK.

The gpt-image family renders 1024x1536, 1536x1024 or 1024x1024 at quality low/medium/high and
always answers base64; dall-e-3 renders 1024x1792, 1792x1024 or 1024x1024 at standard/hd and is
asked for `b64_json`. We request the native size nearest to the output's aspect ratio; assembly
cover-fits it. The SDK retries 429/5xx/timeouts itself (honouring `retry-after`); what is left is
translated into our error classes, which the state machine's Retry and the fallback chain read.
`base_url` points it at Azure, a proxy or, in tests, a local server speaking the same API.
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Any

import openai

from faceless.errors import (
    ConfigurationError,
    FacelessError,
    ProviderResponseError,
)
from faceless.providers.base import GeneratedImage, ImageRequest
from faceless.providers.images.native import as_png, closest_size
from faceless.providers.openai_errors import translate_openai_error

log = logging.getLogger(__name__)

PROVIDER_NAME = "openai"
DEFAULT_MODEL = "gpt-image-1"
GPT_IMAGE_SIZES = [(1024, 1536), (1536, 1024), (1024, 1024)]
DALL_E_3_SIZES = [(1024, 1792), (1792, 1024), (1024, 1024)]
QUALITIES = ("low", "medium", "high")
# dall-e-3 knows two qualities; ours map onto them
DALL_E_3_QUALITY = {"low": "standard", "medium": "standard", "high": "hd"}
# the codes by which the Images API refuses a prompt (rather than a malformed request)
_POLICY_CODES = frozenset({"content_policy_violation", "moderation_blocked", "image_generation_user_error"})


def is_gpt_image(model: str) -> bool:
    return model.startswith("gpt-image") or model.startswith("chatgpt-image")


def native_sizes(model: str) -> list[tuple[int, int]]:
    if is_gpt_image(model):
        return GPT_IMAGE_SIZES
    if model.startswith("dall-e-3"):
        return DALL_E_3_SIZES
    raise ConfigurationError(f"image model {model!r} is not supported: use the gpt-image family or dall-e-3")


class OpenAIImageGenerator:
    """`ImageGenerator` over OpenAI Images."""

    name = PROVIDER_NAME

    def __init__(
        self,
        api_key: str,
        model: str = DEFAULT_MODEL,
        quality: str = "medium",
        base_url: str | None = None,
        max_retries: int = 2,
        timeout: float = 120.0,
        client: openai.OpenAI | None = None,
    ) -> None:
        if client is None and not api_key:
            raise ConfigurationError("OPENAI_API_KEY is empty; set it or use the offline images")
        if quality not in QUALITIES:
            raise ConfigurationError(f"image quality must be one of {', '.join(QUALITIES)}, got {quality!r}")
        native_sizes(model)  # fail at start-up, not on the first segment
        self.model = model
        self.quality = quality
        self.timeout = timeout
        self.client = client or openai.OpenAI(api_key=api_key, base_url=base_url, max_retries=max_retries, timeout=timeout)

    # what the result depends on: the paid-call cache keys on it
    def cache_inputs(self, request: ImageRequest) -> dict[str, Any]:
        width, height = self.native_size(request)
        return {"prompt": request.prompt, "size": f"{width}x{height}", "quality": self._api_quality()}

    def native_size(self, request: ImageRequest) -> tuple[int, int]:
        return closest_size(native_sizes(self.model), request.width, request.height)

    def price_model(self) -> str:
        """The name the price table knows: gpt-image-1-medium, dall-e-3, dall-e-3-hd."""
        if is_gpt_image(self.model):
            return f"{self.model}-{self.quality}"
        return "dall-e-3-hd" if self._api_quality() == "hd" else self.model

    def _api_quality(self) -> str:
        return self.quality if is_gpt_image(self.model) else DALL_E_3_QUALITY[self.quality]

    def generate(self, request: ImageRequest) -> GeneratedImage:
        width, height = self.native_size(request)
        arguments: dict[str, Any] = {
            "model": self.model,
            "prompt": request.prompt,
            "size": f"{width}x{height}",
            "quality": self._api_quality(),
            "n": 1,
        }
        if not is_gpt_image(self.model):
            arguments["response_format"] = "b64_json"  # gpt-image models always answer base64 (and reject it)
        try:
            response = self.client.images.generate(**arguments)
        except openai.APIError as error:
            raise self._translate(error) from error
        data = self._image_bytes(response)
        png, got_width, got_height = as_png(data, f"{self.model} ({self.client.base_url})")
        if (got_width, got_height) != (width, height):
            log.warning("%s returned %dx%d for a %dx%d request", self.model, got_width, got_height, width, height)
        return GeneratedImage(data=png, width=got_width, height=got_height, provider=PROVIDER_NAME, model=self.price_model())

    def _image_bytes(self, response: Any) -> bytes:
        items = getattr(response, "data", None) or []
        if not items or not getattr(items[0], "b64_json", None):
            raise ProviderResponseError(f"{self.model} answered without a base64 image ({self.client.base_url})")
        try:
            return base64.b64decode(items[0].b64_json, validate=True)
        except (binascii.Error, ValueError) as error:
            raise ProviderResponseError(f"{self.model} sent an image that is not valid base64: {error}") from None

    def _translate(self, error: openai.APIError) -> FacelessError:
        where = f"{self.model}, {self.client.base_url}"
        return translate_openai_error(error, "OpenAI Images", where, self.timeout, _POLICY_CODES)
