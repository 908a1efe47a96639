"""Build a demo workspace: generate the shop, write its export files, ingest them like an upload.

Going through the real ingester (rather than inserting frames) means the demo exercises the same
path a merchandiser's files take, automatic column mapping included.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
from pathlib import Path

from recengine.demo.files import write_demo_files
from recengine.demo.generate import SIZES, DemoSize, generate_demo
from recengine.errors import ConfigError, WorkspaceError
from recengine.progress import Progress, no_progress, scaled
from recengine.workspace import DATABASE_FILE, Workspace

DEMO_META_KEYS = ("demo", "demo_seed", "demo_size")


def _has_data(workspace: Workspace) -> bool:
    counts = workspace.store.query_rows(
        "SELECT (SELECT count(*) FROM items) + (SELECT count(*) FROM reviews) + (SELECT count(*) FROM interactions)"
    )
    return bool(counts and counts[0][0])


def _clear_previous(root: Path, *, force: bool) -> None:
    """Remove an earlier database in `root`, refusing to touch real data unless `force` is set."""
    database = root / DATABASE_FILE
    if not database.exists():
        return
    existing = Workspace(root)
    if _has_data(existing) and not existing.is_demo() and not force:
        summary = existing.summary()
        raise WorkspaceError(
            f"{root} already holds a workspace with data that is not the demo "
            f"({summary.items} products, {summary.reviews} reviews, {summary.interactions} events).",
            hint="Choose another folder with --workspace, or pass --force to replace that data with the demo.",
        )
    # Only the database: the embedding cache is keyed by content and stale indexes are rebuilt.
    for path in (database, database.with_name(database.name + ".wal")):
        path.unlink(missing_ok=True)


def create_demo_workspace(
    path: Path | str,
    *,
    seed: int = 7,
    size: DemoSize | str = "standard",
    progress: Progress | None = None,
    force: bool = False,
    post_ingest: bool = True,
) -> Workspace:
    """Generate the demo shop and ingest it into the workspace at `path`.

    Args:
        path: Workspace folder; created if missing. An earlier demo there is replaced.
        seed: Seed of the generator; the same seed gives the same data.
        size: "standard" or "small" (for tests).
        progress: Called with (fraction, message) as the work advances.
        force: Replace a workspace that holds data other than the demo.
        post_ingest: Run the preparation steps (`recengine.preparation`: review analysis, embeddings,
            learned sentiment, a saved evaluation) after the ingest. False leaves them pending, to run
            as a background job (`submit_preparation`) while the data is already usable.

    Returns:
        The workspace, with meta `demo` = "true".

    Raises:
        WorkspaceError: `path` holds non-demo data and `force` is not set.
        ConfigError: `size` is unknown.
    """
    from recengine.preparation import mark_pending, prepare_workspace

    if size not in SIZES:
        raise ConfigError(f"Unknown demo size {size!r}.", hint=f"Use one of: {', '.join(SIZES)}.")
    report = progress or no_progress
    root = Path(path)
    _clear_previous(root, force=force)
    ingest_end = 0.2 if post_ingest else 0.95

    report(0.0, "Generating the demo shop")
    data = generate_demo(seed=seed, size=size)
    report(ingest_end * 0.6, "Writing the demo export files")
    workspace = Workspace.open(root)
    from recengine.ingest import IngestSource

    with tempfile.TemporaryDirectory(prefix="recengine-demo-") as folder:
        files = write_demo_files(data, folder)
        sources = [
            IngestSource("catalog", files.catalog.name, files.catalog),
            IngestSource("reviews", files.reviews.name, files.reviews),
            IngestSource("interactions", files.interactions.name, files.interactions),
        ]
        workspace.ingest(sources, progress=scaled(progress, ingest_end * 0.65, ingest_end))
    workspace.store.set_meta("demo", "true")
    workspace.store.set_meta("demo_seed", str(seed))
    workspace.store.set_meta("demo_size", str(size))
    # Recorded before anything runs: a run killed from here on is completed by the next preparation.
    mark_pending(workspace)
    if post_ingest:
        prepare_workspace(workspace, scaled(progress, ingest_end, 1.0))
    report(1.0, "Demo workspace ready" if post_ingest else "Demo data ready")
    return workspace


def ensure_demo_workspace(path: Path | str, *, progress: Progress | None = None) -> Workspace:
    """The demo workspace at `path`, created when that folder holds no workspace yet."""
    root = Path(path)
    if (root / DATABASE_FILE).exists():
        return Workspace.open(root)
    return create_demo_workspace(root, progress=progress)


# -- a fast fixture for other tests ---------------------------------------------------------------

_TEMPLATES: dict[tuple[int, bool], Path] = {}
_TEMPLATES_LOCK = threading.Lock()


def small_demo_workspace(path: Path | str, *, seed: int = 7, post_ingest: bool = True) -> Workspace:
    """A small demo workspace at `path` (120 products, 200 users, ~1,500 reviews), for tests.

    The first call in a process builds it once in a temporary folder; later calls copy that folder,
    so each test gets its own writable workspace in milliseconds.

    Args:
        path: Folder to create; must not hold a workspace yet.
        seed: Generator seed.
        post_ingest: Include the preparation steps (analysis, embeddings, sentiment, evaluation) in the
            template; False leaves them pending, as `recengine demo --background` does before its job runs.
    """
    target = Path(path)
    if (target / DATABASE_FILE).exists():
        raise WorkspaceError(f"{target} already holds a workspace.", hint="Pass an empty folder.")
    key = (seed, post_ingest)
    with _TEMPLATES_LOCK:
        template = _TEMPLATES.get(key)
        if template is None or not (template / DATABASE_FILE).exists():
            holder = Path(tempfile.mkdtemp(prefix="recengine-small-demo-"))
            atexit.register(shutil.rmtree, holder, True)
            template = holder / "workspace"
            create_demo_workspace(template, seed=seed, size="small", post_ingest=post_ingest)
            _TEMPLATES[key] = template
    shutil.copytree(template, target, dirs_exist_ok=True)
    return Workspace.open(target)
