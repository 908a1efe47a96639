"""Helpers for the ingestion tests: build sources from frames or bytes in any format."""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable

import pandas as pd
import pytest

from recengine.ingest import IngestSource


def encode_frame(frame: pd.DataFrame, file_format: str) -> bytes:
    """`frame` as the bytes of a csv, tsv, json, jsonl, parquet or xlsx file."""
    if file_format == "csv":
        return frame.to_csv(index=False).encode("utf-8")
    if file_format == "tsv":
        return frame.to_csv(index=False, sep="\t").encode("utf-8")
    if file_format == "json":
        return frame.to_json(orient="records").encode("utf-8")
    if file_format == "jsonl":
        return frame.to_json(orient="records", lines=True).encode("utf-8")
    buffer = io.BytesIO()
    if file_format == "parquet":
        frame.to_parquet(buffer, index=False)
    elif file_format == "xlsx":
        frame.to_excel(buffer, index=False)
    else:  # pragma: no cover - test misuse
        raise ValueError(file_format)
    return buffer.getvalue()


@pytest.fixture
def source_of() -> Callable[..., IngestSource]:
    """Build an IngestSource from a frame (any format, optionally gzip) or from raw bytes/text."""

    def build(
        kind: str,
        content: pd.DataFrame | bytes | str,
        *,
        file_format: str = "csv",
        gz: bool = False,
        name: str | None = None,
        **options: object,
    ) -> IngestSource:
        if isinstance(content, pd.DataFrame):
            data = encode_frame(content, file_format)
        elif isinstance(content, str):
            data = content.encode("utf-8")
        else:
            data = content
        if gz:
            data = gzip.compress(data)
        file_name = name or f"{kind}.{file_format}{'.gz' if gz else ''}"
        return IngestSource(kind, file_name, data, **options)  # type: ignore[arg-type]

    return build
