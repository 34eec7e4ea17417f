"""Visual Bible: a character and setting sheet, so every image shows the same people and place.

Only worth its tokens at `quality` or for long videos (`plan.use_bible`); it runs before the
director, which receives it.
"""

from __future__ import annotations

from faceless.agents import prompts
from faceless.agents.call import ask, build_request
from faceless.agents.drafts import BibleDraft
from faceless.agents.text import cut_at_word, normalise_whitespace
from faceless.models import CharacterSheet, LlmUsage, Plan, Script, VisualBible
from faceless.providers.base import LanguageModel

MAX_CHARACTERS = 4
LOOK_MAX_CHARS = 120
FIELD_MAX_CHARS = 120


def needs_bible(plan: Plan) -> bool:
    return plan.use_bible


def write_bible(llm: LanguageModel, script: Script, plan: Plan) -> tuple[VisualBible, list[LlmUsage]]:
    narration = normalise_whitespace(script.narration)
    request = build_request(
        agent=prompts.BIBLE,
        system=prompts.BIBLE_SYSTEM,
        user=narration,
        schema=BibleDraft,
        inputs={"text": narration},
        max_tokens=60 * MAX_CHARACTERS + 80,
        temperature=0.3,
    )
    draft, usage = ask(llm, request)
    characters: list[CharacterSheet] = []
    for char in draft.chars:
        name, look = normalise_whitespace(char.name), cut_at_word(char.look, LOOK_MAX_CHARS)
        if name and look and name.lower() not in {c.name.lower() for c in characters}:
            characters.append(CharacterSheet(name=name, look=look))
    bible = VisualBible(
        characters=characters[:MAX_CHARACTERS],
        setting=cut_at_word(draft.setting, FIELD_MAX_CHARS),
        palette=cut_at_word(draft.palette, FIELD_MAX_CHARS),
    )
    return bible, [usage]
