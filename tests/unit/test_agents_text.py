"""Text helpers behind the agents: balanced sentence-aware splitting, names, word counts."""

from __future__ import annotations

import pytest

from faceless.agents.text import (
    covers,
    has_words,
    hashtag,
    mentioned_people,
    person_names,
    sentence_spans,
    salient_words,
    split_narration,
    stop_words_for,
    top_keywords,
    unspaced_words,
    without_pictographs,
    word_count,
    words_of,
)

NARRATION = (
    "In 1969, Neil Armstrong and Buzz Aldrin landed on the Moon. Michael Collins stayed in orbit, "
    "circling alone, while the world watched on television. The landing site was called Tranquility Base. "
    "Armstrong stepped out first. Aldrin followed him a few minutes later. They planted a flag and "
    "collected rocks. Then they flew back to Collins, and all three came home."
)


@pytest.mark.parametrize("count", [1, 2, 3, 5, 7, 10, 12])
def test_split_reproduces_the_whole_narration_in_order(count):
    # GIVEN a narration WHEN it is split into `count` pieces
    pieces = split_narration(NARRATION, count)
    # THEN there are exactly `count` non-empty pieces that, joined, are the narration
    assert len(pieces) == count
    assert all(p.strip() for p in pieces)
    assert " ".join(pieces) == " ".join(NARRATION.split())
    assert covers(pieces, NARRATION)


def test_split_prefers_sentence_boundaries_and_balances_word_counts():
    # GIVEN seven sentences WHEN split into seven pieces THEN each piece is one sentence
    pieces = split_narration(NARRATION, 7)
    assert [p[-1] for p in pieces] == ["."] * 7
    # AND with fewer pieces, the word counts stay within a factor ~2 of each other
    counts = [word_count(p) for p in split_narration(NARRATION, 4)]
    assert max(counts) <= 2 * min(counts)


def test_split_cuts_a_long_sentence_at_clauses_or_words_when_needed():
    # GIVEN one sentence of 14 words WHEN four pieces are asked for
    text = "One two three four, five six seven eight, nine ten eleven twelve thirteen fourteen"
    pieces = split_narration(text, 4)
    # THEN four pieces cover it, cut at the commas where they balance
    assert len(pieces) == 4 and covers(pieces, text)
    assert pieces[0].endswith("four,")


def test_split_returns_fewer_pieces_only_when_there_are_fewer_words():
    assert split_narration("Hi there.", 5) == ["Hi", "there."]
    assert split_narration("   ", 3) == []


def test_split_handles_text_without_spaces():
    # GIVEN Chinese text (no spaces) WHEN split THEN the pieces still cover it, at sentence marks
    text = "阿波罗11号于1969年登月。宇航员阿姆斯特朗第一个踏上月球，他说了一句名言。全世界都在看电视直播。"
    pieces = split_narration(text, 3)
    assert len(pieces) == 3 and covers(pieces, text)
    assert pieces[0] == "阿波罗11号于1969年登月。"


THAI = (
    "ผึ้งสื่อสารกันด้วยการเต้นรำที่ซับซ้อน เมื่อผึ้งงานพบแหล่งดอกไม้ที่ดี มันจะกลับไปที่รังและเต้นเป็นรูปเลขแปด "
    "ทิศทางของการเต้นบอกทิศทางของดอกไม้เทียบกับดวงอาทิตย์ ความยาวของการส่ายบอกระยะทาง"
)


def test_words_of_scripts_written_without_spaces_are_found_by_the_dictionary():
    # GIVEN Thai and Chinese, which put no spaces between words
    # THEN each token is cut into its words, punctuation kept with the word before it (and an opening
    # quote with the word after it), so the pieces still make up the token
    assert unspaced_words("ผึ้งสื่อสารกันด้วยการเต้นรำ") == ("ผึ้ง", "สื่อสาร", "กัน", "ด้วย", "การ", "เต้นรำ")
    assert unspaced_words("蜜蜂用舞蹈告诉同伴。") == ("蜜蜂", "用", "舞蹈", "告诉", "同伴。")
    assert unspaced_words("「蜜蜂」说：好！") == ("「蜜蜂」", "说：", "好！")
    assert unspaced_words("Bees, dancing") == ("Bees, dancing",)  # other scripts: left whole
    # AND the words count as spoken words: a Thai phrase between spaces is several words, not one
    assert word_count("ผึ้งสื่อสารกันด้วยการเต้นรำ บอกทาง") == 8
    assert words_of("ผึ้งเต้นรำ, 蜜蜂跳舞。") == ["ผึ้ง", "เต้นรำ", "蜜蜂", "跳舞"]


def test_keywords_of_scripts_written_without_spaces_are_words_not_clauses():
    # GIVEN Thai narration (its spaces part phrases) and Chinese (no spaces at all)
    chinese = "蜜蜂用舞蹈告诉同伴花在哪里。舞蹈的方向指向太阳，舞蹈的长度表示距离。其他蜜蜂看懂了舞蹈，就飞向花田。"
    # THEN the key words are the frequent words ("bee", "dance", "flower"), not whole phrases, and not
    # one-character particles such as 的
    assert top_keywords(THAI, 3, "th") == ["ผึ้ง", "ดอกไม้", "เต้น"]
    assert top_keywords(chinese, 2, "zh") == ["舞蹈", "蜜蜂"]
    assert "的" not in top_keywords(chinese, 10, "zh")


def test_japanese_hashtags_leave_out_its_grammar_words():
    # GIVEN Japanese narration: ICU's words include particles and endings written in hiragana (ます, ました)
    text = "ミツバチはダンスをします。ダンスは方向を示します。ミツバチはダンスで伝えます。"
    # THEN its key words are the subjects, not the endings that are as frequent
    keywords = top_keywords(text, 3, "ja")
    assert keywords[:2] == ["ダンス", "ミツバチ"] and "ます" not in keywords
    # AND not inflected verbs or adverbs (示し "shows", 互いに "each other"), which ICU gives as words
    assert top_keywords("ダンスは方向を示し、ミツバチは互いに伝え、方向を示し、互いに踊る。", 3, "ja") == ["方向", "ダンス", "ミツバチ"]


def test_the_forms_of_a_word_count_as_one_and_a_clitic_form_of_a_common_word_is_common():
    # GIVEN Spanish narration that says "dance" three ways (bailan, baila, baile x2), "bees" twice (abejas, abeja)
    spanish = (
        "Las abejas bailan para decirse dónde están las flores. Cuando una abeja encuentra un campo, vuelve a la "
        "colmena y baila. La dirección del baile señala el sol. Las otras entienden el baile."
    )
    # THEN the forms of a word count together, and the word is named once, by its first form
    assert top_keywords(spanish, 3, "es") == ["bailan", "abejas", "flores"]
    assert salient_words(spanish, 4, "es") == ["abejas", "bailan", "flores", "campo"]
    # AND in Arabic, a common word with a pronoun joined to it ("بعضه": each other) is common too
    arabic = "يرقص النحل ليخبر بعضه بعضا بمكان الأزهار. عندما تجد النحلة الكشافة حقلا من الزهور تعود إلى الخلية."
    assert top_keywords(arabic, 2, "ar") == ["النحل", "يرقص"]
    assert not {"بعضه", "بعضا"} & set(top_keywords(arabic, 10, "ar"))


def test_split_never_cuts_a_word_of_a_script_without_spaces():
    # GIVEN a long Chinese sentence with no punctuation to cut at
    text = "一只侦察蜂找到一大片开满鲜花的田野以后就会飞回蜂巢跳起摇摆舞告诉同伴方向和距离"
    # WHEN it is split into three pieces
    pieces = split_narration(text, 3)
    # THEN each cut falls between two of its words
    assert len(pieces) == 3 and covers(pieces, text)
    bounds = {sum(len(word) for word in unspaced_words(text)[:k]) for k in range(len(unspaced_words(text)) + 1)}
    assert len(pieces[0]) in bounds and len(pieces[0]) + len(pieces[1]) in bounds


def test_sentences_ignore_abbreviations_and_initials():
    text = "Dr. Smith met John F. Kennedy in the U.S. capital. They talked."
    spans = sentence_spans(text)
    assert [text[s.start : s.end] for s in spans] == ["Dr. Smith met John F. Kennedy in the U.S. capital.", "They talked."]


def test_person_names_finds_multi_word_names_not_places_or_sentence_starts():
    text = (
        "In 1969 Neil Armstrong and Buzz Aldrin walked on the Moon. The United States celebrated in New York City. "
        "President John F. Kennedy had promised it. Marie Curie’s lab. World War Two ended. Leonardo da Vinci painted."
    )
    assert person_names(text) == ["Neil Armstrong", "Buzz Aldrin", "John F. Kennedy", "Marie Curie", "Leonardo da Vinci"]


def test_mentioned_people_matches_unambiguous_surnames_only():
    assert mentioned_people("Armstrong saluted while Aldrin took photos", ["Neil Armstrong", "Buzz Aldrin"]) == [
        "Neil Armstrong",
        "Buzz Aldrin",
    ]
    # two Armstrongs: the surname alone names nobody for sure
    assert mentioned_people("Armstrong played", ["Neil Armstrong", "Louis Armstrong"]) == []
    assert mentioned_people("Cleopatra met Caesar", ["Cleopatra", "Julius Caesar"]) == ["Cleopatra", "Julius Caesar"]


def test_emoji_and_the_marks_that_build_them_are_taken_out_text_symbols_stay():
    # GIVEN text with emoji: plain, skin-toned, a flag, a family (joined), a keycap, one with a variation selector
    text = "Bees 🐝 work hard 👍🏽 in 🇫🇷 and 👨‍👩‍👧 homes, 1️⃣ hive ☀️ ‼ © ® ™ → 日本 مرحبا"
    # WHEN emoji are taken out
    cleaned = without_pictographs(text)
    # THEN the words, digits and the text symbols the fonts have are untouched, every emoji part is gone
    assert cleaned.split() == ["Bees", "work", "hard", "in", "and", "homes,", "1", "hive", "©", "®", "™", "→", "日本", "مرحبا"]
    assert not any(0x1F000 <= ord(c) or c in "\u200d\ufe0f\u20e3\u2600\u203c" for c in cleaned)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("🐝🐝 🌸", False), ("!!! ??? ### ...", False), ("— ✨ —", False), ("3", True), ("日本", True), ("مرحبا", True), ("bees 🐝", True)],
)
def test_text_has_words_when_a_letter_or_digit_is_left_once_emoji_are_out(text, expected):
    assert has_words(text) is expected


@pytest.mark.parametrize(
    ("language", "common", "kept"),
    [("es", "para", "abejas"), ("pt-BR", "para", "abelhas"), ("nb", "ikke", "bier"), ("no", "ikke", "bier"),
     ("de", "wenn", "bienen"), ("en", "because", "bees")],
)
def test_each_language_has_its_common_words_and_englishs_too(language, common, kept):
    words = stop_words_for(language)
    assert common in words and kept not in words
    assert {"the", "because"} <= words  # names and loanwords mix English into any language


def test_a_language_the_lists_lack_gets_englishs_common_words_alone():
    assert stop_words_for("sw") == stop_words_for("en")  # Swahili: no list


def test_picture_words_of_a_spanish_piece_leave_out_spanish_common_words():
    piece = "Cuando una abeja exploradora encuentra un campo de flores, vuelve a la colmena y baila."
    words = salient_words(piece, language="es")
    assert words[:2] == ["abeja", "exploradora"] and {"campo", "flores", "colmena", "baila"} <= set(words)
    assert "Cuando" not in words and "Cuando" in salient_words(piece)  # English's list alone keeps it


@pytest.mark.parametrize(
    ("text", "words"),
    [("मधुमक्खियाँ नाचती हैं", ["मधुमक्खियाँ", "नाचती", "हैं"]),  # vowel signs are marks, not \\w to `re`
     ("মৌমাছি নাচে", ["মৌমাছি", "নাচে"]), ("ผึ้งเต้นรำ", ["ผึ้ง", "เต้นรำ"])],
)
def test_a_word_keeps_its_vowel_signs(text, words):
    assert words_of(text) == words
    assert hashtag(words[0]) == "#" + words[0][:1].upper() + words[0][1:]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("मधुमक्खियाँ नाचती हैं।", "फूल दूर हैं।"),  # Hindi: the danda
        ("মৌমাছি নাচে।", "ফুল দূরে।"),  # Bengali: the danda too
        ("شہد کی مکھیاں ناچتی ہیں۔", "پھول دور ہیں۔"),  # Urdu's full stop
        ("ንቦች ይጨፍራሉ።", "አበቦች ሩቅ ናቸው።"),  # Amharic's
        ("Մեղուները պարում են։", "Ծաղիկները հեռու են։"),  # Armenian's
    ],
)
def test_sentences_end_at_the_full_stop_of_their_script(first, second):
    text = f"{first} {second}"
    assert [text[span.start : span.end] for span in sentence_spans(text)] == [first, second]
