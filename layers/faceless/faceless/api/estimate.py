"""What a request will cost, before it runs: the plan's sizes priced with the same price table
Finalize uses for the measured cost. Deliberately a little high rather than low."""

from __future__ import annotations

from faceless.billing.prices import estimate_cost
from faceless.models import LlmUsage, VideoRequest
from faceless.planning import make_plan
from faceless.settings import Settings

IMAGE_MODEL_BY_PROVIDER = {
    "offline": "pillow-cards-v1",
    "openai": "gpt-image-1-medium",
    "gemini": "gemini-2.5-flash-image",
}
TOKENS_PER_WORD = 1.4
RENDER_SECONDS_PER_VIDEO_SECOND = 2.0  # measured ~1.9 on 2 cores for 1080x1920 (3 GB Lambda: similar)


def estimate_request_cost(request: VideoRequest, settings: Settings) -> float:
    plan = make_plan(request, settings)
    provider, model = ("openai", settings.llm_model) if settings.use_openai else ("offline", "faceless-offline-1")
    narration = int(plan.target_words * TOKENS_PER_WORD)
    calls: list[tuple[str, int, int]] = [
        ("context", 250 + narration, 80),
        ("director", 450 + narration, 70 * plan.segment_count),
    ]
    if not request.script:
        calls.append(("storyteller", 350, narration + 80))
    if plan.use_bible:
        calls.append(("bible", 350 + narration, 250))
    if plan.dedupe_with_llm:
        calls.append(("refine", 300 + 40 * plan.segment_count, 60 * plan.segment_count // 2))
    usages = [
        LlmUsage(agent=agent, provider=provider, model=model, prompt_tokens=p, completion_tokens=c) for agent, p, c in calls
    ]
    images = [IMAGE_MODEL_BY_PROVIDER.get(plan.image_provider, "unknown")] * plan.segment_count
    speech_provider = "espeak" if settings.speech_provider in ("auto", "offline") else settings.speech_provider
    seconds = plan.target_words / 2.6
    cost = estimate_cost(usages, images, {speech_provider: plan.target_words * 6}, seconds * RENDER_SECONDS_PER_VIDEO_SECOND)
    return round(cost.total_usd, 4)
