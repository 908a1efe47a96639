"""The Ray engine gives the in-process results on a small demo workspace (one local Ray for the module).

Two copies of the same generated shop: copy A goes through the local engine, copy B through Ray, and
the vectors, the review analysis and the exported recommendations are compared.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("ray")

from recengine.cli import main  # noqa: E402
from recengine.demo.workspace import create_demo_workspace  # noqa: E402
from recengine.workspace import Workspace  # noqa: E402


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[object]:
    import ray

    from recengine.distributed.cluster import connect

    yield connect(num_cpus=2)
    ray.shutdown()


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory, ray_cluster: object) -> Iterator[tuple[Workspace, Workspace]]:
    """(local, ray) copies of the small demo, both embedded (items and reviews) by their engine."""
    from recengine.distributed.embed import embed_with_ray
    from recengine.embed import embed_workspace

    root = tmp_path_factory.mktemp("distributed")
    with pytest.MonkeyPatch.context() as patch:
        # Module fixtures run before the suite's autouse fake-model fixture; ask for it here too.
        patch.setenv("RECENGINE_EMBED__MODEL", "fake")
        patch.setenv("RECENGINE_EMBED__DEVICE", "cpu")
        local = create_demo_workspace(root / "local", size="small", post_ingest=False)
        shutil.copytree(local.root, root / "ray")
        distributed = Workspace.open(root / "ray")
        embed_workspace(local, reviews=True)
        seen: list[tuple[float, str]] = []
        report = embed_with_ray(distributed, reviews=True, workers=2, progress=lambda f, m: seen.append((f, m)))
        assert report.runs[0].actors == 2
        assert sum(run.encoded for run in report.runs) > 0
        # The cluster's rows reach the caller's progress (the CLI's stderr line, a job's events).
        assert any(message.startswith("encoding items and reviews") for _, message in seen)
        assert seen[-1][0] == 1.0
        yield local, distributed


def test_embed_on_ray_gives_the_local_vectors(pair: tuple[Workspace, Workspace]) -> None:
    from recengine.embed import item_vectors, last_runs, review_vectors

    local, distributed = pair
    for read in (item_vectors, review_vectors):
        expected, got = read(local), read(distributed)
        ids = getattr(expected, "item_ids", None) or expected.review_ids  # type: ignore[attr-defined]
        assert ids == (getattr(got, "item_ids", None) or got.review_ids)  # type: ignore[attr-defined]
        assert got.vectors.shape == expected.vectors.shape and len(got.vectors) > 100
        np.testing.assert_allclose(got.vectors, expected.vectors, atol=1e-6)
    # The in-process pass after the cluster found every text cached and built the index.
    runs = last_runs(distributed)
    assert runs["items"].encoded == 0  # type: ignore[union-attr]
    assert runs["index"].size == len(item_vectors(local).item_ids)  # type: ignore[union-attr]


def _analysis(workspace: Workspace) -> pd.DataFrame:
    return workspace.store.query_df(
        "SELECT review_id, text_hash, sentiment_label, sentiment_score, sentiment_method, keywords, aspects, "
        "lexicon_score FROM review_analysis ORDER BY review_id"
    )


def test_analyze_on_ray_writes_the_local_analysis(pair: tuple[Workspace, Workspace]) -> None:
    from recengine.distributed.analyze import analyze_with_ray
    from recengine.text import analyze_reviews

    local, distributed = pair
    expected_report = analyze_reviews(local)
    got = analyze_with_ray(distributed)
    assert got.distributed_reviews == expected_report.analyzed > 1000
    assert got.report.sentiment_method == expected_report.sentiment_method
    assert got.report.aspects == expected_report.aspects
    expected, actual = _analysis(local), _analysis(distributed)
    assert len(actual) == len(expected)
    assert actual["keywords"].map(json.loads).map(len).sum() > 0  # not trivially equal
    pd.testing.assert_frame_equal(actual, expected, check_exact=False, atol=1e-9)
    for table in ("item_keywords", "aspect_summary"):
        order = "item_id, rank" if table == "item_keywords" else "scope, scope_id, aspect"
        pd.testing.assert_frame_equal(
            distributed.store.query_df(f"SELECT * FROM {table} ORDER BY {order}"),
            local.store.query_df(f"SELECT * FROM {table} ORDER BY {order}"),
        )


def test_recommend_export_on_ray_writes_the_local_file(pair: tuple[Workspace, Workspace], tmp_path: Path) -> None:
    local, _distributed = pair
    users = local.store.query_rows("SELECT user_id FROM users ORDER BY user_id")
    ids = [row[0] for row in users][::2][:80] + ["nobody-at-all"]  # an unknown id gets the cold-start list
    users_file = tmp_path / "users.txt"
    users_file.write_text("\n".join(ids) + "\n", encoding="utf-8")
    outputs = {}
    for engine in ("local", "ray"):
        out = tmp_path / f"{engine}.jsonl"
        arguments = ["recommend", "--workspace", str(local.root), "--users-file", str(users_file), "-k", "5",
                     "--format", "jsonl", "--out", str(out), "--engine", engine, "--workers", "1"]
        assert main(arguments) == 0
        outputs[engine] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["user_id"] for line in outputs["ray"]] == ids
    assert sum(len(line["recommendations"]) for line in outputs["ray"]) > 4 * len(ids)
    assert outputs["ray"] == outputs["local"]


def test_ray_embed_job_kind_reports_progress_to_the_job(pair: tuple[Workspace, Workspace]) -> None:
    from recengine.distributed.jobs import ray_embed

    class Context:
        def __init__(self) -> None:
            self.progressed: list[float] = []
            self.logged: list[str] = []

        def progress(self, fraction: float, message: str) -> None:
            self.progressed.append(fraction)

        def log(self, message: str) -> None:
            self.logged.append(message)

    _local, distributed = pair
    context = Context()
    result = ray_embed(distributed, {"reviews": True}, context)  # type: ignore[arg-type]
    assert [run["encoded"] for run in result["runs"]] == [0, 0]  # all cached by the fixture's run
    assert result["index"]["action"] == "unchanged"
    assert context.progressed[-1] == 1.0 and len(context.logged) == 2


def test_cli_embed_and_analyze_on_ray_when_nothing_changed(
    pair: tuple[Workspace, Workspace], capsys: pytest.CaptureFixture[str]
) -> None:
    local, distributed = pair
    if not distributed.store.table_exists("review_analysis"):
        from recengine.distributed.analyze import analyze_with_ray

        analyze_with_ray(distributed)
    before = _analysis(distributed)
    assert main(["embed", "--workspace", str(distributed.root), "--reviews", "--engine", "ray", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [run["encoded"] for run in report["ray"]] == [0, 0] and report["index"]["action"] == "unchanged"
    assert main(["analyze", "--workspace", str(distributed.root), "--engine", "ray", "--format", "json"]) == 0
    analysis = json.loads(capsys.readouterr().out)
    assert analysis["analyzed"] == 0 and analysis["unchanged"] == len(before)
    pd.testing.assert_frame_equal(_analysis(distributed), before)
