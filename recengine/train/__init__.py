"""Fine-tuning the encoder on a workspace's own data, and the registry of encoder versions.

    pairs.py      positive pairs from the workspace (sequence, review, co-bought), evaluation hold-out
    arguments.py  FineTuneArguments: hyper-parameters with help text
    finetune.py   SentenceTransformerTrainer run (pair objective), callbacks, train_and_register
    reconstruction_loss.py  the interaction objective's loss (beeFormer / ELSA) and its chunked backward
    user_batches.py         customers' histories and batches over them, held-out products excluded
    interaction_learners.py what learns: a linear head on the frozen encoder, or the encoder's weights
    cached_layers.py        the top layers trained on a CPU from their inputs, computed once per product
    interaction_finetune.py the interaction objective's training loop, card and workspace run
    new_products.py         before/after on products held out as new (never trained on)
    advice.py               whether to activate a version, from both before/after measurements
    card.py       the model card filled during training
    registry.py   versions on disk (safetensors + sha256 manifest), activate / rollback

Importing this package loads no model and no torch.
"""

from __future__ import annotations

from recengine.train.arguments import FineTuneArguments
from recengine.train.card import ModelCard
from recengine.train.pairs import PairSet, TrainingPair, build_pairs
from recengine.train.registry import (
    ModelVersion,
    activate,
    active_model_setting,
    active_version,
    list_versions,
    rollback,
)

__all__ = [
    "FineTuneArguments",
    "ModelCard",
    "ModelVersion",
    "PairSet",
    "TrainingPair",
    "activate",
    "active_model_setting",
    "active_version",
    "build_pairs",
    "list_versions",
    "rollback",
]
