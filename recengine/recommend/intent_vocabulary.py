"""The catalog's own categories and brands by the words that name them, and its price distribution:
what the query parser matches names against. A word that names nothing here is never a constraint.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from recengine.recommend.catalog import Catalog
from recengine.recommend.intent_rules import ENGLISH, IntentRules

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|&")


def singular(word: str) -> str:
    """A crude English singular, applied to both sides of every comparison (so it need not be right)."""
    if len(word) <= 3 or word.endswith(("ss", "us", "is", "'s")):
        return word[:-2] if word.endswith("'s") else word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "sses", "zes")):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word


def name_words(text: str, rules: IntentRules = ENGLISH) -> tuple[str, ...]:
    """The words of a name or query span as compared: lower case, singular, no connectors."""
    connectors = set(rules.connector_words)
    return tuple(singular(word) for word in _TOKEN.findall(text.lower().replace("’", "'")) if word not in connectors)


@dataclass(frozen=True)
class NameTarget:
    """A category or brand of the catalog that a run of query words can name."""

    kind: Literal["category", "brand"]
    name: str


@dataclass
class CatalogVocabulary:
    """The catalog's own categories and brands by the words that name them, plus its prices.

    Built once per fitted model (`intent_match.vocabulary_for`); read-only afterwards.
    """

    catalog: Catalog
    names: dict[tuple[str, ...], tuple[NameTarget, ...]]
    longest_name: int
    name_word_index: dict[str, set[str]]  # one-deletion variant -> name words (typo correction)
    catalog_words: frozenset[str]  # every word of titles, brands, categories: never "corrected"
    rules: IntentRules = ENGLISH
    _band_cache: dict[tuple[object, ...], float | None] = field(default_factory=dict, repr=False)
    _corrections: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_catalog(cls, catalog: Catalog, rules: IntentRules = ENGLISH, catalog_words: Iterable[str] | None = None) -> CatalogVocabulary:
        """Index every category part and brand of `catalog` under the word sequences that name it.

        "Arts, Music & Photography" is named by its whole and by each of its parts ("photography"); a
        brand also by its name without a legal suffix ("Acme Inc." -> "acme"). Words that are the whole
        name of a category or brand name only those: "music" is the category Music where there is one,
        not also "Arts, Music & Photography".
        """
        names: dict[tuple[str, ...], set[NameTarget]] = {}
        pieces_only: dict[tuple[str, ...], set[NameTarget]] = {}
        generic = {name_words(text, rules) for text in rules.generic_names}

        def add(words: tuple[str, ...], target: NameTarget, *, whole: bool = True) -> None:
            if not words or words in generic or all(word.isdigit() for word in words) or len("".join(words)) < 2:
                return
            (names if whole else pieces_only).setdefault(words, set()).add(target)

        for part in _category_parts(catalog.categories, rules):
            target = NameTarget("category", part)
            add(name_words(part, rules), target)
            pieces = [piece for piece in re.split(r",|&|\band\b|/", part.lower()) if piece.strip()]
            if len(pieces) > 1:
                for piece in pieces:
                    add(name_words(piece, rules), target, whole=False)
        suffixes = set(rules.brand_suffixes)
        for brand in {str(value).strip() for value in catalog.brands}:
            if not brand or len(brand) > 80:
                continue
            target = NameTarget("brand", brand)
            words = name_words(brand, rules)
            add(words, target)
            trimmed = words
            while trimmed and trimmed[-1] in suffixes:
                trimmed = trimmed[:-1]
            if trimmed != words:
                add(trimmed, target)
        for words, targets in pieces_only.items():
            names.setdefault(words, targets)
        frozen = {words: tuple(sorted(targets, key=lambda item: (item.kind, item.name))) for words, targets in names.items()}
        word_index: dict[str, set[str]] = {}
        for words in frozen:
            for word in words:
                if len(word) >= rules.fuzzy_min_length - 1:
                    for variant in _deletions(word):
                        word_index.setdefault(variant, set()).add(word)
        if catalog_words is None:
            text = " ".join(str(value) for value in (*catalog.titles, *catalog.brands, *catalog.categories)).lower()
            catalog_words = _TOKEN.findall(text)
        known = frozenset(singular(word) for word in catalog_words)
        return cls(
            catalog=catalog,
            names=frozen,
            longest_name=max((len(words) for words in frozen), default=1),
            name_word_index=word_index,
            catalog_words=known,
            rules=rules,
        )

    def correct(self, word: str) -> str:
        """A catalog name's word one edit away from `word`, when `word` is a typo (not a catalog word)."""
        if len(word) < self.rules.fuzzy_min_length or word in self.catalog_words or word.isdigit():
            return word
        corrected = self._corrections.get(word)
        if corrected is None:
            found: set[str] = set()
            for variant in (word, *_deletions(word)):
                found |= self.name_word_index.get(variant, set())
            close = sorted(candidate for candidate in found if _one_edit(word, candidate))
            corrected = close[0] if len(close) == 1 else word
            if len(self._corrections) > 10_000:
                self._corrections.clear()
            self._corrections[word] = corrected
        return corrected

    def relative_band(self, band: str, categories: tuple[str, ...]) -> float | None:
        """The price at the band's quantile: of the named categories' items when they have enough prices."""
        key = (band, categories)
        if key not in self._band_cache:
            quantile = self.rules.cheap_quantile if band == "cheap" else self.rules.premium_quantile
            prices = self.catalog.prices
            if categories:
                mask = np.zeros(self.catalog.size, dtype=bool)
                for name in categories:
                    mask |= self.catalog.category_mask(name)
                inside = prices[mask]
                if np.count_nonzero(~np.isnan(inside)) >= self.rules.relative_band_minimum_prices:
                    prices = inside
            known = prices[~np.isnan(prices)]
            enough = known.size >= self.rules.relative_band_minimum_prices and (
                known.size >= self.rules.relative_band_minimum_share * prices.size
            )
            self._band_cache[key] = round(float(np.quantile(known, quantile)), 2) if enough else None
        return self._band_cache[key]


def _category_parts(categories: np.ndarray, rules: IntentRules) -> set[str]:
    parts: set[str] = set()
    for path in {str(value) for value in categories}:
        for part in path.split(">"):
            part = part.strip()
            if part and len(part) <= 60 and len(part.split()) <= rules.max_name_words and "<" not in part:
                parts.add(part)
    return parts


def _deletions(word: str) -> list[str]:
    return [word[:index] + word[index + 1:] for index in range(len(word))]


def _one_edit(first: str, second: str) -> bool:
    """Levenshtein distance 1, or one swap of neighbouring letters."""
    if first == second or abs(len(first) - len(second)) > 1:
        return False
    if len(first) == len(second):
        diffs = [index for index in range(len(first)) if first[index] != second[index]]
        if len(diffs) == 1:
            return True
        return len(diffs) == 2 and diffs[1] == diffs[0] + 1 and first[diffs[0]] == second[diffs[1]] and first[diffs[1]] == second[diffs[0]]
    shorter, longer = (first, second) if len(first) < len(second) else (second, first)
    return any(longer[:index] + longer[index + 1:] == shorter for index in range(len(longer)))
