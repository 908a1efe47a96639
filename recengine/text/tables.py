"""Tables owned by review analysis, and the files it keeps beside the database."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from recengine.errors import ModelError

if TYPE_CHECKING:
    from recengine.workspace import Workspace

# One row per analysed review. `text_hash` is the hash of the analysed text (title + body), so a
# re-upload that changes only the rating or the date does not trigger re-analysis.
REVIEW_ANALYSIS = """
    CREATE TABLE IF NOT EXISTS review_analysis (
        review_id VARCHAR PRIMARY KEY,
        text_hash VARCHAR NOT NULL,
        sentiment_label VARCHAR,         -- negative, neutral, positive
        sentiment_score DOUBLE,          -- [-1, 1]
        sentiment_method VARCHAR,        -- learned, lexicon
        keywords VARCHAR,                -- JSON list of phrases
        aspects VARCHAR,                 -- JSON list of {"aspect", "sentiment", "quote"}
        analyzed_at TIMESTAMP,
        lexicon_score DOUBLE             -- the lexicon's score, kept so a method switch needs no re-read
    )"""

ITEM_KEYWORDS = """
    CREATE TABLE IF NOT EXISTS item_keywords (
        item_id VARCHAR NOT NULL,
        keyword VARCHAR NOT NULL,
        score DOUBLE,
        rank INTEGER
    )"""

# Distinctive phrases for every scope the Insights page offers (item, brand, category path prefixes, all).
KEYWORD_SUMMARY = """
    CREATE TABLE IF NOT EXISTS keyword_summary (
        scope VARCHAR NOT NULL,
        scope_id VARCHAR NOT NULL,
        keyword VARCHAR NOT NULL,
        score DOUBLE,
        mentions BIGINT,
        rank INTEGER
    )"""

ASPECT_SUMMARY = """
    CREATE TABLE IF NOT EXISTS aspect_summary (
        scope VARCHAR NOT NULL,          -- item, category, brand, all
        scope_id VARCHAR NOT NULL,
        aspect VARCHAR NOT NULL,
        mentions BIGINT,
        avg_sentiment DOUBLE,
        quotes VARCHAR,                  -- JSON list of {"review_id", "text", "sentiment"}
        positive BIGINT,
        negative BIGINT
    )"""

ALL_TABLES = (REVIEW_ANALYSIS, ITEM_KEYWORDS, KEYWORD_SUMMARY, ASPECT_SUMMARY)

STATE_META_KEY = "text.analysis_state"
SUMMARY_VERSION_META_KEY = "text.summary_version"


def ensure_tables(workspace: Workspace) -> None:
    """Create the analysis tables when missing (one short transaction)."""
    with workspace.store.transaction() as connection:
        for ddl in ALL_TABLES:
            connection.execute(ddl)


def analysis_exists(workspace: Workspace) -> bool:
    return workspace.store.table_exists("review_analysis")


def models_dir(workspace: Workspace) -> Path:
    return workspace.root / "models"


def sentiment_model_dir(workspace: Workspace) -> Path:
    return models_dir(workspace) / "sentiment"


def sentiment_encoders_dir(workspace: Workspace) -> Path:
    """Copies of the encoder tuned for sentiment (recengine.text.sentiment_encoder), one folder each."""
    return models_dir(workspace) / "sentiment-encoders"


def prune_sentiment_encoders(workspace: Workspace, keep: str | None) -> None:
    """Delete every tuned encoder but `keep` (the one the saved sentiment model reads), scratch folders a
    killed run left behind, and the cached review vectors of the deleted encoders (nothing reads them)."""
    folder = sentiment_encoders_dir(workspace)
    if not folder.is_dir():
        return
    from recengine.embed.models import folder_fingerprint

    removed: set[str] = set()
    for path in folder.iterdir():
        if path.name == keep:
            continue
        try:
            removed.add(folder_fingerprint(path))  # read before deleting: the cache is named by it
        except ModelError:
            pass  # no weights (a scratch folder of a killed run): nothing was encoded with it
        shutil.rmtree(path, ignore_errors=True)
    if removed:  # none in the common case, on every save of the model: no cache folder to read
        from recengine.embed.cache import remove_model_caches
        from recengine.embed.pipeline import EMBEDDINGS_DIR

        remove_model_caches(workspace.root / EMBEDDINGS_DIR, removed)


def aspect_lexicon_path(workspace: Workspace) -> Path:
    return models_dir(workspace) / "aspects" / "lexicon.json"


def keyword_frequencies_path(workspace: Workspace) -> Path:
    return models_dir(workspace) / "keywords" / "document_frequency.parquet"


def bump_data_version(workspace: Workspace) -> str:
    """Increase the meta `data_version` counter so dashboard caches refresh; returns the new value."""
    with workspace.store.transaction() as connection:
        row = connection.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()
        try:
            current = int(row[0]) if row and row[0] is not None else 0
        except ValueError:
            current = 0
        value = str(current + 1)
        connection.execute(
            "INSERT INTO meta VALUES ('data_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [value],
        )
    return value
