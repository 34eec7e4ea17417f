"""Visual director: narration -> exactly `plan.segment_count` segments {text, visual_prompt, shot}.

We split the narration ourselves (sentence-aware, balanced by word count) and ask the model only
for a prompt and a shot per numbered piece. That is cheaper (the narration is not echoed back in
the completion, the priciest tokens) and safer: the pieces reproduce the whole narration in order
by construction, whatever the model answers. Missing or blank answers get a prompt made from the
piece's own words, so no segment is ever dropped.
"""

from __future__ import annotations

from faceless.agents import prompts
from faceless.agents.call import ask, build_request
from faceless.agents.drafts import DirectionDraft
from faceless.agents.text import cut_at_word, normalise_whitespace, salient_words, split_narration
from faceless.errors import ProviderResponseError
from faceless.models import LlmUsage, Plan, Script, Segment, Shot, VideoRequest, VisualBible
from faceless.providers.base import LanguageModel

SHOT_CYCLE = (Shot.wide, Shot.medium, Shot.close_up, Shot.detail, Shot.aerial)
PROMPT_MAX_CHARS = 300
TOKENS_PER_ITEM = 45  # a 20-word prompt, a shot and the JSON around them


def direct(
    llm: LanguageModel,
    script: Script,
    plan: Plan,
    request: VideoRequest,
    bible: VisualBible | None,
) -> tuple[list[Segment], list[LlmUsage]]:
    pieces = split_narration(script.narration, plan.segment_count)
    if not pieces:
        raise ProviderResponseError("director: the narration is empty")
    numbered = "\n".join(f"{n}. {piece}" for n, piece in enumerate(pieces, start=1))
    header = [f"Style: {request.art_style.value}"]
    if bible is not None:
        header.append(f"Bible: {compact_bible(bible)}")
    llm_request = build_request(
        agent=prompts.DIRECTOR,
        system=prompts.DIRECTOR_SYSTEM,
        user="\n".join(header) + f"\nPieces:\n{numbered}",
        schema=DirectionDraft,
        inputs={
            "pieces": pieces,
            "style": request.art_style.value,
            "language": request.language,  # the offline model leaves out the language's common words
            "bible": bible.model_dump(mode="json") if bible is not None else None,
        },
        max_tokens=TOKENS_PER_ITEM * len(pieces) + 30,
        temperature=0.5,
    )
    draft, usage = ask(llm, llm_request)
    segments = []
    for index, piece in enumerate(pieces):
        item = draft.items[index] if index < len(draft.items) else None
        prompt = normalise_whitespace(item.p) if item is not None else ""
        segments.append(
            Segment(
                index=index,
                text=piece,
                visual_prompt=cut_at_word(prompt, PROMPT_MAX_CHARS) if prompt else prompt_from_words(piece, language=request.language),
                shot=item.s if item is not None else default_shot(index),
            )
        )
    return segments, [usage]


def compact_bible(bible: VisualBible) -> str:
    """The bible in one short line: `Name: look; ...; setting: ...; palette: ...`."""
    parts = [f"{c.name}: {c.look}" for c in bible.characters]
    if bible.setting:
        parts.append(f"setting: {bible.setting}")
    if bible.palette:
        parts.append(f"palette: {bible.palette}")
    return "; ".join(parts)


def prompt_from_words(text: str, limit: int = 10, language: str = "en") -> str:
    """A plain prompt from a piece's own content words (no invented detail)."""
    words = salient_words(text, limit=limit, language=language)
    return "scene of " + ", ".join(words) if words else "scene of " + cut_at_word(text, 80)


def default_shot(index: int) -> Shot:
    return SHOT_CYCLE[index % len(SHOT_CYCLE)]
