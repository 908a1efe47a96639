"""The Workspace facade: the one object that pages, the CLI and tests talk to.

A workspace is a folder holding everything of one data set:

    workspace.duckdb   items, users, reviews, interactions, ingest batches, rejected rows, results
    config.toml        settings of this workspace (optional)
    embeddings/        content-addressed embedding cache, one Parquet file per model
    indexes/           FAISS indexes tagged with the model that made them
    models/            model registry (fine-tuned versions)
    jobs/              logs of background jobs
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from pydantic import ValidationError

from recengine.config import Settings, read_config_file, toml_text
from recengine.errors import ConfigError, NotFoundError, WorkspaceError
from recengine.store import Store, remove_stale_temporaries
from recengine.store.files import write_text_atomic

if TYPE_CHECKING:
    from recengine.embed import ItemVectors
    from recengine.index import ItemIndex
    from recengine.ingest import IngestReport, IngestSource
    from recengine.progress import Progress
    from recengine.text import AnalysisReport

DATABASE_FILE = "workspace.duckdb"
CONFIG_FILE = "config.toml"
EXPORTABLE_TABLES = ("items", "reviews", "interactions", "rejects", "users")


@dataclass(frozen=True)
class WorkspaceSummary:
    """What is in a workspace, for the home page and `recengine status`."""

    root: str
    items: int
    placeholder_items: int
    users: int
    reviews: int
    rated_reviews: int
    average_rating: float | None
    interactions: int
    rejected_rows: int
    ingest_batches: int
    last_ingest: datetime | None
    is_demo: bool


class Workspace:
    """One data set on disk. Cheap to construct; opens its database only when used."""

    def __init__(self, root: Path | str, settings: Settings | None = None) -> None:
        self.root = Path(root)
        self.settings = settings or Settings.load(self.root / CONFIG_FILE)
        self.store = Store(self.root / DATABASE_FILE)

    @classmethod
    def open(cls, root: Path | str, *, create: bool = True) -> Workspace:
        """Open the workspace at `root`, creating the folder and tables when `create` is set."""
        root = Path(root)
        if not (root / DATABASE_FILE).exists():
            if not create:
                raise WorkspaceError(
                    f"No workspace at {root}.",
                    hint="Create one with `recengine demo --workspace DIR` or ingest files into it.",
                )
            root.mkdir(parents=True, exist_ok=True)
        workspace = cls(root)
        workspace.store.initialise()
        remove_stale_temporaries(root)  # what writes killed mid-way left behind; never read, only space
        return workspace

    # -- folders -------------------------------------------------------------------------------

    def subdir(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    # -- tables ----------------------------------------------------------------------------------

    def items(self) -> pd.DataFrame:
        return self.store.query_df("SELECT * FROM items ORDER BY item_id")

    def reviews(self) -> pd.DataFrame:
        return self.store.query_df("SELECT * FROM reviews ORDER BY timestamp NULLS LAST, review_id")

    def interactions(self) -> pd.DataFrame:
        return self.store.query_df(
            "SELECT * FROM interactions ORDER BY timestamp NULLS LAST, interaction_id"
        )

    def users(self) -> pd.DataFrame:
        return self.store.query_df("SELECT * FROM users ORDER BY user_id")

    def rejects(self) -> pd.DataFrame:
        return self.store.query_df("SELECT * FROM rejects ORDER BY batch_id, row_number")

    def item(self, item_id: str) -> dict[str, object]:
        frame = self.store.query_df("SELECT * FROM items WHERE item_id = ?", [item_id])
        if frame.empty:
            raise NotFoundError(f"No product with id {item_id!r} in this workspace.")
        return frame.iloc[0].to_dict()

    def is_demo(self) -> bool:
        return self.store.get_meta("demo") == "true"

    def summary(self) -> WorkspaceSummary:
        with self.store.connect() as connection:

            def one(sql: str) -> object:
                row = connection.execute(sql).fetchone()
                return row[0] if row else None

            average = one("SELECT avg(rating) FROM reviews")
            return WorkspaceSummary(
                root=str(self.root),
                items=int(one("SELECT count(*) FROM items") or 0),
                placeholder_items=int(one("SELECT count(*) FROM items WHERE is_placeholder") or 0),
                users=int(one("SELECT count(*) FROM users") or 0),
                reviews=int(one("SELECT count(*) FROM reviews") or 0),
                rated_reviews=int(one("SELECT count(rating) FROM reviews") or 0),
                average_rating=float(average) if average is not None else None,
                interactions=int(one("SELECT count(*) FROM interactions") or 0),
                rejected_rows=int(one("SELECT count(*) FROM rejects") or 0),
                ingest_batches=int(one("SELECT count(*) FROM ingest_batches") or 0),
                last_ingest=one("SELECT max(finished_at) FROM ingest_batches"),  # type: ignore[arg-type]
                is_demo=one("SELECT value FROM meta WHERE key = 'demo'") == "true",
            )

    # -- capabilities ----------------------------------------------------------------------------

    def ingest(
        self, sources: list[IngestSource], *, progress: Progress | None = None
    ) -> IngestReport:
        """Validate and store uploaded files; see `recengine.ingest.ingest_files`."""
        from recengine.ingest import ingest_files

        return ingest_files(self, sources, progress=progress)

    def export_table(self, table: str, out: Path) -> int:
        """Write a table to `out` (.csv, .jsonl, .parquet or .xlsx by extension); return rows written."""
        from recengine.exporting import export_table

        return export_table(self, table, out)

    def item_vectors(self, progress: Progress | None = None) -> ItemVectors:
        """Embeddings of every item with the active model; see `recengine.embed.item_vectors`."""
        from recengine.embed import item_vectors

        return item_vectors(self, progress)

    def item_index(self, progress: Progress | None = None) -> ItemIndex:
        """The FAISS index of the item embeddings, rebuilt when stale; see `recengine.embed.item_index`."""
        from recengine.embed import item_index

        return item_index(self, progress)

    def analyze_reviews(self, progress: Progress | None = None, *, force: bool = False) -> AnalysisReport:
        """Keywords, aspects and sentiment of new or changed reviews; see `recengine.text.analyze_reviews`."""
        from recengine.text import analyze_reviews

        return analyze_reviews(self, progress, force=force)

    def active_model(self) -> str:
        """The encoder to embed with: the active registry version's folder, else `settings.embed.model`."""
        from recengine.train.registry import active_model_setting

        return active_model_setting(self)

    # The settings every capability reads, with `embed.model` pointing at the active encoder version, so
    # embeddings, caches (keyed by model fingerprint), indexes and text models follow an activation or a
    # rollback without each of them asking the registry. `__init__`'s assignment goes through the setter.
    @property
    def settings(self) -> Settings:
        import logging

        from recengine.errors import RecEngineError
        from recengine.train.registry import active_model_setting

        configured: Settings = self.__dict__["_configured_settings"]
        try:
            model = active_model_setting(self)
        except RecEngineError as error:
            # A broken or tampered active version is never loaded; embed with the configured model.
            logging.getLogger(__name__).error("active encoder version unusable, using the configured model: %s", error)
            return configured
        if model == configured.embed.model:
            return configured
        cached = self.__dict__.get("_active_settings")
        if cached is None or cached[0] != model or cached[1] is not configured:
            embed = configured.embed.model_copy(update={"model": model})
            cached = (model, configured, configured.model_copy(update={"embed": embed}))
            self.__dict__["_active_settings"] = cached
        return cached[2]

    @settings.setter
    def settings(self, value: Settings) -> None:
        self.__dict__["_configured_settings"] = value

    @property
    def configured_settings(self) -> Settings:
        """The settings as configured (config.toml and environment), before the registry's choice."""
        return self.__dict__["_configured_settings"]

    def save_settings(self, section: str, values: Mapping[str, Any]) -> Path:
        """Write `values` into `section` of this workspace's config.toml and use them from now on.

        Other settings in the file are kept; the values are validated before anything is written and
        the file is replaced atomically, so a crash leaves either the old file or the new one. Returns
        the file's path. (RECENGINE_ environment variables still win over the file.)

        Raises:
            ConfigError: an unknown setting, a value out of range, or an unreadable file.
        """
        path = self.root / CONFIG_FILE
        stored = read_config_file(path)
        stored[section] = {**stored.get(section, {}), **values}
        try:
            settings = Settings(**stored)
        except ValidationError as error:
            raise ConfigError(f"Not saved: {error.errors()[0]['msg']}.") from error
        write_text_atomic(path, toml_text(stored))
        self.settings = settings
        return path
