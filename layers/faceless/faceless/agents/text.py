"""Plain-text helpers the agents (and the offline model) share: word counts, sentence-aware
splitting, salient words, and a capitalised-name heuristic. Deterministic, zero tokens."""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass
from itertools import accumulate

import regex
from stop_words import StopWordError, get_stop_words

# --------------------------------------------------------------------------- words

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
# Scripts written without spaces between words (Chinese, Japanese, Thai, Lao, Myanmar, Khmer): ICU's
# dictionary word breaker finds their words. Korean is written with spaces.
_UNSPACED = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Myanmar}\p{Khmer}]")
_IDEOGRAPHIC = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}]")  # dense: one character says as much as two
_WORDLIKE = regex.compile(r"[\p{L}\p{N}]")
_OPENING_MARKS = regex.compile(r"[\p{Ps}\p{Pi}\s]+")  # an opening bracket or quote goes with the word after it
# a letter or digit, then letters, marks (the vowel signs of Hindi, Bengali, Thai...: not \w to `re`),
# digits, apostrophes and hyphens, ending on a letter, mark or digit
_WORD = regex.compile(r"[\p{L}\p{N}](?:[\p{L}\p{M}\p{N}'’-]*[\p{L}\p{M}\p{N}])?")

# Words too common to name a subject: left out of key words, hashtags, picture prompts and card headlines
STOP_WORDS = frozenset(
    """
    a about above after again against all almost also although always am among an and another any anyone
    anything are aren't around as at away back be became because become becomes been before being below
    between both but by came can can't cannot could couldn't did didn't do does doesn't doing don't done
    down during each either else enough even ever every few finally first for from further get gets
    getting give given go goes going gone got had hadn't has hasn't have haven't having he he'd he'll
    he's her here here's hers herself him himself his how how's however i i'd i'll i'm i've if in into
    is isn't it it's its itself just keep kept know known later least let let's like likely made make
    makes many may maybe me might more most much must mustn't my myself near need never new next no nor
    not nothing now of off often on once one only onto or other others ought our ours ourselves out over
    own part per perhaps put quite rather really said same say says see seem seems seen shall shan't she
    she'd she'll she's should shouldn't since so some something sometimes soon still such take than that
    that's the their theirs them themselves then there there's these they they'd they'll they're they've
    thing things this those though three through thus till to today too took toward towards two under
    until up upon us use used using very via was wasn't way we we'd we'll we're we've well went were
    weren't what what's whatever when when's where where's whether which while who who's whom whose why
    why's will with within without won't would wouldn't yet you you'd you'll you're you've your yours
    yourself yourselves
    """.split()
)


def primary_language(language: str) -> str:
    """The language subtag of a tag: "pt-BR", "pt_br" -> "pt"."""
    return language.strip().lower().replace("_", "-").split("-")[0]


@functools.lru_cache(maxsize=64)
def stop_words_for(language: str) -> frozenset[str]:
    """The common words of `language` ("es", "pt-BR"...) from the `stop-words` lists (33 languages),
    with English's always: names, brands and loanwords mix English into any script. A language the
    lists lack gets English's alone."""
    code = primary_language(language)
    code = {"no": "nb", "nn": "nb"}.get(code, code)  # the lists know Norwegian as Bokmål
    if code == "en":
        return STOP_WORDS
    try:
        own = get_stop_words(code)
    except StopWordError:
        return STOP_WORDS
    return STOP_WORDS | {word.lower() for word in own}


def normalise_whitespace(text: str) -> str:
    return " ".join(text.split())


# Emoji and the marks that build them (skin tones, flags, keycaps, joiners, variation selectors). No
# caption face we ship draws them, so burned in they would be boxes or whatever the machine's fallback
# font has, and a voice reads their names aloud ("grinning face"). ©, ® and ™ are kept: the caption
# fonts have them. `re` has no Unicode properties, hence `regex`.
_PICTOGRAPH_PATTERN = (
    r"(?:(?![\u00A9\u00AE\u2122])\p{Extended_Pictographic}|\p{Emoji_Modifier}|\p{Regional_Indicator}"
    r"|[\u200D\uFE0E\uFE0F\u20E3\U000E0020-\U000E007F])"
)
_PICTOGRAPH = regex.compile(_PICTOGRAPH_PATTERN)
# "the flowers 🌸." -> "the flowers." rather than a lone "." as the last caption word
_PICTOGRAPHS_BEFORE_MARK = regex.compile(rf"\s+{_PICTOGRAPH_PATTERN}+(?=[.,!?;:…。，！？；：])")


def without_pictographs(text: str) -> str:
    """`text` with emoji taken out (see above); other whitespace is left as it was."""
    return _PICTOGRAPH.sub("", _PICTOGRAPHS_BEFORE_MARK.sub("", text))


def has_words(text: str) -> bool:
    """Whether `text` has anything to say: a letter or a digit once emoji are taken out."""
    return _WORD.search(without_pictographs(text)) is not None


def is_unspaced(text: str) -> bool:
    """Whether `text` holds letters of a script written without spaces between words."""
    return _UNSPACED.search(text) is not None


@functools.lru_cache(maxsize=4096)
def unspaced_words(token: str) -> tuple[str, ...]:
    """`token` cut into its words if it holds a script written without spaces (蜜蜂|通过|复杂|的|舞蹈,
    ผึ้ง|สื่อสาร|กัน), by ICU's word breaker and its dictionaries; punctuation stays with the word before
    it, an opening bracket or quote with the word after it, so the pieces joined are the token. Any
    other token comes back whole."""
    if not is_unspaced(token):
        return (token,)
    from icu4py.breakers import WordBreaker  # only such text needs ICU (its data is 33 MB to map)

    pieces: list[str] = []
    opening = ""
    for segment in WordBreaker(token, "und"):
        if _WORDLIKE.search(segment):
            pieces.append(opening + segment)
            opening = ""
        elif pieces and not _OPENING_MARKS.fullmatch(segment):
            pieces[-1] += segment
        else:
            opening += segment
    if opening:
        if pieces:
            pieces[-1] += opening
        else:
            pieces.append(opening)
    return tuple(pieces)


_KANA = regex.compile(r"[\p{Hiragana}\p{Katakana}]")
# a Japanese word of hiragana alone (a particle, an ending), or a kanji word with a hiragana ending (an
# inflected verb, adjective or adverb: 示し, 互いに)
_NOT_A_JAPANESE_SUBJECT = regex.compile(r"[\p{Hiragana}ー]+|.*\p{Han}.*\p{Hiragana}")
_INSIDE_A_NAME_OR_NUMBER = regex.compile(r"[\p{Latin}\p{N}]")


@functools.lru_cache(maxsize=1)
def _japanese_phrase_parser():  # noqa: ANN202
    import budoux  # only Japanese needs it

    return budoux.load_default_japanese_parser()


@functools.lru_cache(maxsize=4096)
def reading_units(token: str) -> tuple[str, ...]:
    """Where a caption or a title may break a token of a script written without spaces: Japanese (it has
    kana) between its phrases, a word with the particles and endings that lean on it (ミツバチは | 複雑な
    | ダンスで: BudouX, Google's phrase breaker made for line breaking; ICU's words split 見|つけ|た),
    never inside a number or a Latin name; other scripts between their words (`unspaced_words`). The
    pieces joined are the token."""
    if not _KANA.search(token):
        return unspaced_words(token)
    pieces: list[str] = []
    for phrase in _japanese_phrase_parser().parse(token):
        joins_previous = pieces and (
            not _WORDLIKE.search(phrase)
            or _INSIDE_A_NAME_OR_NUMBER.match(phrase[0]) and _INSIDE_A_NAME_OR_NUMBER.match(pieces[-1][-1])
        )
        if joins_previous:
            pieces[-1] += phrase
        else:
            pieces.append(phrase)
    return tuple(pieces)


def is_japanese_grammar(word: str) -> bool:
    """A Japanese word that names no subject: hiragana alone (は, ます, した), or a kanji word with a
    hiragana ending (示し "shows", 互いに "each other": verbs, adjectives and adverbs as inflected)."""
    return _NOT_A_JAPANESE_SUBJECT.fullmatch(word) is not None


def word_count(text: str) -> int:
    """Spoken words, as a measure of time aloud: whitespace tokens; Chinese, Japanese and Korean about one
    word per two characters (syllables), and a token of another script written without spaces (Thai,
    Lao, Khmer, Myanmar) its words (`unspaced_words`), so balancing and sizing work for them."""
    total = 0
    for token in text.split():
        cjk = len(_CJK.findall(token))
        if cjk:
            total += max(1, (cjk + 1) // 2)
        else:
            total += len(unspaced_words(token)) if is_unspaced(token) else 1
    return total


def words_of(text: str) -> list[str]:
    """Word tokens without surrounding punctuation (possessive 's dropped); the words of a script
    written without spaces are found by `unspaced_words`."""
    words = []
    for token in _WORD.findall(text):
        for word in unspaced_words(token):
            stripped = regex.sub(r"^[^\p{L}\p{N}]+|[^\p{L}\p{M}\p{N}]+$", "", word)
            if stripped:
                words.append(re.sub(r"['’]s$", "", stripped))
    return words


def reading_length(word: str) -> int:
    """A word's length for telling content words from short common ones: a Chinese or Japanese
    character counts two (蜜蜂, a bee, is as long as "bees")."""
    return len(word) + len(_IDEOGRAPHIC.findall(word))


# ISO 639-1 codes of the languages Snowball has a stemmer for, and the stemmer's name
_SNOWBALL = {
    "ar": "arabic", "hy": "armenian", "eu": "basque", "ca": "catalan", "cs": "czech", "da": "danish", "nl": "dutch",
    "en": "english", "eo": "esperanto", "et": "estonian", "fi": "finnish", "fr": "french", "de": "german",
    "el": "greek", "hi": "hindi", "hu": "hungarian", "id": "indonesian", "ga": "irish", "it": "italian",
    "lt": "lithuanian", "ne": "nepali", "nb": "norwegian", "nn": "norwegian", "no": "norwegian", "fa": "persian",
    "pl": "polish", "pt": "portuguese", "ro": "romanian", "ru": "russian", "sr": "serbian", "es": "spanish",
    "sv": "swedish", "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}  # fmt: skip


class _Stems:
    """A language's word stems (Snowball's stemmers: tanzen, tanzt -> tanz; النحلة, النحل -> نحل), so that
    the forms of one word count as one and a clitic form of a common word (بعضه) is known as common."""

    def __init__(self, language: str) -> None:
        import snowballstemmer

        name = _SNOWBALL.get(primary_language(language))
        self._stemmer = snowballstemmer.stemmer(name) if name else None
        self.stop_words = stop_words_for(language)
        self._stopped = frozenset(self.of(word) for word in self.stop_words)

    def of(self, word: str) -> str:
        folded = word.lower()
        return self._stemmer.stemWord(folded) if self._stemmer is not None else folded

    def is_common(self, word: str, stem: str) -> bool:
        """`stem`: `self.of(word)`, which the caller has already."""
        return word.lower() in self.stop_words or stem in self._stopped


@functools.lru_cache(maxsize=64)
def _stems_for(language: str) -> _Stems:
    return _Stems(language)


def _content_words(text: str, language: str, min_length: int) -> list[tuple[str, str]]:
    """(word, stem) of the words that may name a subject: not common, not a number, long enough."""
    stems = _stems_for(language)
    found = []
    for word in words_of(text):
        if reading_length(word) < min_length or word.isdigit() or is_japanese_grammar(word):
            continue
        stem = stems.of(word)
        if not stems.is_common(word, stem):
            found.append((word, stem))
    return found


def salient_words(text: str, limit: int | None = None, language: str = "en") -> list[str]:
    """Content words in order of first appearance, one form of each word (bees, bee: bees)."""
    seen: set[str] = set()
    found: list[str] = []
    for word, stem in _content_words(text, language, 3):
        if stem in seen:
            continue
        seen.add(stem)
        found.append(word)
        if limit is not None and len(found) >= limit:
            break
    return found


def top_keywords(text: str, count: int, language: str = "en") -> list[str]:
    """The `count` most frequent content words (length >= 4), the forms of a word counted together and
    named by its first; ties broken by first appearance."""
    words = _content_words(text, language, 4)
    counts = Counter(stem for _, stem in words)
    first: dict[str, str] = {}
    for word, stem in words:
        first.setdefault(stem, word)
    order = list(first)
    ranked = sorted(order, key=lambda stem: (-counts[stem], order.index(stem)))
    return [first[stem] for stem in ranked[:count]]


def hashtag(word: str) -> str:
    cleaned = regex.sub(r"[^\p{L}\p{M}\p{N}_]", "", word)  # keeps मधुमक्खियाँ's vowel signs
    return f"#{cleaned[:1].upper()}{cleaned[1:]}" if cleaned else ""


def cut_at_word(text: str, limit: int) -> str:
    """`text` shortened to at most `limit` characters, at a word boundary."""
    text = normalise_whitespace(text)
    if len(text) <= limit:
        return text
    cut = text[: limit + 1]
    space = cut.rfind(" ")
    cut = cut[:space] if space > limit // 2 else text[:limit]
    return cut.rstrip(" ,;:-–—")


# --------------------------------------------------------------------------- sentences

_ABBREVIATIONS = frozenset("mr mrs ms dr st jr sr vs etc prof gen sgt lt col capt mt ft no approx".split())
# full stops of the scripts that write one: Latin's, the danda (Hindi, Bengali...), Urdu's, Arabic's
# question mark, Ethiopic's, Armenian's, Myanmar's, Khmer's; CJK's need no space after them
SENTENCE_MARKS = ".!?…।॥۔؟።፧։။។"
CJK_SENTENCE_MARKS = "。！？"
CLAUSE_MARKS = ",;:，、；：،؛፣၊"  # commas, semicolons and colons: Latin's, CJK's, Arabic's, Ethiopic's, Myanmar's
_SENTENCE_END = re.compile(rf"[{SENTENCE_MARKS}]+[\"'”’)\]]*(?=\s|$)|[{CJK_SENTENCE_MARKS}]+[”」』）)]*")
_CLAUSE_END = re.compile(rf"[{CLAUSE_MARKS}](?=\s|[^\s])|\s[—–-]\s")


# A sentence over twice the mean piece length is cut at a clause; shorter ones stay whole, since
# a piece that ends mid-sentence reads worse than a piece a little longer than the others.
LONG_UNIT_RATIO = 2.0


@dataclass(frozen=True)
class Span:
    start: int
    end: int


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the '.' at `dot` ends an abbreviation or an initial, not a sentence."""
    if text[dot] != ".":
        return False
    before = re.search(r"([\w.]+)$", text[:dot])
    if not before:
        return False
    word = before.group(1)
    return word.lower() in _ABBREVIATIONS or (len(word) == 1 and word.isupper()) or "." in word


def sentence_spans(text: str) -> list[Span]:
    """Spans of the sentences of a whitespace-normalised text (stripped, non-empty, in order)."""
    spans: list[Span] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if _is_abbreviation(text, match.start()):
            continue
        end = match.end()
        if text[start:end].strip():
            spans.append(_strip(text, start, end))
        start = end
    if text[start:].strip():
        spans.append(_strip(text, start, len(text)))
    return spans


def _strip(text: str, start: int, end: int) -> Span:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start, end)


def _cut_points(text: str, span: Span) -> list[int]:
    """Where `span` may be cut in two: after clause punctuation, else at spaces, else between
    characters (scripts without spaces). Each point is where the second half starts."""
    inner = text[span.start : span.end]
    points = [span.start + m.end() for m in _CLAUSE_END.finditer(inner)]
    if not points:
        points = [span.start + m.end() for m in re.finditer(r"\s+", inner)]
    if not points and is_unspaced(inner):  # between its words, never inside one
        points = list(accumulate(len(unit) for unit in reading_units(inner)[:-1]))
        points = [span.start + point for point in points]
    elif not points and len(inner) > 1 and _CJK.search(inner):
        points = list(range(span.start + 1, span.end))
    return [p for p in points if text[span.start : p].strip() and text[p : span.end].strip()]


def _split_span(text: str, span: Span) -> tuple[Span, Span] | None:
    """Cut `span` near its middle by word count, preferring a clause boundary."""
    points = _cut_points(text, span)
    if not points:
        return None
    whole = word_count(text[span.start : span.end])
    best = min(points, key=lambda p: abs(word_count(text[span.start : p]) * 2 - whole))
    # a clause boundary far from the middle balances badly: fall back to the nearest space
    if abs(word_count(text[span.start : best]) * 2 - whole) > whole * 0.5:
        spaces = [span.start + m.end() for m in re.finditer(r"\s+", text[span.start : span.end])]
        spaces = [p for p in spaces if text[span.start : p].strip() and text[p : span.end].strip()]
        if spaces:
            best = min(spaces, key=lambda p: abs(word_count(text[span.start : p]) * 2 - whole))
    return _strip(text, span.start, best), _strip(text, best, span.end)


def _weight(text: str, span: Span) -> int:
    return word_count(text[span.start : span.end])


def _partition(weights: list[int], groups: int) -> list[int]:
    """Start indexes of `groups` contiguous, non-empty groups of `weights` that minimise the
    squared distance of each group's weight from the mean (dynamic programming)."""
    n = len(weights)
    ideal = sum(weights) / groups
    prefix = [0]
    for weight in weights:
        prefix.append(prefix[-1] + weight)
    inf = float("inf")
    cost = [[inf] * (n + 1) for _ in range(groups + 1)]
    back = [[0] * (n + 1) for _ in range(groups + 1)]
    cost[0][0] = 0.0
    for k in range(1, groups + 1):
        for j in range(k, n - (groups - k) + 1):
            best, arg = inf, k - 1
            for i in range(k - 1, j):
                if cost[k - 1][i] == inf:
                    continue
                value = cost[k - 1][i] + (prefix[j] - prefix[i] - ideal) ** 2
                if value < best:
                    best, arg = value, i
            cost[k][j], back[k][j] = best, arg
    starts: list[int] = []
    j = n
    for k in range(groups, 0, -1):
        i = back[k][j]
        starts.append(i)
        j = i
    return starts[::-1]


def split_narration(narration: str, count: int) -> list[str]:
    """Cut `narration` into `count` consecutive pieces, balanced by word count, at sentence
    boundaries where possible (then clauses, then words). The pieces, joined with spaces, are the
    whitespace-normalised narration: nothing is dropped or reordered. Fewer pieces come back only
    when the narration has fewer words than `count`."""
    text = normalise_whitespace(narration)
    if not text:
        return []
    units = sentence_spans(text)
    ideal = word_count(text) / max(1, count)
    # Cut long sentences so a balanced grouping exists, and make at least `count` units.
    while True:
        candidates = sorted(units, key=lambda s: -_weight(text, s))
        target = next(
            (
                s
                for s in candidates
                if (len(units) < count or _weight(text, s) > LONG_UNIT_RATIO * ideal) and _weight(text, s) > 1 and _cut_points(text, s)
            ),
            None,
        )
        if target is None:
            break
        halves = _split_span(text, target)
        if halves is None:
            break
        position = units.index(target)
        units[position : position + 1] = list(halves)
    groups = min(count, len(units))
    starts = _partition([_weight(text, s) for s in units], groups)
    bounds = starts + [len(units)]
    return [text[units[a].start : units[b - 1].end] for a, b in zip(bounds, bounds[1:])]


def covers(pieces: list[str], narration: str) -> bool:
    """True when `pieces`, in order, reproduce `narration` exactly (ignoring whitespace)."""
    squash = lambda s: re.sub(r"\s+", "", s)  # noqa: E731 - tiny local helper
    return all(p.strip() for p in pieces) and squash("".join(pieces)) == squash(narration)


# --------------------------------------------------------------------------- names

_PARTICLES = frozenset("de da di del della der van von la le du bin ibn al y".split())
# Capitalised words that start sentences or name places, events or bodies, not people.
_NOT_NAME_WORDS = frozenset(
    """
    The A An In On At Of For From To By With And But Or If When While After Before During Since Then
    This That These Those Their His Her Its Our Your My We They He She It There Here Today Yesterday
    Tomorrow First Next Finally Later Meanwhile However Although Because Some Many Most Every Each
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June
    July August September October November December Mr Mrs Ms Dr Sir Lady Lord King Queen President
    New North South East West Northern Southern Eastern Western United States Kingdom Republic Empire
    Union Ocean Sea River Lake Mountain Mountains Mount Island Islands City Valley Desert Bay Gulf
    Street Avenue Square Park Bridge Tower Palace Castle Church Cathedral Temple University College
    School Museum Institute Company Corporation Agency Council Party Army Navy Force Station War
    Battle Revolution Age Era Century Day Night Prize Award Games Cup Moon Mars Earth Sun Apollo
    God Lord Christmas Easter Here Now Yes No Not Who What Why How Where Which Once Over Under
    """.split()
)


def _is_capitalised(word: str) -> bool:
    return len(word) > 1 and word[0].isupper() and any(c.islower() for c in word[1:])


def person_names(text: str) -> list[str]:
    """Multi-word capitalised names that look like people ("Neil Armstrong", "Marie Curie"), in
    order of first appearance. A heuristic: places and events made of common place/event words
    ("New York City", "World War") are left out; single names need the context's people list."""
    names: list[str] = []
    for chunk in re.split(r"[^\w\s'’.-]|\s[-–—]\s", text):
        run: list[str] = []
        for raw in chunk.split() + [""]:
            token = re.sub(r"['’]s$", "", raw.rstrip("."))
            initial = bool(run) and re.fullmatch(r"[A-Z]\.", raw) is not None  # "John F. Kennedy"
            if initial or _is_capitalised(token) or (run and token.lower() in _PARTICLES):
                run.append(raw if initial else token)
                if not raw.endswith(".") or initial:
                    continue
            # a period that is not an initial ends the sentence, and the name with it
            names.extend(_name_from_run(run))
            run = []
    unique: list[str] = []
    for name in names:
        if name not in unique:
            unique.append(name)
    return unique


def _name_from_run(run: list[str]) -> list[str]:
    while run and (run[-1].lower() in _PARTICLES or run[-1].endswith(".")):
        run = run[:-1]
    while run and run[0] in _NOT_NAME_WORDS:
        run = run[1:]
    if len(run) < 2 or any(word in _NOT_NAME_WORDS for word in run):
        return []
    return [" ".join(run)]


def mentioned_people(text: str, people: list[str]) -> list[str]:
    """Which of `people` the text names, by full name or by an unambiguous surname."""
    words = {w.lower() for w in words_of(text)}
    lowered = text.lower()
    surnames = Counter(p.split()[-1].lower() for p in people if len(p.split()) > 1)
    found: list[str] = []
    for person in people:
        parts = person.split()
        full = re.search(rf"(?<!\w){re.escape(person.lower())}(?!\w)", lowered) is not None
        surname = parts[-1].lower()
        by_surname = len(parts) > 1 and len(surname) >= 3 and surnames[surname] == 1 and surname in words
        if (full or by_surname) and person not in found:
            found.append(person)
    return found
