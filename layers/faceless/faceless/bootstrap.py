"""Wires the real or the offline adapters from the settings, in one place."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from faceless.batch.callbacks import StepFunctionsCallbacks, TaskCallbacks
from faceless.cache import CachedImageGenerator, CachedLanguageModel, CachedSpeechSynthesizer, PaidCallCache
from faceless.providers.base import ImageGenerator, LanguageModel, MusicComposer, SpeechSynthesizer
from faceless.jobs import DynamoJobsRepository, JobsRepository
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
    # answers a batch row's task token when a video ends (SendTaskSuccess / SendTaskFailure)
    callbacks: TaskCallbacks = field(default_factory=StepFunctionsCallbacks)
    # the jobs table (status, stage, progress, outputs); None where there is none (unit tests, make)
    jobs: JobsRepository | None = None

    def image_generator(self, wanted: str) -> ImageGenerator:
        """The wanted provider (when configured), falling back to the other configured ones, then
        offline; the picture records which provider drew it."""
        from faceless.providers.images.fallback import FallbackImageGenerator, provider_chain

        return FallbackImageGenerator(provider_chain(wanted, self.images))


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


def build_cache(settings: Settings, store: BlobStore) -> PaidCallCache | None:
    return PaidCallCache(store) if settings.cache_enabled else None


def build_images(settings: Settings, cache: PaidCallCache | None = None) -> dict[str, ImageGenerator]:
    """The offline cards always; OpenAI Images with OPENAI_API_KEY; Gemini with GEMINI_API_KEY.
    The paid ones consult the paid-call cache first."""
    from faceless.providers.images.cards import CardImageGenerator

    images: dict[str, ImageGenerator] = {"offline": CardImageGenerator()}
    paid: dict[str, ImageGenerator] = {}
    if settings.openai_api_key:
        from faceless.providers.images.openai_images import OpenAIImageGenerator

        paid["openai"] = OpenAIImageGenerator(
            api_key=settings.openai_api_key,
            model=settings.openai_image_model,
            quality=settings.image_quality,
            base_url=settings.openai_images_base_url or settings.openai_base_url,
            max_retries=settings.llm_max_retries,
            timeout=settings.image_timeout_seconds,
        )
    if settings.gemini_api_key:
        from faceless.providers.images.gemini import GeminiImageGenerator

        paid["gemini"] = GeminiImageGenerator(
            api_key=settings.gemini_api_key,
            model=settings.gemini_image_model,
            base_url=settings.gemini_base_url,
            max_retries=settings.llm_max_retries,
            timeout=settings.image_timeout_seconds,
        )
    for name, generator in paid.items():
        images[name] = CachedImageGenerator(generator, cache) if cache is not None else generator
    return images


def build_speech(settings: Settings, cache: PaidCallCache | None = None) -> SpeechSynthesizer:
    """espeak-ng offline; with FACELESS_SPEECH_PROVIDER=edge, edge-tts (cached) falling back to it."""
    from faceless.providers.speech.espeak import EspeakSynthesizer

    offline = EspeakSynthesizer()
    if settings.speech_provider != "edge":
        return offline
    from faceless.providers.speech.edge import EdgeSynthesizer

    edge = EdgeSynthesizer(pitch=settings.tts_pitch, attempts=settings.tts_attempts, fallback=offline)
    return CachedSpeechSynthesizer(edge, cache) if cache is not None else edge


def build_services(settings: Settings | None = None) -> Services:
    from faceless.providers.music.ambient import AmbientMusicComposer

    settings = settings or get_settings()
    store = build_store(settings)
    cache = build_cache(settings, store)
    llm = build_llm(settings)
    if cache is not None and llm.name != "offline":
        llm = CachedLanguageModel(llm, cache)
    return Services(
        settings=settings,
        store=store,
        llm=llm,
        images=build_images(settings, cache),
        speech=build_speech(settings, cache),
        music=AmbientMusicComposer(),
        jobs=DynamoJobsRepository(settings.jobs_table, region=settings.region) if settings.jobs_table else None,
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
