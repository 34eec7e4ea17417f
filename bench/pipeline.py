"""Latency budget: does the state machine wait only on its critical path?

Runs the real video state machine (statemachine/video.asl.json in moto's interpreter, our real
handlers, via the EmbeddedRunner) with fake providers that sleep for the original design's
latencies -- storyteller 4 s, context 3 s, director 5 s, each image 5 s, each TTS clip 1.2 s --
for a 60 s video (12 segments) at MaxConcurrency 5, with a trivial render, and prints the measured
wall time, the critical-path bound for those latencies and their ratio.

    .venv/bin/python bench/pipeline.py                 # one run
    .venv/bin/python bench/pipeline.py --runs 3        # best and worst of three

Critical path: storyteller, then the slower of context and director (they run in parallel), then
ceil(segments / MaxConcurrency) waves of the slower of image and voice (they run in parallel per
segment), then the render (trivial here). Everything else is our own overhead or moto's.
Acceptance (issue 5): wall time <= 1.10 x the bound. Exit status 1 when it is not met.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "faceless"))
sys.path.insert(0, str(ROOT))  # tests.fakes
for _name, _value in (
    ("POWERTOOLS_TRACE_DISABLED", "true"),
    ("POWERTOOLS_METRICS_DISABLED", "true"),
    ("POWERTOOLS_LOG_LEVEL", "ERROR"),
    ("AWS_DEFAULT_REGION", "us-east-1"),
):
    os.environ.setdefault(_name, _value)

from faceless.bootstrap import Services, use_services  # noqa: E402
from faceless.models import WordTiming  # noqa: E402
from faceless.providers.base import Completion, GeneratedImage, ImageRequest, LlmRequest, Speech, SpeechRequest  # noqa: E402
from faceless.providers.llm.offline import OfflineLanguageModel  # noqa: E402
from faceless.providers.music.ambient import AmbientMusicComposer  # noqa: E402
from faceless.settings import Settings  # noqa: E402
from faceless.store import LocalBlobStore  # noqa: E402
from tests.fakes.render import fake_assemble  # noqa: E402

# The original design's latencies (seconds)
AGENT_SECONDS = {"storyteller": 4.0, "context": 3.0, "director": 5.0}
IMAGE_SECONDS = 5.0
VOICE_SECONDS = 1.2
DURATION_SECONDS = 60  # 12 segments at ~5 s each
MAX_CONCURRENCY = 5
TARGET_RATIO = 1.10


class SleepingLanguageModel:
    """Answers like the offline model, after the agent's original latency."""

    name = "bench"
    model = "bench-sleeping-1"

    def __init__(self) -> None:
        self.inner = OfflineLanguageModel()

    def complete(self, request: LlmRequest) -> Completion:
        time.sleep(AGENT_SECONDS.get(request.agent, 0.0))
        return self.inner.complete(request)


class SleepingImages:
    name = "offline"
    model = "bench-image"

    def __init__(self) -> None:
        from PIL import Image

        buffer = io.BytesIO()
        Image.new("RGB", (64, 114), (40, 60, 90)).save(buffer, format="PNG")
        self.png = buffer.getvalue()

    def generate(self, request: ImageRequest) -> GeneratedImage:
        time.sleep(IMAGE_SECONDS)
        return GeneratedImage(data=self.png, width=64, height=114, provider=self.name, model=self.model)


class SleepingSpeech:
    name = "espeak"

    def check_voice(self, language: str, voice: str | None) -> None:
        pass  # the bench's requests are fixed and valid: only the latencies matter here

    def synthesize(self, request: SpeechRequest) -> Speech:
        time.sleep(VOICE_SECONDS)
        words = request.text.split()
        seconds = max(0.5, len(words) / 2.6)
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as writer:
            writer.setnchannels(1)
            writer.setsampwidth(2)
            writer.setframerate(8000)
            writer.writeframes(b"\0\0" * int(seconds * 8000))
        step = seconds / len(words)
        timings = [WordTiming(word=w, start=round(i * step, 3), end=round((i + 1) * step, 3)) for i, w in enumerate(words)]
        return Speech(wav=buffer.getvalue(), sample_rate=8000, duration_seconds=seconds, words=timings, provider=self.name, voice="bench")


def critical_path(segments: int, concurrency: int) -> float:
    waves = math.ceil(segments / concurrency)
    return AGENT_SECONDS["storyteller"] + max(AGENT_SECONDS["context"], AGENT_SECONDS["director"]) + waves * max(IMAGE_SECONDS, VOICE_SECONDS)


def run_once(home: Path, runner, index: int) -> tuple[float, int, dict[str, float]]:
    from faceless.models import VideoRequest
    from faceless.runner.local import make_video

    settings = Settings(home=home, max_concurrency=MAX_CONCURRENCY, cache_enabled=False)
    services = Services(
        settings=settings,
        store=LocalBlobStore(home),
        llm=SleepingLanguageModel(),
        images={"offline": SleepingImages()},
        speech=SleepingSpeech(),
        music=AmbientMusicComposer(),
    )
    use_services(services)
    request = VideoRequest(topic="How lighthouses kept sailors safe", duration_seconds=DURATION_SECONDS, optimization_level="balanced")
    started = time.perf_counter()
    run = make_video(request, runner, services, job_id=f"bench-{index}-{int(time.time())}")
    wall = time.perf_counter() - started
    if not run.succeeded:
        raise SystemExit(f"the run failed: {run.execution.error}: {run.execution.cause}")
    stages = {t.stage: t.seconds for t in run.metadata.timings}
    return wall, run.metadata.plan.segment_count, stages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args(argv)
    from faceless.runner.embedded import EmbeddedRunner

    walls = []
    with tempfile.TemporaryDirectory(prefix="faceless-bench-") as scratch, EmbeddedRunner() as runner:
        runner.overrides["AssembleFunction"] = fake_assemble
        # Deploying is not part of a video's wall time: create the state machine first (moto parses
        # the ASL, ~3 s), and warm what the fakes themselves load on first use (the tokenizer the
        # offline model counts usage with, ~0.5 s), so the fakes take exactly the latencies above.
        started = time.perf_counter()
        runner.state_machine_arn("VideoStateMachine")
        deployed = time.perf_counter() - started
        from faceless.providers.llm.tokens import count_text_tokens

        count_text_tokens("warm up")
        print(f"state machine created in moto in {deployed:.2f} s (not counted)")
        for index in range(args.runs):
            wall, segments, stages = run_once(Path(scratch), runner, index)
            walls.append(wall)
            bound = critical_path(segments, MAX_CONCURRENCY)
            print(f"run {index + 1}: {segments} segments, MaxConcurrency {MAX_CONCURRENCY}: wall {wall:.2f} s, "
                  f"bound {bound:.2f} s, ratio {wall / bound:.3f}")  # fmt: skip
            print("   stages: " + ", ".join(f"{name} {seconds:.2f}" for name, seconds in stages.items()))
    use_services(None)
    bound = critical_path(segments, MAX_CONCURRENCY)
    worst = max(walls)
    print(
        f"\nlatencies: storyteller {AGENT_SECONDS['storyteller']} s, context {AGENT_SECONDS['context']} s, director "
        f"{AGENT_SECONDS['director']} s, image {IMAGE_SECONDS} s, voice {VOICE_SECONDS} s"
    )
    print(f"critical-path bound: {bound:.2f} s   measured wall: best {min(walls):.2f} s, worst {worst:.2f} s")
    print(f"ratio (worst): {worst / bound:.3f}   target <= {TARGET_RATIO:.2f}: {'OK' if worst / bound <= TARGET_RATIO else 'OVER'}")
    print(f"(threads alive at the end: {threading.active_count()})")
    return 0 if worst / bound <= TARGET_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
