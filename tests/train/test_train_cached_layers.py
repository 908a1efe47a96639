"""Top layers trained from cached layer inputs (trainable_layers=N on a CPU), on the tiny random model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_train_interactions import TINY_INTERACTIONS, _kind_histories, _load
from train_fixtures import catalog_frame

from recengine.train.arguments import FineTuneArguments
from recengine.train.pairs import item_texts
from recengine.train.user_batches import InteractionData

torch = pytest.importorskip("torch")

EXCLUDED = frozenset({"I00", "I11", "I22"})


def _data() -> InteractionData:
    histories = {user: [item for item in items if item not in EXCLUDED] for user, items in _kind_histories().items()}
    histories = {user: items for user, items in histories.items() if len(items) >= 2}
    validation = {user: histories.pop(user) for user in ("U3", "U4", "U5")}
    return InteractionData(item_texts=item_texts(catalog_frame()), histories=histories, validation=validation,
                           exclude_items=EXCLUDED)


def _arguments(**changes) -> FineTuneArguments:
    return FineTuneArguments(**{**TINY_INTERACTIONS.to_dict(), "trainable_layers": 1, "epochs": 4,
                                "learning_rate": 1e-2, **changes})


def _encoded(model, texts: dict[str, str], items: list[str]) -> np.ndarray:
    return model.encode([texts[item] for item in items], normalize_embeddings=True, convert_to_numpy=True)


@pytest.mark.parametrize("layers", [1, 2], ids=["top layer", "every layer"])
def test_cached_path_equals_the_full_model(tiny_model_dir: Path, layers: int) -> None:
    """Texts of different lengths in one batch: the padding mask must make the cache exact."""
    from recengine.train.cached_layers import layer_inputs, top_layers_forward

    model = _load(tiny_model_dir)
    # Words repeated to a varying length: catalog texts alone are all equally long.
    texts = {item: " ".join([text] * (1 + index % 3)) for index, (item, text) in enumerate(item_texts(catalog_frame()).items())}
    items = sorted(texts)
    inputs = layer_inputs(model, texts, items, layers)
    assert len({inputs.tokens(item) for item in items}) > 1  # really different lengths
    with torch.no_grad():
        cached = torch.nn.functional.normalize(top_layers_forward(model.eval(), inputs, items), dim=1).numpy()
    np.testing.assert_allclose(cached, _encoded(model, texts, items), atol=1e-5)


def test_top_layer_training_from_the_cache(tiny_model_dir: Path, tmp_path: Path, monkeypatch) -> None:
    """Loss falls, only the top layer (and head) change, held-out products never reach a step, the
    saved model encodes exactly what the cached path measured."""
    from sentence_transformers import SentenceTransformer

    from recengine.train import cached_layers
    from recengine.train.interaction_finetune import train_on_histories

    batches: list[list[str]] = []
    original = cached_layers.chunked_loss_backward

    def spy(encode, items, history, chunk_size, **options):
        batches.append(list(items))
        return original(encode, items, history, chunk_size, **options)

    monkeypatch.setattr(cached_layers, "chunked_loss_backward", spy)
    model = _load(tiny_model_dir)
    before = {name: value.clone() for name, value in model.state_dict().items()}
    data = _data()
    summary = train_on_histories(model, data, _arguments(head_on_layers=True), device="cpu", precision="fp32")

    assert batches and not EXCLUDED & {item for batch in batches for item in batch}
    first, last = np.mean(summary.losses[:5]), np.mean(summary.losses[-5:])
    assert last < first - 0.05, summary.losses
    after = model.state_dict()
    changed = {name for name, value in before.items() if not torch.equal(value, after[name])}
    assert changed and all(".layer.1." in name for name in changed), changed  # the bottom layer is untouched
    assert "Dense" in [type(module).__name__ for module in model]

    model.save(str(tmp_path / "tuned"))
    served = SentenceTransformer(str(tmp_path / "tuned"), device="cpu")
    items = sorted(data.item_texts)  # the held-out products too: they are encoded, never trained on
    np.testing.assert_allclose(summary.vectors_of(items), _encoded(served, data.item_texts, items), atol=1e-5)
