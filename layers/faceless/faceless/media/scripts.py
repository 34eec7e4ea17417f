"""Which script a text is written in, and whether a caption face here draws it: pure Unicode, no
font files, so the API can refuse a request whose captions would be boxes before starting it."""

from __future__ import annotations

import unicodedata
from enum import StrEnum

from faceless.errors import InvalidRequestError


class Script(StrEnum):
    latin = "latin"
    cyrillic = "cyrillic"
    sc = "sc"  # Chinese, simplified
    tc = "tc"  # Chinese, traditional
    jp = "jp"
    kr = "kr"
    arabic = "arabic"
    hebrew = "hebrew"
    greek = "greek"
    devanagari = "devanagari"
    bengali = "bengali"
    tamil = "tamil"
    telugu = "telugu"
    thai = "thai"
    lao = "lao"
    khmer = "khmer"
    myanmar = "myanmar"
    ethiopic = "ethiopic"


CJK_SCRIPTS = frozenset({Script.sc, Script.tc, Script.jp, Script.kr})
RTL_SCRIPTS = frozenset({Script.arabic, Script.hebrew})


# ------------------------------------------------------------------ which script a text is in


def language_script(language: str) -> Script:
    """The face a language's captions are set in by default (its words may still switch per script)."""
    code = language.lower()
    primary = code.split("-")[0]
    if primary == "zh":
        traditional = any(tag in code for tag in ("-tw", "-hk", "-mo", "-hant"))
        return Script.tc if traditional else Script.sc
    return {
        "ru": Script.cyrillic,
        "uk": Script.cyrillic,
        "be": Script.cyrillic,
        "bg": Script.cyrillic,
        "sr": Script.cyrillic,
        "mk": Script.cyrillic,
        "kk": Script.cyrillic,
        "ky": Script.cyrillic,
        "mn": Script.cyrillic,
        "tg": Script.cyrillic,
        "ja": Script.jp,
        "ko": Script.kr,
        "ar": Script.arabic,
        "fa": Script.arabic,
        "ur": Script.arabic,
        "ps": Script.arabic,
        "ug": Script.arabic,
        "ku": Script.arabic,
        "sd": Script.arabic,
        "he": Script.hebrew,
        "iw": Script.hebrew,
        "yi": Script.hebrew,
        "el": Script.greek,
        "grc": Script.greek,
        "hi": Script.devanagari,
        "mr": Script.devanagari,
        "ne": Script.devanagari,
        "sa": Script.devanagari,
        "kok": Script.devanagari,
        "mai": Script.devanagari,
        "bn": Script.bengali,
        "as": Script.bengali,
        "bpy": Script.bengali,
        "ta": Script.tamil,
        "te": Script.telugu,
        "th": Script.thai,
        "lo": Script.lao,
        "km": Script.khmer,
        "my": Script.myanmar,
        "am": Script.ethiopic,
        "ti": Script.ethiopic,
    }.get(primary, Script.latin)


# (first, last code point, script): the blocks, marks included, of the scripts with a face of their own
_BLOCKS = (
    (0x0370, 0x03FF, Script.greek), (0x1F00, 0x1FFF, Script.greek),
    (0x0900, 0x097F, Script.devanagari), (0xA8E0, 0xA8FF, Script.devanagari),
    (0x0980, 0x09FF, Script.bengali),
    (0x0B80, 0x0BFF, Script.tamil),
    (0x0C00, 0x0C7F, Script.telugu),
    (0x0E00, 0x0E7F, Script.thai),
    (0x0E80, 0x0EFF, Script.lao),
    (0x1000, 0x109F, Script.myanmar), (0xA9E0, 0xA9FF, Script.myanmar), (0xAA60, 0xAA7F, Script.myanmar),
    (0x1200, 0x139F, Script.ethiopic), (0x2D80, 0x2DDF, Script.ethiopic), (0xAB00, 0xAB2F, Script.ethiopic),
    (0x1780, 0x17FF, Script.khmer), (0x19E0, 0x19FF, Script.khmer),
)  # fmt: skip


def char_script(char: str) -> Script | None:
    """The script of one character, or None for neutral ones (digits, punctuation, spaces)."""
    point = ord(char)
    if 0x0400 <= point <= 0x052F or 0x1C80 <= point <= 0x1C8F or 0xA640 <= point <= 0xA69F:
        return Script.cyrillic
    if 0x0590 <= point <= 0x05FF or 0xFB1D <= point <= 0xFB4F:
        return Script.hebrew
    # Arabic and its supplements and extensions; not Syriac, Thaana, NKo, Samaritan or Mandaic, which
    # share the range but not the face
    if (0x0600 <= point <= 0x06FF or 0x0750 <= point <= 0x077F or 0x0870 <= point <= 0x08FF
            or 0xFB50 <= point <= 0xFDFF or 0xFE70 <= point <= 0xFEFF):  # fmt: skip
        return Script.arabic
    if 0x3040 <= point <= 0x30FF or 0x31F0 <= point <= 0x31FF:
        return Script.jp  # kana
    if 0x1100 <= point <= 0x11FF or 0x3130 <= point <= 0x318F or 0xAC00 <= point <= 0xD7AF:
        return Script.kr  # hangul
    if 0x3400 <= point <= 0x9FFF or 0xF900 <= point <= 0xFAFF or 0x20000 <= point <= 0x3134F:
        return Script.sc  # han: which CJK face draws it depends on the language
    for first, last, script in _BLOCKS:
        if first <= point <= last:
            return script
    category = unicodedata.category(char)
    if category.startswith("L"):
        return Script.latin
    return None


def is_cjk_char(char: str) -> bool:
    return char_script(char) in CJK_SCRIPTS or 0x3000 <= ord(char) <= 0x303F or 0xFF00 <= ord(char) <= 0xFFEF


# languages written in a script no caption face here draws, with one of its letters
_UNDRAWN_LANGUAGE_LETTER = {
    "ka": "ა", "hy": "ա", "hyw": "ա", "gu": "અ", "kn": "ಅ", "ml": "അ", "pa": "ਅ", "or": "ଅ", "si": "අ",
    "chr": "Ꭰ",
}  # fmt: skip


def undrawn_letters(text: str, language: str = "") -> str:
    """The letters of `text` (or, given a language written in such a script, one of its letters) that
    no caption face draws: scripts without a face of their own fall to Anton, which has Latin only
    (Georgian, Armenian, Gujarati, Kannada, Malayalam, Gurmukhi, Odia, Sinhala, Cherokee...)."""
    sample = text + _UNDRAWN_LANGUAGE_LETTER.get(language.lower().split("-")[0], "")
    found = {
        char for char in sample
        if char_script(char) is Script.latin and not unicodedata.name(char, "LATIN").startswith("LATIN")
    }  # fmt: skip
    return "".join(sorted(found))


def undrawable_captions(script: str | None, language: str) -> tuple[str, str] | None:
    """(the request field to blame, "script" or "language", and why) when a video's captions would be
    boxes; None when every letter has a face. The API, the CLI and a batch's rows all ask this."""
    letters = undrawn_letters(script or "", language)
    if not letters:
        return None
    scripts = sorted({unicodedata.name(char).split()[0].title() for char in letters})
    field = "script" if script and undrawn_letters(script) else "language"
    return field, (
        f"captions cannot be drawn in {' or '.join(scripts)} script: no caption font here has its letters "
        f"({letters[:8]}); the caption faces cover Latin, Cyrillic, Greek, CJK, Arabic, Hebrew, Devanagari, "
        "Bengali, Tamil, Telugu, Thai, Lao, Khmer, Myanmar and Ethiopic"
    )


def check_captions_drawable(script: str | None, language: str) -> None:
    """Refuse, before anything is made, a video whose captions would be boxes: InvalidRequestError."""
    if problem := undrawable_captions(script, language):
        raise InvalidRequestError(problem[1])


def text_script(text: str, language: str) -> Script:
    """The face a word is set in: its first letter's script (han follows the language's CJK face)."""
    default = language_script(language)
    for char in text:
        script = char_script(char)
        if script is None:
            continue
        if script is Script.sc and default in CJK_SCRIPTS:
            return default
        if script is Script.jp and default is Script.kr:
            return Script.jp
        return script
    return default  # digits and punctuation only: the language's face
