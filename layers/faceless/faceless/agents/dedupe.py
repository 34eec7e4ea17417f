"""Deduplication of visual prompts, paying tokens only where it helps.

Similarity is rapidfuzz's token_sort_ratio (order-insensitive, over the whole prompt; a subset
match does not count as a duplicate, unlike token_set_ratio) on lower-cased, punctuation-free text:
- >= 0.95: the later segment reuses the earlier one's image (no LLM, and one image less to pay);
- > 0.8 and < 0.95: only those segments go to the LLM, in one call, to be rewritten to differ,
  and only when the plan allows it (`plan.dedupe_with_llm`);
- otherwise nothing happens, and no call is made.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rapidfuzz import fuzz, utils

from faceless.agents import prompts
from faceless.agents.call import ask, build_request
from faceless.agents.drafts import PromptFixes
from faceless.agents.text import cut_at_word, normalise_whitespace
from faceless.models import LlmUsage, Plan, Segment
from faceless.providers.base import LanguageModel

REUSE_AT = 0.95
NEAR_ABOVE = 0.80
PROMPT_MAX_CHARS = 300
TOKENS_PER_ITEM = 45


@dataclass
class Duplicates:
    reuse: dict[int, int] = field(default_factory=dict)  # later index -> earlier index
    near_pairs: list[tuple[int, int]] = field(default_factory=list)  # (earlier, later)

    @property
    def near_indexes(self) -> list[int]:
        return sorted({i for pair in self.near_pairs for i in pair})


def similarity(a: str, b: str) -> float:
    return fuzz.token_sort_ratio(a, b, processor=utils.default_process) / 100.0


def find_duplicates(segments: list[Segment]) -> Duplicates:
    """Reuse links (>= 0.95) and near-duplicate pairs (0.8-0.95) among the segments' prompts.
    A segment that reuses another's image takes no further part: it has no image of its own."""
    found = Duplicates()
    for later in range(len(segments)):
        for earlier in range(later):
            if earlier in found.reuse:
                continue
            if similarity(segments[earlier].visual_prompt, segments[later].visual_prompt) >= REUSE_AT:
                found.reuse[later] = earlier
                break
    own = [s for s in range(len(segments)) if s not in found.reuse]
    for a_pos, a in enumerate(own):
        for b in own[a_pos + 1 :]:
            score = similarity(segments[a].visual_prompt, segments[b].visual_prompt)
            if NEAR_ABOVE < score < REUSE_AT:
                found.near_pairs.append((a, b))
    return found


def dedupe(llm: LanguageModel, segments: list[Segment], plan: Plan) -> tuple[list[Segment], list[LlmUsage]]:
    """Mark image reuse and, when allowed, rewrite near-duplicate prompts (one call at most).
    Returns new segments; the input list is not modified."""
    segments = [s.model_copy(update={"reuse_image_of": None}) for s in segments]
    found = find_duplicates(segments)
    for later, earlier in found.reuse.items():
        segments[later].reuse_image_of = earlier
    if not found.near_pairs or not plan.dedupe_with_llm:
        return segments, []
    return rewrite_prompts(llm, segments, found.near_indexes)


def rewrite_prompts(llm: LanguageModel, segments: list[Segment], indexes: list[int]) -> tuple[list[Segment], list[LlmUsage]]:
    by_index = {s.index: s for s in segments}
    chosen = [by_index[i] for i in indexes]
    request = build_request(
        agent=prompts.DEDUPE,
        system=prompts.DEDUPE_SYSTEM,
        user="\n".join(f"i={s.index} | text: {s.text} | p: {s.visual_prompt}" for s in chosen),
        schema=PromptFixes,
        inputs={"items": [{"i": s.index, "text": s.text, "p": s.visual_prompt} for s in chosen]},
        max_tokens=TOKENS_PER_ITEM * len(chosen) + 20,
        temperature=0.5,
    )
    draft, usage = ask(llm, request)
    apply_fixes(segments, draft, allowed=set(indexes))
    return segments, [usage]


def apply_fixes(segments: list[Segment], fixes: PromptFixes, allowed: set[int]) -> None:
    """Take the model's rewrites for the segments we sent; ignore anything else it returned."""
    by_index = {s.index: s for s in segments}
    for fix in fixes.items:
        prompt = normalise_whitespace(fix.p)
        if fix.i in allowed and prompt:
            by_index[fix.i].visual_prompt = cut_at_word(prompt, PROMPT_MAX_CHARS)
