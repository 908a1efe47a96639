"""The kinds of job the runner knows, each a function `(workspace, params, context) -> result dict`.

Kinds are resolved by name in the worker process. Extra kinds (tests, plug-ins) can be named in the
environment variable RECENGINE_JOB_KINDS as `name=module:function[,name=module:function]`: only the
environment that starts the worker can add kinds, never the data in a job record.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from recengine.errors import ConfigError, NotReadyError

if TYPE_CHECKING:
    from recengine.jobs.context import JobContext
    from recengine.workspace import Workspace

JobFunction = Callable[["Workspace", dict[str, Any], "JobContext"], dict[str, Any]]
EXTRA_KINDS_VARIABLE = "RECENGINE_JOB_KINDS"

KIND_LABELS = {
    "finetune_encoder": "Fine-tune the encoder",
    "train_sentiment": "Retrain the sentiment model",
    "ray_embed": "Embed on a Ray cluster",
    "ray_analyze": "Analyse reviews on a Ray cluster",
    "prepare_workspace": "Prepare the workspace (review analysis, embeddings, sentiment model, evaluation)",
}


def finetune_encoder(workspace: Workspace, params: dict[str, Any], context: JobContext) -> dict[str, Any]:
    """Train a new encoder version; register it (and activate it when `params["activate"]`)."""
    from recengine.train.arguments import FineTuneArguments
    from recengine.train.finetune import train_and_register

    arguments = FineTuneArguments.from_dict(params.get("arguments"))
    outcome = train_and_register(
        workspace,
        arguments,
        activate=bool(params.get("activate", False)),
        job_id=context.job_id,
        base_model=params.get("base_model"),
        progress=context.progress,
        on_event=context.event,
        should_stop=context.cancelled,
    )
    version = outcome.version
    return {
        "version_id": version.version_id,
        "activated": outcome.activated,
        "metrics_before": version.metrics_before,
        "metrics_after": version.metrics_after,
        "pairs_per_source": version.pairs_per_source,
        "duration_s": version.duration_s,
    }


def train_sentiment(workspace: Workspace, params: dict[str, Any], context: JobContext) -> dict[str, Any]:
    """Retrain the learned sentiment classifier on the star ratings and re-score the reviews.

    params: `encoder_tuning` (optional: never, auto or always) is saved as text.sentiment_encoder_tuning
    first, and `sentiment_prior` (optional: a workspace path, "" for none) as text.sentiment_prior.
    """
    try:
        from recengine import text
    except ImportError as error:
        raise NotReadyError(
            "Sentiment training is not available in this installation (recengine.text is missing)."
        ) from error
    if params.get("encoder_tuning"):
        text.save_encoder_tuning(workspace, str(params["encoder_tuning"]))
        context.log(f"text.sentiment_encoder_tuning = {params['encoder_tuning']} saved in config.toml")
    if "sentiment_prior" in params:
        text.save_sentiment_prior(workspace, str(params["sentiment_prior"] or ""))
        context.log(f"text.sentiment_prior = {params['sentiment_prior'] or '(none)'} saved in config.toml")
    retrain = getattr(text, "retrain_sentiment", None)
    if callable(retrain):
        report = retrain(workspace, progress=context.progress)
    elif callable(getattr(text, "analyze_reviews", None)):
        report = text.analyze_reviews(workspace, progress=context.progress, force=True)
    else:
        raise NotReadyError("Sentiment training is not available yet in recengine.text.")
    from dataclasses import asdict, is_dataclass

    values = asdict(report) if is_dataclass(report) and not isinstance(report, type) else dict(report or {})
    context.log(f"sentiment method: {values.get('sentiment_method')} ({values.get('method_reason', '')})")
    return {key: value for key, value in values.items() if key != "stage_seconds"}


def ray_embed(workspace: Workspace, params: dict[str, Any], context: JobContext) -> dict[str, Any]:
    """Embed what changed on a Ray cluster (needs `recengine[ray]`; see recengine.distributed.jobs)."""
    from recengine.distributed.jobs import ray_embed as run_on_ray

    return run_on_ray(workspace, params, context)


def ray_analyze(workspace: Workspace, params: dict[str, Any], context: JobContext) -> dict[str, Any]:
    """Analyse new reviews on a Ray cluster (needs `recengine[ray]`; see recengine.distributed.jobs)."""
    from recengine.distributed.jobs import ray_analyze as run_on_ray

    return run_on_ray(workspace, params, context)


def prepare_workspace(workspace: Workspace, params: dict[str, Any], context: JobContext) -> dict[str, Any]:
    """Run the workspace's pending preparation steps (see `recengine.preparation`); a cancel stops it
    between steps, and the steps left stay pending for the next run.

    params: `steps` (optional): the step names to run; default the pending ones.
    """
    from recengine.preparation import prepare_workspace as run_steps

    report = run_steps(workspace, context.progress, steps=params.get("steps"), should_stop=context.cancelled)
    for name, seconds in report.seconds.items():
        context.log(f"{name}: {seconds:.1f} s ({report.cpu_seconds.get(name, 0.0):.1f} CPU s)")
    return {"steps": list(report.steps), "seconds": report.seconds, "cpu_seconds": report.cpu_seconds,
            "experiment_id": report.experiment_id, "sentiment_method": report.sentiment_method}


BUILT_IN: dict[str, JobFunction] = {
    "finetune_encoder": finetune_encoder,
    "train_sentiment": train_sentiment,
    "ray_embed": ray_embed,
    "ray_analyze": ray_analyze,
    "prepare_workspace": prepare_workspace,
}


def extra_kinds() -> dict[str, str]:
    specs: dict[str, str] = {}
    for part in os.environ.get(EXTRA_KINDS_VARIABLE, "").split(","):
        if "=" in part:
            name, target = part.split("=", 1)
            specs[name.strip()] = target.strip()
    return specs


def known_kinds() -> list[str]:
    return sorted(set(BUILT_IN) | set(extra_kinds()))


def resolve_kind(kind: str) -> JobFunction:
    """The function of a job kind.

    Raises:
        ConfigError: unknown kind (the message lists the known ones).
    """
    if kind in BUILT_IN:
        return BUILT_IN[kind]
    target = extra_kinds().get(kind)
    if target is None:
        raise ConfigError(f"Unknown job kind {kind!r}.", hint=f"Known kinds: {', '.join(known_kinds())}.")
    module_name, _, function_name = target.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, function_name)  # type: ignore[no-any-return]
