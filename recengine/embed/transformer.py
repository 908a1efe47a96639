"""The sentence-transformers encoder: offline loading, precision, length-sorted batches, progress."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

import numpy as np

from recengine.embed.cpu_batches import encode_in_batches, report_texts_done, torch_intra_op_threads
from recengine.embed.models import ModelSource, verify_model_files
from recengine.errors import ModelError
from recengine.progress import Progress

log = logging.getLogger(__name__)

# Batches per call into SentenceTransformer.encode on an accelerator.
_BATCHES_PER_CALL = 8


class SentenceTransformerEncoder:
    """An `Encoder` backed by a sentence-transformers model loaded from local files."""

    def __init__(
        self,
        source: ModelSource,
        *,
        device: str,
        precision: str,
        batch_size: int = 64,
        max_seq_length: int = 256,
    ) -> None:
        if source.path is None:
            raise ModelError(f"The model {source.spec!r} has no local files to load.")
        verify_model_files(source)
        # Local files only: never let a load wait on (or leak requests to) a network.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        model_kwargs: dict[str, object] = {}
        if precision == "bf16":
            model_kwargs["dtype"] = torch.bfloat16
        elif precision == "fp16":
            model_kwargs["dtype"] = torch.float16
        try:
            _quiet_transformers()
            self.model = SentenceTransformer(
                str(source.path), device=device, local_files_only=True, model_kwargs=model_kwargs or None
            )
        except Exception as error:  # noqa: BLE001 - any load failure is a model problem for the user
            raise ModelError(f"Could not load the model {source.spec!r} from {source.path}: {error}") from error
        self.model.max_seq_length = max_seq_length
        self.source = source
        self.fingerprint = source.fingerprint
        self.model_name = source.name
        self.device = device
        self.precision = precision
        self.batch_size = batch_size
        dimension = self.model.get_embedding_dimension()
        if not dimension:
            raise ModelError(f"The model {source.spec!r} does not declare its embedding dimension.")
        self.dimension = int(dimension)

    def encode(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text, in the order given.

        Texts are encoded longest first in batches of similar length, so that padding is minimal. On a
        CPU the batches run one per core, each on one thread (`recengine.embed.cpu_batches`: half the
        CPU time of torch's own threading when the cores are shared); elsewhere one after another.
        """
        import torch

        count = len(texts)
        vectors = np.empty((count, self.dimension), dtype=np.float32)
        if count == 0:
            return vectors
        lengths = np.fromiter((len(text) for text in texts), dtype=np.int64, count=count)
        order = np.argsort(-lengths, kind="stable")
        on_cpu = self.device == "cpu"
        # On a CPU one model call per batch, so that the cores share the batches; elsewhere several
        # batches per call (the per-call cost is negligible, and the progress bar still moves).
        per_call = self.batch_size * (1 if on_cpu else _BATCHES_PER_CALL)
        positions = [order[start:start + per_call] for start in range(0, count, per_call)]

        def encode_batch(batch: Sequence[str]) -> np.ndarray:
            with torch.inference_mode():
                encoded = self.model.encode(
                    list(batch), batch_size=self.batch_size, convert_to_numpy=True,
                    normalize_embeddings=False, show_progress_bar=False,
                )
            return np.asarray(encoded, dtype=np.float32)

        encoded = encode_in_batches(
            [[texts[position] for position in batch] for batch in positions], encode_batch,
            workers=torch_intra_op_threads().workers() if on_cpu else 1,
            progress=report_texts_done(progress, count),
        )
        for batch, batch_vectors in zip(positions, encoded, strict=True):
            vectors[batch] = batch_vectors
        # Normalise in fp32: vectors normalised inside a bf16 model are off by up to 1%.
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        vectors /= norms
        return vectors


def _quiet_transformers() -> None:
    """Hide the per-load 'Loading weights' bar: our own progress reporting covers the user."""
    try:
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
    except Exception:  # noqa: BLE001 - cosmetic only
        pass
