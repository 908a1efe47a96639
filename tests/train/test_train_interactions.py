"""The interaction objective (beeFormer) on the tiny random model: loss, GradCache, batches, a whole run."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from train_fixtures import COLOURS, KINDS, catalog_frame

from recengine.train import new_products, registry
from recengine.train.arguments import FineTuneArguments
from recengine.train.finetune import TrainingCancelled, train_and_register
from recengine.train.pairs import item_texts
from recengine.train.user_batches import InteractionData, UserBatchSampler, user_histories

torch = pytest.importorskip("torch")

TINY_INTERACTIONS = FineTuneArguments(
    objective="interactions", epochs=2, head_epochs=2, users_per_batch=4, negatives_per_batch=4, max_items_per_batch=16,
    holdout="test_items", evaluations_per_epoch=1, early_stopping_patience=0, learning_rate=1e-3,
    max_seq_length=32, mini_batch_size=5, recommendation_eval=False,
)


def _load(tiny_model_dir: Path):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(tiny_model_dir), device="cpu")


def _kind_histories(users: int = 24) -> dict[str, list[str]]:
    """Each customer chooses three products of one kind: the structure the encoder should learn."""
    return {
        f"U{user}": [f"I{(user + step) % len(COLOURS)}{user % len(KINDS)}" for step in range(3)]
        for user in range(users)
    }


def _tiny_data(exclude: frozenset[str] = frozenset()) -> InteractionData:
    histories = _kind_histories()
    validation = {user: histories.pop(user) for user in ("U0", "U1", "U2")}
    return InteractionData(
        item_texts=item_texts(catalog_frame()), histories=histories, validation=validation, exclude_items=exclude
    )


def test_reconstruction_loss_matches_its_formula() -> None:
    from recengine.train.reconstruction_loss import reconstruction_loss

    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(5, 3))
    history = np.array([[1, 1, 0, 0, 0], [0, 1, 1, 1, 0]], dtype=np.float64)
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    reconstruction = history @ (unit @ unit.T - np.eye(5))
    expected = np.mean(np.sum(
        (history / np.linalg.norm(history, axis=1, keepdims=True)
         - reconstruction / np.linalg.norm(reconstruction, axis=1, keepdims=True)) ** 2, axis=1))
    value = reconstruction_loss(torch.tensor(embeddings), torch.tensor(history))
    assert float(value) == pytest.approx(expected, rel=1e-5)
    # Identical vectors for the two products customer 0 chose, orthogonal to the others: customer 0's
    # row is reconstructed exactly.
    perfect = torch.tensor([[1.0, 0, 0], [1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [0, 1.0, 0]])
    assert float(reconstruction_loss(perfect, torch.tensor(history[:1]))) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("train_mode", [False, True], ids=["no dropout", "dropout replayed"])
def test_chunked_gradients_equal_one_pass(tiny_model_dir: Path, train_mode: bool) -> None:
    """GradCache's correctness: encoding in chunks gives the parameter gradients of one big pass."""
    from recengine.train.interaction_learners import text_encoder
    from recengine.train.reconstruction_loss import chunked_loss_backward, reconstruction_loss

    model = _load(tiny_model_dir)
    model.train(train_mode)
    texts = list(item_texts(catalog_frame()).values())[:7]
    history = torch.tensor([[1, 1, 0, 1, 0, 0, 0], [0, 0, 1, 1, 1, 0, 1], [1, 0, 0, 0, 0, 1, 1]], dtype=torch.float32)
    encode = text_encoder(model, "cpu", "fp32")

    torch.manual_seed(3)
    model.zero_grad()
    direct = reconstruction_loss(encode(texts), history)
    direct.backward()
    expected = {name: parameter.grad.clone() for name, parameter in model.named_parameters() if parameter.grad is not None}

    # With dropout, chunks would draw other masks than one pass: one chunk of all texts replays them exactly.
    chunk_size = len(texts) if train_mode else 3
    torch.manual_seed(3)
    model.zero_grad()
    chunked = chunked_loss_backward(encode, texts, history, chunk_size)
    assert chunked == pytest.approx(float(direct.detach()), rel=1e-5)
    assert expected
    for name, gradient in expected.items():
        got = dict(model.named_parameters())[name].grad
        assert got is not None, name
        torch.testing.assert_close(got, gradient, rtol=1e-4, atol=1e-6, msg=name)


def test_excluded_products_never_reach_a_batch() -> None:
    excluded = {"I00", "I11", "I22", "I35"}
    histories = user_histories(
        _events(_kind_histories()), exclude_items=excluded, known_items=set(item_texts(catalog_frame()))
    )
    assert not excluded & {item for items in histories.values() for item in items}
    catalog = sorted(item_texts(catalog_frame()))
    # The sampler drops them even when a caller's histories and catalog still hold them.
    sampler = UserBatchSampler(_kind_histories(), catalog, users_per_batch=3, negatives=30, max_items=8,
                               exclude_items=excluded, seed=1)
    seen: set[str] = set()
    for epoch in range(5):
        for batch in sampler.epoch(epoch):
            seen.update(batch.item_ids)
            assert batch.history.shape == (len(batch.user_ids), len(batch.item_ids))
            assert (batch.history.sum(axis=1) >= 1).all()
            assert len(batch.item_ids) - batch.negatives <= 8
    assert seen and not seen & excluded
    assert seen == set(catalog) - excluded  # with 30 negatives a step, every other product shows up


def _events(histories: dict[str, list[str]]):
    import pandas as pd

    rows = [(user, item, pd.Timestamp("2024-01-01") + pd.Timedelta(days=step))
            for user, items in histories.items() for step, item in enumerate(items)]
    return pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])


@pytest.mark.parametrize("trainable_layers", [-1, 1, 0], ids=["all weights", "top layer", "linear head"])
def test_loss_falls_on_a_tiny_data_set(tiny_model_dir: Path, trainable_layers: int) -> None:
    from recengine.train.interaction_finetune import train_on_histories
    from recengine.train.interaction_learners import model_vectors
    from recengine.train.reconstruction_loss import reconstruction_loss

    model = _load(tiny_model_dir)
    data = _tiny_data()
    items = data.trainable_items
    column = {item: index for index, item in enumerate(items)}
    everyone = torch.zeros((len(data.histories), len(items)))
    for row, chosen in enumerate(data.histories.values()):
        everyone[row, [column[item] for item in chosen]] = 1.0

    def full_loss() -> float:
        vectors = torch.from_numpy(model_vectors(model, data.item_texts)(items))
        return float(reconstruction_loss(vectors, everyone))

    before = full_loss()
    arguments = FineTuneArguments(**{**TINY_INTERACTIONS.to_dict(), "epochs": 3, "head_epochs": 3,
                                     "trainable_layers": trainable_layers,
                                     "learning_rate": 1e-2 if trainable_layers == 1 else 2e-3})
    summary = train_on_histories(model, data, arguments, device="cpu", precision="fp32")
    assert summary.steps == 3 * 6  # 21 customers, 4 a batch
    after = full_loss()
    assert after < before - 0.05, (before, after)
    if trainable_layers == 0:
        assert "Dense" in [type(module).__name__ for module in model]


def test_interaction_objective_registers_a_version(filled_workspace, tiny_model_dir: Path, monkeypatch) -> None:
    from recengine.train import reconstruction_loss

    encoded: list[str] = []
    original = reconstruction_loss.chunked_loss_backward

    def spy(encode, texts, history, chunk_size, **options):
        encoded.extend(texts)
        return original(encode, texts, history, chunk_size, **options)

    monkeypatch.setattr("recengine.train.interaction_learners.chunked_loss_backward", spy)
    excluded = frozenset({"I01", "I12"})
    events: list[tuple[str, dict]] = []
    fractions: list[float] = []
    outcome = train_and_register(
        filled_workspace,
        FineTuneArguments(**{**TINY_INTERACTIONS.to_dict(), "trainable_layers": -1, "validation_fraction": 0.2}),
        base_model=str(tiny_model_dir),
        exclude_items=excluded,
        progress=lambda fraction, message: fractions.append(fraction),
        on_event=lambda kind, values: events.append((kind, values)),
    )
    version = outcome.version
    assert version.hyperparameters["objective"] == "interactions"
    assert {"ndcg@10", "recall@10"} <= set(version.metrics_before) & set(version.metrics_after)
    assert outcome.card.total_steps > 0 and outcome.card.loss_history
    assert {"loss", "eval", "progress", "log"} <= {kind for kind, _values in events}
    assert fractions[-1] == 1.0 and fractions == sorted(fractions)
    texts = item_texts(catalog_frame())
    assert encoded and not {texts[item] for item in excluded} & set(encoded)
    if importlib.util.find_spec("recengine.evaluate.cold_start") is not None:
        # The products held out as new for the before/after measurement are never trained on either.
        check = new_products.prepare(filled_workspace, 0.2, TINY_INTERACTIONS.seed)
        assert check is not None
        held_out = check.new_items
        assert held_out and not {texts[item] for item in held_out} & set(encoded)
        assert outcome.card.data_summary["products excluded as new"] == len(held_out | excluded)
        assert {"new products recall@20", "new products ndcg@100"} <= set(version.metrics_after)
        assert any(note.startswith("New products (") for note in outcome.card.notes)
    assert "Objective: interactions" in (registry.version_dir(filled_workspace, version.version_id) / "CARD.md").read_text()


def test_cancelled_interaction_run_registers_nothing(filled_workspace, tiny_model_dir: Path) -> None:
    with pytest.raises(TrainingCancelled):
        train_and_register(filled_workspace, TINY_INTERACTIONS, base_model=str(tiny_model_dir), should_stop=lambda: True)
    assert registry.list_versions(filled_workspace)[-1].is_base


def test_head_version_loads_and_serves(filled_workspace, tiny_model_dir: Path) -> None:
    outcome = train_and_register(filled_workspace, TINY_INTERACTIONS, base_model=str(tiny_model_dir))
    folder = registry.version_dir(filled_workspace, outcome.version.version_id)
    from sentence_transformers import SentenceTransformer

    served = SentenceTransformer(str(folder), device="cpu")
    assert "Dense" in [type(module).__name__ for module in served]
    assert served.encode(["red shoe"]).shape == (1, 32)
    assert not list(folder.rglob("*.bin"))


def test_objective_is_checked() -> None:
    from recengine.errors import ConfigError

    with pytest.raises(ConfigError, match="objective"):
        FineTuneArguments.from_dict({"objective": "triplets"})
