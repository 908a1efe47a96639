"""The demo catalog: sizes, categories, brands, prices, stock and descriptions."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from recengine.demo import SIZES, DemoData, generate_demo
from recengine.errors import ConfigError


def _category(path: str) -> str:
    return " > ".join(path.split(" > ")[:2])


def test_standard_catalog_has_enough_products_in_enough_categories(standard_demo: DemoData) -> None:
    items = standard_demo.items
    assert len(items) >= 600
    assert items["item_id"].is_unique and items["title"].is_unique
    paths = items["category"].str.split(" > ")
    assert (paths.str.len() == 3).all()  # 'Department > Category > Leaf'
    categories = items["category"].map(_category)
    assert categories.nunique() >= 8
    assert categories.value_counts().min() >= 40
    assert items.groupby(categories)["brand"].nunique().min() >= 3
    assert items["category"].nunique() >= 30  # leaves


def test_fields_are_filled_and_plausible(standard_demo: DemoData) -> None:
    items = standard_demo.items
    for column in ("item_id", "title", "description", "brand", "category"):
        assert items[column].str.len().gt(0).all(), column
    assert (items["price"] > 0).all() and (items["price"] < 1000).all()
    out_of_stock = 1 - items["in_stock"].mean()
    assert 0.04 <= out_of_stock <= 0.13
    assert (items["in_stock"] == (items["stock"] > 0)).all()
    assert (items["image_url"] == "").all()
    sentences = items["description"].str.count(r"\.(?:\s|$)")
    assert sentences.min() >= 3


def test_premium_brands_cost_more_than_budget_brands_in_the_same_leaf(standard_demo: DemoData) -> None:
    truth = standard_demo.item_truth.set_index("item_id")
    items = standard_demo.items.set_index("item_id").join(truth["tier"])
    medians = items.groupby(["category", "tier"])["price"].median().unstack()
    both = medians.dropna(subset=["budget", "premium"])
    assert len(both) >= 20
    assert (both["premium"] > both["budget"]).mean() > 0.9


def test_descriptions_are_alike_within_a_category_and_differ_across(standard_demo: DemoData) -> None:
    items = standard_demo.items
    vectors = TfidfVectorizer().fit_transform(items["description"])
    similarity = (vectors @ vectors.T).toarray()
    np.fill_diagonal(similarity, np.nan)
    same = items["category"].map(_category).to_numpy()
    same_category = same[:, None] == same[None, :]
    within = np.nanmean(similarity[same_category])
    across = np.nanmean(similarity[~same_category])
    assert within > 2 * across
    # ...but no two products share a description.
    assert items["description"].is_unique


def test_small_size_is_small(small_demo: DemoData) -> None:
    spec = SIZES["small"]
    assert len(small_demo.items) == spec.products
    assert small_demo.items["category"].map(_category).nunique() >= 8
    assert len(small_demo.reviews) == spec.reviews
    assert len(small_demo.users) == spec.users


def test_unknown_size_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="standard, small"):
        generate_demo(size="huge")
