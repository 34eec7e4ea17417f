"""Benchmark: one offline video through the real state machine; prints wall time per stage,
tokens per agent and the real-time factor of the whole run.

    .venv/bin/python bench/offline_video.py [--duration 60] [--format 9:16]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--format", default="9:16")
    parser.add_argument("--topic", default="How honeybees tell each other where the flowers are")
    args = parser.parse_args()

    from faceless.bootstrap import build_services, use_services
    from faceless.models import VideoRequest
    from faceless.runner.embedded import EmbeddedRunner
    from faceless.runner.local import make_video
    from faceless.settings import Settings

    with tempfile.TemporaryDirectory() as home:
        services = build_services(Settings(home=Path(home)))
        use_services(services)
        started = time.monotonic()
        with EmbeddedRunner() as runner:
            run = make_video(VideoRequest(topic=args.topic, duration_seconds=args.duration, format=args.format), runner, services)
        wall = time.monotonic() - started
        if not run.succeeded:
            print(f"FAILED: {run.execution.error}: {run.execution.cause}", file=sys.stderr)
            return 1
        meta = run.metadata
        print(f"video: {meta.duration_seconds:.1f} s {meta.plan.width}x{meta.plan.height}, {meta.plan.segment_count} segments, level {meta.plan.level.value}")
        print(f"wall: {wall:.2f} s  (real-time factor {wall / meta.duration_seconds:.2f})")
        print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB "
              f"(children: {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MB)")
        for timing in meta.timings:
            print(f"  {timing.stage:<10} {timing.seconds:7.2f} s")
        total = 0
        for agent, row in meta.tokens_by_agent.items():
            total += row["prompt_tokens"] + row["completion_tokens"]
            print(f"  {agent:<12} {row['prompt_tokens']:6d} + {row['completion_tokens']:5d} tokens")
        print(f"  total tokens {total}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
