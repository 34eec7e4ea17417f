"""Multi-subject fix: image models blur two named people into one unless told where each stands.

Only segments whose text names 2+ people go to the LLM (one call for all of them); zero calls
otherwise. People come from the context and from a capitalised-name heuristic over the narration.
"""

from __future__ import annotations

from faceless.agents import prompts
from faceless.agents.call import ask, build_request
from faceless.agents.dedupe import apply_fixes
from faceless.agents.drafts import PromptFixes
from faceless.agents.text import mentioned_people, person_names
from faceless.models import Context, LlmUsage, Segment
from faceless.providers.base import LanguageModel

TOKENS_PER_ITEM = 55


def known_people(segments: list[Segment], context: Context) -> list[str]:
    narration = " ".join(s.text for s in segments)
    people: list[str] = []
    for name in [*context.people, *person_names(narration)]:
        if name and name.lower() not in {p.lower() for p in people}:
            people.append(name)
    return people


def multi_subject_segments(segments: list[Segment], context: Context) -> dict[int, list[str]]:
    """index -> the people its text names, for segments naming two or more (and with an image)."""
    people = known_people(segments, context)
    found: dict[int, list[str]] = {}
    for segment in segments:
        if segment.reuse_image_of is not None:
            continue
        named = mentioned_people(segment.text, people)
        if len(named) >= 2:
            found[segment.index] = named
    return found


def fix_subjects(llm: LanguageModel, segments: list[Segment], context: Context) -> tuple[list[Segment], list[LlmUsage]]:
    """Rewrite the prompts of multi-person segments to place each person. Returns new segments."""
    segments = [s.model_copy() for s in segments]
    crowded = multi_subject_segments(segments, context)
    if not crowded:
        return segments, []
    by_index = {s.index: s for s in segments}
    chosen = [by_index[i] for i in sorted(crowded)]
    request = build_request(
        agent=prompts.SUBJECTS,
        system=prompts.SUBJECTS_SYSTEM,
        user="\n".join(
            f"i={s.index} | who: {', '.join(crowded[s.index])} | text: {s.text} | p: {s.visual_prompt}" for s in chosen
        ),
        schema=PromptFixes,
        inputs={
            "items": [{"i": s.index, "text": s.text, "p": s.visual_prompt, "who": crowded[s.index]} for s in chosen]
        },
        max_tokens=TOKENS_PER_ITEM * len(chosen) + 20,
        temperature=0.3,
    )
    draft, usage = ask(llm, request)
    apply_fixes(segments, draft, allowed=set(crowded))
    return segments, [usage]
