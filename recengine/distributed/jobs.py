"""Job kinds that run the Ray pipelines from the dashboard's job system, progress into job events.

Built-in kinds `ray_embed` and `ray_analyze` of `recengine.jobs.kinds` call these; Ray is imported only
when such a job runs.

Params: `address` (Ray cluster; default a local Ray), `workers`, `shards`; `reviews` for ray_embed and
`force` for ray_analyze. The job's `progress` callback receives the pipelines' progress, so the job view
shows the cluster's rows done as they come in.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from recengine.jobs.context import JobContext
    from recengine.workspace import Workspace


def ray_embed(workspace: Workspace, params: dict[str, Any], context: JobContext) -> dict[str, Any]:
    """`embed_with_ray` as a job; returns what the cluster encoded and what the index did."""
    from recengine.distributed.embed import embed_with_ray

    result = embed_with_ray(
        workspace, reviews=bool(params.get("reviews", False)), address=params.get("address"),
        workers=params.get("workers"), shards=params.get("shards"), progress=context.progress,
    )
    for run in result.runs:
        context.log(f"{run.kind}: {run.encoded:,} encoded on {run.actors} actor(s) in {run.seconds:.1f}s")
    return {"cluster": asdict(result.cluster), "runs": [asdict(run) for run in result.runs],
            "index": asdict(result.report.index)}


def ray_analyze(workspace: Workspace, params: dict[str, Any], context: JobContext) -> dict[str, Any]:
    """`analyze_with_ray` as a job; returns the analysis report."""
    from recengine.distributed.analyze import analyze_with_ray

    result = analyze_with_ray(
        workspace, force=bool(params.get("force", False)), address=params.get("address"),
        workers=params.get("workers"), shards=params.get("shards"), progress=context.progress,
    )
    context.log(f"{result.distributed_reviews:,} reviews through the text stages on {result.actors} actor(s)")
    values = asdict(result.report)
    values.pop("stage_seconds", None)
    return {"cluster": asdict(result.cluster), **values}
