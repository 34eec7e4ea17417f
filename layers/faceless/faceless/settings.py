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
    gemini_api_key: str | None = None
    speech_provider: Literal["auto", "offline", "edge"] = "offline"
    tts_rate: str = "+12%"
    # where blobs live
    blob_store: Literal["local", "s3"] = "local"
    bucket: str | None = None
    home: Path = Path("faceless-output")
    # orchestration
    max_concurrency: int = Field(default=5, ge=1, le=40)
    region: str = "us-east-1"

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
            "gemini_api_key": "GEMINI_API_KEY",
            "speech_provider": "FACELESS_SPEECH_PROVIDER",
            "tts_rate": "FACELESS_TTS_RATE",
            "blob_store": "FACELESS_BLOB_STORE",
            "bucket": "FACELESS_BUCKET",
            "home": "FACELESS_HOME",
            "max_concurrency": "FACELESS_MAX_CONCURRENCY",
            "region": "AWS_REGION",
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
