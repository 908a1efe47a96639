"""Demo review texts: aspects of the product, with sentiment that follows the stars (mostly).

A review picks two or three aspects of the product's leaf (plus delivery or value now and then) and
says something positive or negative about each, in proportions set by the stars. A few reviews are
deliberate mismatches: sarcasm (praising words, one or two stars), five stars on a complaint, and one
star on a product the reviewer loves because the delivery went wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recengine.demo.catalog import Leaf, Product
from recengine.demo.sampling import pick as _pick
from recengine.demo.sampling import weighted_sample
from recengine.demo.vocabulary import (
    CLOSERS,
    COMPLAINT_FIVE_STAR,
    COMPLAINT_FIVE_STAR_TITLES,
    DELIVERY_ONE_STAR,
    DELIVERY_ONE_STAR_TITLES,
    GENERIC_ASPECTS,
    OPENERS,
    SARCASM,
    SARCASM_TITLES,
    TITLES,
    Aspect,
)

MISMATCH_KINDS = ("sarcasm", "complaint_5_stars", "praise_1_star_delivery")
_GENERIC_EXTRA = (("delivery", 0.35), ("value", 0.45), ("packaging", 0.12), ("customer service", 0.1))
# Chance that an aspect sentence is positive, by stars.
_POSITIVE_SHARE = {5: 1.0, 4: 0.82, 3: 0.5, 2: 0.2, 1: 0.0}
_ASPECT_POOLS: dict[int, tuple[list[str], np.ndarray]] = {}
_CONTRAST_OPENERS = {
    True: ("To be fair, ", "On the plus side, "),
    False: ("However, ", "The only downside: ", "But "),
}


@dataclass(frozen=True)
class ReviewText:
    title: str
    text: str
    sentiment: str  # what the words say: positive, neutral or negative
    mismatch: str  # "" or one of MISMATCH_KINDS
    stars: int  # the stars to publish (a mismatch may change them)


def _aspect(leaf: Leaf, name: str) -> Aspect:
    return leaf.category.aspects.get(name) or GENERIC_ASPECTS[name]


def _aspect_pool(leaf: Leaf) -> tuple[list[str], np.ndarray]:
    pool = _ASPECT_POOLS.get(leaf.index)
    if pool is None:
        names = list(leaf.kind.aspects)
        weights = [1.0] * len(names)
        for name, weight in _GENERIC_EXTRA:
            if name not in names:
                names.append(name)
                weights.append(weight)
        pool = _ASPECT_POOLS[leaf.index] = (names, np.array(weights))
    return pool


def _choose_aspects(rng: np.random.Generator, leaf: Leaf, count: int) -> list[str]:
    names, weights = _aspect_pool(leaf)
    return [names[int(index)] for index in weighted_sample(rng, weights, min(count, len(names)))]


def _lower_first(sentence: str) -> str:
    return sentence[0].lower() + sentence[1:] if sentence[:2] != sentence[:2].upper() else sentence


def _title_case_first(text: str) -> str:
    return text[0].upper() + text[1:]


def compose_review(rng: np.random.Generator, product: Product, leaf: Leaf, stars: int) -> ReviewText:
    """A review consistent with `stars`: opener, aspect sentences, closer, and a title."""
    count = int(rng.integers(1, 4)) if stars in (1, 5) else int(rng.integers(2, 4))
    aspects = _choose_aspects(rng, leaf, count)
    share = _POSITIVE_SHARE[stars]
    polarities = [bool(rng.random() < share) for _ in aspects]
    if stars == 3 and len(polarities) >= 2 and len(set(polarities)) == 1:
        polarities[-1] = not polarities[-1]  # a three-star review has both sides
    majority = stars >= 3
    # Put the majority view first and the contrasting point after it, as people write.
    order = sorted(range(len(aspects)), key=lambda i: polarities[i] != majority)
    aspects = [aspects[i] for i in order]
    polarities = [polarities[i] for i in order]

    sentences: list[str] = []
    if rng.random() < 0.75:
        sentences.append(_pick(rng, OPENERS[stars]).format(short=product.short))
    for index, (name, positive) in enumerate(zip(aspects, polarities, strict=True)):
        aspect = _aspect(leaf, name)
        sentence = _pick(rng, aspect.positive if positive else aspect.negative)
        if index > 0 and positive != polarities[0] and rng.random() < 0.7:
            sentence = _pick(rng, _CONTRAST_OPENERS[positive]) + _lower_first(sentence)
        sentences.append(sentence.format(short=product.short))
    if rng.random() < 0.6 or len(sentences) < 2:
        sentences.append(_pick(rng, CLOSERS[stars]))

    headline_aspects = [
        name for name, positive in zip(aspects, polarities, strict=True) if positive == (stars >= 4)
    ]
    headline = headline_aspects[0] if headline_aspects else aspects[0]
    title = _title_case_first(_pick(rng, TITLES[stars]).format(short=product.short, aspect=headline))
    sentiment = "positive" if stars >= 4 else "negative" if stars <= 2 else "neutral"
    return ReviewText(title, " ".join(sentences), sentiment, "", stars)


def compose_mismatch(rng: np.random.Generator, product: Product, leaf: Leaf, stars: int) -> ReviewText | None:
    """A review whose words and stars disagree, or None when `stars` suits no kind of mismatch."""
    short = product.short
    if stars <= 2:
        if rng.random() < 0.6:
            text = _pick(rng, SARCASM).format(short=short, days=int(rng.integers(2, 15)))
            return ReviewText(_pick(rng, SARCASM_TITLES), text, "positive", "sarcasm", stars)
        text = _pick(rng, COMPLAINT_FIVE_STAR)
        return ReviewText(_pick(rng, COMPLAINT_FIVE_STAR_TITLES), text, "negative", "complaint_5_stars", 5)
    if stars >= 4:
        praise = _pick(rng, _aspect(leaf, leaf.kind.aspects[0]).positive)
        text = _pick(rng, DELIVERY_ONE_STAR).format(short=short)
        # The praise of the product comes first; the complaint is only about the delivery.
        text = f"{praise} {text}" if rng.random() < 0.5 else text
        return ReviewText(_pick(rng, DELIVERY_ONE_STAR_TITLES), text, "positive", "praise_1_star_delivery", 1)
    return None
