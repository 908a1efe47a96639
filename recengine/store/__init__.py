"""Workspace storage: the DuckDB database and atomic files beside it."""

from recengine.store.database import Store
from recengine.store.files import (
    atomic_path,
    remove_stale_temporaries,
    sha256_file,
    write_bytes_atomic,
    write_text_atomic,
)

__all__ = ["Store", "atomic_path", "remove_stale_temporaries", "sha256_file", "write_bytes_atomic", "write_text_atomic"]
