"""The new-products split and its two measurements on data whose right answer is obvious."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from recengine.errors import ConfigError
from recengine.evaluate.baselines import EmbeddingProfile, HybridRanker, ItemKNN, RandomRanker, TfidfProfile
from recengine.evaluate.cold_start import new_products_split, rank_new_products, recall_ndcg, whole_catalog
from recengine.evaluate.data import interactions_frame


def two_taste_shop(products_per_taste: int = 10, customers_per_taste: int = 30) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Jazz lovers buy jazz, garden lovers buy garden tools; titles and vectors say which is which."""
    rng = np.random.default_rng(3)
    items = pd.DataFrame(
        {
            "item_id": [f"{taste}{index}" for taste in "JG" for index in range(products_per_taste)],
            "title": [f"{word} {index}" for word in ("jazz vinyl record", "garden hose tool") for index in range(products_per_taste)],
            "category": ["Music"] * products_per_taste + ["Garden"] * products_per_taste,
        }
    )
    rows = []
    start = datetime(2024, 1, 1)
    for taste in "JG":
        for customer in range(customers_per_taste):
            bought = rng.choice(products_per_taste, size=5, replace=False)
            for step, index in enumerate(bought):
                rating = 2.0 if step == 4 else 5.0  # everyone dislikes their last purchase
                rows.append((f"{taste.lower()}{customer}", f"{taste}{index}", start + timedelta(days=step), rating))
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp", "rating"])
    return items, interactions_frame(frame["user_id"], frame["item_id"], frame["timestamp"], ratings=frame["rating"])


def taste_vectors(items: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(0)
    vectors = np.zeros((len(items), 6), dtype=np.float32)
    vectors[items["category"].eq("Music").to_numpy(), 0] = 1.0
    vectors[items["category"].eq("Garden").to_numpy(), 1] = 1.0
    vectors += rng.normal(0, 0.1, vectors.shape).astype(np.float32)
    return items["item_id"].tolist(), vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_no_interaction_with_a_new_product_reaches_training() -> None:
    _items, interactions = two_taste_shop()
    split = new_products_split(interactions, share=0.2, seed=1)
    assert len(split.new_items) == 4  # 20% of 20 products
    assert not split.train["item_id"].isin(split.new_items).any()
    assert not split.liked_train["item_id"].isin(split.new_items).any()
    assert (split.liked_train["rating"] >= 4).all()
    for user, targets in split.targets.items():
        assert set(targets) <= set(split.new_items), "targets are new products only"
        liked = interactions[(interactions["user_id"] == user) & (interactions["rating"] >= 4)]
        assert set(targets) == set(liked["item_id"]) & set(split.new_items), "every liked new product is a target"
        assert set(split.liked_train.loc[split.liked_train["user_id"] == user, "item_id"]), "an input product remains"


def test_split_is_seeded_and_checks_its_share() -> None:
    _items, interactions = two_taste_shop()
    assert new_products_split(interactions, seed=5).new_items == new_products_split(interactions, seed=5).new_items
    assert new_products_split(interactions, seed=5).new_items != new_products_split(interactions, seed=6).new_items
    with pytest.raises(ConfigError, match="between 0 and 1"):
        new_products_split(interactions, share=1.0)


def test_disliked_new_products_are_not_targets() -> None:
    _items, interactions = two_taste_shop()
    split = new_products_split(interactions, share=0.5, seed=0)
    disliked = interactions[interactions["rating"] < 4]
    for user, targets in split.targets.items():
        assert not set(targets) & set(disliked.loc[disliked["user_id"] == user, "item_id"])


def test_recall_divides_by_the_smaller_of_k_and_the_targets() -> None:
    values = recall_ndcg(np.array([[0, 30], [5, np.nan], [np.nan, np.nan]]), recall_k=20, ndcg_k=100)
    assert values["recall@20"].tolist() == [0.5, 1.0, 0.0]
    assert values["ndcg@100"][1] == pytest.approx(1.0 / np.log2(7))


def test_content_methods_beat_random_among_new_products() -> None:
    items, interactions = two_taste_shop()
    split = new_products_split(interactions, share=0.3, seed=0)
    ids, vectors = taste_vectors(items)
    result = rank_new_products(
        split, items, [RandomRanker(), TfidfProfile(), EmbeddingProfile(ids, vectors)], reference="Random", resamples=200
    )
    table = result.table().set_index("method")
    assert result.users == len(split.targets)
    assert table.loc["Embedding", "recall@20"] == pytest.approx(1.0)  # six new products, all within 20
    # NDCG@100 separates them: a customer's own taste ranks first.
    assert table.loc["Embedding", "ndcg@100"] > table.loc["Random", "ndcg@100"] + 0.1
    assert table.loc["TF-IDF", "ndcg@100"] > table.loc["Random", "ndcg@100"] + 0.1
    assert result.comparisons["Embedding"]["ndcg@100"].significant


def test_borrowed_signal_puts_new_products_in_the_hybrids_lists() -> None:
    items, interactions = two_taste_shop(products_per_taste=30, customers_per_taste=40)
    split = new_products_split(interactions, share=0.2, seed=0)
    ids, vectors = taste_vectors(items)

    class Vectors:
        item_ids, fingerprint = ids, "taste"

    Vectors.vectors = vectors
    from recengine.config import RecommendSettings

    result = whole_catalog(
        split, items,
        [ItemKNN(), HybridRanker(Vectors, RecommendSettings(new_product_neighbours=0), name="no borrowing"),
         HybridRanker(Vectors, RecommendSettings(), name="Hybrid")],
        k=10, resamples=200,
    )
    table = result.table().set_index("method")
    assert table.loc["ItemKNN", "recall@10"] < 0.2  # no signal for new products at all
    assert table.loc["Hybrid", "recall@10"] > table.loc["no borrowing", "recall@10"]
    assert table.loc["Hybrid", "new share"] > table.loc["no borrowing", "new share"]


def test_the_whole_evaluation_runs_every_method_on_prepared_data() -> None:
    from recengine.evaluate.cold_start_run import evaluate_new_products
    from recengine.evaluate.data import EvaluationData

    items, interactions = two_taste_shop(products_per_taste=30, customers_per_taste=40)
    ids, vectors = taste_vectors(items)

    class Vectors:
        item_ids, fingerprint = ids, "taste"

    Vectors.vectors = vectors
    data = EvaluationData(name="two tastes", items=items, interactions=interactions, item_vectors=Vectors)
    evaluation = evaluate_new_products(data, n_resamples=100)
    among = evaluation.among_new.table().set_index("method")
    assert list(among.index) == [
        "Random", "TF-IDF", "Embedding", "TF-IDF + Embedding", "Text -> collaborative map", "Hybrid",
    ]
    assert among.loc["Text -> collaborative map", "ndcg@100"] > among.loc["Random", "ndcg@100"]
    whole = evaluation.whole_catalog.table().set_index("method")
    assert whole.loc["Hybrid", "recall@20"] > whole.loc["Hybrid without borrowing", "recall@20"]
    best = among.drop(index=["Random", "Hybrid"])["recall@20"].idxmax()
    assert list(whole.index) == [
        "ItemKNN", "Hybrid without borrowing", "Hybrid", "Hybrid + new arrivals 10%", "Hybrid + new arrivals 25%",
        "Hybrid + new arrivals 50%", f"Hybrid, new products chosen by {best}",
    ]
    assert evaluation.whole_catalog.reference == "Hybrid"
    shares = whole["new share"]
    assert shares["Hybrid + new arrivals 50%"] >= 0.5 - 1e-9
    assert shares["Hybrid + new arrivals 50%"] >= shares["Hybrid + new arrivals 25%"] >= shares["Hybrid"]
    assert shares[f"Hybrid, new products chosen by {best}"] == pytest.approx(shares["Hybrid"])
    promoted, new = evaluation.new_arrivals
    assert new == evaluation.new_products <= promoted, "every new product counts as a new arrival"
    payload = evaluation.to_dict()
    assert payload["users"] == evaluation.users and "Among new products" in payload["verdict"]


def test_cli_runs_the_new_products_split(filled_workspace, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    import json

    from test_evaluate_cli import parse

    arguments = parse("--workspace", str(filled_workspace.root), "--split", "new_products", "--new-share", "0.3",
                      "--resamples", "20", "--format", "json")
    assert arguments.handler(arguments) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["new_products"] >= 1 and payload["users"] >= 1
    assert {row["method"] for row in payload["among_new_products"]} >= {"Random", "TF-IDF"}
    assert payload["whole_catalog"][0]["method"] == "ItemKNN"
