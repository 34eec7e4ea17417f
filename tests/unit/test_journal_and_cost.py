"""Usage and timings recorded per step add up once, even when a step is retried."""

from __future__ import annotations

import pytest

from faceless import journal
from faceless.billing.prices import estimate_cost
from faceless.models import JobSpec, LlmUsage, VideoRequest
from faceless.planning import make_plan
from faceless.settings import Settings
from faceless.store import LocalBlobStore


def job() -> JobSpec:
    request = VideoRequest(topic="volcanoes")
    return JobSpec(job_id="j1", prefix="jobs/local/j1", request=request, plan=make_plan(request, Settings()))


def usage(agent: str, prompt: int, completion: int, provider: str = "openai") -> LlmUsage:
    return LlmUsage(agent=agent, provider=provider, model="gpt-4o-mini", prompt_tokens=prompt, completion_tokens=completion)


def test_a_retried_step_overwrites_its_usage_instead_of_adding_to_it(tmp_path):
    store, spec = LocalBlobStore(tmp_path), job()
    # GIVEN a step that recorded its usage, then ran again after a retry
    journal.record_usage(store, spec, "storyteller", [usage("storyteller", 100, 50)])
    journal.record_usage(store, spec, "storyteller", [usage("storyteller", 120, 60)])
    journal.record_usage(store, spec, "context", [usage("context", 40, 10)])
    # WHEN the usage is collected
    table = journal.tokens_by_agent(journal.collect_usage(store, spec))
    # THEN only the last run of each step counts
    assert table == {
        "context": {"prompt_tokens": 40, "completion_tokens": 10, "calls": 1},
        "storyteller": {"prompt_tokens": 120, "completion_tokens": 60, "calls": 1},
    }


def test_a_fanned_out_stage_counts_its_wall_time_once(tmp_path, monkeypatch):
    store, spec = LocalBlobStore(tmp_path), job()
    clock = iter([10.0, 12.0, 11.0, 14.0, 20.0, 21.0])
    monkeypatch.setattr(journal.time, "time", lambda: next(clock))
    # GIVEN two overlapping image calls (10–12 and 11–14) and the assemble stage (20–21)
    with journal.timed(store, spec, "images", "0"):
        pass
    with journal.timed(store, spec, "images", "1"):
        pass
    with journal.timed(store, spec, "assemble"):
        pass
    # THEN images took 4 s of wall time (not 5), in stage order
    assert [(t.stage, t.seconds) for t in journal.collect_timings(store, spec)] == [("images", 4.0), ("assemble", 1.0)]


def test_cost_prices_tokens_images_and_compute_and_offline_is_free():
    paid = estimate_cost([usage("storyteller", 1_000_000, 1_000_000)], ["gpt-image-1-low"] * 2, {"espeak": 500}, 10.0)
    assert paid.llm_usd == 0.75  # 0.15 + 0.60 per million
    assert paid.images_usd == 0.032
    assert paid.speech_usd == 0.0
    assert paid.compute_usd > 0
    assert abs(paid.total_usd - (paid.llm_usd + paid.images_usd + paid.compute_usd)) < 1e-6
    free = estimate_cost([usage("storyteller", 500, 100, provider="offline")], ["pillow-cards-v1"], {"espeak": 900}, 0.0)
    assert free.total_usd == 0.0


@pytest.mark.parametrize("model", ["gpt-image-1", "dall-e-3"])
@pytest.mark.parametrize("quality", ["low", "medium", "high"])
def test_every_openai_image_setting_has_a_price(model, quality):
    # GIVEN the OpenAI images adapter at each model and quality WHEN it names its price
    from faceless.billing.prices import IMAGE_PRICES
    from faceless.providers.images.openai_images import OpenAIImageGenerator

    name = OpenAIImageGenerator(api_key="sk-test", model=model, quality=quality).price_model()
    # THEN the price table knows that name (an unknown one would be charged a guessed price)
    assert name in IMAGE_PRICES
