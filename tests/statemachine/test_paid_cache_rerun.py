"""Acceptance: a re-run of the same request with a warm cache makes zero paid calls.

The real adapters run inside the state machine (moto's interpreter, our handlers): the language
model against a local Chat Completions server, OpenAI Images against a local Images server, and
edge-tts at its library boundary. The second run of the same request must reach none of them, and
its metadata must say so.
"""

from __future__ import annotations

import re

import pytest

from faceless.bootstrap import build_services, use_services
from faceless.models import VideoRequest
from faceless.runner.cli import render_summary
from faceless.runner.embedded import EmbeddedRunner
from faceless.runner.local import make_video
from tests.fakes.chat_server import FakeChatServer, respond_by_schema
from tests.fakes.edge_service import FakeEdgeService
from tests.fakes.images_server import FakeImagesServer
from tests.fakes.render import fake_assemble

NARRATION = (
    "Lighthouses kept sailors alive for centuries. Each tower burned a steady light above dangerous rocks. "
    "Keepers climbed the stairs every evening to trim the wicks. Later, lenses bent the beam across many miles. "
    "Today most lights run themselves, yet the old towers still guide ships home."
)


def director_reply(body: dict) -> dict:
    pieces = re.findall(r"^\d+\. ", body["messages"][-1]["content"], flags=re.MULTILINE)
    scenes = [
        ("stone lighthouse on black rocks, beam sweeping over a stormy night sea", "wide"),
        ("keeper in an oilskin coat climbing a spiral iron staircase by lamplight", "medium"),
        ("brass Fresnel lens glowing, prisms splitting warm light", "close_up"),
        ("cargo ship passing a white tower at dawn, calm harbour", "aerial"),
        ("weathered logbook and oil can on a wooden desk", "detail"),
    ]
    return {"items": [{"p": scenes[n % 5][0], "s": scenes[n % 5][1]} for n in range(len(pieces))]}


REPLIES = {
    "StoryDraft": {"title": "Why lighthouses mattered", "desc": "How lights kept sailors safe.", "tags": ["#lighthouse", "#history", "#sea"], "text": NARRATION},
    "ContextLightDraft": {"era": "", "region": ""},
    "ContextDraft": {"era": "", "region": "", "people": [], "avoid": ["modern ships"]},
    "DirectionDraft": director_reply,
}


@pytest.fixture
def cloud(settings, monkeypatch):
    """Services with every paid provider real, each talking to its local fake."""
    with FakeChatServer(default_responder=respond_by_schema(REPLIES)) as chat, FakeImagesServer() as images:
        edge = FakeEdgeService().install(monkeypatch)
        services = build_services(
            settings.model_copy(
                update={
                    "openai_api_key": "sk-test",
                    "openai_base_url": chat.base_url,
                    "openai_images_base_url": images.openai_base_url,
                    "speech_provider": "edge",
                    "llm_max_retries": 0,
                }
            )
        )
        use_services(services)
        try:
            yield services, chat, images, edge
        finally:
            use_services(None)


def test_a_rerun_with_a_warm_cache_pays_for_nothing(cloud):
    services, chat, images, edge = cloud
    request = VideoRequest(topic="why lighthouses mattered", duration_seconds=20, format="9:16")
    with EmbeddedRunner() as runner:
        runner.overrides["AssembleFunction"] = fake_assemble

        # GIVEN a first run that paid for every script, image and voice call
        first = make_video(request, runner, services, job_id="first-run")
        assert first.succeeded, first.execution.cause
        paid = first.metadata.paid_calls
        segments = first.metadata.plan.segment_count
        assert paid == {"llm": 3, "images": segments, "speech": segments}  # storyteller, context, director
        assert first.metadata.cache_hits == {"llm": 0, "images": 0, "speech": 0}
        assert {m.provider for m in first.metadata.usage} == {"openai"}
        calls = (len(chat.requests), len(images.calls()), len(edge.calls))
        assert calls == (3, segments, segments)

        # WHEN the same request runs again (a re-run, a retry, a repeated batch row)
        second = make_video(request, runner, services, job_id="second-run")

    # THEN it succeeds without a single call to any provider, and its metadata says so
    assert second.succeeded, second.execution.cause
    assert (len(chat.requests), len(images.calls()), len(edge.calls)) == calls
    assert second.metadata.paid_calls == {"llm": 0, "images": 0, "speech": 0}
    assert second.metadata.cache_hits == {"llm": 3, "images": segments, "speech": segments}
    assert all(u.cached and u.prompt_tokens == u.completion_tokens == 0 for u in second.metadata.usage)
    assert second.metadata.cost.llm_usd == second.metadata.cost.images_usd == 0.0
    assert first.metadata.cost.images_usd > 0
    # AND it is the same video: same narration, same pictures, same voices
    first_images = [services.store.get_bytes(f"jobs/local/first-run/images/{i:02d}.png") for i in range(segments)]
    second_images = [services.store.get_bytes(f"jobs/local/second-run/images/{i:02d}.png") for i in range(segments)]
    assert first_images == second_images
    assert first.metadata.title == second.metadata.title
    # AND the CLI's summary says it
    assert f"Paid calls: llm 0, images 0, speech 0   (answered by the cache: llm 3, images {segments}, speech {segments})" in render_summary(second)
