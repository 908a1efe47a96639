"""Connecting to Ray, sizing actor pools, and carrying progress from workers back to the caller.

Ray is an optional extra: `import_ray` is the one place that imports it and turns its absence into a
one-line `ConfigError` (the CLI prints it and exits with status 2).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from recengine.errors import ConfigError
from recengine.progress import Progress, no_progress

log = logging.getLogger(__name__)
T = TypeVar("T")
INSTALL_HINT = "install recengine[ray] (pip install 'recengine[ray]')"
POLL_S = 0.5


def import_ray() -> Any:
    """The `ray` module with Ray Data loaded.

    Raises:
        ConfigError: Ray is not installed.
    """
    try:
        import ray
        import ray.data  # noqa: F401 - Data is the part we use; fail here, not mid-pipeline
    except ImportError as error:
        raise ConfigError(f"--engine ray needs Ray, which is not installed: {INSTALL_HINT}.") from error
    return ray


@dataclass(frozen=True)
class ClusterInfo:
    """What the connected cluster offers."""

    address: str
    cpus: float
    gpus: float
    nodes: int


def connect(address: str | None = None, *, num_cpus: int | None = None) -> ClusterInfo:
    """Join the Ray cluster at `address` (None: start a local one), or reuse the connection made before.

    Args:
        address: "auto", "ray://host:10001", "host:6379", or None for a local cluster in this machine.
        num_cpus: CPUs of a local cluster (ignored when joining an existing one).
    """
    ray = import_ray()
    if not ray.is_initialized():
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                   "configure_logging": True, "logging_level": logging.WARNING}
        if address:
            ray.init(address=address, **options)
        else:
            ray.init(num_cpus=num_cpus, **options)
        # Ray Data draws its own progress bars on stderr; ours is one line, and a job has no terminal.
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
    resources = ray.cluster_resources()
    return ClusterInfo(
        address=address or "local",
        cpus=float(resources.get("CPU", 0)),
        gpus=float(resources.get("GPU", 0)),
        nodes=len([node for node in ray.nodes() if node.get("Alive")]),
    )


def actor_options(info: ClusterInfo, workers: int | None, *, want_gpu: bool) -> tuple[int, dict[str, Any]]:
    """(actor count, resources per actor): one GPU each when the cluster has GPUs and the work uses them.

    On CPUs one logical CPU stays free for Ray Data's read and write tasks: a pool holding every CPU
    leaves them unscheduled and the pipeline waits forever (seen with 2 actors on a 2-CPU cluster).
    """
    if want_gpu and info.gpus >= 1:
        count = workers or int(info.gpus)
        return max(1, min(count, int(info.gpus))), {"num_gpus": 1, "num_cpus": 1}
    spare = max(info.cpus - 1, 0.5)
    count = max(1, workers or int(spare))
    return count, {"num_cpus": min(1.0, spare / count)}


def actor_pool(ray: Any, size: int) -> Any:
    """A fixed pool of `size` actors (Ray Data's `compute=` argument)."""
    return ray.data.ActorPoolStrategy(size=size)


def _counter_class(ray: Any) -> Any:
    @ray.remote(num_cpus=0)
    class ProgressCounter:
        """Rows finished by all workers; the driver polls it (workers only ever add)."""

        def __init__(self) -> None:
            self.done = 0

        def add(self, rows: int) -> None:
            self.done += int(rows)

        def value(self) -> int:
            return self.done

    return ProgressCounter


def start_counter() -> Any:
    """An actor that workers report finished rows to (`counter.add.remote(n)`)."""
    ray = import_ray()
    return _counter_class(ray).remote()


def run_with_progress(
    work: Callable[[], T], counter: Any, total: int, progress: Progress | None, message: str
) -> T:
    """Run `work()` (a blocking Ray Data call) while reporting the counter's rows as progress."""
    ray = import_ray()
    report = progress or no_progress
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["value"] = work()
        except BaseException as error:  # re-raised in the caller's thread
            result["error"] = error

    thread = threading.Thread(target=target, name="ray-pipeline", daemon=True)
    thread.start()
    report(0.0, f"{message}: 0 of {total:,}")
    while thread.is_alive():
        thread.join(POLL_S)
        try:
            done = int(ray.get(counter.value.remote(), timeout=5))
        except Exception:  # noqa: BLE001 - a slow poll must not fail the pipeline
            continue
        if thread.is_alive():
            report(min(done / max(total, 1), 0.999), f"{message}: {done:,} of {total:,}")
    if "error" in result:
        raise result["error"]
    report(1.0, f"{message}: {total:,} of {total:,}")
    return result["value"]  # type: ignore[no-any-return]


def stopwatch() -> Callable[[], float]:
    started = time.perf_counter()
    return lambda: round(time.perf_counter() - started, 4)
