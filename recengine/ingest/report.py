"""What an ingest did: per file, how every row read ended (accepted, updated, duplicate or rejected)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from recengine.errors import RecEngineError


@dataclass(frozen=True)
class FileReport:
    """The outcome of one file. `accepted + updated + duplicate + rejected == rows_read`, always.

    Attributes:
        file_name: as uploaded.
        kind: catalog, reviews or interactions.
        batch_id: the `ingest_batches` row of this file (rejected rows carry it too).
        format, encoding, compression, has_header: how the file was read.
        rows_read: data rows in the file (blank lines not counted, malformed rows counted).
        accepted: rows with an id new to the workspace (incl. products that replace a placeholder).
        updated: rows whose id existed with different content (the new content is stored).
        duplicate: rows identical to what was stored or to an earlier row of the same file.
        rejected: rows not stored, each with a reason in `reasons` and the `rejects` table.
        placeholders: products created as placeholders because rows referenced unknown item ids.
        placeholders_filled: placeholder products this catalog file filled in (counted in accepted).
        new_users: users seen for the first time.
        reasons: rejection reason -> number of rows.
        mapping: source column -> field (or "attributes"/"ignore") as used.
        seconds: wall time of reading, checking and storing the file.
    """

    file_name: str
    kind: str
    batch_id: int
    format: str
    encoding: str | None
    compression: str | None
    has_header: bool
    rows_read: int
    accepted: int
    updated: int
    duplicate: int
    rejected: int
    placeholders: int = 0
    placeholders_filled: int = 0
    new_users: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    mapping: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def __post_init__(self) -> None:
        outcome = self.accepted + self.updated + self.duplicate + self.rejected
        if outcome != self.rows_read:  # a bug, never the user's fault: refuse to report it as fine
            raise RecEngineError(
                f"Internal error: {self.file_name}: {outcome} outcomes for {self.rows_read} rows read.",
                hint="Please report this with the file.",
            )
        if sum(self.reasons.values()) != self.rejected:
            raise RecEngineError(f"Internal error: {self.file_name}: rejection reasons do not add up.")

    @property
    def stored(self) -> int:
        """Rows now in the workspace from this file (accepted, updated or already there)."""
        return self.accepted + self.updated + self.duplicate


@dataclass(frozen=True)
class IngestReport:
    """The outcome of one `ingest_files` call: one `FileReport` per file, in the order stored."""

    files: tuple[FileReport, ...]
    data_version: str | None = None

    @property
    def rows_read(self) -> int:
        return sum(report.rows_read for report in self.files)

    @property
    def accepted(self) -> int:
        return sum(report.accepted for report in self.files)

    @property
    def updated(self) -> int:
        return sum(report.updated for report in self.files)

    @property
    def duplicate(self) -> int:
        return sum(report.duplicate for report in self.files)

    @property
    def rejected(self) -> int:
        return sum(report.rejected for report in self.files)

    @property
    def placeholders(self) -> int:
        return sum(report.placeholders for report in self.files)

    @property
    def batch_ids(self) -> list[int]:
        return [report.batch_id for report in self.files]

    @property
    def nothing_lost(self) -> bool:
        """True by construction; kept as an explicit check for reports and tests."""
        return self.accepted + self.updated + self.duplicate + self.rejected == self.rows_read

    def reasons(self) -> dict[str, int]:
        """Rejection reasons over all files."""
        totals: dict[str, int] = {}
        for report in self.files:
            for reason, count in report.reasons.items():
                totals[reason] = totals.get(reason, 0) + count
        return dict(sorted(totals.items(), key=lambda item: -item[1]))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (what `recengine ingest --format json` prints)."""
        from dataclasses import asdict

        return {
            "files": [asdict(report) for report in self.files],
            "totals": {
                "rows_read": self.rows_read,
                "accepted": self.accepted,
                "updated": self.updated,
                "duplicate": self.duplicate,
                "rejected": self.rejected,
                "placeholders": self.placeholders,
                "reasons": self.reasons(),
            },
            "nothing_lost": self.nothing_lost,
            "data_version": self.data_version,
        }
