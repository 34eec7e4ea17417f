"""Wires the real or the offline adapters from the settings, in one place."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from faceless.providers.base import ImageGenerator, LanguageModel, MusicComposer, SpeechSynthesizer
from faceless.settings import Settings, get_settings
from faceless.store import BlobStore, LocalBlobStore, S3BlobStore


@dataclass
class Services:
    settings: Settings
    store: BlobStore
    llm: LanguageModel
    images: dict[str, ImageGenerator]  # by provider name; "offline" is always there
    speech: SpeechSynthesizer
    music: MusicComposer

    def image_generator(self, wanted: str) -> ImageGenerator:
        """The wanted provider, or the offline one when it is not configured (recorded by the caller)."""
        return self.images.get(wanted) or self.images["offline"]


def build_store(settings: Settings) -> BlobStore:
    if settings.blob_store == "s3":
        return S3BlobStore(settings.bucket or "")
    return LocalBlobStore(settings.home)


def build_llm(settings: Settings) -> LanguageModel:
    if settings.use_openai:
        from faceless.errors import ConfigurationError
        from faceless.providers.llm.openai_compat import OpenAICompatibleModel

        if not settings.openai_api_key:
            raise ConfigurationError("FACELESS_LLM_PROVIDER=openai needs OPENAI_API_KEY")
        return OpenAICompatibleModel(
            api_key=settings.openai_api_key,
            model=settings.llm_model,
            base_url=settings.openai_base_url,
            max_retries=settings.llm_max_retries,
            timeout=settings.llm_timeout_seconds,
        )
    from faceless.providers.llm.offline import OfflineLanguageModel

    return OfflineLanguageModel()


def build_services(settings: Settings | None = None) -> Services:
    from faceless.providers.images.cards import CardImageGenerator
    from faceless.providers.music.ambient import AmbientMusicComposer
    from faceless.providers.speech.espeak import EspeakSynthesizer

    settings = settings or get_settings()
    return Services(
        settings=settings,
        store=build_store(settings),
        llm=build_llm(settings),
        images={"offline": CardImageGenerator()},
        speech=EspeakSynthesizer(),
        music=AmbientMusicComposer(),
    )


_override: Services | None = None


@lru_cache(maxsize=1)
def _default_services() -> Services:
    return build_services()


def services() -> Services:
    """The process-wide services a Lambda handler uses (built on first use, reused when warm)."""
    return _override or _default_services()


def use_services(value: Services | None) -> None:
    """Install services for every handler in this process (the embedded runner, tests); None resets."""
    global _override
    _override = value
    _default_services.cache_clear()
    get_settings.cache_clear()
