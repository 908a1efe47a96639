"""Which catalog items contain which words (title, brand, category): an inverted index.

Search reads it for the share of the query's words an item contains, and query exclusions ("without
batteries") for the items to leave out; both cost the length of a few posting lists, not a pass over
the catalog in Python.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from recengine.recommend.catalog import Catalog

WORD = re.compile(r"[\w']+")


def query_words(text: str) -> set[str]:
    """The words of a query that count for matching (single letters are noise, single digits are not)."""
    return {word for word in WORD.findall(text.lower()) if len(word) > 1 or word.isdigit()}


@dataclass(frozen=True)
class WordIndex:
    """Item positions by lower-case word of their title, brand and category."""

    postings: dict[str, np.ndarray]
    size: int

    @classmethod
    def from_catalog(cls, catalog: Catalog) -> WordIndex:
        lists: dict[str, list[int]] = {}
        for position, (title, brand, category) in enumerate(
            zip(catalog.titles, catalog.brands, catalog.categories, strict=True)
        ):
            for word in set(WORD.findall(f"{title} {brand} {category}".lower())):
                lists.setdefault(word, []).append(position)
        return cls({word: np.array(items, dtype=np.int64) for word, items in lists.items()}, catalog.size)

    def share_of_words(self, words: set[str]) -> np.ndarray:
        """Per item, the share of `words` it contains (0..1)."""
        found = [self.postings[word] for word in words if word in self.postings]
        if not found:
            return np.zeros(self.size, dtype=np.float32)
        # One counting pass over the posting lists (a word like "product" lists every item).
        counts = np.bincount(np.concatenate(found), minlength=self.size)
        return counts.astype(np.float32) / len(words)

    def containing(self, words: Iterable[str]) -> np.ndarray:
        """Mask of the items that contain any of `words`."""
        mask = np.zeros(self.size, dtype=bool)
        for word in words:
            items = self.postings.get(word)
            if items is not None:
                mask[items] = True
        return mask
