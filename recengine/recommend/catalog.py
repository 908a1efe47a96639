"""The catalog as arrays aligned with item positions, so scoring and rules stay vectorised."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Catalog:
    """Item attributes by position. Position `i` is `item_ids[i]` everywhere in the package."""

    item_ids: list[str]
    positions: dict[str, int]
    titles: np.ndarray  # object
    categories: np.ndarray  # object, full path 'A > B > C' ('' when unknown)
    top_categories: np.ndarray  # object, first part of the path
    brands: np.ndarray  # object
    prices: np.ndarray  # float64, nan when unknown
    in_stock: np.ndarray  # bool; unknown counts as in stock
    # Day (days since the epoch) each product was first seen: a `first_seen` column of the catalog, else its
    # first interaction, else (a product nobody has met yet) the newest day of the data. NaN when unknown.
    first_seen: np.ndarray = field(default_factory=lambda: np.zeros(0), compare=False, repr=False)
    newest_day: float = float("nan")
    # Masks of rules and segments, computed once per catalog (a category match scans every path).
    mask_cache: dict[object, np.ndarray] = field(default_factory=dict, compare=False, repr=False)

    @property
    def size(self) -> int:
        return len(self.item_ids)

    @classmethod
    def from_frame(cls, items: pd.DataFrame, extra_item_ids: Sequence[str] = ()) -> Catalog:
        """Build from an items frame; ids seen only in interactions become untitled items."""
        frame = items.drop_duplicates("item_id", keep="last") if "item_id" in items else items
        ids = [str(item_id) for item_id in frame["item_id"].tolist()] if len(frame) else []
        known = set(ids)
        extra = sorted({str(item_id) for item_id in extra_item_ids} - known)
        count = len(ids) + len(extra)

        def column(name: str, default: object) -> list[object]:
            if name in frame.columns:
                values = [default if _missing(value) else value for value in frame[name].tolist()]
            else:
                values = [default] * len(ids)
            return values + [default] * len(extra)

        titles = [str(value) for value in column("title", "")]
        all_ids = ids + extra
        titles = [title or item_id for title, item_id in zip(titles, all_ids, strict=True)]
        categories = [str(value) for value in column("category", "")]
        prices = np.array([_to_float(value) for value in column("price", np.nan)], dtype=np.float64)
        stock = np.array([bool(value) for value in column("in_stock", True)], dtype=bool)
        return cls(
            item_ids=all_ids,
            positions={item_id: position for position, item_id in enumerate(all_ids)},
            titles=np.array(titles, dtype=object),
            categories=np.array(categories, dtype=object),
            top_categories=np.array([path.split(" > ")[0].strip() for path in categories], dtype=object),
            brands=np.array([str(value) for value in column("brand", "")], dtype=object),
            prices=prices if count else np.zeros(0),
            in_stock=stock if count else np.zeros(0, dtype=bool),
        )


    def with_first_seen(self, items: pd.DataFrame, interactions: pd.DataFrame, newest_day: float) -> Catalog:
        """This catalog with each product's first-seen day (see `first_seen`), for the new-arrivals rule."""
        from recengine.recommend.interactions import to_days

        first_seen = np.full(self.size, np.nan)
        if len(interactions) and "timestamp" in interactions.columns:
            days = pd.Series(to_days(interactions["timestamp"]), index=interactions["item_id"].astype(str).to_numpy())
            earliest = days.groupby(level=0).min()
            rows = np.array([self.positions.get(item_id, -1) for item_id in earliest.index], dtype=np.int64)
            known = rows >= 0
            first_seen[rows[known]] = earliest.to_numpy()[known]
        if "first_seen" in items.columns:
            stated = to_days(items["first_seen"])
            rows = np.array([self.positions.get(str(item_id), -1) for item_id in items["item_id"]], dtype=np.int64)
            usable_rows = (rows >= 0) & ~np.isnan(stated)
            first_seen[rows[usable_rows]] = stated[usable_rows]
        if not np.isnan(newest_day):
            # Nobody has met these products yet: they arrived after the data's newest day at the latest.
            first_seen = np.where(np.isnan(first_seen), newest_day, first_seen)
        return replace(self, first_seen=first_seen, newest_day=float(newest_day), mask_cache={})
    def cached_mask(self, key: object, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """A mask computed once per key (rules are frozen dataclasses, so they are keys)."""
        mask = self.mask_cache.get(key)
        if mask is None:
            if len(self.mask_cache) > 256:
                self.mask_cache.clear()
            mask = compute()
            mask.setflags(write=False)
            self.mask_cache[key] = mask
        return mask

    def category_mask(self, category: str) -> np.ndarray:
        """Items whose category path starts with `category` or has it as one of its parts."""
        return self.cached_mask(("category", category), lambda: self._category_mask(category)).copy()

    def _category_mask(self, category: str) -> np.ndarray:
        wanted = category.strip().lower()
        if not wanted:
            return np.zeros(self.size, dtype=bool)
        unique, inverse = self._category_paths
        matches = np.array([_category_matches(path, wanted) for path in unique], dtype=bool)
        return matches[inverse] if len(unique) else np.zeros(self.size, dtype=bool)

    def brand_mask(self, brand: str) -> np.ndarray:
        wanted = brand.strip().lower()
        unique, inverse = self._brand_values
        return (unique == wanted)[inverse] if len(unique) else np.zeros(self.size, dtype=bool)

    # Distinct values and each item's index among them, once per catalog: a search naming a new category
    # or brand then compares a few thousand distinct values, not 100,000 items (30-60 ms at that size).
    @cached_property
    def _category_paths(self) -> tuple[np.ndarray, np.ndarray]:
        return np.unique(self.categories.astype(str), return_inverse=True)

    @cached_property
    def _brand_values(self) -> tuple[np.ndarray, np.ndarray]:
        return np.unique(np.char.lower(self.brands.astype(str)), return_inverse=True)

    def new_arrivals_mask(self, days: float) -> np.ndarray:
        """Products first seen within `days` of the newest day in the data."""
        if self.first_seen.size != self.size or np.isnan(self.newest_day):
            return np.zeros(self.size, dtype=bool)
        with np.errstate(invalid="ignore"):
            return self.first_seen >= self.newest_day - float(days)

    def price_mask(self, low: float | None, high: float | None) -> np.ndarray:
        mask = ~np.isnan(self.prices)
        if low is not None:
            mask &= self.prices >= low
        if high is not None:
            mask &= self.prices <= high
        return mask


def _category_matches(path: str, wanted: str) -> bool:
    lowered = path.lower()
    return lowered.startswith(wanted) or any(part.strip() == wanted for part in lowered.split(">"))


def _missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _to_float(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")
