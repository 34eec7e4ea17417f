"""Context analysis: narration -> {era, region, people, avoid}, a tiny JSON from a tiny prompt.

It runs in parallel with the director; its result is merged into the image prompts by template.
At `light` detail (ultra_fast) only the opening ~80 words go out and only era and region come
back; the people are then found locally with the name heuristic, for zero tokens.
"""

from __future__ import annotations

from faceless.agents import prompts
from faceless.agents.call import ask, build_request
from faceless.agents.drafts import ContextDraft, ContextLightDraft
from faceless.agents.text import normalise_whitespace, person_names
from faceless.models import Context, LlmUsage, Plan, Script
from faceless.providers.base import LanguageModel

LIGHT_WORDS = 80
MAX_PEOPLE = 8
MAX_AVOID = 4
FIELD_MAX_CHARS = 60


def analyse_context(llm: LanguageModel, script: Script, plan: Plan) -> tuple[Context, list[LlmUsage]]:
    narration = normalise_whitespace(script.narration)
    if plan.context_detail == "light":
        opening = " ".join(narration.split()[:LIGHT_WORDS])
        request = build_request(
            agent=prompts.CONTEXT,
            system=prompts.CONTEXT_LIGHT_SYSTEM,
            user=opening,
            schema=ContextLightDraft,
            inputs={"text": opening, "detail": "light"},
            max_tokens=40,
            temperature=0.0,
        )
        light, usage = ask(llm, request)
        context = Context(era=_short(light.era), region=_short(light.region), people=person_names(narration)[:MAX_PEOPLE])
        return context, [usage]
    request = build_request(
        agent=prompts.CONTEXT,
        system=prompts.CONTEXT_SYSTEM,
        user=narration,
        schema=ContextDraft,
        inputs={"text": narration, "detail": "full"},
        max_tokens=160,
        temperature=0.0,
    )
    draft, usage = ask(llm, request)
    context = Context(
        era=_short(draft.era),
        region=_short(draft.region),
        people=_unique(draft.people)[:MAX_PEOPLE],
        avoid=_unique(draft.avoid)[:MAX_AVOID],
    )
    return context, [usage]


def _short(value: str) -> str:
    value = normalise_whitespace(value).strip(" .,;\"'")
    return "" if value.lower() in {"", "unknown", "none", "n/a", "null"} else value[:FIELD_MAX_CHARS]


def _unique(values: list[str]) -> list[str]:
    found: list[str] = []
    for value in values:
        value = _short(value)
        if value and value.lower() not in {f.lower() for f in found}:
            found.append(value)
    return found
