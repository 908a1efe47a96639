"""Product aspects ("battery", "fit", "delivery") and their sentiment, clause by clause.

A seed lexicon names the aspects shoppers talk about across most catalogs. Each workspace extends it
from its own reviews: frequent key phrases that reviewers attach opinions to are assigned to the
nearest seed aspect (cosine to the aspect's terms, with the workspace encoder), and the rest are
clustered into new aspects named after their most frequent phrase ("zipper", "subscription").

A review yields one entry per aspect it mentions, with the sentiment of the clauses that mention it:
"great value, runs smoothly, but the camera is mediocre" -> value +, performance +, camera -.
Terms are either strong (nouns that name the aspect: "battery", "shipping") or weak (adjectives and
verbs that usually refer to it: "fast", "tight", "runs"); a weak term counts only in a clause without a
strong term, so "shipping was fast" is about delivery, not performance.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from recengine.store.files import write_text_atomic
from recengine.text.keywords import _TOKEN, fold_plural, normalise_phrase, stop_words
from recengine.text.sentences import split_clauses
from recengine.text.sentiment_labels import NEUTRAL_BAND
from recengine.text.sentiment_lexicon import lexicon_analyzer, lexicon_score

if TYPE_CHECKING:
    from recengine.embed import Encoder

# aspect -> (strong terms, weak terms). Terms are matched after plural folding, so list singulars.
SEED_ASPECTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "sound quality": (
        ("sound", "sound quality", "audio", "bass", "treble", "volume", "speaker", "noise cancelling",
         "noise cancellation", "microphone", "mic"),
        ("loud", "quiet", "muffled", "tinny", "crisp"),
    ),
    "battery": (("battery", "battery life", "charge", "charging", "charger", "recharge"), ("died",)),
    "comfort": (("comfort", "cushion", "padding", "ear cup", "ear pad"),
                ("comfortable", "uncomfortable", "comfy", "itchy", "scratchy", "soft")),
    "fit": (("fit", "fitting"), ("snug", "tight", "loose", "baggy")),
    "size": (("size", "sizing", "length", "width", "dimension"), ("small", "large", "big", "tiny", "huge")),
    "taste": (("taste", "flavor", "flavour", "aftertaste"), ("tasty", "delicious", "bland", "yummy")),
    "scent": (("scent", "smell", "fragrance", "odor", "odour", "perfume"), ("smelly",)),
    "delivery": (("delivery", "shipping", "shipment", "courier", "arrival", "postage"),
                 ("arrived", "delivered", "shipped", "late")),
    "value": (("value", "price", "cost", "money", "deal", "bargain", "value for money"),
              ("expensive", "overpriced", "pricey", "affordable", "worth", "cheaper")),
    "durability": (("durability", "quality", "build quality", "build", "construction"),
                   ("durable", "sturdy", "flimsy", "broke", "broken", "cracked", "lasted", "fell apart",
                    "tore", "ripped", "cheaply made", "peeling")),
    "performance": (("performance", "speed", "power", "suction", "processor"),
                    ("run", "runs", "fast", "slow", "lag", "laggy", "responsive", "sluggish", "powerful",
                     "smoothly")),
    "camera": (("camera", "photo", "picture", "lens", "zoom", "video"), ("blurry", "grainy")),
    "design": (("design", "color", "colour", "style", "appearance", "finish"),
               ("look", "looks", "pretty", "beautiful", "cute", "stylish", "ugly", "elegant")),
    "customer service": (("customer service", "seller", "support", "service", "refund", "warranty",
                          "replacement", "vendor", "customer support"), ("returned",)),
    "packaging": (("packaging", "package", "box", "wrapping", "container", "seal"), ("packaged", "wrapped")),
    "ease of use": (("setup", "set up", "installation", "instruction", "manual", "assembly", "app"),
                    ("easy", "install", "assemble", "intuitive", "complicated")),
    "screen": (("screen", "display", "resolution", "brightness", "touchscreen"), ()),
    "material": (("material", "fabric", "cotton", "leather", "plastic", "metal", "stitching"), ()),
}

MAX_TERM_WORDS = 3


@dataclass(frozen=True)
class AspectMention:
    """One aspect of one review: the mean sentiment of the clauses naming it, and a quote."""

    aspect: str
    sentiment: float
    quote: str

    def to_json(self) -> dict[str, object]:
        return {"aspect": self.aspect, "sentiment": round(self.sentiment, 4), "quote": self.quote}


@dataclass(frozen=True)
class AspectLexicon:
    """Aspect terms of one workspace: the seed plus what was learned from its reviews."""

    strong: dict[str, tuple[str, ...]]
    weak: dict[str, tuple[str, ...]]
    learned: dict[str, tuple[str, ...]] = field(default_factory=dict)  # aspect -> phrases added
    learned_from: int = 0  # sentences the additions were learned from (0: seed only)

    @classmethod
    def seed(cls) -> AspectLexicon:
        return cls(
            strong={name: terms for name, (terms, _weak) in SEED_ASPECTS.items()},
            weak={name: weak for name, (_terms, weak) in SEED_ASPECTS.items()},
        )

    @property
    def aspects(self) -> list[str]:
        return list(self.strong)

    def index(self) -> dict[tuple[str, ...], tuple[str, bool]]:
        """Folded term tokens -> (aspect, is_strong)."""
        table: dict[tuple[str, ...], tuple[str, bool]] = {}
        for strong, terms_by_aspect in ((False, self.weak), (True, self.strong)):
            for aspect, terms in terms_by_aspect.items():
                for term in terms:
                    key = tuple(normalise_phrase(term).split())
                    if key:
                        table[key] = (aspect, strong)
        return table

    def to_json(self) -> str:
        return json.dumps(
            {"strong": self.strong, "weak": self.weak, "learned": self.learned, "learned_from": self.learned_from},
            indent=2,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> AspectLexicon:
        data = json.loads(text)
        return cls(
            strong={key: tuple(value) for key, value in data["strong"].items()},
            weak={key: tuple(value) for key, value in data["weak"].items()},
            learned={key: tuple(value) for key, value in data.get("learned", {}).items()},
            learned_from=int(data.get("learned_from", 0)),
        )

    def save(self, path: Path) -> None:
        write_text_atomic(path, self.to_json())

    @classmethod
    def load(cls, path: Path) -> AspectLexicon | None:
        if not path.exists():
            return None
        return cls.from_json(path.read_text(encoding="utf-8"))


class AspectTagger:
    """Finds aspect mentions in sentences and scores them with the lexicon."""

    def __init__(self, lexicon: AspectLexicon) -> None:
        self.lexicon = lexicon
        self._index = lexicon.index()
        self._first_words = {key[0] for key in self._index}

    def aspects_in(self, text: str) -> list[str]:
        """Aspects named in a piece of text (strong terms win over weak ones), in order of mention."""
        tokens = [fold_plural(token) for token in _TOKEN.findall(text.lower().replace("’", "'"))]
        strong: list[str] = []
        weak: list[str] = []
        position = 0
        while position < len(tokens):
            if tokens[position] not in self._first_words:
                position += 1
                continue
            for length in range(min(MAX_TERM_WORDS, len(tokens) - position), 0, -1):
                hit = self._index.get(tuple(tokens[position : position + length]))
                if hit:
                    (strong if hit[1] else weak).append(hit[0])
                    position += length
                    break
            else:
                position += 1
        found = strong or weak
        return list(dict.fromkeys(found))

    def review_aspects(self, sentences: Sequence[str], sentence_scores: Sequence[float]) -> list[AspectMention]:
        """Aspect mentions of one review, one per aspect (mean over its clauses, strongest quote)."""
        by_aspect: dict[str, list[tuple[float, str]]] = defaultdict(list)
        for sentence, sentence_score in zip(sentences, sentence_scores, strict=True):
            if not self.aspects_in(sentence):
                continue  # the cheap check first: most sentences of long reviews name no aspect
            clauses = split_clauses(sentence)
            segment_scores: dict[str, float] = {}
            for clause in clauses:
                aspects = self.aspects_in(clause.text)
                if not aspects:
                    continue
                if len(clauses) == 1:
                    score = sentence_score
                else:
                    score = lexicon_score(clause.text)
                    if abs(score) < NEUTRAL_BAND:
                        # "the battery, sadly, died": the opinion sits in a neighbouring clause of the
                        # same contrastive segment, never across a "but".
                        if clause.segment not in segment_scores:
                            segment_scores[clause.segment] = lexicon_score(clause.segment)
                        score = segment_scores[clause.segment]
                quote = clause.text if len(clause.text.split()) >= 4 else clause.segment
                for aspect in aspects:
                    by_aspect[aspect].append((score, quote))
        mentions = []
        for aspect, scored in by_aspect.items():
            mean = sum(score for score, _ in scored) / len(scored)
            # Quote the clause whose sentiment agrees most strongly with the mean.
            _best_score, quote = max(scored, key=lambda pair: pair[0] * (1 if mean >= 0 else -1))
            mentions.append(AspectMention(aspect, mean, _trim(quote)))
        return mentions


def _trim(text: str, limit: int = 220) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class PhraseStats:
    """How often a normalised phrase occurs in sentences, and how often those sentences hold an opinion."""

    mentions: int
    opinionated: int
    display: str


def collect_phrase_stats(
    sentence_phrases: Sequence[tuple[Sequence[str], float]],
) -> dict[str, PhraseStats]:
    """Count phrases per sentence (`(normalised phrase keys, sentence score)` pairs)."""
    mentions: Counter[str] = Counter()
    opinionated: Counter[str] = Counter()
    for keys, score in sentence_phrases:
        unique = set(keys)
        mentions.update(unique)
        if abs(score) >= 0.3:
            opinionated.update(unique)
    return {key: PhraseStats(count, opinionated[key], key) for key, count in mentions.items()}


_NOUN_MARKERS = frozenset({"the", "this", "these", "that", "those", "my", "its", "their", "our", "your", "a", "an"})


def noun_like_heads(sentences: Sequence[str], *, min_share: float = 0.15) -> frozenset[str]:
    """Words that behave like nouns: often right after a determiner ("the vent", "my old vent").

    Without a part-of-speech tagger this is what tells "vent" (an aspect) from "actually" or "right"
    (frequent, judged, but not things). A word counts when at least `min_share` of its occurrences
    follow a determiner directly or with one word between ("the lint trap" counts for "trap" too).
    """
    stops = stop_words()
    seen: Counter[str] = Counter()
    marked: Counter[str] = Counter()
    for sentence in sentences:
        tokens = [fold_plural(token) for token in _TOKEN.findall(sentence.lower().replace("’", "'"))]
        for position, token in enumerate(tokens):
            seen[token] += 1
            # The word must also end the noun phrase: in "a long hose" only "hose" is the thing.
            ends_phrase = position + 1 == len(tokens) or tokens[position + 1] in stops
            if not ends_phrase:
                continue
            if position >= 1 and tokens[position - 1] in _NOUN_MARKERS:
                marked[token] += 1
            elif position >= 2 and tokens[position - 2] in _NOUN_MARKERS:
                marked[token] += 1
    return frozenset(word for word, count in seen.items() if marked[word] >= max(2, min_share * count))


def extend_lexicon(
    lexicon: AspectLexicon,
    phrase_stats: dict[str, PhraseStats],
    encoder: Encoder | None = None,
    *,
    noun_heads: frozenset[str] | None = None,
    min_mentions: int = 5,
    max_candidates: int = 200,
    max_new_aspects: int = 8,
    assign_threshold: float = 0.6,
    cluster_threshold: float = 0.7,
) -> AspectLexicon:
    """Add the workspace's own opinion targets to the lexicon.

    Candidates are frequent phrases that sit in opinionated sentences at least half the time (reviewers
    judge them), end in a noun-like word when `noun_heads` is given, carry no sentiment themselves ("great sound" is an opinion, not a target) and are not
    terms yet. With an encoder, a candidate close to a seed aspect joins it; the rest are clustered
    greedily by cosine or a shared head noun and the clusters with enough
    mentions become new aspects.

    Returns:
        A new lexicon; the input is unchanged.
    """
    known = {" ".join(key) for key in lexicon.index()}
    sentiment_words = lexicon_analyzer().lexicon
    stops = stop_words()
    candidates = [
        (key, stats)
        for key, stats in phrase_stats.items()
        if stats.mentions >= min_mentions
        and stats.opinionated * 2 >= stats.mentions
        and key not in known
        and not any(word in sentiment_words or word in stops for word in key.split())
        and not any(word in known for word in key.split())
        and len(key) > 2
        and (noun_heads is None or key.split()[-1] in noun_heads)
    ]
    candidates.sort(key=lambda pair: (-pair[1].mentions, pair[0]))
    candidates = candidates[:max_candidates]
    if not candidates:
        return lexicon
    strong = {aspect: list(terms) for aspect, terms in lexicon.strong.items()}
    learned: dict[str, list[str]] = {aspect: list(terms) for aspect, terms in lexicon.learned.items()}
    phrases = [key for key, _stats in candidates]
    leftovers = list(range(len(phrases)))
    vectors: np.ndarray | None = None
    if encoder is not None:
        vectors = np.asarray(encoder.encode(phrases), dtype=np.float32)
        aspect_names = lexicon.aspects
        centroids = []
        for aspect in aspect_names:
            terms = list(lexicon.strong[aspect]) or [aspect]
            term_vectors = np.asarray(encoder.encode(terms), dtype=np.float32)
            centroid = term_vectors.mean(axis=0)
            centroids.append(centroid / max(float(np.linalg.norm(centroid)), 1e-9))
        similarity = vectors @ np.asarray(centroids).T
        leftovers = []
        for index, phrase in enumerate(phrases):
            best = int(np.argmax(similarity[index]))
            if similarity[index, best] >= assign_threshold:
                strong[aspect_names[best]].append(phrase)
                learned.setdefault(aspect_names[best], []).append(phrase)
            else:
                leftovers.append(index)
    clusters: list[list[int]] = []
    for index in leftovers:  # already sorted by mentions: the first member names the cluster
        for cluster in clusters:
            leader = cluster[0]
            # "metal zipper" joins "zipper": the same head noun is the encoder-free version of "close";
            # "night cream" does not join "game night".
            same_head = phrases[index].split()[-1] == phrases[leader].split()[-1]
            close = vectors is not None and float(vectors[index] @ vectors[leader]) >= cluster_threshold
            if same_head or close:
                cluster.append(index)
                break
        else:
            clusters.append([index])
    weak = dict(lexicon.weak)
    new_aspects = 0
    for cluster in clusters:
        total = sum(candidates[index][1].mentions for index in cluster)
        if total < 2 * min_mentions or new_aspects >= max_new_aspects:
            continue
        name = phrases[cluster[0]]
        if name in strong:
            continue
        strong[name] = [phrases[index] for index in cluster]
        weak[name] = ()
        learned[name] = [phrases[index] for index in cluster]
        new_aspects += 1
    return AspectLexicon(
        strong={aspect: tuple(dict.fromkeys(terms)) for aspect, terms in strong.items()},
        weak={aspect: tuple(terms) for aspect, terms in weak.items()},
        learned={aspect: tuple(dict.fromkeys(terms)) for aspect, terms in learned.items()},
    )
