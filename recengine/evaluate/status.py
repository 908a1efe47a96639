"""The "evaluation" section of `recengine status` and the home page: the latest saved experiment."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from recengine.status import register_status_section

if TYPE_CHECKING:
    from recengine.workspace import Workspace


@dataclass(frozen=True)
class EvaluationStatus:
    """How many experiments are saved and what the latest one found."""

    saved_experiments: int
    latest: str  # name and date, or what to run
    latest_verdict: str


def evaluation_status(workspace: Workspace) -> EvaluationStatus:
    """Read only the experiments table (cheap); never runs an evaluation."""
    store = workspace.store
    if not store.table_exists("experiments"):
        return EvaluationStatus(0, "none yet: run `recengine evaluate --save` or the Evaluation page", "")
    count = int(store.scalar("SELECT count(*) FROM experiments") or 0)
    rows = store.query_rows(
        "SELECT name, created_at, metrics FROM experiments ORDER BY created_at DESC, experiment_id DESC LIMIT 1"
    )
    if not rows:
        return EvaluationStatus(0, "none yet: run `recengine evaluate --save` or the Evaluation page", "")
    name, created_at, metrics = rows[0]
    verdict = str(json.loads(metrics).get("verdict") or "") if metrics else ""
    return EvaluationStatus(count, f"{name} ({created_at:%Y-%m-%d %H:%M})", verdict)


register_status_section("evaluation", evaluation_status)
