"""Every prompt the agents send, in one place, kept short: each token here is paid on every call.

System prompts are short rule lists (a test keeps each under ~120 tokens); the data goes in the
user message. Art-style and consistency templates are merged into image prompts by template (zero
LLM tokens) and are ~15-20 tokens each.
"""

from __future__ import annotations

from faceless.models import ArtStyle, Shot

# Agent names: what LlmRequest.agent carries, what usage is reported under, what the offline
# model dispatches on.
STORYTELLER = "storyteller"
CONTEXT = "context"
DIRECTOR = "director"
BIBLE = "bible"
DEDUPE = "dedupe"
SUBJECTS = "subjects"
AGENTS = (STORYTELLER, CONTEXT, DIRECTOR, BIBLE, DEDUPE, SUBJECTS)

STORYTELLER_SYSTEM = """Write narration for a faceless short video.
Rules:
- text: spoken narration of about the given word count, in the given language
- hook in the first sentence; short clear sentences; no headings, emojis or stage directions
- only well-established facts; no invented numbers, dates or quotes
- title <=70 chars, desc <=200 chars, tags 3-6 hashtags, same language"""

CONTEXT_SYSTEM = """Extract the visual context of the narration.
Rules:
- era: period shown, short (e.g. "1960s"), "" if unknown
- region: place shown, short, "" if unknown
- people: named real people, full names
- avoid: <=4 short things images must not show (anachronisms, wrong places)"""

CONTEXT_LIGHT_SYSTEM = """Give the era and region the text is set in, short (e.g. "1960s", "Florida"); "" if not stated."""

DIRECTOR_SYSTEM = """You direct images for a short video: one image per numbered narration piece.
Rules:
- p: one concrete scene, 8-20 words: subject, action, setting, light
- no text, captions, logos or split screens in the scene
- s: shot type; vary it between pieces
- a person looks the same every time (follow the bible if given)
- one item per piece, same order"""

BIBLE_SYSTEM = """Write a visual bible so every image stays consistent.
Rules:
- chars: recurring named people (<=4); look: age, build, hair, clothing, <=15 words, true to the period
- setting: main place and time, <=15 words
- palette: 3-5 colours"""

DEDUPE_SYSTEM = """These image prompts are too alike. Rewrite each p so they clearly differ (subject, angle or setting) while staying true to its text. <=25 words each. Return every i."""

SUBJECTS_SYSTEM = """Each image shows several named people. Rewrite p so everyone in "who" is clearly placed (e.g. "left: A, right: B") doing what the text says. <=30 words. Return every i."""

# Merged into every image prompt, by template.
SHOT_WORDS: dict[Shot, str] = {
    Shot.wide: "wide establishing shot",
    Shot.medium: "medium shot",
    Shot.close_up: "close-up",
    Shot.aerial: "aerial view",
    Shot.detail: "macro detail shot",
}

ART_STYLES: dict[ArtStyle, str] = {
    ArtStyle.cinematic: "cinematic film still, dramatic lighting, shallow depth of field, rich color grading, 35mm",
    ArtStyle.illustration: "digital illustration, clean linework, flat shading, vibrant colors, editorial look",
    ArtStyle.anime: "anime style, cel shading, expressive characters, detailed painted backgrounds, soft glow",
    ArtStyle.watercolor: "watercolor painting, soft washes, visible paper texture, gentle edges, muted tones",
    ArtStyle.documentary: "documentary photograph, natural light, realistic detail, candid framing, true to life",
    ArtStyle.minimal: "minimalist design, simple shapes, flat colors, generous negative space, clean composition",
}

CONSISTENCY: dict[ArtStyle, str] = {
    ArtStyle.cinematic: "same actors, wardrobe and color grade in every shot, no text or watermark",
    ArtStyle.illustration: "same character designs, line weight and palette throughout, no text or watermark",
    ArtStyle.anime: "same character models, outfits and palette in every frame, no text or watermark",
    ArtStyle.watercolor: "same characters, brushwork and paper tone throughout, no text or watermark",
    ArtStyle.documentary: "same people, places and film look throughout, no captions or watermark",
    ArtStyle.minimal: "same shapes, icon style and palette throughout, no text or watermark",
}
