"""Helpers for the fine-tuning tests: small frames, filling a workspace, a tiny random model (no download)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from recengine.workspace import Workspace

COLOURS = ["red", "blue", "green", "black", "white", "yellow"]
KINDS = ["shoe", "shirt", "hat", "bag", "sock", "scarf"]
WORDS = COLOURS + KINDS + [
    "running", "leather", "cotton", "wool", "warm", "light", "great", "fits", "well", "love", "this",
    "comfortable", "and", "the", "a", "is", "very", "nice", "product", "bad", "quality", "apparel",
    "clothing", "accessories", "brand", "acme", "zeta", "for", "winter", "summer", ".", ",", ">", "!",
]


def catalog_frame() -> pd.DataFrame:
    """36 items: every colour x kind, with co-bought links between same-kind items."""
    rows = []
    for colour_index, colour in enumerate(COLOURS):
        for kind_index, kind in enumerate(KINDS):
            item_id = f"I{colour_index}{kind_index}"
            partner = f"I{(colour_index + 1) % len(COLOURS)}{kind_index}"
            rows.append(
                {
                    "item_id": item_id,
                    "title": f"{colour} {kind}",
                    "description": f"a {'warm wool' if colour_index % 2 else 'light cotton'} {kind} for winter",
                    "brand": "acme" if kind_index % 2 else "zeta",
                    "category": f"clothing > {kind}",
                    "price": 10.0 + colour_index,
                    "attributes": json.dumps({"also_buy": [partner, "MISSING"]}),
                }
            )
    return pd.DataFrame(rows)


def reviews_frame() -> pd.DataFrame:
    """Each of 12 users reviews 5 items of one kind, in time order; ratings alternate 5/2."""
    rows = []
    start = pd.Timestamp("2024-01-01")
    for user_index in range(12):
        kind_index = user_index % len(KINDS)
        for step in range(5):
            colour_index = (user_index + step) % len(COLOURS)
            item_id = f"I{colour_index}{kind_index}"
            rows.append(
                {
                    "review_id": f"R{user_index}-{step}",
                    "user_id": f"U{user_index}",
                    "item_id": item_id,
                    "rating": 5.0 if step % 2 == 0 else 2.0,
                    "title": "great",
                    "text": f"love this {COLOURS[colour_index]} {KINDS[kind_index]} , very comfortable and fits well {user_index}",
                    "timestamp": start + pd.Timedelta(days=user_index * 10 + step),
                }
            )
    return pd.DataFrame(rows)


def interactions_frame() -> pd.DataFrame:
    """Two users buy two items on the same day (a basket), plus views."""
    start = pd.Timestamp("2024-03-01 10:00")
    rows = [
        ("E1", "U20", "I00", "purchase", start),
        ("E2", "U20", "I01", "purchase", start + pd.Timedelta(hours=1)),
        ("E3", "U20", "I02", "purchase", start + pd.Timedelta(days=3)),  # the test item: a later purchase
        ("E4", "U21", "I10", "purchase", start),
        ("E5", "U21", "I11", "cart", start + pd.Timedelta(minutes=5)),
        ("E6", "U21", "I12", "view", start + pd.Timedelta(days=2)),
    ]
    return pd.DataFrame(rows, columns=["interaction_id", "user_id", "item_id", "event", "timestamp"])


def fill_workspace(workspace: Workspace) -> Workspace:
    """Write the frames above into the workspace tables (bypassing ingest, which other tests cover)."""
    items, reviews, interactions = catalog_frame(), reviews_frame(), interactions_frame()
    with workspace.store.transaction() as connection:
        for row in items.to_dict("records"):
            connection.execute(
                "INSERT INTO items (item_id, title, description, brand, category, price, attributes, row_hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [row["item_id"], row["title"], row["description"], row["brand"], row["category"], row["price"],
                 row["attributes"], row["item_id"]],
            )
        for row in reviews.to_dict("records"):
            connection.execute(
                "INSERT INTO reviews (review_id, user_id, item_id, rating, title, text, timestamp, row_hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [row["review_id"], row["user_id"], row["item_id"], row["rating"], row["title"], row["text"],
                 row["timestamp"].to_pydatetime(), row["review_id"]],
            )
        for row in interactions.to_dict("records"):
            connection.execute(
                "INSERT INTO interactions (interaction_id, user_id, item_id, event, timestamp, row_hash) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [row["interaction_id"], row["user_id"], row["item_id"], row["event"],
                 row["timestamp"].to_pydatetime(), row["interaction_id"]],
            )
        users = sorted(set(reviews["user_id"]) | set(interactions["user_id"]))
        for user in users:
            connection.execute("INSERT INTO users (user_id) VALUES (?)", [user])
    return workspace


def build_tiny_model(folder: Path) -> Path:
    """A randomly initialised 2-layer BERT sentence-transformer (no download), saved to `folder`."""
    from sentence_transformers import SentenceTransformer
    try:  # sentence-transformers >= 6 layout
        from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    except ImportError:
        from sentence_transformers.models import Pooling, Transformer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    hf_folder = folder.parent / f"{folder.name}-hf"
    hf_folder.mkdir(parents=True, exist_ok=True)
    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + WORDS
    (hf_folder / "vocab.txt").write_text("\n".join(vocabulary), encoding="utf-8")
    # Transformers 5 ignores `vocab_file` here (every word became [UNK], so all texts encoded alike):
    # the vocabulary is passed as a mapping.
    tokenizer = BertTokenizerFast(vocab={word: index for index, word in enumerate(vocabulary)})
    config = BertConfig(
        vocab_size=len(vocabulary), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=128,
    )
    import torch

    torch.manual_seed(0)
    BertModel(config).save_pretrained(hf_folder)
    tokenizer.save_pretrained(hf_folder)
    transformer = Transformer(str(hf_folder), max_seq_length=64)
    model = SentenceTransformer(
        modules=[transformer, Pooling(_dimension(transformer), "mean")], device="cpu"
    )
    model.save(str(folder))
    return folder


def _dimension(transformer: object) -> int:
    getter = getattr(transformer, "get_embedding_dimension", None) or transformer.get_word_embedding_dimension  # type: ignore[attr-defined]
    return int(getter())


def fill_regions(workspace: Workspace) -> None:
    """Give every review a region in its attributes: users 0-5 'north', 6-11 'south'."""
    with workspace.store.transaction() as connection:
        connection.execute(
            "UPDATE reviews SET attributes = CASE WHEN CAST(substr(user_id, 2) AS INTEGER) < 6 "
            "THEN '{\"region\": \"north\"}' ELSE '{\"region\": \"south\"}' END"
        )
