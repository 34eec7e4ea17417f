"""The offline language model: deterministic and honest (DESIGN §4).

It answers each agent from `request.inputs` (the same data the prompt carries), never from the
prose, and it invents no facts:
- storyteller: a plainly-labelled OUTLINE narration (generic structure sentences around the
  topic, sized to the target word count); English only, whatever the requested language;
- context: era and region only when literally written (a year -> its decade, known place names),
  people = capitalised multi-word names found in the text, nothing to avoid;
- director: prompts made of each piece's own content words, shots cycled by simple rules;
- bible: the people found, with a neutral look; the setting from the era/region found;
- dedupe / subjects: deterministic rewrites (the segment's own distinct words; "left: A, right: B").
Usage is exact: prompt tokens of the messages, completion tokens of the JSON it returns.
"""

from __future__ import annotations

import itertools
import re
import time
from typing import Any, Callable

from pydantic import BaseModel, ValidationError

from faceless.agents import prompts
from faceless.agents.director import default_shot, prompt_from_words
from faceless.agents.text import (
    cut_at_word,
    hashtag,
    normalise_whitespace,
    person_names,
    salient_words,
    top_keywords,
    word_count,
)
from faceless.errors import ProviderRejectedError
from faceless.models import LlmUsage, Shot, VideoRequest
from faceless.providers.base import Completion, LlmRequest, T
from faceless.providers.llm.tokens import count_chat_tokens, count_text_tokens


def english_outline_note(request: VideoRequest, remedy: str) -> str | None:
    """What to tell a user whose topic this model will narrate in another language than English: it
    writes its outline in English, and the request's voice reads it. `remedy` says what to do instead
    (it differs between the CLI and the API)."""
    if not request.topic or request.language.split("-")[0].lower() == "en":
        return None
    return (
        f"the offline model writes its outline in English, and the {request.language} voice reads it; "
        f"for a narration in {request.language}, {remedy}"
    )


# --------------------------------------------------------------------------- the outline

# The topic is named once, quoted: a topic is often a question or a clause ("How bees talk"),
# which reads badly when dropped into a sentence as a noun.
OUTLINE_OPENING = "This is an outline on the topic: {topic}."
OUTLINE_CLOSING = "Finally, a short recap closes this outline."
OUTLINE_BODY = (
    "First, what the topic is about, put in plain words.",
    "Next, why it matters and who it touches.",
    "Then, where the story begins.",
    "After that, the main ideas behind it, one at a time.",
    "Here the outline turns to the people and places tied to the subject.",
    "A good next step is to picture how it looks up close.",
    "Then comes the question most people ask first about it.",
    "This part covers common misunderstandings and how to avoid them.",
    "Next, how the subject changed over time, from its start to today.",
    "After that, an everyday example that makes the idea easy to see.",
    "This section separates what is well known from what is still debated.",
    "Then, the turning points that shaped it.",
    "Next, the words and terms worth knowing on this subject.",
    "Here the outline pauses on one surprising side of the subject.",
    "After that, how it connects to other subjects and fields.",
    "This part looks at the sources and methods used to study it.",
    "Then, the open questions and challenges that remain.",
    "Next, what the subject means for ordinary people.",
    "Here, a simple comparison helps to hold the idea in mind.",
    "After that, where to check the facts and learn more.",
    "This section lists questions a curious viewer could explore.",
    "Then, a closer look at details that are easy to miss.",
    "Next, the bigger picture: where it fits in the wider world.",
    "Here the outline suggests a moment to reflect on what came before.",
    "After that, the strongest arguments on each side, stated fairly.",
    "This part names the sources worth trusting and why.",
    "Then, the practical side: what someone could do with this knowledge.",
    "Next, the ideas most often confused with it.",
    "Here, the outline revisits the opening question with fresh eyes.",
    "After that, what experts would add to a short overview like this.",
    "This section marks the limits of what a short video can cover.",
    "Then, the links between the earlier points, drawn together.",
    "Next, a reminder of the key terms introduced along the way.",
    "Here, a pointer to deeper reading for anyone who wants more.",
)
DEEPER_PREFIX = "In more depth: "

# --------------------------------------------------------------------------- context words

_ERA_WORDS = (
    "prehistoric", "ancient", "classical", "medieval", "Renaissance", "Victorian", "Edwardian",
    "Stone Age", "Bronze Age", "Iron Age", "Middle Ages", "Industrial Revolution", "Cold War",
)
_REGIONS = (
    "Africa", "Asia", "Europe", "North America", "South America", "Latin America", "Antarctica",
    "Australia", "Oceania", "Middle East", "Arctic", "Caribbean", "Mediterranean", "Scandinavia",
    "Siberia", "Sahara", "Amazon", "Himalayas", "Pacific", "Atlantic", "Balkans", "Patagonia",
    "United States", "America", "Canada", "Mexico", "Brazil", "Argentina", "Chile", "Peru", "Colombia",
    "Cuba", "United Kingdom", "Britain", "England", "Scotland", "Ireland", "Wales", "France", "Germany",
    "Italy", "Spain", "Portugal", "Netherlands", "Belgium", "Switzerland", "Austria", "Poland", "Greece",
    "Sweden", "Norway", "Denmark", "Finland", "Iceland", "Russia", "Ukraine", "Turkey", "Egypt",
    "Morocco", "Nigeria", "Kenya", "Ethiopia", "South Africa", "Israel", "Iran", "Iraq", "Arabia",
    "India", "Pakistan", "China", "Japan", "Korea", "Vietnam", "Thailand", "Indonesia", "Philippines",
    "Mongolia", "New Zealand", "Rome", "Athens", "Paris", "London", "Berlin", "Moscow", "Venice",
    "Florence", "Madrid", "Vienna", "Istanbul", "Constantinople", "Jerusalem", "Cairo", "Babylon",
    "Mesopotamia", "Persia", "Beijing", "Tokyo", "Kyoto", "Delhi", "New York", "Washington",
    "California", "Texas", "Florida", "Hollywood", "Chicago", "Boston", "Moon", "Mars",
)
_YEAR = re.compile(r"(?<![\d.,])(1[0-9]{3}|20[0-9]{2})s?(?![\d.,]\d)")
_CENTURY = re.compile(r"\b\d{1,2}(?:st|nd|rd|th) century\b", re.IGNORECASE)
_ANGLES = ("from a low angle", "from above", "from the side", "in silhouette", "at a distance")


def find_era(text: str) -> str:
    """The era only as written: years -> decades, 'the 19th century', or a known era word."""
    decades = sorted({int(y) // 10 * 10 for y in _YEAR.findall(text)})
    if decades:
        return f"{decades[0]}s" if len(decades) == 1 else f"{decades[0]}s–{decades[-1]}s"
    century = _CENTURY.search(text)
    if century:
        return century.group(0)
    return _first_mentioned(text, _ERA_WORDS, flags=re.IGNORECASE)


def find_region(text: str) -> str:
    return _first_mentioned(text, _REGIONS)


def _first_mentioned(text: str, words: tuple[str, ...], flags: int = 0) -> str:
    best: tuple[int, str] | None = None
    for word in sorted(words, key=len, reverse=True):  # longest first: "South Africa" over "Africa"
        match = re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, flags)
        if match and (best is None or match.start() < best[0]):
            best = (match.start(), word)
    return best[1] if best else ""


# --------------------------------------------------------------------------- the model


class OfflineLanguageModel:
    name = "offline"
    model = "faceless-offline-1"

    def __init__(self) -> None:
        self._answers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            prompts.STORYTELLER: _storyteller,
            prompts.CONTEXT: _context,
            prompts.DIRECTOR: _director,
            prompts.BIBLE: _bible,
            prompts.DEDUPE: _dedupe,
            prompts.SUBJECTS: _subjects,
        }

    def complete(self, request: LlmRequest[T]) -> Completion[T]:
        started = time.perf_counter()
        answer_for = self._answers.get(request.agent)
        if answer_for is None:
            raise ProviderRejectedError(f"offline model: no answer for agent {request.agent!r}")
        try:
            answer = answer_for(request.inputs)
        except (KeyError, TypeError) as error:
            raise ProviderRejectedError(f"offline model: {request.agent} inputs are missing {error}") from None
        value = _validate(request.schema_model, answer, request.agent)
        usage = LlmUsage(
            agent=request.agent,
            provider=self.name,
            model=self.model,
            prompt_tokens=count_chat_tokens(request.messages),
            completion_tokens=count_text_tokens(value.model_dump_json()),
            seconds=round(time.perf_counter() - started, 6),
        )
        return Completion[request.schema_model](value=value, usage=usage)  # type: ignore[name-defined]


def _validate(schema: type[BaseModel], answer: dict[str, Any], agent: str) -> Any:
    """Fit the answer to the schema asked for (e.g. context's light schema has no people)."""
    fields = schema.model_fields
    try:
        return schema.model_validate({key: value for key, value in answer.items() if key in fields})
    except ValidationError as error:
        raise ProviderRejectedError(f"offline model: cannot answer {agent} with {schema.__name__}: {error}") from None


def _storyteller(inputs: dict[str, Any]) -> dict[str, Any]:
    topic = normalise_whitespace(str(inputs["topic"])).rstrip(" .!?;:")
    target = int(inputs["words"])
    opening = OUTLINE_OPENING.format(topic=topic)
    closing = OUTLINE_CLOSING.format(topic=topic)
    body: list[str] = []
    total = word_count(opening) + word_count(closing)
    for round_, template in ((r, t) for r in itertools.count() for t in OUTLINE_BODY):
        sentence = template.format(topic=topic)
        if round_:
            sentence = DEEPER_PREFIX + sentence[0].lower() + sentence[1:]
        grown = total + word_count(sentence)
        if grown > target:
            if abs(grown - target) < abs(total - target):  # overshoot less than we undershoot
                body.append(sentence)
            break
        body.append(sentence)
        total = grown
    narration = " ".join([opening, *body, closing])
    title_topic = cut_at_word(topic, 56)
    keywords = salient_words(topic, limit=4)
    return {
        "title": f"{title_topic[:1].upper()}{title_topic[1:]}: an outline",
        # the topic quoted as typed: "about How bees..." would read as a typo mid-sentence
        "desc": (
            f"An outline narration on “{cut_at_word(topic, 120)}”: its structure only, written offline, no facts added."
        ),
        "tags": [hashtag(w) for w in keywords] + ["#Outline"],
        "text": narration,
    }


def _context(inputs: dict[str, Any]) -> dict[str, Any]:
    text = str(inputs["text"])
    return {"era": find_era(text), "region": find_region(text), "people": person_names(text), "avoid": []}


def _director(inputs: dict[str, Any]) -> dict[str, Any]:
    items = []
    previous: Shot | None = None
    for index, piece in enumerate(inputs["pieces"]):
        shot = _shot_for(index, str(piece), previous)
        items.append({"p": prompt_from_words(str(piece), language=str(inputs.get("language", "en"))), "s": shot.value})
        previous = shot
    return {"items": items}


def _shot_for(index: int, piece: str, previous: Shot | None) -> Shot:
    """Cycle the shots; people get medium or close-up; never the same shot twice in a row."""
    shot = Shot.wide if index == 0 else default_shot(index)
    if index and person_names(piece) and shot in (Shot.wide, Shot.aerial, Shot.detail):
        shot = Shot.medium if previous is not Shot.medium else Shot.close_up
    if shot is previous:
        shot = default_shot(index + 1)
    return shot


def _bible(inputs: dict[str, Any]) -> dict[str, Any]:
    text = str(inputs["text"])
    place = ", ".join(p for p in (find_region(text), find_era(text)) if p)
    setting = place or "as described in the narration: " + ", ".join(top_keywords(text, 3))
    return {
        "chars": [{"name": name, "look": "person, neutral clothing"} for name in person_names(text)[:4]],
        "setting": setting,
        "palette": "neutral, balanced natural colours",
    }


def _dedupe(inputs: dict[str, Any]) -> dict[str, Any]:
    items = inputs["items"]
    fixes = []
    for position, item in enumerate(items):
        others = " ".join(f"{o['text']} {o['p']}" for o in items if o is not item).lower()
        own = [w for w in salient_words(item["text"]) if w.lower() not in others and w.lower() not in item["p"].lower()]
        extra = "featuring " + ", ".join(own[:4]) if own else _ANGLES[position % len(_ANGLES)]
        fixes.append({"i": item["i"], "p": f"{item['p']}, {extra}"})
    return {"items": fixes}


def _subjects(inputs: dict[str, Any]) -> dict[str, Any]:
    return {"items": [{"i": item["i"], "p": f"{item['p']}, {_placement(item['who'])}"} for item in inputs["items"]]}


def _placement(who: list[str]) -> str:
    if len(who) == 2:
        return f"left: {who[0]}, right: {who[1]}"
    if len(who) == 3:
        return f"left: {who[0]}, center: {who[1]}, right: {who[2]}"
    return "group side by side: " + ", ".join(who)
