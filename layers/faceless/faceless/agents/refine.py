"""Refine: dedupe, multi-subject fix, then the final image prompts merged by template.

The merge costs zero tokens: `visual_prompt, shot words, setting, looks of the people named
(from the bible), palette, art style, consistency, no <avoid>`.
"""

from __future__ import annotations

from faceless.agents import prompts
from faceless.agents.dedupe import dedupe
from faceless.agents.subjects import fix_subjects
from faceless.agents.text import mentioned_people, normalise_whitespace
from faceless.models import Context, LlmUsage, Plan, Segment, VideoRequest, VisualBible
from faceless.providers.base import LanguageModel

MAX_AVOID = 4


def refine(
    llm: LanguageModel,
    segments: list[Segment],
    context: Context,
    bible: VisualBible | None,
    request: VideoRequest,
    plan: Plan,
) -> tuple[list[Segment], list[LlmUsage]]:
    segments, dedupe_usage = dedupe(llm, segments, plan)
    segments, subject_usage = fix_subjects(llm, segments, context)
    for segment in segments:
        segment.image_prompt = merge_prompt(segment, context, bible, request)
    return segments, [*dedupe_usage, *subject_usage]


def merge_prompt(segment: Segment, context: Context, bible: VisualBible | None, request: VideoRequest) -> str:
    parts = [segment.visual_prompt.rstrip(" .,;"), prompts.SHOT_WORDS[segment.shot]]
    setting = ", ".join(p for p in (context.region, context.era) if p)
    if setting:
        parts.append(f"set in {setting}")
    if bible is not None:
        looks = {c.name: c.look for c in bible.characters}
        named = mentioned_people(f"{segment.text} {segment.visual_prompt}", list(looks))
        parts.extend(f"{name}: {looks[name]}" for name in named)
        if bible.palette:
            parts.append(f"palette: {bible.palette}")
    parts.append(prompts.ART_STYLES[request.art_style])
    parts.append(prompts.CONSISTENCY[request.art_style])
    avoid = [_without_no(a) for a in context.avoid if _without_no(a)][:MAX_AVOID]
    if avoid:
        parts.append(", ".join(f"no {a}" for a in avoid))
    return normalise_whitespace(", ".join(p for p in parts if p))


def _without_no(item: str) -> str:
    item = normalise_whitespace(item)
    return item[3:] if item.lower().startswith("no ") else item
