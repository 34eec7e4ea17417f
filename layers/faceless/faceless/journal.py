"""What each step spent: LLM usage and wall time, written beside the job in the blob store.

State payloads stay small and a retried step simply overwrites its own record, so `Finalize` can
add everything up without double counting.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from faceless.models import JobSpec, LlmUsage, StageTiming
from faceless.store import BlobStore, get_json, put_json

# Display order of stages in the metadata and the CLI summary.
STAGES = ("plan", "script", "bible", "context", "direct", "refine", "images", "voices", "music", "render", "assemble", "finalize")


def record_usage(store: BlobStore, job: JobSpec, step: str, usages: list[LlmUsage]) -> None:
    put_json(store, job.key("journal", "usage", f"{step}.json"), [u.model_dump(mode="json") for u in usages])


@contextmanager
def timed(store: BlobStore, job: JobSpec, stage: str, item: str | None = None) -> Iterator[None]:
    started = time.time()
    try:
        yield
    finally:
        name = f"{stage}-{item}" if item is not None else stage
        put_json(store, job.key("journal", "timings", f"{name}.json"), {"stage": stage, "started": started, "ended": time.time()})


def collect_usage(store: BlobStore, job: JobSpec) -> list[LlmUsage]:
    usages: list[LlmUsage] = []
    for key in store.list(job.key("journal", "usage")):
        usages.extend(LlmUsage.model_validate(u) for u in get_json(store, key))
    return usages


def collect_timings(store: BlobStore, job: JobSpec) -> list[StageTiming]:
    """Wall time per stage: from its first start to its last end (a fanned-out stage counts once)."""
    spans: dict[str, tuple[float, float]] = {}
    for key in store.list(job.key("journal", "timings")):
        record = get_json(store, key)
        first, last = spans.get(record["stage"], (record["started"], record["ended"]))
        spans[record["stage"]] = (min(first, record["started"]), max(last, record["ended"]))
    order = {name: i for i, name in enumerate(STAGES)}
    return [
        StageTiming(stage=stage, seconds=round(end - start, 3))
        for stage, (start, end) in sorted(spans.items(), key=lambda kv: (order.get(kv[0], 99), kv[0]))
    ]


def tokens_by_agent(usages: list[LlmUsage]) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = {}
    for usage in usages:
        row = table.setdefault(usage.agent, {"prompt_tokens": 0, "completion_tokens": 0, "calls": 0})
        row["prompt_tokens"] += usage.prompt_tokens
        row["completion_tokens"] += usage.completion_tokens
        row["calls"] += 1
    return table
