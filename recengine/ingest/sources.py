"""Uploaded files as bytes: size limits, gzip (with bomb protection), format and encoding sniffing.

Everything here looks at the content, never trusts the file name alone: shop systems export `.txt` files
that are CSV, and `.json` files that are JSON Lines. A file that cannot be read at all raises
`UploadError` here, before anything is parsed or written.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from recengine.config import IngestSettings
from recengine.errors import UploadError

Kind = Literal["catalog", "reviews", "interactions"]
KINDS: tuple[Kind, ...] = ("catalog", "reviews", "interactions")
FileFormat = Literal["csv", "tsv", "json", "jsonl", "parquet", "excel"]

# Compressed files may expand this much before the ratio limit applies at all: tiny files of repeated
# values compress extremely well and are harmless.
_RATIO_FREE_BYTES = 1 << 20

_BINARY_SIGNATURES: dict[bytes, str] = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"%PDF": "a PDF document",
    b"\x7fELF": "a program",
    b"MZ": "a Windows program",
    b"BZh": "a bzip2 archive",
    b"\xfd7zXZ": "an xz archive",
    b"7z\xbc\xaf": "a 7-Zip archive",
    b"Rar!": "a RAR archive",
    b"SQLite format 3": "an SQLite database",
}


@dataclass(frozen=True)
class IngestSource:
    """One uploaded file and how to read it.

    Args:
        kind: which table the rows go to: "catalog", "reviews" or "interactions".
        name: the file name shown in reports and stored with rejected rows.
        data: the file's bytes, or a path to read them from.
        mapping: source column -> field, overriding the automatic mapping. Header-less files name their
            columns `column_1`, `column_2`, ... Map a column to "attributes" to keep it as an attribute,
            or to "ignore" to drop it.
        has_header: whether a CSV/TSV/Excel file starts with a header row; None detects it.
    """

    kind: Kind
    name: str
    data: bytes | Path = field(repr=False)
    mapping: dict[str, str] | None = None
    has_header: bool | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise UploadError(
                self.name, f"unknown kind {self.kind!r}.", hint=f"Use one of {', '.join(KINDS)}."
            )


@dataclass(frozen=True)
class LoadedFile:
    """A file's content after decompression and sniffing; text formats are re-encoded as UTF-8."""

    name: str
    content: bytes
    format: FileFormat
    encoding: str | None
    compression: str | None
    truncated: bool = False


def read_source_bytes(
    source: IngestSource, settings: IngestSettings, *, limit: int | None = None
) -> tuple[bytes, str | None, bool]:
    """The decompressed bytes of `source`, its compression and whether it was cut at `limit` bytes.

    Raises:
        UploadError: the file is missing, empty, larger than `max_upload_mb` or a gzip bomb.
    """
    max_bytes = settings.max_upload_mb * 1024 * 1024
    raw = _raw_bytes(source, max_bytes, limit)
    if not raw.strip():
        raise UploadError(
            source.name, "the file is empty.", hint="Export the data again and upload that file."
        )
    if raw[:2] == b"\x1f\x8b":
        data, truncated = _gunzip(source.name, raw, settings, max_bytes, limit)
        if not data.strip():
            raise UploadError(source.name, "the compressed file is empty.")
        return data, "gzip", truncated
    if limit is not None and len(raw) > limit:
        return raw[:limit], None, True
    if len(raw) > max_bytes:
        raise _too_large(source.name, settings)
    return raw, None, False


def load_source(source: IngestSource, settings: IngestSettings, *, limit: int | None = None) -> LoadedFile:
    """Read, decompress and sniff `source`. With `limit`, read only about that many bytes (previews).

    Raises:
        UploadError: the file is empty, binary, too large, a gzip bomb, or in no format we read.
    """
    data, compression, truncated = read_source_bytes(source, settings, limit=limit)
    file_format = sniff_format(source.name, data)
    if file_format in ("parquet", "excel"):
        if truncated:
            # Binary formats cannot be cut; read them whole (they are bounded by the size limit).
            data, compression, truncated = read_source_bytes(source, settings)
        return LoadedFile(source.name, data, file_format, None, compression, False)
    text_bytes, encoding = to_utf8(source.name, data, truncated=truncated)
    if file_format in ("csv", "tsv") and truncated:
        # Cut at the last line end so the preview does not end in half a row.
        cut = text_bytes.rfind(b"\n")
        if cut > 0:
            text_bytes = text_bytes[: cut + 1]
    return LoadedFile(source.name, text_bytes, file_format, encoding, compression, truncated)


def _raw_bytes(source: IngestSource, max_bytes: int, limit: int | None) -> bytes:
    if isinstance(source.data, (bytes, bytearray, memoryview)):
        return bytes(source.data)
    path = Path(source.data)
    if not path.exists():
        raise UploadError(source.name, f"no such file {path}.", hint="Check the path.")
    if not path.is_file():
        raise UploadError(source.name, f"{path} is not a file.", hint="Name a file, not a folder.")
    size = path.stat().st_size
    if size > max_bytes:
        raise UploadError(
            source.name,
            f"the file is {size / 2**20:.0f} MB, more than the limit of {max_bytes // 2**20} MB.",
            hint="Split it, or raise ingest.max_upload_mb in the workspace's config.toml.",
        )
    try:
        with open(path, "rb") as handle:
            # Previews need only the start; gzip members are read whole and cut after decompression.
            if limit is not None:
                head = handle.read(2)
                if head != b"\x1f\x8b":
                    return head + handle.read(limit + 1 - len(head))
                return head + handle.read()
            return handle.read()
    except OSError as error:
        raise UploadError(source.name, f"cannot read the file: {error.strerror or error}.") from error


def _too_large(name: str, settings: IngestSettings) -> UploadError:
    return UploadError(
        name,
        f"the data is larger than the limit of {settings.max_upload_mb} MB.",
        hint="Split the file, or raise ingest.max_upload_mb in the workspace's config.toml.",
    )


def _gunzip(
    name: str, raw: bytes, settings: IngestSettings, max_bytes: int, limit: int | None
) -> tuple[bytes, bool]:
    """Decompress all gzip members, stopping as soon as a size or ratio limit is crossed."""
    max_ratio_bytes = max(settings.max_decompression_ratio * len(raw), _RATIO_FREE_BYTES)
    ceiling = min(max_bytes, max_ratio_bytes)
    if limit is not None:
        ceiling = min(ceiling, limit)
    output = io.BytesIO()
    remaining = raw
    written = 0
    try:
        while remaining:
            decompressor = zlib.decompressobj(wbits=31)
            pending = remaining
            while pending:
                # `max_length` bounds the memory one step can take, so a bomb is caught early.
                chunk = decompressor.decompress(pending, 1 << 20)
                written += len(chunk)
                output.write(chunk)
                if written > ceiling:
                    consumed = len(raw) - len(remaining) + len(pending) - len(decompressor.unconsumed_tail)
                    # A preview stops early; the ratio so far still unmasks a bomb.
                    if (
                        limit is not None
                        and ceiling == limit
                        and written
                        <= max(settings.max_decompression_ratio * max(consumed, 1), _RATIO_FREE_BYTES)
                    ):
                        return output.getvalue()[:limit], True
                    raise _bomb_or_too_large(name, settings, written, consumed, max_bytes)
                pending = decompressor.unconsumed_tail
                if decompressor.eof:
                    break
            if not decompressor.eof:
                raise UploadError(name, "the gzip file is truncated.", hint="Upload the complete file.")
            remaining = decompressor.unused_data.lstrip(b"\x00")
            if remaining and remaining[:2] != b"\x1f\x8b":
                break  # trailing garbage after the last member: gzip itself ignores it too
    except zlib.error as error:
        raise UploadError(
            name, f"the gzip data is corrupt ({error}).", hint="Upload the file again."
        ) from error
    return output.getvalue(), False


def _bomb_or_too_large(
    name: str, settings: IngestSettings, written: int, packed: int, max_bytes: int
) -> UploadError:
    if written > max_bytes:
        return _too_large(name, settings)
    return UploadError(
        name,
        f"the compressed file expands more than {settings.max_decompression_ratio} times "
        f"({packed} bytes to over {written} bytes): refused as a possible decompression bomb.",
        hint="Upload it uncompressed, or raise ingest.max_decompression_ratio.",
    )


def sniff_format(name: str, data: bytes) -> FileFormat:
    """The format of `data`, decided by its content (the name only breaks CSV/TSV ties)."""
    head = data[:4096]
    if head[:4] == b"PAR1":
        return "parquet"
    if head[:4] == b"PK\x03\x04":
        if _is_xlsx(data):
            return "excel"
        if name.lower().endswith((".xlsx", ".xlsm")):
            raise UploadError(
                name, "the Excel workbook is damaged.", hint="Open it in Excel and save it again."
            )
        raise UploadError(name, "this is a ZIP archive.", hint="Unzip it and upload the file inside.")
    if head[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise UploadError(
            name,
            "this is an old Excel 97-2003 (.xls) workbook, which cannot be read.",
            hint="Save it as .xlsx or CSV and upload that.",
        )
    for signature, what in _BINARY_SIGNATURES.items():
        if head.startswith(signature):
            raise UploadError(
                name, f"this is {what}, not a data file.", hint="Upload CSV, JSON, Parquet or Excel."
            )
    text = _strip_bom(head).lstrip()
    if text[:1] == b"[":
        return "json"
    if text[:1] == b"{":
        return "jsonl"
    if name.lower().removesuffix(".gz").endswith((".json", ".jsonl", ".ndjson")) and _is_json_scalar(data):
        raise UploadError(
            name, "the JSON holds a single value, not records.", hint="Upload a list of objects."
        )
    first_line = _first_line(text)
    if first_line.count(b"\t") > max(first_line.count(b","), first_line.count(b";")):
        return "tsv"
    return "csv"


def _is_json_scalar(data: bytes) -> bool:
    import json

    try:
        return not isinstance(json.loads(_strip_bom(data[:65536])), (list, dict))
    except (ValueError, RecursionError):
        return False


def _is_xlsx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return any(member.startswith("xl/") for member in archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def _first_line(text: bytes) -> bytes:
    end = text.find(b"\n")
    return text if end < 0 else text[:end]


def _strip_bom(data: bytes) -> bytes:
    for bom in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        if data.startswith(bom):
            return data[len(bom) :].replace(b"\x00", b"")
    return data


def to_utf8(name: str, data: bytes, *, truncated: bool = False) -> tuple[bytes, str]:
    """Detect the text encoding of `data` and return it as UTF-8 without a BOM, plus the encoding's name.

    Order: a BOM (UTF-8, UTF-16), then strict UTF-8, then Windows-1252 (what Excel on Windows writes),
    then Latin-1 (which decodes any byte). Content that looks binary raises `UploadError`.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return _checked(name, data[3:], "utf-8-sig", truncated)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise UploadError(
                name, "the file says it is UTF-16 but is not.", hint="Save it as UTF-8."
            ) from error
        return _binary_check(name, text).encode("utf-8"), "utf-16"
    if b"\x00" in data[:65536]:
        raise UploadError(
            name, "this is a binary file, not text.", hint="Upload CSV, JSON, Parquet or Excel."
        )
    return _checked(name, data, "utf-8", truncated)


def _checked(name: str, data: bytes, label: str, truncated: bool) -> tuple[bytes, str]:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        # A preview cut in the middle of a multi-byte character is still UTF-8.
        if truncated and error.start >= len(data) - 4:
            return _checked(name, data[: error.start], label, False)
    else:
        return _binary_check_bytes(name, data), label
    for encoding in ("cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return _binary_check(name, text).encode("utf-8"), encoding
    raise UploadError(
        name, "the text encoding is not recognised.", hint="Save the file as UTF-8."
    )  # pragma: no cover


def _binary_check_bytes(name: str, data: bytes) -> bytes:
    sample = data[:65536]
    controls = sum(sample.count(bytes([code])) for code in _CONTROL_CODES)
    if sample and controls / len(sample) > 0.01:
        raise UploadError(
            name, "this looks like a binary file, not text.", hint="Upload CSV, JSON, Parquet or Excel."
        )
    return data


def _binary_check(name: str, text: str) -> str:
    _binary_check_bytes(name, text[:65536].encode("utf-8", "replace"))
    return text


# Control characters that never appear in real text exports (tab, newline, carriage return and form
# feed do; NUL is caught before).
_CONTROL_CODES = [code for code in range(1, 32) if code not in (9, 10, 12, 13)] + [127]
