"""Price table (USD) and the cost model. Offline providers cost nothing; cloud compute is priced
as the Lambda time the same work would take, so a local run shows what the cloud would charge."""

from __future__ import annotations

from faceless.models import CostBreakdown, LlmUsage

# USD per 1M tokens (input, output)
LLM_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4o": (2.50, 10.00),
    "faceless-offline-1": (0.0, 0.0),
}
# USD per image
IMAGE_PRICES: dict[str, float] = {
    "pillow-cards-v1": 0.0,
    "gpt-image-1-low": 0.016,
    "gpt-image-1-medium": 0.063,
    "gpt-image-1-high": 0.25,
    "dall-e-3": 0.08,  # 1024x1792, standard
    "dall-e-3-hd": 0.12,
    "gemini-2.5-flash-image": 0.039,
}
# USD per 1M characters
SPEECH_PRICES: dict[str, float] = {"espeak": 0.0, "edge": 0.0}
LAMBDA_GB_SECOND_USD = 0.0000166667
RENDER_MEMORY_GB = 3.0


def llm_cost(usage: LlmUsage) -> float:
    if usage.cached or usage.provider == "offline":
        return 0.0
    base = usage.model.split(":")[0]
    # unknown models are priced as the default model rather than as free
    price_in, price_out = LLM_PRICES.get(base) or next((p for m, p in LLM_PRICES.items() if base.startswith(m)), LLM_PRICES["gpt-4o-mini"])
    return (usage.prompt_tokens * price_in + usage.completion_tokens * price_out) / 1_000_000


def estimate_cost(
    usages: list[LlmUsage],
    image_models: list[str],
    speech: dict[str, int],
    render_seconds: float,
) -> CostBreakdown:
    llm = sum(llm_cost(u) for u in usages)
    images = sum(IMAGE_PRICES.get(m, 0.04) for m in image_models)
    speech_usd = sum(SPEECH_PRICES.get(p, 16.0) * chars / 1_000_000 for p, chars in speech.items())
    compute = render_seconds * RENDER_MEMORY_GB * LAMBDA_GB_SECOND_USD
    total = llm + images + speech_usd + compute
    return CostBreakdown(
        llm_usd=round(llm, 6),
        images_usd=round(images, 6),
        speech_usd=round(speech_usd, 6),
        compute_usd=round(compute, 6),
        total_usd=round(total, 6),
    )
