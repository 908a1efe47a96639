"""Key phrases: per review, and distinctive per product, brand and category.

Three ways to pick a review's phrases, chosen by `settings.text.keyword_method`:
- "tfidf" (default): candidate 1-3-grams that contain no stop word, scored by frequency in the review
  times inverse document frequency over the workspace's reviews. Fast (100k reviews in seconds), and
  the IDF makes phrases that every review uses ("great product") sink.
- "yake": YAKE's unsupervised single-document scoring (the `yake` package), slower.
- "embedding": KeyBERT-style: candidates ranked by cosine similarity to the document's vector from the
  workspace encoder, with maximal marginal relevance so the list is not five variants of one phrase.

Phrases are normalised before counting so that "the battery life", "Battery life" and "battery lives"
are one phrase; the most common written form is what users see.

Distinctiveness per group (a product, a brand, a category) is the weighted log-odds ratio with an
informative Dirichlet prior (Monroe, Colaresi & Quinn 2008): how much more often the group's reviews use
a phrase than the rest of the catalog does, shrunk toward zero when counts are small. A phrase frequent
everywhere scores near zero; a phrase that only this product's reviewers use scores high.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from recengine.embed import Encoder

KEYWORD_METHODS = ("tfidf", "yake", "embedding")

_DETERMINERS = frozenset(
    {"a", "an", "the", "this", "that", "these", "those", "my", "your", "his", "her", "its", "our",
     "their", "some", "any", "each", "every", "no"}
)

# Words that say nothing about a product in a review ("I bought this item for my son").
_REVIEW_FILLER = frozenset(
    {"product", "products", "item", "items", "thing", "things", "stuff", "amazon", "star", "stars",
     "buy", "bought", "buying", "purchase", "purchased", "order", "ordered", "use", "used", "using",
     "get", "got", "really", "just", "also", "would", "could", "one", "ones", "lot", "lots", "bit",
     "time", "times", "way", "day", "days", "make", "makes", "made", "need", "needed", "want",
     "wanted", "look", "looks", "looked", "review", "reviews", "recommend", "highly", "definitely",
     "overall", "pretty", "little", "much", "many", "even", "still", "well", "good", "great", "nice",
     "love", "loved", "loves", "like", "liked", "likes", "best", "better", "bad", "ok", "okay", "fine",
     "excellent", "perfect", "awesome", "happy", "price", "works", "work", "worked", "don't", "didn't",
     "doesn't", "isn't", "wasn't", "it's", "i'm", "i've", "can't", "won't", "i'd", "you'll", "that's",
     "there's", "they're", "im", "ive", "dont", "didnt", "doesnt", "cant", "wont", "thanks", "thank",
     "yes", "etc", "far", "going", "goes", "went", "come", "comes", "came", "give", "gave", "say",
     "said", "think", "thought", "know", "see", "try", "tried", "take", "took", "put", "keep", "kept",
     "sure", "however", "though", "although", "year", "years", "month", "months", "week", "weeks",
     "old", "new", "first", "second", "last", "next", "ago", "gift", "gifts", "job", "right", "actually",
     "did", "does", "done", "able", "exactly", "absolutely",
     # people reviewers buy for: frequent and "judged" ("my kids love it"), never a product aspect
     "kid", "kids", "son", "sons", "daughter", "daughters", "wife", "husband", "family", "friend",
     "friends", "mom", "dad", "mother", "father", "baby", "babies", "child", "children", "grandson",
     "granddaughter", "boyfriend", "girlfriend", "sister", "brother", "grandma", "grandpa", "everyone",
     "choice", "option", "idea", "decision"}
)


# scikit-learn's English stop-word list (BSD-3-Clause; Glasgow Information Retrieval Group), copied so that
# keyword extraction does not import scikit-learn (seconds on a busy machine).
_ENGLISH_STOP_WORDS = frozenset({
    "a", "about", "above", "across", "after", "afterwards", "again", "against", "all", "almost", "alone",
    "along", "already", "also", "although", "always", "am", "among", "amongst", "amoungst", "amount", "an",
    "and", "another", "any", "anyhow", "anyone", "anything", "anyway", "anywhere", "are", "around", "as",
    "at", "back", "be", "became", "because", "become", "becomes", "becoming", "been", "before",
    "beforehand", "behind", "being", "below", "beside", "besides", "between", "beyond", "bill", "both",
    "bottom", "but", "by", "call", "can", "cannot", "cant", "co", "con", "could", "couldnt", "cry", "de",
    "describe", "detail", "do", "done", "down", "due", "during", "each", "eg", "eight", "either", "eleven",
    "else", "elsewhere", "empty", "enough", "etc", "even", "ever", "every", "everyone", "everything",
    "everywhere", "except", "few", "fifteen", "fifty", "fill", "find", "fire", "first", "five", "for",
    "former", "formerly", "forty", "found", "four", "from", "front", "full", "further", "get", "give",
    "go", "had", "has", "hasnt", "have", "he", "hence", "her", "here", "hereafter", "hereby", "herein",
    "hereupon", "hers", "herself", "him", "himself", "his", "how", "however", "hundred", "i", "ie", "if",
    "in", "inc", "indeed", "interest", "into", "is", "it", "its", "itself", "keep", "last", "latter",
    "latterly", "least", "less", "ltd", "made", "many", "may", "me", "meanwhile", "might", "mill", "mine",
    "more", "moreover", "most", "mostly", "move", "much", "must", "my", "myself", "name", "namely",
    "neither", "never", "nevertheless", "next", "nine", "no", "nobody", "none", "noone", "nor", "not",
    "nothing", "now", "nowhere", "of", "off", "often", "on", "once", "one", "only", "onto", "or", "other",
    "others", "otherwise", "our", "ours", "ourselves", "out", "over", "own", "part", "per", "perhaps",
    "please", "put", "rather", "re", "same", "see", "seem", "seemed", "seeming", "seems", "serious",
    "several", "she", "should", "show", "side", "since", "sincere", "six", "sixty", "so", "some",
    "somehow", "someone", "something", "sometime", "sometimes", "somewhere", "still", "such", "system",
    "take", "ten", "than", "that", "the", "their", "them", "themselves", "then", "thence", "there",
    "thereafter", "thereby", "therefore", "therein", "thereupon", "these", "they", "thick", "thin",
    "third", "this", "those", "though", "three", "through", "throughout", "thru", "thus", "to", "together",
    "too", "top", "toward", "towards", "twelve", "twenty", "two", "un", "under", "until", "up", "upon",
    "us", "very", "via", "was", "we", "well", "were", "what", "whatever", "when", "whence", "whenever",
    "where", "whereafter", "whereas", "whereby", "wherein", "whereupon", "wherever", "whether", "which",
    "while", "whither", "who", "whoever", "whole", "whom", "whose", "why", "will", "with", "within",
    "without", "would", "yet", "you", "your", "yours", "yourself", "yourselves",
})


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """English stop words (scikit-learn's list) plus review filler words."""
    return _ENGLISH_STOP_WORDS | _REVIEW_FILLER | _DETERMINERS


_IRREGULAR_PLURALS = {
    "lives": "life", "knives": "knife", "wives": "wife", "shelves": "shelf", "halves": "half",
    "leaves": "leaf", "feet": "foot", "teeth": "tooth", "men": "man", "women": "woman",
    "children": "child", "mice": "mouse", "series": "series", "shoes": "shoe", "toes": "toe",
}

@lru_cache(maxsize=1)
def opinion_words() -> frozenset[str]:
    """Words that carry clear sentiment in the lexicon (|valence| >= 1); not key phrases on their own."""
    from recengine.text.sentiment_lexicon import lexicon_analyzer

    return frozenset(word for word, valence in lexicon_analyzer().lexicon.items() if abs(valence) >= 1.0)


# Words, allowing inner apostrophes and hyphens ("wi-fi", "don't"); numbers with units stay ("4k").
_TOKEN = re.compile(r"[a-z0-9]+(?:['’\-][a-z0-9]+)*")
_BREAK = re.compile(r"[.,;:!?()\[\]{}\"/\\|\n\r\t…]+")


@lru_cache(maxsize=1 << 18)
def fold_plural(word: str) -> str:
    """Lemma-lite: fold the common English plural endings ("batteries" -> "battery", "cases" -> "case").

    Deliberately small: a wrong fold merges two phrases that mean the same anyway ("glass"/"glasses"),
    while a real lemmatiser costs a dependency and 50x the time.
    """
    if len(word) <= 3 or not word.isalpha():
        return word
    if word in _IRREGULAR_PLURALS:
        return _IRREGULAR_PLURALS[word]
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is", "ous")):
        return word[:-1]
    return word


@lru_cache(maxsize=1 << 19)
def normalise_phrase(phrase: str) -> str:
    """The key under which near-duplicate phrases merge.

    Lower-case, curly apostrophes straightened, leading articles and determiners dropped, every word's
    plural folded: "The Battery Lives" -> "battery life".
    """
    words = _TOKEN.findall(phrase.lower().replace("’", "'"))
    while words and words[0] in _DETERMINERS:
        words = words[1:]
    return " ".join(fold_plural(word) for word in words)


def candidate_phrases(text: str, max_words: int = 3) -> list[str]:
    """Candidate key phrases of a text: 1..max_words-grams inside runs of non-stop words.

    Runs are cut at punctuation and at stop words (RAKE's idea), so a candidate never starts or ends
    with "the", "and" or "great". Returned lower-cased, in order, with repeats (for term frequency).
    """
    stops = stop_words()
    opinion = opinion_words()
    phrases: list[str] = []
    for fragment in _BREAK.split(text.lower().replace("’", "'")):
        run: list[str] = []
        for token in [*_TOKEN.findall(fragment), ""]:
            if token and token not in stops and not token.isdigit() and len(token) > 1:
                run.append(token)
                continue
            for start in range(len(run)):
                for length in range(1, max_words + 1):
                    if start + length > len(run):
                        break
                    if length == 1 and run[start] in opinion:
                        continue  # "terrible" alone is a verdict, not a topic; "terrible battery" stays
                    phrases.append(" ".join(run[start : start + length]))
            run = []
    return phrases


@dataclass(frozen=True)
class KeywordModel:
    """Document frequencies of normalised phrases over a corpus (for IDF)."""

    document_frequency: dict[str, int]
    documents: int

    def idf(self, key: str) -> float:
        return math.log((1 + self.documents) / (1 + self.document_frequency.get(key, 0))) + 1.0

    def updated(self, phrase_sets: Iterable[set[str]]) -> KeywordModel:
        """A model that also counts the given documents (each a set of normalised phrases)."""
        frequency = Counter(self.document_frequency)
        documents = self.documents
        for keys in phrase_sets:
            frequency.update(keys)
            documents += 1
        return KeywordModel(dict(frequency), documents)


def review_phrase_keys(text: str) -> tuple[list[str], dict[str, str]]:
    """Normalised keys of a review's candidates (with repeats) and the first written form of each."""
    keys: list[str] = []
    surface: dict[str, str] = {}
    for phrase in candidate_phrases(text):
        key = normalise_phrase(phrase)
        if not key:
            continue
        keys.append(key)
        surface.setdefault(key, phrase)
    return keys, surface


def tfidf_keywords(
    keys: Sequence[str], surface: dict[str, str], model: KeywordModel, top_n: int
) -> list[str]:
    """A review's top phrases by TF-IDF, near-duplicates removed.

    Longer phrases get a small bonus (a quarter per extra word) so "battery life" beats "battery" when
    both occur equally often: the longer one says more. The bonus stays small because a 3-gram is rare
    almost by construction, which the IDF already rewards.
    """
    counts = Counter(keys)
    scored = sorted(
        counts.items(),
        key=lambda pair: (-(pair[1] * model.idf(pair[0]) * (1 + 0.25 * pair[0].count(" "))), pair[0]),
    )
    return _drop_contained([surface[key] for key, _ in scored], top_n)


def yake_keywords(text: str, top_n: int) -> list[str]:
    """A review's top phrases by YAKE (lower score is better in YAKE)."""
    import yake

    extractor = _yake_extractor(top_n)
    found = [phrase for phrase, _score in extractor.extract_keywords(text)]
    stops = stop_words()
    cleaned = []
    for phrase in found:
        words = phrase.lower().split()
        # YAKE keeps phrases such as "life is great"; keep only stop-word-free phrases, like "tfidf".
        if any(word in stops for word in words):
            continue
        cleaned.append(phrase.lower())
    del yake
    return _drop_contained(cleaned, top_n)


@lru_cache(maxsize=4)
def _yake_extractor(top_n: int):  # type: ignore[no-untyped-def]
    import yake

    return yake.KeywordExtractor(lan="en", n=3, top=top_n * 3, dedupLim=0.8)


def mmr_select(
    document_vector: np.ndarray,
    candidate_vectors: np.ndarray,
    top_n: int,
    diversity: float,
) -> list[int]:
    """Maximal marginal relevance: pick candidates similar to the document and unlike each other.

    Args:
        document_vector: (dim,) L2-normalised.
        candidate_vectors: (n, dim) L2-normalised.
        top_n: how many to pick.
        diversity: 0 = pure relevance, 1 = pure novelty.

    Returns:
        Indices of the picked candidates, best first.
    """
    if len(candidate_vectors) == 0:
        return []
    relevance = candidate_vectors @ document_vector
    chosen = [int(np.argmax(relevance))]
    remaining = set(range(len(candidate_vectors))) - set(chosen)
    while remaining and len(chosen) < top_n:
        pool = np.fromiter(remaining, dtype=np.int64)
        redundancy = (candidate_vectors[pool] @ candidate_vectors[chosen].T).max(axis=1)
        value = (1 - diversity) * relevance[pool] - diversity * redundancy
        best = int(pool[int(np.argmax(value))])
        chosen.append(best)
        remaining.discard(best)
    return chosen


def embedding_keywords(
    text: str,
    encoder: Encoder,
    top_n: int = 5,
    *,
    diversity: float = 0.5,
    max_candidates: int = 40,
    document_vector: np.ndarray | None = None,
) -> list[str]:
    """KeyBERT-style phrases of one text: candidates close to the text's vector, diversified by MMR.

    Args:
        text: the document (a review, or all reviews of a product joined).
        encoder: the workspace encoder (`recengine.embed.load_encoder`).
        top_n: phrases to return.
        diversity: MMR trade-off, 0..1.
        max_candidates: the most frequent candidates considered (bounds encoding cost).
        document_vector: the text's vector when the caller already has it.
    """
    keys, surface = review_phrase_keys(text)
    if not keys:
        return []
    frequent = [key for key, _ in Counter(keys).most_common(max_candidates)]
    candidates = [surface[key] for key in frequent]
    vectors = np.asarray(encoder.encode(candidates), dtype=np.float32)
    if document_vector is None:
        document_vector = np.asarray(encoder.encode([text]), dtype=np.float32)[0]
    picked = mmr_select(document_vector, vectors, top_n, diversity)
    return [candidates[index] for index in picked]


def _drop_contained(phrases: Sequence[str], top_n: int) -> list[str]:
    """Keep phrases in rank order, skipping one that repeats, contains or sits inside a kept one."""
    kept: list[str] = []
    kept_keys: list[str] = []
    for phrase in phrases:
        key = normalise_phrase(phrase)
        if not key or any(key == other or f" {key} " in f" {other} " for other in kept_keys):
            continue
        # The higher-ranked phrase wins in both directions: "battery life matters" after "battery life"
        # adds nothing, and neither does "battery" after it.
        if any(f" {other} " in f" {key} " for other in kept_keys):
            continue
        kept.append(phrase)
        kept_keys.append(key)
        if len(kept) >= top_n:
            break
    return kept


# -- distinctive phrases per group ---------------------------------------------------------------------


@dataclass(frozen=True)
class DistinctivePhrase:
    """A phrase distinctive for a group, with its log-odds z-score and the reviews mentioning it."""

    keyword: str
    score: float
    mentions: int


def distinctive_keywords(
    group_keywords: pd.DataFrame,
    *,
    top_n: int = 10,
    min_mentions: int = 2,
    prior_strength: float = 100.0,
) -> dict[str, list[DistinctivePhrase]]:
    """Rank each group's phrases by how distinctive they are against all other groups.

    Args:
        group_keywords: one row per (group_id, keyword) mention: the keyword lists of reviews exploded,
            with the review's group in `group_id`. Keywords are normalised here.
        top_n: phrases kept per group.
        min_mentions: a phrase must be mentioned by at least this many of the group's reviews (a single
            review's pet phrase is not what a product is known for). Groups with fewer reviews than
            this fall back to 1.
        prior_strength: total pseudo-count of the Dirichlet prior (larger = more shrinkage).

    Returns:
        group_id -> phrases, most distinctive first, only those with a positive score.
    """
    if group_keywords.empty:
        return {}
    frame = group_keywords[["group_id", "keyword"]].dropna().copy()
    frame["key"] = [normalise_phrase(str(keyword)) for keyword in frame["keyword"].tolist()]
    frame = frame[frame["key"] != ""]
    if frame.empty:
        return {}
    # Display form: the most common written form of each key across the catalog.
    display = (
        frame.groupby(["key", "keyword"], sort=False).size().reset_index(name="n")
        .sort_values(["key", "n", "keyword"], ascending=[True, False, True])
        .drop_duplicates("key").set_index("key")["keyword"]
    )
    counts = frame.groupby(["group_id", "key"], sort=False).size().rename("y").reset_index()
    total_per_key = counts.groupby("key")["y"].sum()
    total = float(total_per_key.sum())
    group_totals = counts.groupby("group_id")["y"].sum()
    alpha = prior_strength * total_per_key / total  # informative prior: the catalog-wide frequency
    counts["n_group"] = counts["group_id"].map(group_totals).astype(float)
    counts["y_all"] = counts["key"].map(total_per_key).astype(float)
    counts["alpha"] = counts["key"].map(alpha).astype(float)
    y_group = counts["y"].astype(float).to_numpy()
    y_rest = counts["y_all"].to_numpy() - y_group
    n_group = counts["n_group"].to_numpy()
    n_rest = total - n_group
    a = counts["alpha"].to_numpy()
    a0 = prior_strength
    log_odds_group = np.log((y_group + a) / np.maximum(n_group + a0 - y_group - a, 1e-9))
    log_odds_rest = np.log((y_rest + a) / np.maximum(n_rest + a0 - y_rest - a, 1e-9))
    variance = 1.0 / (y_group + a) + 1.0 / (y_rest + a)
    counts["score"] = (log_odds_group - log_odds_rest) / np.sqrt(variance)
    group_sizes = counts["group_id"].map(counts.groupby("group_id")["y"].max()).to_numpy()
    needed = np.where(group_sizes >= min_mentions, min_mentions, 1)
    counts = counts[(counts["y"].to_numpy() >= needed) & (counts["score"].to_numpy() > 0)]
    counts = counts.sort_values(["group_id", "score", "key"], ascending=[True, False, True])
    result: dict[str, list[DistinctivePhrase]] = defaultdict(list)
    display_of = dict(zip(display.index.tolist(), display.tolist(), strict=True))
    for group_id, key, score, mentions in zip(
        counts["group_id"].tolist(), counts["key"].tolist(), counts["score"].tolist(), counts["y"].tolist(),
        strict=True,
    ):
        phrases = result[group_id]
        if len(phrases) >= top_n:
            continue
        # Merge near-duplicates across n-gram lengths: skip "battery" when "battery life" is already in.
        if any(f" {key} " in f" {normalise_phrase(kept.keyword)} " for kept in phrases):
            continue
        phrases.append(DistinctivePhrase(str(display_of[key]), round(float(score), 4), int(mentions)))
    return dict(result)
