"""Typed settings, read from the environment once per process."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from faceless.errors import ConfigurationError


class Settings(BaseModel):
    # language model
    llm_provider: Literal["auto", "openai", "offline"] = "auto"
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    llm_model: str = "gpt-4o-mini"
    llm_max_retries: int = Field(default=2, ge=0, le=10)
    llm_timeout_seconds: float = Field(default=60.0, gt=0)
    # images, speech, music
    image_provider: Literal["auto", "offline", "openai", "gemini"] = "auto"
    openai_image_model: str = "gpt-image-1"  # the gpt-image family or dall-e-3
    openai_images_base_url: str | None = None  # default: OPENAI_BASE_URL (set it when the LLM is elsewhere)
    image_quality: Literal["low", "medium", "high"] = "medium"
    gemini_api_key: str | None = None
    gemini_base_url: str | None = None
    gemini_image_model: str = "gemini-2.5-flash-image"
    image_timeout_seconds: float = Field(default=120.0, gt=0)
    speech_provider: Literal["auto", "offline", "edge"] = "offline"  # auto = offline (edge needs the network)
    tts_rate: str = "+12%"
    tts_pitch: str = "+0Hz"
    tts_attempts: int = Field(default=3, ge=1, le=10)  # edge-tts tries before the offline voice speaks
    # the paid-call cache (LLM replies, images, speech) under cache/ in the blob store
    cache_enabled: bool = True
    # where blobs live
    blob_store: Literal["local", "s3"] = "local"
    bucket: str | None = None
    home: Path = Path("faceless-output")
    # orchestration
    max_concurrency: int = Field(default=5, ge=1, le=40)
    # assembly: one process for every frame (fastest on 2 cores) or a clip per segment + finish (the cloud's way)
    render_mode: Literal["single", "per_segment"] = "single"
    region: str = "us-east-1"
    # the cloud surface: DynamoDB tables (None = no jobs table, e.g. unit tests), the video machine, URLs
    jobs_table: str | None = None
    tenants_table: str | None = None
    ledger_table: str | None = None
    idempotency_table: str | None = None
    video_state_machine_arn: str | None = None
    url_ttl_seconds: int = Field(default=3600, ge=60, le=3600)  # presigned output URLs: at most one hour
    url_secret: str | None = None  # signs the local server's download URLs (S3 presigns in the cloud)

    @property
    def use_openai(self) -> bool:
        if self.llm_provider == "offline":
            return False
        if self.llm_provider == "openai":
            return True
        return bool(self.openai_api_key)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        names = {
            "llm_provider": "FACELESS_LLM_PROVIDER",
            "openai_api_key": "OPENAI_API_KEY",
            "openai_base_url": "OPENAI_BASE_URL",
            "llm_model": "FACELESS_LLM_MODEL",
            "llm_max_retries": "FACELESS_LLM_MAX_RETRIES",
            "llm_timeout_seconds": "FACELESS_LLM_TIMEOUT",
            "image_provider": "FACELESS_IMAGE_PROVIDER",
            "openai_image_model": "FACELESS_OPENAI_IMAGE_MODEL",
            "openai_images_base_url": "FACELESS_OPENAI_IMAGES_BASE_URL",
            "image_quality": "FACELESS_IMAGE_QUALITY",
            "gemini_api_key": "GEMINI_API_KEY",
            "gemini_base_url": "GEMINI_BASE_URL",
            "gemini_image_model": "FACELESS_GEMINI_IMAGE_MODEL",
            "image_timeout_seconds": "FACELESS_IMAGE_TIMEOUT",
            "speech_provider": "FACELESS_SPEECH_PROVIDER",
            "tts_rate": "FACELESS_TTS_RATE",
            "tts_pitch": "FACELESS_TTS_PITCH",
            "tts_attempts": "FACELESS_TTS_ATTEMPTS",
            "cache_enabled": "FACELESS_CACHE",
            "blob_store": "FACELESS_BLOB_STORE",
            "bucket": "FACELESS_BUCKET",
            "home": "FACELESS_HOME",
            "max_concurrency": "FACELESS_MAX_CONCURRENCY",
            "render_mode": "FACELESS_RENDER_MODE",
            "region": "AWS_REGION",
            "jobs_table": "FACELESS_JOBS_TABLE",
            "tenants_table": "FACELESS_TENANTS_TABLE",
            "ledger_table": "FACELESS_LEDGER_TABLE",
            "idempotency_table": "FACELESS_IDEMPOTENCY_TABLE",
            "video_state_machine_arn": "FACELESS_VIDEO_STATE_MACHINE_ARN",
            "url_ttl_seconds": "FACELESS_URL_TTL_SECONDS",
            "url_secret": "FACELESS_URL_SECRET",
        }
        values = {field: env[var] for field, var in names.items() if env.get(var)}
        try:
            settings = cls.model_validate(values)
        except ValidationError as error:
            first = error.errors()[0]
            var = names.get(str(first["loc"][0]), str(first["loc"][0]))
            raise ConfigurationError(f"{var}: {first['msg']}") from None
        if settings.blob_store == "s3" and not settings.bucket:
            raise ConfigurationError("FACELESS_BUCKET must be set when FACELESS_BLOB_STORE=s3")
        return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
