"""The encoder contract and the one place that builds encoders from settings."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from recengine.config import EmbedSettings
from recengine.embed.models import ModelSource, resolve_model
from recengine.progress import Progress


@runtime_checkable
class Encoder(Protocol):
    """Turns texts into L2-normalised float32 vectors.

    Attributes:
        fingerprint: model name + weights hash; vectors with different fingerprints are never mixed.
        dimension: length of each vector.
    """

    fingerprint: str
    dimension: int

    def encode(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        """Return an array of shape (len(texts), dimension), float32, rows of unit length."""
        ...


@dataclass(frozen=True)
class EncoderRuntime:
    """Where and how the configured encoder runs, known without loading it."""

    model: str
    fingerprint: str
    device: str
    precision: str


def encoder_runtime(
    settings: EmbedSettings, *, precision: str | None = None, load_torch: bool = True
) -> EncoderRuntime:
    """Resolve model, device and precision from settings.

    Args:
        settings: the `embed` settings section.
        precision: force a precision instead of the setting's choice.
        load_torch: import torch to detect the device (seconds on a cold process); False gives the
            expected device without it, for status displays.
    """
    source = resolve_model(settings.model)
    if source.kind == "fake":
        return EncoderRuntime(settings.model, source.fingerprint, "cpu", "fp32")
    from recengine.embed.precision import choose_precision
    from recengine.runtime import choose_device, expected_device

    device = choose_device(settings.device) if load_torch else expected_device(settings.device)
    return EncoderRuntime(
        settings.model, source.fingerprint, device, precision or choose_precision(settings.precision, device)
    )


_ENCODERS: dict[tuple[object, ...], Encoder] = {}
_ENCODERS_LOCK = threading.Lock()


def load_encoder(settings: EmbedSettings, *, precision: str | None = None) -> Encoder:
    """The encoder the settings describe, loaded once per process and shared.

    Args:
        settings: the `embed` settings section.
        precision: force a precision ("fp32", "bf16", "fp16") instead of the setting's choice.

    Raises:
        ModelError: the model cannot be found, verified or loaded.
        ConfigError: the device or precision setting is invalid here.
    """
    source = resolve_model(settings.model)
    if source.kind == "fake":
        return _cached(("fake", source.dimension), lambda: _fake(source))
    runtime = encoder_runtime(settings, precision=precision)
    key = (source.fingerprint, str(source.path), runtime.device, runtime.precision, settings.batch_size,
           settings.max_seq_length)

    def build() -> Encoder:
        from recengine.embed.transformer import SentenceTransformerEncoder

        return SentenceTransformerEncoder(
            source,
            device=runtime.device,
            precision=runtime.precision,
            batch_size=settings.batch_size,
            max_seq_length=settings.max_seq_length,
        )

    return _cached(key, build)


def _fake(source: ModelSource) -> Encoder:
    from recengine.embed.fake import HashingEncoder

    return HashingEncoder(source.dimension or 64)


def _cached(key: tuple[object, ...], build: object) -> Encoder:
    # One lock for all loads: two Streamlit sessions asking at once must not load the model twice.
    with _ENCODERS_LOCK:
        if key not in _ENCODERS:
            _ENCODERS[key] = build()  # type: ignore[operator]
        return _ENCODERS[key]


def clear_encoder_cache() -> None:
    """Forget loaded encoders (tests and benchmarks)."""
    with _ENCODERS_LOCK:
        _ENCODERS.clear()
