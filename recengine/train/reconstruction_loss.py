"""The interaction objective's loss: text embeddings must reconstruct what customers chose together.

beeFormer (Vančura, Kordík, Straka, RecSys 2024, arXiv 2409.10309) trains a sentence encoder so that
the item-item matrix of its normalised text embeddings works as an ELSA model (Vančura et al., 2022):
for a batch of customers with binary histories ``X`` over the batch's products and the normalised
embeddings ``A`` of those products, the loss is

    mean over customers of ‖ norm(x) − norm(x (A Aᵀ − I)) ‖²

with ``norm`` the L2 normalisation of a row. ``− I`` removes each product's similarity with itself, so
a product in the history is predicted only from the *other* products in it.

Encoding every product of a batch with gradients at once does not fit a small machine, so
`chunked_loss_backward` does it as GradCache does (Gao et al., 2021): encode all products without
gradients, take dL/dE of the loss with respect to the embeddings, then re-encode chunk by chunk with
gradients and push each chunk's part of dL/dE into the encoder. The parameter gradients equal those of
one big pass (tested), with the memory of one chunk. Dropout masks are replayed by restoring the random
state each chunk had in the first pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

# texts -> (len(texts), dim) float embeddings, with or without autograd depending on the caller's mode.
TextEncoder = Callable[[Sequence[str]], "torch.Tensor"]


def reconstruction_loss(item_embeddings: torch.Tensor, history: torch.Tensor) -> torch.Tensor:
    """ELSA reconstruction loss of `history` by the item-item similarity of `item_embeddings`.

    Args:
        item_embeddings: (items, dim) embeddings of the batch's products (normalised here).
        history: (customers, items) 0/1 matrix: which of the batch's products each customer chose.

    Returns:
        The mean over customers of the squared distance between the normalised history row and the
        normalised reconstruction (a scalar; 0 is perfect, 4 is the worst).
    """
    import torch.nn.functional as functional

    unit = functional.normalize(item_embeddings.float(), dim=1)
    history = history.float()
    # x (A Aᵀ − I) computed as (x A) Aᵀ − x: never builds the items x items matrix.
    reconstruction = (history @ unit) @ unit.T - history
    difference = functional.normalize(history, dim=1) - functional.normalize(reconstruction, dim=1)
    return difference.pow(2).sum(dim=1).mean()


class _RandomState:
    """The CPU and CUDA random state at one moment, to replay the same dropout masks later."""

    def __init__(self) -> None:
        import torch

        self.cpu = torch.get_rng_state()
        self.cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else None

    @contextmanager
    def replay(self) -> Iterator[None]:
        import torch

        devices = list(range(len(self.cuda))) if self.cuda is not None else []
        with torch.random.fork_rng(devices=devices):
            torch.set_rng_state(self.cpu)
            if self.cuda is not None:
                torch.cuda.set_rng_state_all(self.cuda)
            yield


def chunked_loss_backward(
    encode: TextEncoder,
    texts: Sequence[str],
    history: torch.Tensor,
    chunk_size: int,
    *,
    gradient_scale: float = 1.0,
) -> float:
    """Accumulate the parameter gradients of `reconstruction_loss` over `texts`, `chunk_size` at a time.

    Args:
        encode: the encoder's forward pass (it runs under `torch.no_grad` first, then with gradients).
        texts: the batch's product texts, in the column order of `history`.
        history: (customers, len(texts)) 0/1 matrix on the encoder's device.
        chunk_size: products encoded with gradients at once (memory, not results).
        gradient_scale: multiplies the gradients (fp16 training; the caller divides before stepping).

    Returns:
        The loss value. Gradients are added to the parameters' `.grad` (the caller steps and zeroes).
    """
    import torch

    if len(texts) <= chunk_size:
        # One chunk: GradCache's first pass without gradients would only repeat the forward pass.
        loss = reconstruction_loss(encode(texts), history)
        (loss * gradient_scale).backward()
        return float(loss.detach())
    starts = range(0, len(texts), max(1, chunk_size))
    states: list[_RandomState] = []
    parts: list[torch.Tensor] = []
    with torch.no_grad():
        for start in starts:
            states.append(_RandomState())
            parts.append(encode(texts[start : start + chunk_size]).float())
    embeddings = torch.cat(parts).detach().requires_grad_(True)
    loss = reconstruction_loss(embeddings, history)
    loss.backward()
    assert embeddings.grad is not None
    gradient = embeddings.grad * gradient_scale
    for start, state in zip(starts, states, strict=True):
        with state.replay():
            chunk = encode(texts[start : start + chunk_size]).float()
        chunk.backward(gradient[start : start + chunk_size])
    return float(loss.detach())
