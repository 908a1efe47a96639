"""kill -9 at many points of analyze, embed + index build and model activation.

Each job runs in the real job worker (a separate process, tracked in the jobs table) and is SIGKILLed
at a kill point (see reliability_support). Afterwards the workspace must open in its last committed
state: the ingested tables unchanged, every derived table either as before or as the finished job
leaves it (never a mix of half a write), no torn index or manifest loaded, and the job shown as failed.
Then the same job, run again, must give exactly what an uninterrupted run gives: nothing was lost.

The default run kills each job at one or two chosen points; `-m slow` kills at every point.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from reliability_data import catalog_csv, reviews_csv, source
from reliability_support import (
    BASE_TABLES,
    KillOutcome,
    base_state,
    copy_workspace,
    run_killable,
    sample_points,
    table_rows,
)

from recengine.workspace import Workspace

pytestmark = pytest.mark.usefixtures("job_env")

ANALYSIS_TABLES = ("review_analysis", "item_keywords", "keyword_summary", "aspect_summary")
SLOW_POINTS = 25  # kill points per job in the slow loop (all of them when a job has fewer)


# -- scenarios -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """A prepared workspace, the job to kill, and how to read and check its state."""

    job: dict[str, Any]
    derived: Callable[[Workspace], dict[str, Any]]  # the state the job changes
    rerun: Callable[[Workspace], None]  # the job again, in this process
    check_after_kill: Callable[[Workspace, KillOutcome, dict[str, Any], dict[str, Any]], None]
    # False where a second run cannot end in the same state (a fine-tune trains a new version; an
    # ingest records a new batch): then the check after the kill is the whole test.
    compare_rerun: bool = True
    changes_ingested_data: bool = False  # an ingest job: its own check says what may have changed


def _analysis_state(workspace: Workspace) -> dict[str, Any]:
    return {
        table: table_rows(workspace, table, drop=("analyzed_at", "updated_at")) for table in ANALYSIS_TABLES
    }


def prepare_analyze(root: Path) -> Scenario:
    """Reviews analysed once; then new reviews and changed texts arrive (the job analyses those)."""
    workspace = Workspace.open(root)
    workspace.ingest([source("catalog", "catalog.csv", catalog_csv(60)), source("reviews", "r1.csv", reviews_csv(240))])
    workspace.analyze_reviews()
    changed = reviews_csv(40, start=0).replace(b"battery life", b"battery LIFE")
    workspace.ingest([source("reviews", "r2.csv", reviews_csv(200, start=240)), source("reviews", "r3.csv", changed)])

    def check(after: Workspace, outcome: KillOutcome, before: dict[str, Any], reference: dict[str, Any]) -> None:
        state = _analysis_state(after)
        # Results of one review are written in one transaction: each row is the old or the new one.
        rows = set(state["review_analysis"])
        assert rows <= set(before["review_analysis"]) | set(reference["review_analysis"]), outcome.killed_at
        # The three summary tables are replaced together, in one transaction.
        summaries = tuple(state[table] for table in ANALYSIS_TABLES[1:])
        assert summaries in (
            tuple(before[table] for table in ANALYSIS_TABLES[1:]),
            tuple(reference[table] for table in ANALYSIS_TABLES[1:]),
        ), outcome.killed_at

    return Scenario({"job": "analyze"}, _analysis_state, lambda ws: (ws.analyze_reviews(), None)[1], check)


def _index_state(workspace: Workspace) -> dict[str, Any]:
    from recengine.embed.pipeline import saved_item_index

    index = saved_item_index(workspace)
    if index is None:
        return {"index": None}
    ids = sorted(index.item_ids)
    return {"index": dict(zip(ids, np.round(index.vectors(ids), 5).tolist(), strict=True))}


def prepare_embed(root: Path) -> Scenario:
    """Catalog embedded and indexed; then 12 new products and 6 renamed ones (an index update)."""
    workspace = Workspace.open(root)
    workspace.ingest([source("catalog", "catalog.csv", catalog_csv(60))])
    from recengine.embed.pipeline import embed_workspace

    embed_workspace(workspace)
    renamed = catalog_csv(6, start=0, edition=" (2025 edition)")
    workspace.ingest([source("catalog", "more.csv", catalog_csv(12, start=60)), source("catalog", "renamed.csv", renamed)])

    def check(after: Workspace, outcome: KillOutcome, before: dict[str, Any], reference: dict[str, Any]) -> None:
        # A saved index is only ever loaded whole and verified: the old one or the new one, or none
        # (a sidecar that no longer matches its index file is refused, and the index is rebuilt).
        state = _index_state(after)
        assert state["index"] in (before["index"], reference["index"], None), outcome.killed_at
        # Every vector in the embedding cache is right (a part file is complete or absent).
        from recengine.embed.pipeline import item_vectors

        vectors = item_vectors(after)
        expected = reference["vectors"]
        got = dict(zip(vectors.item_ids, np.round(vectors.vectors, 5).tolist(), strict=True))
        assert got == expected, outcome.killed_at

    def derived(workspace: Workspace) -> dict[str, Any]:
        return _index_state(workspace)

    def rerun(workspace: Workspace) -> None:
        embed_workspace(workspace)

    scenario = Scenario({"job": "embed"}, derived, rerun, check)
    return scenario


def _registry_state(workspace: Workspace) -> dict[str, Any]:
    from recengine.train import registry

    state = registry.load_registry(workspace)
    # (data_version is a cache counter that every activation bumps, not state to compare.)
    return {"active": state.active, "versions": [version.version_id for version in state.versions]}


def prepare_activate(root: Path) -> Scenario:
    """A registered (not active) encoder version; the job activates it (without re-embedding)."""
    from safetensors.numpy import save_file

    from recengine.train import registry
    from recengine.train.card import ModelCard

    workspace = Workspace.open(root)
    workspace.ingest([source("catalog", "catalog.csv", catalog_csv(10))])
    folder = registry.staging_dir(workspace, "prepared")
    save_file({"weight": np.ones((2, 2), dtype=np.float32)}, str(folder / "model.safetensors"))
    card = ModelCard(base_model="fake")
    card.start()
    version_id = registry.register_version(workspace, folder, card).version_id

    def check(after: Workspace, outcome: KillOutcome, before: dict[str, Any], reference: dict[str, Any]) -> None:
        state = _registry_state(after)  # the manifest parses: it was replaced whole or not at all
        assert state["versions"] == before["versions"] == reference["versions"]
        assert state["active"] in (before["active"], reference["active"]), outcome.killed_at
        replaced = any(line == "after-replace: registry.json" for line in outcome.trace)
        assert state["active"] == (reference["active"] if replaced else before["active"]), outcome.killed_at
        # The active version is usable: its weights verify against the manifest.
        registry.verify_version(after, registry.load_registry(after).active_version)

    def rerun(workspace: Workspace) -> None:
        registry.activate(workspace, version_id, reembed=False)

    return Scenario({"job": "activate", "version": version_id, "reembed": False}, _registry_state, rerun, check)


def _ingest_state(workspace: Workspace) -> dict[str, Any]:
    volatile = ("updated_at", "started_at", "finished_at", "created_at", "first_seen", "last_seen")
    return {table: table_rows(workspace, table, drop=volatile) for table in BASE_TABLES}


def prepare_ingest(root: Path) -> Scenario:
    """A shop with products; the job ingests a catalog update, then a reviews file (one transaction each)."""
    workspace = Workspace.open(root)
    workspace.ingest([source("catalog", "catalog.csv", catalog_csv(30))])
    update, reviews = root.parent / "update.csv", root.parent / "reviews.csv"
    update.write_bytes(catalog_csv(10, start=25, edition=" v2"))
    reviews.write_bytes(reviews_csv(800, items=40) + b"x,,,9,bad,,\n")
    files = [("catalog", str(update)), ("reviews", str(reviews))]
    # The state after the first file alone: what a kill between the two files must leave.
    halfway = Workspace.open(copy_workspace(root, root.parent / "halfway"))
    halfway.ingest([source("catalog", "update.csv", update.read_bytes())])
    after_first = _ingest_state(halfway)

    def check(after: Workspace, outcome: KillOutcome, before: dict[str, Any], reference: dict[str, Any]) -> None:
        # Each file is all in or all out: before, after the catalog update, or after both.
        assert _ingest_state(after) in (before, after_first, reference), outcome.killed_at
        # And the workspace takes the interrupted file again (nothing half-stored blocks it).
        after.ingest([source("reviews", "reviews.csv", reviews.read_bytes())])
        assert after.summary().reviews == 800

    def rerun(workspace: Workspace) -> None:
        workspace.ingest([source(kind, Path(path).name, Path(path).read_bytes()) for kind, path in files])

    return Scenario(
        {"job": "ingest", "files": files}, _ingest_state, rerun, check, compare_rerun=False, changes_ingested_data=True
    )


FINETUNE_ARGUMENTS = {
    "objective": "pairs", "epochs": 2, "batch_size": 8, "max_pairs": 120, "holdout": "test_items", "evaluations_per_epoch": 1,
    "early_stopping_patience": 0, "learning_rate": 1e-3, "max_seq_length": 32,
}


def prepare_finetune(root: Path) -> Scenario:
    """The fine-tuning tests' shop and tiny model; the job trains, registers and activates a version."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))
    from train_fixtures import build_tiny_model, fill_workspace

    from recengine.train import registry

    model = root.parent / "tiny-model"
    if not model.exists():
        build_tiny_model(model)
    fill_workspace(Workspace.open(root))

    def check(after: Workspace, outcome: KillOutcome, before: dict[str, Any], reference: dict[str, Any]) -> None:
        state = registry.load_registry(after)  # the manifest parses
        for version in state.versions:
            registry.verify_version(after, version)  # every listed version is whole
        assert len(state.versions) in (1, 2), outcome.killed_at
        assert state.active in [version.version_id for version in state.versions]
        if state.active != "base":  # activated only once registered, and only in the last step
            assert any("registry.json" in line for line in outcome.trace)
        assert not list(registry.registry_dir(after).glob(f"{registry.STAGING_PREFIX}*")), outcome.killed_at
        # The workspace serves with whatever is active (re-embedding on demand if the kill came first).
        from recengine.recommend.workspace_model import fit_workspace

        assert fit_workspace(after).recommend("U0", k=3)

    def derived(workspace: Workspace) -> dict[str, Any]:
        state = registry.load_registry(workspace)
        return {"versions": len(state.versions), "base_active": state.active == "base"}

    def rerun(workspace: Workspace) -> None:
        from recengine.train.arguments import FineTuneArguments
        from recengine.train.finetune import train_and_register

        train_and_register(workspace, FineTuneArguments.from_dict(FINETUNE_ARGUMENTS), activate=True,
                           base_model=str(model))

    job = {"job": "finetune", "arguments": FINETUNE_ARGUMENTS, "base_model": str(model)}
    return Scenario(job, derived, rerun, check, compare_rerun=False)


SCENARIOS: dict[str, Callable[[Path], Scenario]] = {
    "analyze": prepare_analyze,  # the lexicon decides sentiment (fast)
    "analyze-learned": prepare_analyze,  # the learned classifier is trained and re-scores (slow only)
    "embed": prepare_embed,
    "activate": prepare_activate,
    "ingest": prepare_ingest,  # slow only (tests/ingest/test_ingest_kill.py is the default-run case)
    "finetune": prepare_finetune,  # slow only: a worker that imports torch and trains
}

# Default-run kill points: the moments most likely to leave something half-done.
DEFAULT_KILLS: dict[str, list[dict[str, Any]]] = {
    # Analysis rows inserted, not yet committed; then the summary tables replaced, not yet committed.
    "analyze": [{"after": ["writing results", "before-commit"]}],
    # The new FAISS file is in place but its sidecar still describes the old one.
    "embed": [{"after": ["after-replace: items-"]}],
    # The new manifest written to its temporary file, not yet renamed over registry.json.
    "activate": [{"after": ["before-replace: registry.json"]}],
}


# -- the loop ---------------------------------------------------------------------------------------------


def _settings_for(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Read by Workspace.open here and inherited by the job worker.
    minimum = "100" if name == "analyze-learned" else "100000"
    monkeypatch.setenv("RECENGINE_TEXT__MIN_RATED_REVIEWS_FOR_MODEL", minimum)


def _reference(name: str, prepared: Path, tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], Scenario]:
    """(before, reference after an uninterrupted rerun, base tables) from a copy of the prepared folder."""
    scenario = SCENARIOS[name](prepared)
    workspace = Workspace.open(copy_workspace(prepared, tmp_path / "reference"))
    before = scenario.derived(workspace)
    scenario.rerun(workspace)
    reference = scenario.derived(workspace)
    if name == "embed":
        from recengine.embed.pipeline import item_vectors

        vectors = item_vectors(workspace)
        reference["vectors"] = dict(zip(vectors.item_ids, np.round(vectors.vectors, 5).tolist(), strict=True))
    return before, reference, base_state(workspace), scenario


def _kill_and_check(
    name: str, prepared: Path, target: Path, kill: dict[str, Any] | None, context: tuple[Any, ...]
) -> KillOutcome:
    before, reference, base, scenario = context
    workspace = Workspace.open(copy_workspace(prepared, target))
    outcome = run_killable(workspace, scenario.job, kill)
    reopened = Workspace.open(target)
    if kill is not None:
        assert outcome.killed_at is not None, f"{name}: the kill point {kill} was never reached"
        # The interrupted job is shown as failed, saying why.
        assert outcome.status == "failed", (outcome.killed_at, outcome.status)
        assert "crashed or was killed" in (outcome.error or "")
        if not scenario.changes_ingested_data:
            assert base_state(reopened) == base, outcome.killed_at  # ingested data untouched
        scenario.check_after_kill(reopened, outcome, before, {**reference})
    if not scenario.compare_rerun:
        return outcome
    # Nothing was lost: the job run again ends exactly where an uninterrupted run ends.
    scenario.rerun(reopened)
    final = scenario.derived(reopened)
    assert {key: final[key] for key in final} == {key: reference[key] for key in final}, outcome.killed_at
    return outcome


# The default run kills activation and the index build; analyze's chosen point (the one that found
# the lost re-scoring) costs four analysis runs, so it runs with the every-point loop under `slow`.
DEFAULT_RUN = ("activate", "embed")


@pytest.mark.parametrize(
    "name", [pytest.param(name, marks=() if name in DEFAULT_RUN else pytest.mark.slow) for name in sorted(DEFAULT_KILLS)]
)
def test_kill_at_chosen_points_leaves_last_committed_state(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _settings_for(name, monkeypatch)
    prepared = tmp_path / "prepared"
    context = _reference(name, prepared, tmp_path)
    for number, kill in enumerate(DEFAULT_KILLS[name]):
        outcome = _kill_and_check(name, prepared, tmp_path / f"killed-{number}", kill, context)
        assert outcome.killed_at is not None


@pytest.mark.slow
@pytest.mark.timeout(1800)  # 25 worker processes, each starting and working up to its kill point
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_kill_at_every_point_leaves_last_committed_state(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _settings_for(name, monkeypatch)
    prepared = tmp_path / "prepared"
    context = _reference(name, prepared, tmp_path)
    # A run without a kill counts the kill points (and must itself end where the reference ends).
    counted = _kill_and_check(name, prepared, tmp_path / "uninterrupted", None, context)
    total = len(counted.trace)
    assert total > 3
    points = sample_points(total, 8 if name == "finetune" else SLOW_POINTS)
    labels = []
    for point in points:
        outcome = _kill_and_check(name, prepared, tmp_path / f"killed-{point}", {"nth": point}, context)
        labels.append(outcome.killed_at)
    # The chosen points too (for the learned analysis: the one that once lost the re-scoring).
    for number, kill in enumerate(DEFAULT_KILLS.get(name.removesuffix("-learned"), [])):
        labels.append(_kill_and_check(name, prepared, tmp_path / f"chosen-{number}", kill, context).killed_at)
    print(f"{name}: {len(labels)} kills ({len(points)} of {total} points + chosen ones): {labels}")
