"""What learns in an interaction-objective run: the encoder's own weights, or a linear head on top of it.

`EncoderLearner` back-propagates the reconstruction loss into the top N transformer layers (or every
weight) with GradCache, chunk by chunk, running the whole encoder each step (the GPU path);
`CachedLayersLearner` (`cached_layers`) trains the top N layers on a CPU from their inputs, computed
once; `HeadLearner` trains a bias-free linear layer on the frozen encoder's vectors, computed once.
`make_learner` picks one from the settings. All offer the same small surface to the training loop
(`step_loss`, `gradients_finite`, `vectors_of`, `state`/`restore`, `finish`, `parameter_groups`). A
head starts as the identity and is saved into the SentenceTransformer as a `Dense` module, so a tuned
model needs nothing new to serve."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

import numpy as np

from recengine.progress import Progress
from recengine.train.arguments import FineTuneArguments
from recengine.train.cached_layers import CachedLayersLearner, LayerInputs, trainable_top_layers
from recengine.train.reconstruction_loss import TextEncoder, chunked_loss_backward, reconstruction_loss
from recengine.train.user_batches import InteractionData, UserBatch

if TYPE_CHECKING:
    import torch

# fp16 gradients of a loss in [0, 4] underflow; a fixed scale keeps them representable (checked per step).
FP16_GRADIENT_SCALE = 1024.0


def text_encoder(model: Any, device: str, precision: str) -> TextEncoder:
    """The forward pass of a SentenceTransformer as texts -> embeddings, with autocast when asked."""
    import torch

    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    device_type = device.split(":")[0]

    # sentence-transformers 6 renamed `tokenize` to `preprocess` (the old name warns on every call).
    preprocess = getattr(model, "preprocess", None) or model.tokenize

    def encode(texts: Sequence[str]) -> torch.Tensor:
        features = preprocess(list(texts))
        features = {name: value.to(device) if hasattr(value, "to") else value for name, value in features.items()}
        context = torch.autocast(device_type=device_type, dtype=dtype) if dtype is not None else nullcontext()
        with context:
            return model(features)["sentence_embedding"]

    return encode


def model_vectors(model: Any, item_texts: dict[str, str], batch_size: int = 64) -> Callable[[list[str]], np.ndarray]:
    """products -> normalised vectors of `model` (for `history_metrics`)."""

    def vectors_of(item_ids: list[str]) -> np.ndarray:
        encoded = model.encode([item_texts[item] for item in item_ids], batch_size=batch_size,
                               normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(encoded, dtype=np.float32)

    return vectors_of


class EncoderLearner:
    """Trains the encoder's own weights (the top `layers` transformer layers, or all with -1) by GradCache."""

    def __init__(self, model: Any, data: InteractionData, arguments: FineTuneArguments, device: str, precision: str) -> None:
        self.model, self.data, self.device = model, data, device
        self.chunk_size = arguments.mini_batch_size
        self.gradient_scale = FP16_GRADIENT_SCALE if precision == "fp16" else 1.0
        self.encode = text_encoder(model, device, precision)
        trainable_top_layers(model, arguments.trainable_layers)
        self.parameters = [parameter for parameter in model.parameters() if parameter.requires_grad]
        self.parameter_groups = [{"params": self.parameters, "lr": arguments.learning_rate, "weight_decay": 0.01}]

    def step_loss(self, batch: UserBatch) -> float:
        import torch

        self.model.train()
        history = torch.from_numpy(batch.history).to(self.device)
        texts = [self.data.item_texts[item] for item in batch.item_ids]
        return chunked_loss_backward(self.encode, texts, history, self.chunk_size, gradient_scale=self.gradient_scale)

    def gradients_finite(self) -> bool:
        """Undo the fp16 gradient scale; False (skip the step) when a gradient overflowed."""
        import torch

        if self.gradient_scale == 1.0:
            return True
        gradients = [parameter.grad for parameter in self.parameters if parameter.grad is not None]
        for gradient in gradients:
            gradient.div_(self.gradient_scale)
        return all(bool(torch.isfinite(gradient).all()) for gradient in gradients)

    def vectors_of(self, item_ids: list[str]) -> np.ndarray:
        return model_vectors(self.model, self.data.item_texts)(item_ids)

    def state(self) -> dict[str, Any]:
        return {name: value.detach().to("cpu", copy=True) for name, value in self.model.state_dict().items()}

    def restore(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state)

    def finish(self) -> None:
        for parameter in self.model.parameters():
            parameter.requires_grad_(True)


class HeadLearner:
    """Trains a linear head on the frozen encoder's vectors, computed once: cheap enough for a small CPU.

    The head starts as the identity (the base model exactly) and is saved into the model as a `Dense`
    module, so that serving needs nothing new: the tuned SentenceTransformer folder holds it.
    """

    def __init__(
        self,
        model: Any,
        data: InteractionData,
        report: Progress,
        frozen_vectors: Mapping[str, np.ndarray] | None,
        initial_head: np.ndarray | None = None,
        learning_rate: float = 1e-2,
    ) -> None:
        import torch

        self.model, self.data = model, data
        items = sorted(data.item_texts)
        self.row = {item: index for index, item in enumerate(items)}
        if frozen_vectors is not None:
            features = np.stack([frozen_vectors[item] for item in items]).astype(np.float32)
        else:
            report(0.0, f"encoding {len(items)} products once (frozen encoder)")
            features = model_vectors(model, data.item_texts)(items)
        self.features = torch.from_numpy(features)
        start = torch.eye(self.features.shape[1]) if initial_head is None else torch.from_numpy(initial_head.copy())
        self.weight = torch.nn.Parameter(start.float())
        self.parameters = [self.weight]
        # Decay would pull the head towards zero, not towards the identity it starts from.
        self.parameter_groups = [{"params": self.parameters, "lr": learning_rate, "weight_decay": 0.0}]

    def _project(self, rows: Any) -> Any:
        return self.features[rows] @ self.weight.T

    def step_loss(self, batch: UserBatch) -> float:
        import torch

        rows = torch.tensor([self.row[item] for item in batch.item_ids])
        loss = reconstruction_loss(self._project(rows), torch.from_numpy(batch.history))
        loss.backward()
        return float(loss.detach())

    def gradients_finite(self) -> bool:
        return True

    def vectors_of(self, item_ids: list[str]) -> np.ndarray:
        import torch

        with torch.no_grad():
            projected = self._project(torch.tensor([self.row[item] for item in item_ids]))
            return torch.nn.functional.normalize(projected, dim=1).numpy()

    def state(self) -> dict[str, Any]:
        return {"weight": self.weight.detach().clone()}

    def restore(self, state: dict[str, Any]) -> None:
        import torch

        with torch.no_grad():
            self.weight.copy_(state["weight"])

    def finish(self) -> None:
        attach_linear_head(self.model, self.weight.detach().clone())


def attach_linear_head(model: Any, weight: Any) -> Any:
    """Insert a bias-free linear layer with `weight` before the model's final normalisation (if any).

    Returns:
        The inserted `Dense` module.
    """
    import torch

    try:
        from sentence_transformers.sentence_transformer.modules import Dense, Normalize
    except ImportError:  # sentence-transformers < 6
        from sentence_transformers.models import Dense, Normalize
    head = Dense(weight.shape[1], weight.shape[0], bias=False, activation_function=torch.nn.Identity(), init_weight=weight)
    modules = list(model._modules.items())
    keys = [key for key, _module in modules]
    position = len(modules) - 1 if modules and isinstance(modules[-1][1], Normalize) else len(modules)
    reordered = modules[:position] + [(str(len(modules)), head)] + modules[position:]
    for key in keys:
        del model._modules[key]
    for index, (_key, module) in enumerate(reordered):
        model._modules[str(index)] = module
    return head


Learner = HeadLearner | EncoderLearner | CachedLayersLearner


def make_learner(
    model: Any,
    data: InteractionData,
    arguments: FineTuneArguments,
    *,
    device: str,
    precision: str,
    report: Progress,
    frozen_vectors: Mapping[str, np.ndarray] | None = None,
    initial_head: np.ndarray | None = None,
    layer_inputs: LayerInputs | None = None,
) -> Learner:
    """The learner `arguments.trainable_layers` asks for.

    0: a linear head on frozen vectors. N > 0 on a CPU: the top N layers from their cached inputs (the
    bottom layers run once). Otherwise (-1, or a GPU): the encoder's own weights with GradCache.

    Args:
        frozen_vectors: the base model's normalised vectors (the head then encodes nothing).
        initial_head: the head to start from (federated rounds); the identity when None.
        layer_inputs: cached inputs of the top layers (benchmarks reuse them between runs).
    """
    layers = arguments.trainable_layers
    if layers == 0:
        return HeadLearner(model, data, report, frozen_vectors, initial_head, arguments.head_learning_rate)
    if layers > 0 and device.split(":")[0] == "cpu":
        return CachedLayersLearner(model, data, arguments, report, layer_inputs)
    return EncoderLearner(model, data, arguments, device, precision)


def vector_table(item_ids: Sequence[str], vectors: np.ndarray) -> Callable[[list[str]], np.ndarray]:
    """products -> their rows of precomputed `vectors` (for `history_metrics`)."""
    row = {item: index for index, item in enumerate(item_ids)}

    def vectors_of(wanted: list[str]) -> np.ndarray:
        return vectors[[row[item] for item in wanted]]

    return vectors_of


def projected(vectors: np.ndarray, head: np.ndarray) -> np.ndarray:
    """Base vectors through a linear head, normalised: what the tuned model would encode."""
    tuned = np.asarray(vectors, dtype=np.float32) @ head.T
    return tuned / np.maximum(np.linalg.norm(tuned, axis=1, keepdims=True), 1e-12)


def linear_head_weight(model: Any) -> np.ndarray | None:
    """The weight of the linear head a head-only run added (None when the model has none).

    With it, tuned vectors are the base vectors times its transpose, normalised: a benchmark can score
    a tuned model on cached base vectors without encoding the catalog again.
    """
    try:
        from sentence_transformers.sentence_transformer.modules import Dense
    except ImportError:  # sentence-transformers < 6
        from sentence_transformers.models import Dense
    heads = [module for module in model if isinstance(module, Dense)]
    return heads[-1].linear.weight.detach().cpu().numpy().astype(np.float32) if heads else None
