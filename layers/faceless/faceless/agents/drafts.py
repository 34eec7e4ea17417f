"""The structured-output schemas the agents ask a language model for ("drafts").

They are sent as JSON schemas with every call, so they are small: short field names, every field
required, no defaults and no length constraints (strict structured outputs accept neither well).
The agents clean and bound the values themselves.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from faceless.models import Shot


class Draft(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StoryDraft(Draft):
    title: str
    desc: str
    tags: list[str]
    text: str  # the narration


class ContextDraft(Draft):
    era: str
    region: str
    people: list[str]
    avoid: list[str]


class ContextLightDraft(Draft):
    era: str
    region: str


class ShotDraft(Draft):
    p: str  # visual prompt
    s: Shot


class DirectionDraft(Draft):
    items: list[ShotDraft]  # one per numbered narration piece, in order


class CharacterDraft(Draft):
    name: str
    look: str


class BibleDraft(Draft):
    chars: list[CharacterDraft]
    setting: str
    palette: str


class PromptFix(Draft):
    i: int  # segment index
    p: str  # rewritten visual prompt


class PromptFixes(Draft):
    items: list[PromptFix]
