"""Evaluation results saved in the workspace, so results can be compared across days and changes.

Table `experiments` (owned by this module): one row per saved evaluation with its configuration, the
fingerprint of the model that embedded the items, a snapshot of the data (data_version and counts)
and the full result as JSON.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from recengine.errors import NotFoundError
from recengine.evaluate.runner import EvaluationResult

if TYPE_CHECKING:
    from recengine.workspace import Workspace

EXPERIMENTS_DDL = """
    CREATE TABLE IF NOT EXISTS experiments (
        experiment_id VARCHAR PRIMARY KEY,
        created_at TIMESTAMP NOT NULL,
        name VARCHAR,
        config VARCHAR,              -- JSON: split, K, methods, seed, recommend settings
        model_fingerprint VARCHAR,   -- encoder that produced the item vectors, NULL without vectors
        data_snapshot VARCHAR,       -- JSON: data_version and counts of the data evaluated
        metrics VARCHAR              -- JSON: the whole EvaluationResult
    )"""


@dataclass(frozen=True)
class Experiment:
    """A saved evaluation."""

    experiment_id: str
    created_at: datetime
    name: str
    config: dict[str, Any]
    model_fingerprint: str | None
    data_snapshot: dict[str, Any]
    result: EvaluationResult


@dataclass(frozen=True)
class MetricChange:
    """One method's metric in two experiments."""

    method: str
    metric: str
    before: float
    after: float

    @property
    def change(self) -> float:
        return self.after - self.before


@dataclass(frozen=True)
class ExperimentComparison:
    """Two experiments side by side: every metric both have, and what differs in their setup."""

    before: Experiment
    after: Experiment
    changes: tuple[MetricChange, ...]
    config_differences: dict[str, tuple[Any, Any]]

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {"method": c.method, "metric": c.metric, "before": c.before, "after": c.after, "change": c.change}
                for c in self.changes
            ],
            columns=["method", "metric", "before", "after", "change"],
        )

    def summary(self, metric: str = "hit_rate") -> str:
        """A plain-language sentence: how the reference method's metric moved between the two.

        Not a significance test: two saved runs may cover different customers (new data), so their
        per-customer results cannot be paired; each run's own verdict carries its paired tests.
        """
        change = None
        for reference in (self.after.result.reference, self.before.result.reference):
            change = next((c for c in self.changes if c.method == reference and c.metric == metric), None)
            if change is not None:
                break
        if change is None:
            return "The two experiments share no result of the recommender to compare."
        k = self.after.result.k
        label = {"hit_rate": f"found the next product in the top {k} for", "ndcg": f"had an NDCG@{k} of"}.get(
            metric, f"scored {metric}"
        )
        as_share = metric in ("hit_rate", "recall", "precision")

        def value(number: float) -> str:
            return f"{number:.0%}" if as_share else f"{number:.4f}"

        if abs(change.change) < 1e-12:
            movement = "unchanged"
        else:
            relative = f" ({change.change / change.before:+.0%})" if change.before else ""
            movement = ("up" if change.change > 0 else "down") + relative
        customers = "" if not as_share else " of customers"
        text = (
            f"{reference} {label} {value(change.before)}{customers} in '{self.before.name}' and "
            f"{value(change.after)}{customers} in '{self.after.name}': {movement}."
        )
        if self.before.result.users != self.after.result.users:
            text += (
                f" The runs tested {self.before.result.users:,} and {self.after.result.users:,} customers, "
                "so part of the change can come from the data."
            )
        return text


def _ensure(workspace: Workspace) -> None:
    workspace.store.ensure_table(EXPERIMENTS_DDL)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (datetime, pd.Timestamp)):
        return value.isoformat()
    return str(value)


def save_experiment(workspace: Workspace, result: EvaluationResult, *, name: str = "") -> Experiment:
    """Store `result` in the workspace and return the saved experiment."""
    _ensure(workspace)
    experiment_id = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
    created_at = datetime.now(UTC).replace(tzinfo=None)
    snapshot = dict(result.config.get("data") or {})
    if snapshot.get("data_version") is None:
        snapshot["data_version"] = workspace.store.get_meta("data_version")
    fingerprint = snapshot.get("item_vectors")
    config = {key: value for key, value in result.config.items() if key != "data"}
    name = name or f"{result.dataset}, {len(result.methods)} methods, K={result.k}"
    with workspace.store.transaction() as connection:
        connection.execute(
            "INSERT INTO experiments VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                experiment_id,
                created_at,
                name,
                json.dumps(config, default=_json_default),
                fingerprint,
                json.dumps(snapshot, default=_json_default),
                json.dumps(result.to_dict(), default=_json_default),
            ],
        )
    return load_experiment(workspace, experiment_id)


def list_experiments(workspace: Workspace) -> pd.DataFrame:
    """Saved experiments, newest first, with the reference method's headline metrics."""
    _ensure(workspace)
    frame = workspace.store.query_df(
        "SELECT experiment_id, created_at, name, model_fingerprint, data_snapshot, metrics "
        "FROM experiments ORDER BY created_at DESC, experiment_id DESC"
    )
    rows = []
    for record in frame.itertuples(index=False):
        result = json.loads(record.metrics)
        snapshot = json.loads(record.data_snapshot or "{}")
        reference = result.get("reference") or ""
        headline = next((m for m in result["methods"] if m["name"] == reference), None)
        rows.append(
            {
                "experiment_id": record.experiment_id,
                "created_at": record.created_at,
                "name": record.name,
                "methods": len(result["methods"]),
                "users": result["users"],
                "reference": reference,
                f"NDCG@{result['k']}": headline["metrics"]["ndcg"]["mean"] if headline else None,
                f"HitRate@{result['k']}": headline["metrics"]["hit_rate"]["mean"] if headline else None,
                "data_version": snapshot.get("data_version"),
                "model": record.model_fingerprint,
            }
        )
    return pd.DataFrame(rows)


def load_experiment(workspace: Workspace, experiment_id: str) -> Experiment:
    """A saved experiment by id; `NotFoundError` when there is none."""
    _ensure(workspace)
    frame = workspace.store.query_df("SELECT * FROM experiments WHERE experiment_id = ?", [experiment_id])
    if frame.empty:
        raise NotFoundError(
            f"No saved experiment {experiment_id!r} in this workspace.",
            hint="List them with the Evaluation page or `recengine evaluate --list`.",
        )
    row = frame.iloc[0]
    return Experiment(
        experiment_id=str(row["experiment_id"]),
        created_at=pd.Timestamp(row["created_at"]).to_pydatetime(),
        name=str(row["name"] or ""),
        config=json.loads(row["config"] or "{}"),
        model_fingerprint=None if pd.isna(row["model_fingerprint"]) else str(row["model_fingerprint"]),
        data_snapshot=json.loads(row["data_snapshot"] or "{}"),
        result=EvaluationResult.from_dict(json.loads(row["metrics"])),
    )


def compare_experiments(workspace: Workspace, before_id: str, after_id: str) -> ExperimentComparison:
    """Metric by metric, for the methods both experiments evaluated, and the setup that changed."""
    before = load_experiment(workspace, before_id)
    after = load_experiment(workspace, after_id)
    changes = []
    after_methods = {method.name: method for method in after.result.methods}
    for method in before.result.methods:
        other = after_methods.get(method.name)
        if other is None:
            continue
        for metric, estimate in method.metrics.items():
            if metric in other.metrics:
                changes.append(MetricChange(method.name, metric, estimate.mean, other.metrics[metric].mean))
    differences = {}
    flat_before = {**_flatten(before.config), **_flatten({"data": before.data_snapshot})}
    flat_after = {**_flatten(after.config), **_flatten({"data": after.data_snapshot})}
    for key in sorted(set(flat_before) | set(flat_after)):
        if flat_before.get(key) != flat_after.get(key):
            differences[key] = (flat_before.get(key), flat_after.get(key))
    return ExperimentComparison(before, after, tuple(changes), differences)


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, inner in value.items():
            flat.update(_flatten(inner, f"{prefix}{key}."))
        return flat
    return {prefix.rstrip("."): json.dumps(value) if isinstance(value, list) else value}
