"""Data of the evaluation tests: a checkerboard whose right answer is obvious (a plain module, imported by
name: conftest modules of different test folders collide when the whole suite runs)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from recengine.evaluate.data import EvaluationData, interactions_frame
from recengine.workspace import Workspace

GROUP_SIZE = 6
USERS_PER_GROUP = 8
START = datetime(2024, 1, 1)


def checkerboard_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two tastes that never mix: 'a' users buy only A items, 'b' users only B items.

    Each user buys 5 of the 6 items of their group one day apart (a rotating window), so after the
    last item is held out, the user has 4 training items and 2 unseen items of their group: any sound
    method ranks those 2 first. A items are bought a little more often (popularity differs).
    """
    items = pd.DataFrame(
        {
            "item_id": [f"{group}{index}" for group in "AB" for index in range(GROUP_SIZE)],
            "title": [f"{word} item {index}" for word in ("alpha", "beta") for index in range(GROUP_SIZE)],
            "brand": ["Alphaco"] * GROUP_SIZE + ["Betaco"] * GROUP_SIZE,
            "category": ["Alpha > Things"] * GROUP_SIZE + ["Beta > Stuff"] * GROUP_SIZE,
            "description": [""] * (2 * GROUP_SIZE),
        }
    )
    rows = []
    for group in "ab":
        users = USERS_PER_GROUP + (2 if group == "a" else 0)
        for user in range(users):
            for step in range(5):
                item = f"{group.upper()}{(user + step) % GROUP_SIZE}"
                rows.append((f"{group}{user}", item, START + timedelta(days=user + step)))
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])
    return items, interactions_frame(frame["user_id"], frame["item_id"], frame["timestamp"])


def checkerboard_vectors() -> tuple[list[str], np.ndarray]:
    """Group A items point one way, group B items another (small noise so they are not identical)."""
    rng = np.random.default_rng(0)
    ids = [f"{group}{index}" for group in "AB" for index in range(GROUP_SIZE)]
    vectors = np.zeros((len(ids), 8), dtype=np.float32)
    vectors[:GROUP_SIZE, 0] = 1.0
    vectors[GROUP_SIZE:, 1] = 1.0
    vectors += rng.normal(0, 0.05, vectors.shape).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return ids, vectors


class _Vectors:
    def __init__(self) -> None:
        self.item_ids, self.vectors = checkerboard_vectors()
        self.fingerprint = "test-vectors"


def checkerboard_data() -> EvaluationData:
    items, interactions = checkerboard_frames()
    return EvaluationData(name="checkerboard", items=items, interactions=interactions, item_vectors=_Vectors())


def fill_workspace(workspace: Workspace) -> Workspace:
    """Write the checkerboard into a workspace's items and interactions tables."""
    items, interactions = checkerboard_frames()
    now = datetime(2024, 6, 1)
    with workspace.store.transaction() as connection:
        for row in items.itertuples(index=False):
            connection.execute(
                "INSERT INTO items (item_id, title, brand, category, description, row_hash, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [row.item_id, row.title, row.brand, row.category, row.description,
                 hashlib.sha1(row.item_id.encode()).hexdigest(), now],
            )
        for index, row in enumerate(interactions.itertuples(index=False)):
            connection.execute(
                "INSERT INTO interactions (interaction_id, user_id, item_id, event, timestamp, quantity, "
                "row_hash, updated_at) VALUES (?, ?, ?, 'purchase', ?, 1, ?, ?)",
                [f"i{index}", row.user_id, row.item_id, row.timestamp.to_pydatetime(), f"h{index}", now],
            )
        connection.execute(
            "INSERT INTO meta VALUES ('data_version', '1') ON CONFLICT (key) DO UPDATE SET value = '1'"
        )
    return workspace


def register_weights_only_version(workspace: Workspace, name: str, value: float = 1.0) -> str:
    """A registry version whose folder holds only a tiny safetensors file (cheap; not loadable as a
    model: tests map it to a fake encoder), as tests/train does."""
    from safetensors.numpy import save_file

    from recengine.train import registry
    from recengine.train.card import ModelCard

    folder = registry.staging_dir(workspace, name)
    save_file({"weight": np.full((2, 2), value, dtype=np.float32)}, str(folder / "model.safetensors"))
    return registry.register_version(workspace, folder, ModelCard(base_model="fake")).version_id


CHECKERBOARD_WORDS = ["alpha", "beta", "item", "alphaco", "betaco", "things", "stuff", ">", ".", *map(str, range(10))]


def build_tiny_model(folder: Path) -> Path:
    """A randomly initialised 1-layer BERT sentence-transformer over the checkerboard's words (no
    download), saved to `folder` like a fine-tuned version."""
    import torch
    from sentence_transformers import SentenceTransformer

    try:  # sentence-transformers >= 6 layout
        from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    except ImportError:
        from sentence_transformers.models import Pooling, Transformer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    hf_folder = folder.parent / f"{folder.name}-hf"
    hf_folder.mkdir(parents=True, exist_ok=True)
    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *CHECKERBOARD_WORDS]
    (hf_folder / "vocab.txt").write_text("\n".join(vocabulary), encoding="utf-8")
    tokenizer = BertTokenizerFast(vocab_file=str(hf_folder / "vocab.txt"))
    config = BertConfig(
        vocab_size=len(vocabulary), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=32, max_position_embeddings=64,
    )
    torch.manual_seed(0)
    BertModel(config).save_pretrained(hf_folder)
    tokenizer.save_pretrained(hf_folder)
    transformer = Transformer(str(hf_folder), max_seq_length=32)
    getter = getattr(transformer, "get_embedding_dimension", None) or transformer.get_word_embedding_dimension
    model = SentenceTransformer(modules=[transformer, Pooling(int(getter()), "mean")], device="cpu")
    folder.mkdir(parents=True, exist_ok=True)
    model.save(str(folder))
    return folder
