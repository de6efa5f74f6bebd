"""The analyzer: scripts, accents, CJK, symbols, stop words and stemming."""

from __future__ import annotations

import pytest

from ltrr_fast.index import LexicalIndex


@pytest.fixture(scope="module")
def plain() -> LexicalIndex:
    return LexicalIndex()


def test_tokenize_folds_case_and_latin_accents_the_same_way_at_index_and_query_time(plain):
    assert plain.tokenize("Café NAÏVE Résumé Ångström Łódź straße Æsir") == [
        "cafe",
        "naive",
        "resume",
        "angstrom",
        "lodz",
        "strasse",
        "aesir",
    ]


def test_tokenize_never_leaves_fragments_of_accented_words(plain):
    tokens = plain.tokenize("café naïve résumé")
    assert "caf" not in tokens and "na" not in tokens and "ve" not in tokens


def test_tokenize_keeps_accents_when_folding_is_off():
    index = LexicalIndex(fold_accents=False)
    assert index.tokenize("Café CAFÉ") == ["café", "café"]
    # Decomposed input (e + combining acute) keeps its mark instead of splitting the word.
    assert index.tokenize("cafe\u0301") == ["cafe\u0301"]


def test_tokenize_drops_combining_marks_when_folding(plain):
    assert plain.tokenize("cafe\u0301 nai\u0308ve") == ["cafe", "naive"]


def test_tokenize_splits_cjk_runs_into_bigrams_instead_of_one_token_per_clause(plain):
    tokens = plain.tokenize("黄山归来不看岳，华山很好")
    assert "华山" in tokens
    assert all(len(t) <= 2 for t in tokens)
    assert plain.tokenize("华") == ["华"]


def test_tokenize_lowercases_greek_and_cyrillic_and_keeps_other_scripts(plain):
    assert plain.tokenize("ΑΘΗΝΑ Москва मुंबई") == ["αθηνα", "москва", "मुंबई"]


def test_tokenize_treats_emoji_and_symbols_as_separators(plain):
    assert plain.tokenize("love😀song ♥ → ™ ©2024") == ["love", "song", "2024"]


def test_tokenize_survives_lone_surrogates_and_control_characters(plain):
    assert plain.tokenize("a\x00b\x1fc\u200bd") == ["a", "b", "c", "d"]
    with pytest.raises(ValueError, match="lone surrogate"):
        plain.tokenize("bad \ud800 surrogate")
    index = LexicalIndex()
    with pytest.raises(ValueError, match="lone surrogate"):
        index.add("d1", "fine \udc80 text")
    assert len(index) == 0
    with pytest.raises(ValueError, match="lone surrogate"):
        index.search("\ud800")


def test_tokenize_cuts_overlong_tokens_at_a_code_point_boundary(plain):
    (token,) = plain.tokenize("é" * 300)
    assert len(token.encode()) <= 255
    assert token == "e" * 255


def test_tokenize_folds_fullwidth_latin_to_ascii(plain):
    assert plain.tokenize("ＡＢＣ１２３") == ["abc123"]


def test_stopwords_are_folded_like_text():
    index = LexicalIndex(stopwords=["Über", "the"])
    assert index.tokenize("THE uber über song") == ["song"]


def test_stopwords_by_name_and_unknown_name_errors():
    assert LexicalIndex(stopwords="en").tokenize("the love of my life") == ["love", "life"]
    with pytest.raises(ValueError, match="unknown stop word list"):
        LexicalIndex(stopwords="klingon")


def test_stemmer_matches_pystemmer_on_real_vocabulary():
    stemmer_mod = pytest.importorskip("Stemmer")
    reference = stemmer_mod.Stemmer("english")
    index = LexicalIndex(stemmer="english")
    words = [
        "running",
        "runner",
        "runs",
        "ran",
        "connection",
        "connected",
        "connecting",
        "generously",
        "happiness",
        "relational",
        "conditional",
        "rational",
        "valuation",
        "digitizer",
        "operator",
        "electrical",
        "hopeful",
        "goodness",
        "formalize",
        "sensitivity",
        "feudalism",
        "decisiveness",
    ]
    assert index.tokenize(" ".join(words)) == reference.stemWords(words)


def test_unknown_stemmer_language_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown stemmer language 'klingon'"):
        LexicalIndex(stemmer="klingon")


def test_korean_and_accented_queries_find_their_documents():
    index = LexicalIndex()
    index.add_batch(["fr", "ko", "en"], ["café naïve résumé", "초과근무 승인 규칙", "naive cafe"])
    assert set(index.search("café").ids) == {"fr", "en"}
    assert index.search("초과근무").ids == ["ko"]
    assert set(index.search("cafe").ids) == {"fr", "en"}


def test_chinese_word_inside_a_clause_is_found():
    index = LexicalIndex()
    index.add_batch(["zh", "other"], ["黄山归来不看岳，华山很好", "泰山"])
    assert index.search("华山").ids == ["zh"]
