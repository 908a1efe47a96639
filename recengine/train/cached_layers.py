"""Training the top transformer layers on a CPU from cached inputs of those layers.

Training the whole encoder with the interaction objective costs minutes per step on a 2-core CPU, most
of it spent in the bottom layers, whose weights a top-k run does not change. So each product's token
states at the input of the first trainable layer are computed ONCE, without gradients
(`layer_inputs`), and every step runs only the top k layers, the pooling and an optional linear head
from them (`top_layers_forward`): a forward/backward through k layers instead of all of them.

The layers trained are the model's own modules, so the SentenceTransformer saved after training is an
ordinary one (bottom layers unchanged, top layers trained): registry, embeddings and search need
nothing new. Cached and full-model vectors are equal (tested); the one difference in training is that
the frozen bottom layers run without dropout.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from recengine.progress import Progress, no_progress
from recengine.train.arguments import FineTuneArguments
from recengine.train.reconstruction_loss import chunked_loss_backward
from recengine.train.user_batches import InteractionData, UserBatch

if TYPE_CHECKING:
    import torch

# Products encoded at once while filling the cache and when measuring (memory, not results).
ENCODE_BATCH = 64


class _LayerInputCaptured(Exception):  # noqa: N818 - control flow, not an error
    """Raised by the pre-hook to stop the forward pass once the wanted layer input is known."""

    def __init__(self, hidden: torch.Tensor) -> None:
        super().__init__()
        self.hidden = hidden


@dataclass(frozen=True)
class LayerInputs:
    """Each product's token states at the input of the first trainable layer (padding removed).

    Attributes:
        layers: how many top layers these states feed (the states are the output of layer L - layers).
        row: product -> its index in `states`.
        states: per product a (tokens, hidden) float32 tensor.
    """

    layers: int
    row: dict[str, int] = field(repr=False)
    states: list[Any] = field(repr=False)

    def tokens(self, item: str) -> int:
        return int(self.states[self.row[item]].shape[0])


def layer_stack(model: Any) -> Any:
    """The ModuleList of transformer blocks of a SentenceTransformer (BERT-like: `encoder.layer`)."""
    import torch

    from recengine.errors import ModelError

    for name, module in model.named_modules():
        if isinstance(module, torch.nn.ModuleList) and name.rsplit(".", 1)[-1] in ("layer", "layers", "block"):
            return module
    raise ModelError(
        "Cannot find the transformer layers of this encoder to train only the top ones.",
        hint="Set trainable_layers to -1 (all weights) or 0 (a linear head).",
    )


def top_layers(model: Any, layers: int) -> list[Any]:
    """The top `layers` transformer blocks (all of them when `layers` exceeds the depth)."""
    stack = list(layer_stack(model))
    return stack[-min(layers, len(stack)):]


def trainable_top_layers(model: Any, layers: int) -> None:
    """Freeze all weights but the top `layers` transformer layers (every weight with -1)."""
    for parameter in model.parameters():
        parameter.requires_grad_(layers < 0)
    if layers <= 0:
        return
    for block in top_layers(model, layers):
        for parameter in block.parameters():
            parameter.requires_grad_(True)


def layer_inputs(
    model: Any, item_texts: Mapping[str, str], items: Sequence[str], layers: int, *, progress: Progress | None = None
) -> LayerInputs:
    """Encode `items` once, without gradients, up to the input of the top `layers` blocks.

    A forward pre-hook on the first trainable block records its input and stops the pass there, so
    the top blocks, pooling and head are not computed at all.
    """
    import torch

    report = progress or no_progress
    preprocess = getattr(model, "preprocess", None) or model.tokenize

    def capture(_module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        raise _LayerInputCaptured(args[0] if args else kwargs["hidden_states"])

    handle = top_layers(model, layers)[0].register_forward_pre_hook(capture, with_kwargs=True)
    # Shortest texts together: less padding per batch.
    order = sorted(items, key=lambda item: len(item_texts[item]))
    states: dict[str, torch.Tensor] = {}
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for start in range(0, len(order), ENCODE_BATCH):
                chunk = order[start : start + ENCODE_BATCH]
                report(start / max(1, len(order)), f"encoding products up to the trained layers ({start}/{len(order)})")
                features = preprocess([item_texts[item] for item in chunk])
                try:
                    model(features)
                except _LayerInputCaptured as captured:
                    hidden = captured.hidden.float()
                else:  # pragma: no cover - the hook always fires for a model with that layer
                    raise RuntimeError("the trainable layers were never reached")
                mask = features["attention_mask"].bool()
                for index, item in enumerate(chunk):
                    states[item] = hidden[index][mask[index]].clone()
    finally:
        handle.remove()
        model.train(was_training)
    report(1.0, f"encoded {len(order)} products up to the trained layers")
    kept = list(items)
    return LayerInputs(layers=layers, row={item: index for index, item in enumerate(kept)},
                       states=[states[item] for item in kept])


def top_layers_forward(model: Any, inputs: LayerInputs, items: Sequence[str]) -> torch.Tensor:
    """Sentence embeddings of `items` from their cached states: the top blocks, then pooling, head, ...

    Matches the full model's forward: right-padded states with an additive attention mask over the
    padding (what BERT-like layers expect), then every SentenceTransformer module after the transformer.
    """
    import torch
    from torch.nn.utils.rnn import pad_sequence

    rows = [inputs.states[inputs.row[item]] for item in items]
    hidden = pad_sequence(rows, batch_first=True)
    lengths = torch.tensor([row.shape[0] for row in rows])
    mask = (torch.arange(hidden.shape[1])[None, :] < lengths[:, None]).long()
    additive = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
    for block in top_layers(model, inputs.layers):
        output = block(hidden, additive)
        hidden = output[0] if isinstance(output, tuple) else output  # transformers 4 returns a tuple
    features: dict[str, Any] = {"token_embeddings": hidden, "attention_mask": mask}
    for module in list(model)[1:]:
        features = module(features)
    return features["sentence_embedding"]


class CachedLayersLearner:
    """Trains the top `arguments.trainable_layers` blocks (and, if asked, a linear head) from cached inputs.

    Same surface as the other learners (`step_loss`, `gradients_finite`, `vectors_of`, `state` /
    `restore`, `finish`, `parameter_groups`). Steps go through GradCache (`chunked_loss_backward`), so
    a batch of several hundred products needs the memory of `mini_batch_size` products only.
    """

    def __init__(
        self,
        model: Any,
        data: InteractionData,
        arguments: FineTuneArguments,
        report: Progress,
        inputs: LayerInputs | None = None,
    ) -> None:
        import torch

        # Imported here: interaction_learners imports this module's layer helpers.
        from recengine.train.interaction_learners import attach_linear_head

        self.model, self.data = model, data
        self.chunk_size = arguments.mini_batch_size
        layers = arguments.trainable_layers
        if inputs is None or inputs.layers != layers or set(inputs.row) < set(data.item_texts):
            inputs = layer_inputs(model, data.item_texts, sorted(data.item_texts), layers, progress=report)
        self.inputs = inputs
        trainable_top_layers(model, layers)
        groups = [{"params": [parameter for parameter in model.parameters() if parameter.requires_grad],
                   "lr": arguments.learning_rate, "weight_decay": 0.01}]
        if arguments.head_on_layers:
            dimension = int(self.encode(sorted(data.item_texts)[:1]).shape[1])
            head = list(attach_linear_head(model, torch.eye(dimension)).parameters())
            for parameter in head:
                parameter.requires_grad_(True)
            # The head starts as the identity: decay would pull it towards zero, and it needs the head's rate.
            groups.append({"params": head, "lr": arguments.head_learning_rate, "weight_decay": 0.0})
        self.parameter_groups = groups
        self.parameters = [parameter for group in groups for parameter in group["params"]]
        self.names = [name for name, parameter in model.named_parameters() if parameter.requires_grad]

    def encode(self, items: Sequence[str]) -> torch.Tensor:
        return top_layers_forward(self.model, self.inputs, items)

    def step_loss(self, batch: UserBatch) -> float:
        import torch

        self.model.train()
        history = torch.from_numpy(batch.history)
        return chunked_loss_backward(self.encode, batch.item_ids, history, self.chunk_size)

    def gradients_finite(self) -> bool:
        return True  # fp32 on a CPU: nothing is scaled

    def vectors_of(self, item_ids: list[str]) -> np.ndarray:
        """Normalised vectors of the model as it is now, from the cache (no bottom layers run)."""
        import torch

        # Similar lengths together: less padding per batch; rows go back to the asked order at the end.
        order = sorted(range(len(item_ids)), key=lambda index: self.inputs.tokens(item_ids[index]))
        parts = []
        self.model.eval()
        with torch.no_grad():
            for start in range(0, len(order), ENCODE_BATCH):
                chunk = [item_ids[index] for index in order[start : start + ENCODE_BATCH]]
                parts.append(torch.nn.functional.normalize(self.encode(chunk).float(), dim=1).numpy())
        if not parts:
            return np.zeros((0, 0), dtype=np.float32)
        vectors = np.empty((len(item_ids), parts[0].shape[1]), dtype=np.float32)
        vectors[order] = np.concatenate(parts)
        return vectors

    def state(self) -> dict[str, Any]:
        parameters = dict(self.model.named_parameters())
        return {name: parameters[name].detach().clone() for name in self.names}

    def restore(self, state: dict[str, Any]) -> None:
        import torch

        parameters = dict(self.model.named_parameters())
        with torch.no_grad():
            for name, value in state.items():
                parameters[name].copy_(value)

    def finish(self) -> None:
        for parameter in self.model.parameters():
            parameter.requires_grad_(True)
