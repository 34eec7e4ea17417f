"""The video state machine as the ASL file says it runs: moto's interpreter, our handlers.

Assembly is replaced by a fake here (the render has its own tests and a full run below); every
other state runs its real handler with the offline providers.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter

import pytest

from faceless.errors import ProviderRejectedError, TransientProviderError
from faceless.models import VideoRequest
from faceless.runner.embedded import EmbeddedRunner
from faceless.runner.local import make_video
from tests.fakes.render import fake_assemble


@pytest.fixture
def runner(services):
    with EmbeddedRunner() as embedded:
        embedded.overrides["AssembleFunction"] = fake_assemble
        yield embedded


class SegmentsInFlight:
    """Wraps the Image and Voice handlers; counts distinct segments being worked on at once."""

    def __init__(self, runner: EmbeddedRunner, delay: float = 0.25) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.busy: Counter[int] = Counter()
        self.peak = 0
        for name in ("ImageFunction", "VoiceFunction"):
            runner.overrides[name] = self.wrap(runner.handler(name))

    def wrap(self, real):
        def handler(event, context):
            index = event["segment"]["index"]
            with self.lock:
                self.busy[index] += 1
                self.peak = max(self.peak, sum(1 for n in self.busy.values() if n > 0))
            try:
                time.sleep(self.delay)
                return real(event, context)
            finally:
                with self.lock:
                    self.busy[index] -= 1

        return handler


def calls(runner: EmbeddedRunner, function: str, index: int | None = None) -> int:
    return sum(
        1
        for i in runner.invocations
        if i.function == function and (index is None or i.event.get("segment", {}).get("index") == index)
    )


def test_map_max_concurrency_bounds_segments_in_flight(runner, services):
    # GIVEN a 30 s video (6 segments) and MaxConcurrency 2, with slow image and voice calls
    services.settings.max_concurrency = 2
    in_flight = SegmentsInFlight(runner)

    # WHEN the state machine runs
    run = make_video(VideoRequest(topic="how tides work"), runner, services)

    # THEN it succeeds, every segment got media, and never more than 2 segments were in flight
    assert run.execution.status == "SUCCEEDED", run.execution.cause
    assert calls(runner, "ImageFunction") == calls(runner, "VoiceFunction") == 6
    assert in_flight.peak == 2


def test_a_transient_error_is_retried_as_the_asl_says(runner, services):
    # GIVEN a voice provider that drops the connection once for segment 0
    real = runner.handler("VoiceFunction")
    failures = {"left": 1}

    def flaky(event, context):
        if event["segment"]["index"] == 0 and failures["left"]:
            failures["left"] -= 1
            raise TransientProviderError("connection reset by peer")
        return real(event, context)

    runner.overrides["VoiceFunction"] = flaky

    # WHEN the video runs
    run = make_video(VideoRequest(topic="how tides work", duration_seconds=15), runner, services)

    # THEN the Retry re-ran the voice for segment 0 once and the video succeeded
    assert run.execution.status == "SUCCEEDED", run.execution.cause
    assert calls(runner, "VoiceFunction", index=0) == 2
    assert calls(runner, "FailFunction") == 0


def test_a_persistent_transient_error_exhausts_retries_then_is_caught(runner, services):
    # GIVEN an image provider that always times out for segment 1
    real = runner.handler("ImageFunction")

    def down(event, context):
        if event["segment"]["index"] == 1:
            raise TransientProviderError("image provider timed out")
        return real(event, context)

    runner.overrides["ImageFunction"] = down

    # WHEN the video runs
    run = make_video(VideoRequest(topic="how tides work", duration_seconds=15), runner, services)

    # THEN the task ran 1 + MaxAttempts(2) times, the Catch recorded the failure and the execution failed
    assert run.execution.status == "FAILED"
    assert run.execution.error == "TransientProviderError"
    assert calls(runner, "ImageFunction", index=1) == 3
    assert calls(runner, "FailFunction") == 1
    assert calls(runner, "AssembleFunction") == 0


def test_a_permanent_error_is_not_retried_and_the_job_is_marked_failed(runner, services):
    # GIVEN an image provider that rejects segment 1's prompt for good
    real = runner.handler("ImageFunction")

    def rejecting(event, context):
        if event["segment"]["index"] == 1:
            raise ProviderRejectedError("the prompt was rejected by the content policy")
        return real(event, context)

    runner.overrides["ImageFunction"] = rejecting

    # WHEN the video runs
    run = make_video(VideoRequest(topic="how tides work", duration_seconds=15), runner, services)

    # THEN no retry, the Catch path recorded the reason in the job's status, the execution failed
    assert run.execution.status == "FAILED"
    assert run.execution.error == "ProviderRejectedError"
    assert calls(runner, "ImageFunction", index=1) == 1
    assert calls(runner, "AssembleFunction") == 0
    status = json.loads(services.store.get_bytes(f"jobs/local/{run.job_id}/status.json"))
    assert status["status"] == "failed"
    assert status["error"]["error"] == "ProviderRejectedError"
    assert "content policy" in status["error"]["cause"]


@pytest.mark.parametrize(("language", "voice", "named"), [("qq", None, "language 'qq'"), ("en", "Arya", "voice named 'Arya'")])
def test_a_language_or_voice_the_speaker_lacks_fails_at_plan_before_any_model_call(runner, services, language, voice, named):
    # GIVEN a well-formed request whose language (or voice) the offline speaker does not have
    request = VideoRequest(topic="how tides work", duration_seconds=15, language=language, voice=voice)

    # WHEN the video runs
    run = make_video(request, runner, services)

    # THEN Plan refuses it, not retried, and nothing after it ran: no tokens, no images spent on it
    assert run.execution.status == "FAILED"
    assert run.execution.error == "InvalidRequestError"
    assert calls(runner, "PlanFunction") == 1
    assert {i.function for i in runner.invocations} == {"PlanFunction", "FailFunction"}
    status = json.loads(services.store.get_bytes(f"jobs/local/{run.job_id}/status.json"))
    assert status["status"] == "failed" and named in status["error"]["cause"]


@pytest.mark.parametrize(
    ("fields", "named"),
    [({"script": "ფუტკრები ცეკვავენ, რომ აჩვენონ სად არის ყვავილები.", "language": "ka"}, "Georgian"),
     ({"topic": "how bees dance", "language": "hy"}, "Armenian")],
)
def test_text_whose_captions_would_be_boxes_fails_at_plan_before_any_model_call(runner, services, fields, named):
    # GIVEN a Georgian script, or an Armenian video: scripts no shipped caption face draws
    request = VideoRequest(duration_seconds=15, **fields)

    # WHEN the video runs
    run = make_video(request, runner, services)

    # THEN Plan refuses it, naming the script, and nothing after it ran (before, the captions were boxes)
    assert run.execution.status == "FAILED" and run.execution.error == "InvalidRequestError"
    assert {i.function for i in runner.invocations} == {"PlanFunction", "FailFunction"}
    status = json.loads(services.store.get_bytes(f"jobs/local/{run.job_id}/status.json"))
    assert f"captions cannot be drawn in {named} script" in status["error"]["cause"]


def test_a_user_script_skips_the_storyteller(runner, services):
    # GIVEN the user's own narration
    script = (
        "Tides rise and fall twice a day. The Moon pulls the oceans toward it. "
        "The Sun helps a little. Coasts see the water come and go."
    )

    # WHEN the video runs
    run = make_video(VideoRequest(script=script), runner, services)

    # THEN WriteScript never ran and the narration is the user's, word for word
    assert run.execution.status == "SUCCEEDED", run.execution.cause
    assert calls(runner, "WriteScriptFunction") == 0
    spoken = " ".join(
        i.event["segment"]["text"] for i in sorted(
            (i for i in runner.invocations if i.function == "VoiceFunction"), key=lambda i: i.event["segment"]["index"]
        )
    )
    assert spoken.split() == script.split()
    assert "storyteller" not in run.metadata.tokens_by_agent


def test_context_and_direction_run_in_parallel(runner, services):
    # GIVEN slow context and director calls
    for name in ("ContextFunction", "DirectFunction"):
        real = runner.handler(name)

        def slow(event, context, real=real):
            time.sleep(1.0)
            return real(event, context)

        runner.overrides[name] = slow

    # WHEN the video runs
    run = make_video(VideoRequest(topic="how tides work", duration_seconds=15), runner, services)

    # THEN the two calls overlapped in time (the Parallel state), not one after the other
    assert run.execution.status == "SUCCEEDED", run.execution.cause
    context_call = next(i for i in runner.invocations if i.function == "ContextFunction")
    direct_call = next(i for i in runner.invocations if i.function == "DirectFunction")
    overlap = min(context_call.ended, direct_call.ended) - max(context_call.started, direct_call.started)
    assert overlap > 0.5


def test_at_quality_the_bible_is_written_first_and_the_director_receives_it(runner, services):
    # GIVEN a short video asked for at the quality level
    run = make_video(VideoRequest(topic="how tides work", duration_seconds=15, optimization_level="quality"), runner, services)

    # THEN the Bible ran once, before the director, and the director's event carried it
    assert run.execution.status == "SUCCEEDED", run.execution.cause
    bible = next(i for i in runner.invocations if i.function == "BibleFunction")
    direct = next(i for i in runner.invocations if i.function == "DirectFunction")
    assert calls(runner, "BibleFunction") == 1
    assert bible.ended <= direct.started
    assert direct.event["bible"] == bible.result
    assert "bible" in run.metadata.tokens_by_agent


def test_at_ultra_fast_there_is_no_bible(runner, services):
    run = make_video(VideoRequest(topic="how tides work", duration_seconds=15), runner, services)
    assert run.execution.status == "SUCCEEDED", run.execution.cause
    assert calls(runner, "BibleFunction") == 0
    assert next(i for i in runner.invocations if i.function == "DirectFunction").event["bible"] is None
