"""Sentence splitting, key phrases, lexicon sentiment and aspects on handmade text."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recengine.text.aspects import AspectLexicon, AspectTagger, PhraseStats, extend_lexicon
from recengine.text.keywords import (
    KeywordModel,
    candidate_phrases,
    distinctive_keywords,
    embedding_keywords,
    mmr_select,
    normalise_phrase,
    review_phrase_keys,
    tfidf_keywords,
)
from recengine.text.sentences import split_clauses, split_sentences
from recengine.text.sentiment_lexicon import (
    lexicon_score,
    review_lexicon_score,
    sentence_scores,
    sentence_sentiment,
)


def aspects_of(text: str) -> dict[str, float]:
    tagger = AspectTagger(AspectLexicon.seed())
    sentences = split_sentences(text)
    return {mention.aspect: mention.sentiment for mention in tagger.review_aspects(sentences, sentence_scores(sentences))}


# -- sentences --------------------------------------------------------------------------------------------

def test_sentences_split_at_ends_but_not_after_abbreviations_or_decimals() -> None:
    text = "Great phone. works well!! Dr. Smith agreed... It cost 3.50 dollars\nSecond line"
    assert split_sentences(text) == [
        "Great phone.", "works well!!", "Dr. Smith agreed...", "It cost 3.50 dollars", "Second line",
    ]
    assert split_sentences(None) == [] and split_sentences("   ") == []


def test_clauses_split_at_contrastive_conjunctions_and_commas() -> None:
    clauses = split_clauses("great value, runs smoothly, but the camera is mediocre")
    assert [clause.text for clause in clauses] == ["great value", "runs smoothly", "the camera is mediocre"]
    # The opinion turns at "but": the camera clause is its own segment.
    assert clauses[2].segment == "the camera is mediocre"
    assert clauses[0].segment == clauses[1].segment == "great value, runs smoothly"


# -- keywords ---------------------------------------------------------------------------------------------

def test_normalisation_merges_articles_case_and_plurals() -> None:
    assert normalise_phrase("The Battery Lives") == normalise_phrase("battery life") == "battery life"
    assert normalise_phrase("these batteries") == "battery"
    assert normalise_phrase("an ear cushion") == normalise_phrase("ear cushions")


def test_candidates_never_start_or_end_with_stop_words_or_lone_verdicts() -> None:
    phrases = candidate_phrases("The battery life is terrible, but I love the noise cancelling!")
    assert "battery life" in phrases and "noise cancelling" in phrases
    assert not any(phrase.split()[0] in {"the", "is", "but", "i"} for phrase in phrases)
    assert "terrible" not in phrases  # a verdict, not a topic


def test_tfidf_prefers_rare_longer_phrase_and_drops_contained_duplicates() -> None:
    keys, surface = review_phrase_keys("The battery life is short. Battery life matters. The strap is nice. Sound ok.")
    # As in analysis, the corpus counts include the review itself.
    corpus = KeywordModel(
        {"strap": 1, "battery": 50, "battery life": 3, "sound": 50, "life": 40, "short": 30, "matter": 30,
         "life matter": 20},
        100,
    ).updated([set(keys)])
    keywords = tfidf_keywords(keys, surface, corpus, 3)
    assert keywords[0] == "battery life"
    assert "battery" not in keywords  # contained in "battery life"
    assert "strap" in keywords


def test_distinctive_keywords_rank_what_sets_a_product_apart() -> None:
    rows = []
    for group in ("A", "B", "C"):
        rows += [(group, "good quality")] * 5  # everybody says it: not distinctive
    rows += [("A", "noise cancelling")] * 4 + [("A", "the noise cancelling")]
    rows += [("B", "zipper")] * 3 + [("B", "noise cancelling")]
    ranked = distinctive_keywords(pd.DataFrame(rows, columns=["group_id", "keyword"]))
    assert ranked["A"][0].keyword == "noise cancelling" and ranked["A"][0].mentions == 5
    assert ranked["B"][0].keyword == "zipper"
    assert all(phrase.keyword != "good quality" for phrase in ranked["A"][:1])
    assert "C" not in ranked or all(phrase.keyword != "zipper" for phrase in ranked["C"])


class WordEncoder:
    """A tiny encoder for MMR tests: one axis per known word."""

    fingerprint = "words"
    words = ["battery", "life", "charge", "sound", "bass"]
    dimension = len(words)

    def encode(self, texts, *, progress=None):  # type: ignore[no-untyped-def]
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for column, word in enumerate(self.words):
                vectors[row, column] = text.lower().count(word)
        vectors[vectors.sum(axis=1) == 0, 0] = 1e-3
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_mmr_trades_relevance_for_variety() -> None:
    document = np.array([1.0, 0.0, 0.0])
    candidates = np.array([[1.0, 0.0, 0.0], [0.99, 0.14, 0.0], [0.6, 0.0, 0.8]], dtype=np.float32)
    candidates /= np.linalg.norm(candidates, axis=1, keepdims=True)
    assert mmr_select(document, candidates, 2, diversity=0.0) == [0, 1]
    assert mmr_select(document, candidates, 2, diversity=0.9) == [0, 2]


def test_embedding_keywords_pick_phrases_close_to_the_text() -> None:
    text = "Battery life is long. The battery charge lasts. Bass is weak."
    keywords = embedding_keywords(text, WordEncoder(), top_n=2, diversity=0.3)
    assert keywords and "battery" in keywords[0]


# -- lexicon sentiment ------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "sign"),
    [
        ("I love these headphones, the sound is fantastic!", 1),
        ("Terrible. It broke after two days and I want a refund.", -1),
        ("The strap is flimsy and the camera is mediocre.", -1),  # words added to VADER for reviews
        ("It is not bad at all.", 1),  # negation
    ],
)
def test_lexicon_polarity_of_obvious_sentences(text: str, sign: int) -> None:
    assert np.sign(lexicon_score(text)) == sign


def test_review_score_is_in_range_and_ignores_neutral_sentences() -> None:
    sentences = sentence_sentiment("I bought it for my son. He loves it! Great quality.")
    assert sentences[0].label == "neutral" and sentences[1].label == "positive"
    score = review_lexicon_score([item.score for item in sentences])
    assert 0.5 < score <= 1.0
    assert review_lexicon_score([]) == 0.0


# -- aspects ----------------------------------------------------------------------------------------------

def test_issue_example_value_and_performance_positive_camera_negative() -> None:
    found = aspects_of("great value, runs smoothly, but the camera is mediocre")
    assert found["value"] > 0 and found["performance"] > 0 and found["camera"] < 0


def test_weak_terms_yield_to_strong_ones_and_borrow_sentiment_from_their_segment() -> None:
    found = aspects_of("Shipping was fast. The battery, sadly, died after a week.")
    assert set(found) == {"delivery", "battery"}  # "fast" is about the shipping, not performance
    assert found["delivery"] > 0 and found["battery"] < 0


def test_aspects_of_a_mixed_review() -> None:
    found = aspects_of("These shoes fit perfectly and are very comfortable. The sound quality is awful though.")
    assert found["fit"] > 0 and found["comfort"] > 0 and found["sound quality"] < 0


def test_lexicon_learns_frequent_opinion_targets_as_new_aspects() -> None:
    stats = {
        "zipper": PhraseStats(30, 25, "zipper"),
        "jacket zipper": PhraseStats(8, 6, "jacket zipper"),
        "my husband": PhraseStats(40, 5, "my husband"),  # rarely judged: not an aspect
        "wonderful gift": PhraseStats(30, 30, "wonderful gift"),  # an opinion, not a target
    }
    lexicon = extend_lexicon(AspectLexicon.seed(), stats, None, min_mentions=5)
    assert "zipper" in lexicon.aspects and "jacket zipper" in lexicon.strong["zipper"]
    assert "my husband" not in lexicon.aspects and "wonderful gift" not in lexicon.aspects
    tagger = AspectTagger(lexicon)
    assert tagger.aspects_in("The jacket zippers snapped off") == ["zipper"]
    restored = AspectLexicon.from_json(lexicon.to_json())
    assert restored.strong == lexicon.strong and restored.learned == lexicon.learned


def test_noun_like_heads_tell_things_from_adverbs() -> None:
    from recengine.text.aspects import noun_like_heads

    sentences = [
        "The zipper broke.", "My zipper is stuck.", "I actually like it.", "It actually works.",
        "The zippers are cheap.", "A long zipper.", "It was long.",
    ]
    heads = noun_like_heads(sentences)
    assert "zipper" in heads
    assert "actually" not in heads and "long" not in heads


def test_a_repeated_sentence_is_scored_by_the_lexicon_once_with_the_same_score() -> None:
    from recengine.text.sentiment_lexicon import _compound, lexicon_analyzer

    _compound.cache_clear()
    sentences = ["Love it.", "Broke after a week.", "Love it.", "Love it."]
    scores = sentence_scores(sentences)
    assert scores == [lexicon_analyzer().polarity_scores(sentence)["compound"] for sentence in sentences]
    assert scores[0] > 0 > scores[1]
    assert _compound.cache_info().misses == 2 and _compound.cache_info().hits == 2
