"""A model card for each fine-tuned encoder, filled during training and saved next to the weights.

As in sentence-transformers, the card is a dataclass that trainer callbacks fill while the run goes
(losses, validation metrics, duration), then rendered to Markdown. It travels with the model folder
(`CARD.md` for people, `card.json` for the registry and the dashboard).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from recengine.store import write_text_atomic

CARD_MARKDOWN = "CARD.md"
CARD_JSON = "card.json"


@dataclass
class ModelCard:
    """Everything worth knowing about one fine-tuning run.

    Mutable on purpose: callbacks fill it while training runs; `freeze()` returns the final record.
    """

    base_model: str
    workspace: str = ""
    version_id: str = ""
    created_at: str = ""
    data_summary: dict[str, int] = field(default_factory=dict)
    pairs_found_per_source: dict[str, int] = field(default_factory=dict)
    pairs_per_source: dict[str, int] = field(default_factory=dict)
    train_pairs: int = 0
    validation_pairs: int = 0
    holdout: str = ""
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    device: str = ""
    precision: str = ""
    metrics_before: dict[str, float] = field(default_factory=dict)
    metrics_after: dict[str, float] = field(default_factory=dict)
    loss_history: list[dict[str, float]] = field(default_factory=list)
    eval_history: list[dict[str, float]] = field(default_factory=list)
    best_step: int | None = None
    stopped_early: bool = False
    total_steps: int = 0
    started_at: float = 0.0
    duration_s: float = 0.0
    notes: list[str] = field(default_factory=list)

    # -- filled by callbacks ---------------------------------------------------------------------

    def start(self) -> None:
        self.started_at = time.time()
        self.created_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started_at))

    def record_loss(self, step: int, epoch: float, loss: float) -> None:
        self.loss_history.append({"step": step, "epoch": round(epoch, 4), "loss": float(loss)})

    def record_eval(self, step: int, epoch: float, metrics: dict[str, float]) -> None:
        self.eval_history.append({"step": step, "epoch": round(epoch, 4), **metrics})

    def finish(self) -> None:
        if self.started_at:
            self.duration_s = round(time.time() - self.started_at, 2)

    # -- output ----------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ModelCard:
        known = {name: values[name] for name in cls.__dataclass_fields__ if name in values}
        return cls(**known)

    def improvement(self, metric: str = "ndcg@10") -> float | None:
        """Relative change of `metric` from before to after (0.1 = +10%); None when unknown."""
        before, after = self.metrics_before.get(metric), self.metrics_after.get(metric)
        if before is None or after is None or before == 0:
            return None
        return (after - before) / before

    def to_markdown(self) -> str:
        """The card as Markdown (no user text is embedded: only counts, settings and metrics)."""
        lines = [
            f"# Fine-tuned encoder {self.version_id or '(unregistered)'}",
            "",
            f"- Base model: `{self.base_model}`",
            f"- Created: {self.created_at} UTC, training took {self.duration_s:.0f} s on {self.device or 'cpu'}"
            f" ({self.precision or 'fp32'})",
            f"- Steps: {self.total_steps}" + (f", best checkpoint at step {self.best_step}" if self.best_step else "")
            + (" (stopped early)" if self.stopped_early else ""),
            f"- Objective: {self.hyperparameters.get('objective', 'pairs')}",
            f"- Hold-out: {self.holdout}",
            "",
            "## Training data",
            "",
            "| source | pairs found | pairs used |",
            "|---|---|---|",
        ]
        for source, found in self.pairs_found_per_source.items():
            lines.append(f"| {source} | {found} | {self.pairs_per_source.get(source, 0)} |")
        lines += [
            "",
            f"{self.train_pairs} training pairs, {self.validation_pairs} validation pairs.",
            "",
            "Workspace data: " + ", ".join(f"{count} {name}" for name, count in self.data_summary.items()),
            "",
            "## Metrics on the validation pairs (retrieval of the right product)",
            "",
            "| metric | before | after | change |",
            "|---|---|---|---|",
        ]
        for metric in sorted(set(self.metrics_before) | set(self.metrics_after)):
            before, after = self.metrics_before.get(metric), self.metrics_after.get(metric)
            change = ""
            if before and after is not None:
                change = f"{(after - before) / before:+.1%}"
            lines.append(f"| {metric} | {_number(before)} | {_number(after)} | {change} |")
        lines += ["", "## Hyper-parameters", "", "| setting | value |", "|---|---|"]
        for name, value in self.hyperparameters.items():
            lines.append(f"| {name} | {value} |")
        if self.notes:
            lines += ["", "## Notes", ""] + [f"- {note}" for note in self.notes]
        return "\n".join(lines) + "\n"

    def save(self, folder: Path) -> None:
        """Write CARD.md and card.json into `folder` (atomically)."""
        folder.mkdir(parents=True, exist_ok=True)
        write_text_atomic(folder / CARD_MARKDOWN, self.to_markdown())
        write_text_atomic(folder / CARD_JSON, json.dumps(self.to_dict(), indent=2, default=str))


def load_card(folder: Path) -> ModelCard | None:
    """The card saved in a model folder, or None when it has none."""
    path = folder / CARD_JSON
    if not path.exists():
        return None
    return ModelCard.from_dict(json.loads(path.read_text(encoding="utf-8")))


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"
