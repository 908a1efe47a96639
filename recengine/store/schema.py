"""Tables of the workspace database. Column names are the canonical field names of DESIGN.md."""

from __future__ import annotations

SCHEMA_VERSION = 1

# Each table: (name, DDL). Order matters only for readability; there are no foreign keys because an
# ingest must be able to accept reviews of items it has not seen yet (they become placeholders).
TABLES: dict[str, str] = {
    "meta": """
        CREATE TABLE IF NOT EXISTS meta (
            key VARCHAR PRIMARY KEY,
            value VARCHAR
        )""",
    "items": """
        CREATE TABLE IF NOT EXISTS items (
            item_id VARCHAR PRIMARY KEY,
            title VARCHAR,
            description VARCHAR,
            brand VARCHAR,
            category VARCHAR,            -- path, parts joined by ' > '
            price DOUBLE,
            in_stock BOOLEAN,
            image_url VARCHAR,
            attributes VARCHAR,          -- JSON object of the columns we do not map
            is_placeholder BOOLEAN NOT NULL DEFAULT FALSE,
            row_hash VARCHAR NOT NULL,   -- hash of the normalised row: tells updates from duplicates
            batch_id INTEGER,
            updated_at TIMESTAMP
        )""",
    "users": """
        CREATE TABLE IF NOT EXISTS users (
            user_id VARCHAR PRIMARY KEY,
            first_seen TIMESTAMP,
            batch_id INTEGER
        )""",
    "reviews": """
        CREATE TABLE IF NOT EXISTS reviews (
            review_id VARCHAR PRIMARY KEY,
            user_id VARCHAR,             -- NULL for anonymous reviews
            item_id VARCHAR NOT NULL,
            rating DOUBLE,               -- 1..5, NULL when unrated
            title VARCHAR,
            text VARCHAR,                -- verbatim as uploaded
            timestamp TIMESTAMP,
            attributes VARCHAR,
            row_hash VARCHAR NOT NULL,
            batch_id INTEGER,
            updated_at TIMESTAMP
        )""",
    "interactions": """
        CREATE TABLE IF NOT EXISTS interactions (
            interaction_id VARCHAR PRIMARY KEY,
            user_id VARCHAR NOT NULL,
            item_id VARCHAR NOT NULL,
            event VARCHAR NOT NULL,      -- view, click, cart, purchase
            timestamp TIMESTAMP,
            quantity DOUBLE,
            attributes VARCHAR,
            row_hash VARCHAR NOT NULL,
            batch_id INTEGER,
            updated_at TIMESTAMP
        )""",
    "ingest_batches": """
        CREATE TABLE IF NOT EXISTS ingest_batches (
            batch_id INTEGER PRIMARY KEY,
            file_name VARCHAR NOT NULL,
            kind VARCHAR NOT NULL,       -- catalog, reviews, interactions
            started_at TIMESTAMP NOT NULL,
            finished_at TIMESTAMP,
            rows_read BIGINT,
            accepted BIGINT,
            updated BIGINT,
            duplicate BIGINT,
            rejected BIGINT,
            placeholders BIGINT,
            mapping VARCHAR              -- JSON: source column -> field
        )""",
    "rejects": """
        CREATE TABLE IF NOT EXISTS rejects (
            batch_id INTEGER NOT NULL,
            file_name VARCHAR NOT NULL,
            row_number BIGINT NOT NULL,  -- 1-based data row in the file (header not counted)
            column_name VARCHAR,
            reason VARCHAR NOT NULL,
            raw VARCHAR                  -- the row as read, JSON
        )""",
}

TABLE_KEYS: dict[str, str] = {
    "items": "item_id",
    "users": "user_id",
    "reviews": "review_id",
    "interactions": "interaction_id",
}
