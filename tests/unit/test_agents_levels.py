"""Optimisation levels: auto by duration, and what each level pays for."""

from __future__ import annotations

import pytest

from faceless.agents.levels import level_policy, resolve_level
from faceless.models import OptimizationLevel as L
from faceless.models import VideoRequest


@pytest.mark.parametrize(
    ("seconds", "level"),
    [(15, L.ultra_fast), (30, L.ultra_fast), (31, L.balanced), (60, L.balanced), (61, L.quality), (180, L.quality)],
)
def test_auto_picks_the_level_by_duration(seconds, level):
    assert resolve_level(VideoRequest(topic="tides", duration_seconds=seconds)) is level


def test_an_explicit_level_wins_over_the_duration():
    assert resolve_level(VideoRequest(topic="tides", duration_seconds=15, optimization_level=L.quality)) is L.quality


@pytest.mark.parametrize(
    ("seconds", "asked", "bible", "dedupe_llm", "detail"),
    [
        (30, L.auto, False, False, "light"),  # ultra_fast: the cheapest run
        (60, L.auto, False, True, "full"),  # balanced under 90 s: no bible
        (89, L.balanced, False, True, "full"),
        (90, L.balanced, True, True, "full"),  # long videos get the bible
        (20, L.quality, True, True, "full"),  # quality always does
        (120, L.ultra_fast, False, False, "light"),  # an explicit ultra_fast never pays for it
    ],
)
def test_policy_per_level(seconds, asked, bible, dedupe_llm, detail):
    policy = level_policy(VideoRequest(topic="tides", duration_seconds=seconds, optimization_level=asked))
    assert (policy.use_bible, policy.dedupe_with_llm, policy.context_detail) == (bible, dedupe_llm, detail)
    assert policy.level is not L.auto
