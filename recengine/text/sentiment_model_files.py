"""The learned sentiment model on disk: coefficients as .npz, everything else as JSON, never pickled.

Stored without pickle so that loading a workspace can never execute code from it; the text features are
hashed (sentiment_features.text_features), so there is no vocabulary to store. The JSON is written last
and names the checksum of the weights, so a reader that finds the JSON finds the weights it describes. A
borrowed model (sentiment_prior) is saved in a folder of its own, named by its hash. A model saved on
other inputs than this version computes (`MODEL_FORMAT`, the feature weights, the hashing) loads as None
and is retrained, never misread.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path

import numpy as np

from recengine.errors import ModelError
from recengine.store.files import write_text_atomic, write_with_atomic
from recengine.text.sentiment_features import (
    LEXICON_FEATURE_WEIGHT,
    PRIOR_FEATURE_WEIGHT,
    TEXT_FEATURES,
    TEXT_MARGIN_WEIGHT,
)
from recengine.text.sentiment_labels import MethodScores, ModelQuality
from recengine.text.sentiment_model import SentimentModel

MODEL_FORMAT = 5  # 5: the title vector next to the review vector; 4: the lexical (hashed text) channel.
# Older formats are retrained, not misread.
PRIOR_FOLDER_PREFIX = "prior-"
MAX_PRIOR_DEPTH = 4  # a borrowed model may itself borrow; a deeper chain is refused as damaged


def save_sentiment_model(model: SentimentModel, directory: Path) -> None:
    """Write `model` as `weights.npz` then `model.json` atomically; the JSON is written last, so a reader
    that finds the JSON finds the weights it describes (the JSON names their checksum)."""
    directory.mkdir(parents=True, exist_ok=True)
    weights = directory / "weights.npz"
    prior_meta, prior_folder = None, None
    if model.prior is not None:
        # A folder per borrowed model, named by its hash: the JSON written last names the one it reads, so
        # a kill before the JSON leaves the previous model and its own prior folder intact.
        prior_fingerprint = model.prior.fingerprint()
        prior_folder = f"{PRIOR_FOLDER_PREFIX}{prior_fingerprint}"
        prior_meta = {"folder": prior_folder, "fingerprint": prior_fingerprint}
        save_sentiment_model(model.prior, directory / prior_folder)

    def write_weights(path: Path) -> None:
        # np.savez appends ".npz" to a path that lacks it; writing to an open file avoids that.
        with open(path, "wb") as handle:
            arrays = {"coefficients": model.coefficients, "intercepts": model.intercepts}
            if model.polarity_coefficients is not None:
                arrays["polarity_coefficients"] = model.polarity_coefficients
            if model.text_coefficients is not None:
                arrays["text_coefficients"] = model.text_coefficients
            np.savez(handle, **arrays)

    write_with_atomic(weights, write_weights)
    meta = {
        "format": MODEL_FORMAT,
        "features": "encoder vectors (review, then title: with_title_vectors), then lexicon score x "
        "LEXICON_FEATURE_WEIGHT, then (with a prior) the borrowed model's tanh(margin / 2) x "
        "PRIOR_FEATURE_WEIGHT (polarity model: then the lexical model's margin x TEXT_MARGIN_WEIGHT)",
        "lexicon_feature_weight": LEXICON_FEATURE_WEIGHT,
        "text_features": TEXT_FEATURES,
        "text_margin_weight": TEXT_MARGIN_WEIGHT,
        "prior_feature_weight": PRIOR_FEATURE_WEIGHT,
        "text_model": model.text_coefficients is not None,
        "text_intercept": model.text_intercept,
        "classes": list(model.classes),
        "encoder_fingerprint": model.encoder_fingerprint,
        "trained_on": model.trained_on,
        "rated_reviews": model.rated_reviews,
        "trained_at": model.trained_at,
        "dimension": model.dimension,
        "polarity_model": model.polarity_coefficients is not None,
        "polarity_intercept": model.polarity_intercept,
        "polarity_threshold": model.polarity_threshold,
        "weights_sha256": _sha256(weights),
        "quality": asdict(model.quality) if model.quality else None,
        "extra": model.extra,
        "prior": prior_meta,
    }
    write_text_atomic(directory / "model.json", json.dumps(meta, indent=2))
    for path in directory.glob(f"{PRIOR_FOLDER_PREFIX}*"):
        if path.name != prior_folder:  # borrowed models of earlier versions of this one
            shutil.rmtree(path, ignore_errors=True)


def load_sentiment_model(directory: Path, *, _depth: int = 0) -> SentimentModel | None:
    """Read a saved model; None when there is none. A damaged one raises ModelError."""
    meta_path = directory / "model.json"
    weights_path = directory / "weights.npz"
    if not meta_path.exists() or not weights_path.exists():
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if not _same_features(meta):
            return None  # written by an earlier version: retrained rather than misread
        if meta.get("weights_sha256") != _sha256(weights_path):
            raise ModelError(
                f"The sentiment model in {directory} does not match its weights file.",
                hint="Delete the folder; `recengine analyze` trains a new one.",
            )
        with np.load(weights_path, allow_pickle=False) as arrays:
            coefficients = np.asarray(arrays["coefficients"], dtype=np.float64)
            intercepts = np.asarray(arrays["intercepts"], dtype=np.float64)
            polarity = (
                np.asarray(arrays["polarity_coefficients"], dtype=np.float64)
                if meta.get("polarity_model")
                else None
            )
            text = (
                np.asarray(arrays["text_coefficients"], dtype=np.float64) if meta.get("text_model") else None
            )
        quality = _quality_from_dict(meta.get("quality"))
        prior = _load_prior(directory, meta.get("prior"), _depth)
        return SentimentModel(
            classes=tuple(meta["classes"]),
            coefficients=coefficients,
            intercepts=intercepts,
            encoder_fingerprint=str(meta["encoder_fingerprint"]),
            trained_on=int(meta["trained_on"]),
            rated_reviews=int(meta["rated_reviews"]),
            trained_at=str(meta["trained_at"]),
            quality=quality,
            extra=dict(meta.get("extra") or {}),
            polarity_coefficients=polarity,
            polarity_intercept=float(meta.get("polarity_intercept", 0.0)),
            polarity_threshold=float(meta.get("polarity_threshold", 0.0)),
            text_coefficients=text,
            text_intercept=float(meta.get("text_intercept", 0.0)),
            prior=prior,
        )
    except (KeyError, ValueError, OSError, TypeError) as error:
        raise ModelError(
            f"The sentiment model in {directory} cannot be read: {error}.",
            hint="Delete the folder; `recengine analyze` trains a new one.",
        ) from error


def _load_prior(directory: Path, described: dict | None, depth: int) -> SentimentModel | None:
    """The borrowed model a saved model's JSON names, checked against the hash the JSON records."""
    if not described:
        return None
    if depth >= MAX_PRIOR_DEPTH:
        raise ValueError(f"borrowed models nested more than {MAX_PRIOR_DEPTH} deep")
    prior = load_sentiment_model(directory / str(described["folder"]), _depth=depth + 1)
    if prior is None or prior.fingerprint() != described["fingerprint"]:
        raise ValueError(f"its borrowed model ({described['folder']}) is missing or differs from the one it was trained with")
    return prior


def _same_features(meta: dict) -> bool:
    """Whether a saved model was built on the inputs this version computes (format, weights, hashing)."""
    return (
        meta.get("format") == MODEL_FORMAT
        and meta.get("lexicon_feature_weight") == LEXICON_FEATURE_WEIGHT
        and meta.get("text_margin_weight") == TEXT_MARGIN_WEIGHT
        and meta.get("text_features") == TEXT_FEATURES
        and meta.get("prior_feature_weight", PRIOR_FEATURE_WEIGHT) == PRIOR_FEATURE_WEIGHT
    )


def _quality_from_dict(data: dict | None) -> ModelQuality | None:
    if not data:
        return None
    return ModelQuality(
        learned=MethodScores(**data["learned"]),
        lexicon=MethodScores(**data["lexicon"]),
        train_reviews=int(data["train_reviews"]),
        held_out_reviews=int(data["held_out_reviews"]),
        borrowed=MethodScores(**data["borrowed"]) if data.get("borrowed") else None,
    )


def _sha256(path: Path) -> str:
    from recengine.store.files import sha256_file

    return sha256_file(path)
