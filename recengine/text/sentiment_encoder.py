"""A copy of the workspace's encoder tuned for review sentiment (SetFit-style contrastive fine-tuning).

A general-purpose sentence encoder places reviews by topic first: "smells great for 5 minutes", "dried my
skin out" and "my hair looks beautiful" sit together because they are about scent, skin and hair. With a
few dozen negative reviews a linear classifier on those vectors cannot undo that, and it learns topic
words instead (dandruff, psoriasis) as signs of a complaint. A few dozen steps of contrastive training on
the shop's own rated reviews (a batch-all triplet loss over the star labels: reviews of one label pulled
together, of different labels pushed apart; every batch drawn with the labels in equal shares, so the
rare negatives are seen as often as the rest) move the vectors so that the classifier on top separates
them. This is the recipe of SetFit (Tunstall et al. 2022, "Efficient few-shot learning without prompts").

Measured on five Amazon review files (bench/eval_sentiment.py, docs/EVALUATION.md, 5-fold), with the model
reading review and title vectors (model format 5): `auto` lifts the files where the plain model is weakest
(Beauty 0.772 -> 0.817 polarity F1, Fashion 0.829 -> 0.851) and lowers the one with the fewest negatives per
review (Gift Cards, 30 among 2,181: 0.902 -> 0.892); the mean of the five gains 0.013 (0.858 -> 0.871). That
passes the rule fixed before these figures were seen (mean +0.01 or more, no file down by more than 0.02),
so `text.sentiment_encoder_tuning` is "auto" by default; a shop judges it by its own held-out figures and
can switch it off (the Fine-tuning page, `recengine analyze --tune-encoder never`). With format 4 (review
vectors only) the same rule failed (mean +0.008, Gift Cards -0.018).

The tuned copy is read only by the sentiment stage: product and review embeddings (search, similar
products, keywords) keep the workspace's encoder. It is saved in the workspace (never pickled: a
SentenceTransformer folder with safetensors weights), written to a scratch folder first and renamed into
place, so a crash leaves either no tuned encoder or a complete one.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from recengine.errors import ModelError
from recengine.progress import Progress, no_progress
from recengine.runtime import quiet_transformers_progress
from recengine.text.sentiment_labels import GOOD_POLARITY_F1, LABELS, star_label
from recengine.text.sentiment_training import HELD_OUT_FRACTION, held_out_split


@dataclass(frozen=True)
class TuningArguments:
    """How the sentiment copy of the encoder is trained (`text.sentiment_encoder_*` settings).

    60 steps of 16 reviews at 128 tokens with learning rate 2e-5 (the trainer's linear decay): about 3.5
    minutes on 2 CPU cores. Taken from one scratch run on Beauty, not tuned across files.
    """

    steps: int = 60
    batch_size: int = 16
    learning_rate: float = 2e-5
    max_seq_length: int = 128
    seed: int = 0


def tuning_decision(
    setting: str, plain_polarity_f1: float | None, reviews: int, device: str, cpu_max_reviews: int, trainable: bool,
    *, borrowing: bool = False,
) -> tuple[bool, str]:
    """Whether to tune the encoder for sentiment, and a note for the method's reason ("" = nothing to say).

    Args:
        setting: `text.sentiment_encoder_tuning`: auto, always or never.
        plain_polarity_f1: held-out polarity macro-F1 of the model on the plain encoder vectors.
        reviews: reviews in the workspace (each is encoded once more with the tuned copy).
        device: where the encoder runs.
        cpu_max_reviews: above this many reviews `auto` does not tune on a CPU.
        trainable: the encoder has weights to train (the fake test encoder has none).
        borrowing: the model borrows another shop's (text.sentiment_prior). `auto` then does not tune:
            the two do not combine, and borrowing scored higher on the Amazon files at no encoding cost.
    """
    good_enough = plain_polarity_f1 is None or plain_polarity_f1 >= GOOD_POLARITY_F1
    if setting == "never" or (setting == "auto" and good_enough):
        return False, ""
    if not trainable:
        return False, "The encoder has no weights to tune for sentiment (the test encoder)."
    if setting == "auto" and borrowing:
        return False, (
            f"Its held-out polarity F1 ({plain_polarity_f1:.3f}) is under {GOOD_POLARITY_F1:.2f}, but the encoder was "
            "not tuned for sentiment: it borrows another shop's sentiment model instead (the two do not combine; "
            "set text.sentiment_encoder_tuning to \"always\" to tune and stop borrowing)."
        )
    if setting == "auto" and device == "cpu" and reviews > cpu_max_reviews:
        return False, (
            f"Its held-out polarity F1 ({plain_polarity_f1:.3f}) is under {GOOD_POLARITY_F1:.2f}; tuning the encoder "
            f"for sentiment would encode all {reviews:,} reviews a second time on this CPU (more than "
            f"text.sentiment_encoder_cpu_max_reviews), so it was not done: set text.sentiment_encoder_tuning "
            "to \"always\" to do it anyway."
        )
    return True, ""


def side_by_side(plain: np.ndarray, tuned: np.ndarray) -> np.ndarray:
    """The features the learned model reads when the encoder was tuned: each review's plain vector and its
    tuned vector, concatenated, each half scaled by 1/sqrt(2) so a row keeps unit length.

    The tuned copy separates the sentiments better where the plain vectors mix them, and forgets some of
    what the plain vectors knew (it is tuned on a few dozen negative reviews); the classifier on both can
    keep either's signal. On the five Amazon files it is a wash against the tuned vectors alone on the
    mean (0.848 vs 0.850 polarity F1, every fold tuned) and halves the loss on the largest file that
    tuning hurts (Gift Cards -0.022 instead of -0.041; docs/EVALUATION.md). The plain vectors cost nothing
    more: the workspace has them for search.
    """
    if plain.shape[0] != tuned.shape[0]:
        raise ModelError(f"{plain.shape[0]} plain vectors but {tuned.shape[0]} tuned ones.")
    return (np.hstack([plain, tuned]) / np.sqrt(2.0)).astype(np.float32)


def balanced_rows(labels: Sequence[str], count: int, seed: int) -> np.ndarray:
    """`count` row indices drawn with every label present in equal shares (with replacement within a
    label), in a shuffled order, so the trainer's batches hold every label about equally often."""
    truth = np.asarray(labels)
    present = [label for label in LABELS if (truth == label).any()]
    if len(present) < 2:
        raise ModelError("Tuning the encoder for sentiment needs reviews of at least two sentiments.")
    rng = np.random.default_rng(seed)
    shares = np.array_split(np.arange(count), len(present))
    rows = np.concatenate([
        rng.choice(np.flatnonzero(truth == label), size=len(share), replace=True)
        for label, share in zip(present, shares, strict=True)
    ])
    return rows[rng.permutation(len(rows))]


def tune_sentiment_encoder(
    model_path: str,
    texts: Sequence[str],
    labels: Sequence[str],
    output_dir: Path,
    *,
    arguments: TuningArguments | None = None,
    device: str = "cpu",
    progress: Progress | None = None,
) -> Path:
    """Train a copy of the encoder at `model_path` on (text, sentiment label) pairs; save it at `output_dir`.

    Args:
        model_path: a SentenceTransformer folder (the workspace's encoder).
        texts: the analysed texts of rated reviews.
        labels: their star labels (negative / neutral / positive).
        output_dir: where the tuned copy goes (must not exist; written via a scratch folder).
        arguments: steps, batch size, learning rate, truncation, seed.
        device: "cpu" or "cuda"; fp16 mixed precision on a GPU.
        progress: fraction/message callback, once per step.

    Raises:
        ModelError: fewer than two sentiments among the labels, or the model cannot be loaded or saved.
    """
    arguments = arguments or TuningArguments()
    report = progress or no_progress
    if len(texts) != len(labels):
        raise ModelError(f"{len(texts)} texts but {len(labels)} labels.")
    rows = balanced_rows(labels, arguments.steps * arguments.batch_size, arguments.seed)
    scratch = output_dir.with_name(f".{output_dir.name}.partial")
    shutil.rmtree(scratch, ignore_errors=True)
    report(0.0, "loading the encoder to tune for sentiment")
    model = _load(model_path, device, arguments.max_seq_length)
    label_ids = {label: position for position, label in enumerate(LABELS)}
    from datasets import Dataset

    dataset = Dataset.from_dict({
        "text": [texts[row] for row in rows],
        "label": [label_ids[labels[row]] for row in rows],
    })
    trainer = _trainer(model, dataset, arguments, scratch / "checkpoints", device, report)
    trainer.train()
    try:
        model.save(str(scratch / "model"), safe_serialization=True)
        # The generated model card quotes training examples: review texts have no place there.
        (scratch / "model" / "README.md").unlink(missing_ok=True)
        (scratch / "model").rename(output_dir)
    except OSError as error:
        raise ModelError(f"Cannot save the sentiment encoder to {output_dir}: {error.strerror}.") from error
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    report(1.0, f"encoder tuned for sentiment ({arguments.steps} steps)")
    return output_dir


def tune_for_rated_reviews(
    model_path: str,
    texts: Sequence[str],
    stars: Sequence[float],
    output_dir: Path,
    *,
    arguments: TuningArguments | None = None,
    device: str = "cpu",
    progress: Progress | None = None,
) -> Path:
    """Tune the encoder on the rated reviews that `train_sentiment_model` trains on, leaving out the ones
    it holds out for its quality figures (the same stratified split), so that those figures stay a
    measurement on reviews neither the encoder nor the classifier has seen."""
    truth = np.array([star_label(star) for star in stars])
    train_part, _held_out = held_out_split(truth, HELD_OUT_FRACTION, seed=0)
    return tune_sentiment_encoder(
        model_path, [texts[i] for i in train_part], truth[train_part].tolist(), output_dir,
        arguments=arguments, device=device, progress=progress,
    )


def _load(model_path: str, device: str, max_seq_length: int) -> Any:
    from sentence_transformers import SentenceTransformer

    quiet_transformers_progress()
    try:
        model = SentenceTransformer(model_path, device=device)
    except (OSError, ValueError) as error:
        raise ModelError(f"Cannot load the encoder from {model_path}: {error}") from error
    model.max_seq_length = min(max_seq_length, model.max_seq_length or max_seq_length)
    card = getattr(model, "model_card_data", None)
    if card is not None:
        card.generate_widget_examples = False  # it would encode and quote training reviews
        # The trainer fills an empty widget list from the training reviews, behind a progress bar on stderr.
        card.widget = [{"text": ""}]
    return model


def _trainer(model: Any, dataset: Any, arguments: TuningArguments, scratch: Path, device: str, report: Progress) -> Any:
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from transformers import PrinterCallback, TrainerCallback

    try:  # sentence-transformers >= 6 layout first, then the older one
        from sentence_transformers.sentence_transformer.losses import BatchAllTripletLoss
    except ImportError:
        from sentence_transformers.losses import BatchAllTripletLoss

    class StepProgress(TrainerCallback):  # type: ignore[misc]
        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            report(0.05 + 0.9 * state.global_step / max(state.max_steps, 1),
                   f"tuning the encoder for sentiment: step {state.global_step}/{state.max_steps}")

    training_arguments = SentenceTransformerTrainingArguments(
        output_dir=str(scratch),
        max_steps=arguments.steps,
        per_device_train_batch_size=arguments.batch_size,
        learning_rate=arguments.learning_rate,
        seed=arguments.seed,
        data_seed=arguments.seed,
        fp16=device.startswith("cuda"),
        use_cpu=device == "cpu",
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
        logging_strategy="no",  # the trainer would print loss dicts on stdout, where the CLI writes results
        dataloader_num_workers=0,
    )
    trainer = SentenceTransformerTrainer(
        model=model,
        args=training_arguments,
        train_dataset=dataset,
        loss=BatchAllTripletLoss(model),
        callbacks=[StepProgress()],
    )
    # Without tqdm the trainer prints its summary dict on stdout, where the CLI writes its results.
    trainer.remove_callback(PrinterCallback)
    return trainer
