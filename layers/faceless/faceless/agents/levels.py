"""Optimisation levels: which agents run, decided once from the request (DESIGN §1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from faceless.models import OptimizationLevel, VideoRequest

ULTRA_FAST_MAX_SECONDS = 30
BALANCED_MAX_SECONDS = 60
BIBLE_MIN_SECONDS = 90


@dataclass(frozen=True)
class LevelPolicy:
    level: OptimizationLevel
    use_bible: bool
    dedupe_with_llm: bool
    context_detail: Literal["light", "full"]


def resolve_level(request: VideoRequest) -> OptimizationLevel:
    """The level to run at: the one asked for, or for `auto` the one the duration calls for."""
    if request.optimization_level is not OptimizationLevel.auto:
        return request.optimization_level
    if request.duration_seconds <= ULTRA_FAST_MAX_SECONDS:
        return OptimizationLevel.ultra_fast
    if request.duration_seconds <= BALANCED_MAX_SECONDS:
        return OptimizationLevel.balanced
    return OptimizationLevel.quality


def level_policy(request: VideoRequest) -> LevelPolicy:
    """What runs at the request's level.

    The Bible runs at `quality`, and for videos >= 90 s at `balanced` too (long videos drift
    most). An explicit `ultra_fast` never pays for it: the user asked for the cheapest run.
    """
    level = resolve_level(request)
    ultra_fast = level is OptimizationLevel.ultra_fast
    long_video = request.duration_seconds >= BIBLE_MIN_SECONDS
    return LevelPolicy(
        level=level,
        use_bible=level is OptimizationLevel.quality or (long_video and not ultra_fast),
        dedupe_with_llm=not ultra_fast,
        context_detail="light" if ultra_fast else "full",
    )
