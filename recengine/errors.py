"""One hierarchy of errors. Every message says what went wrong and what to change."""

from __future__ import annotations


class RecEngineError(Exception):
    """Base class of every error `recengine` raises on purpose.

    The dashboard shows these as readable messages and the CLI prints them on one line and exits
    non-zero; anything else is a bug.
    """

    hint: str = ""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        if hint:
            self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip() if self.hint else self.message


class ConfigError(RecEngineError):
    """A setting has a value that cannot work."""


class WorkspaceError(RecEngineError):
    """The workspace folder is missing, unreadable, locked or from an incompatible version."""


class WorkspaceBusyError(WorkspaceError):
    """Another process holds the workspace database for longer than we are willing to wait."""


class UploadError(RecEngineError):
    """A whole file cannot be read: empty, binary, wrong format, too large, undecodable.

    Raised before anything is written, so the workspace is unchanged.
    """

    def __init__(self, file_name: str, message: str, *, hint: str = "") -> None:
        super().__init__(f"{file_name}: {message}", hint=hint)
        self.file_name = file_name


class SchemaError(RecEngineError):
    """The columns of a file cannot be mapped to the fields a table needs."""

    def __init__(
        self, file_name: str, message: str, *, column: str | None = None, hint: str = ""
    ) -> None:
        where = f"{file_name}, column {column!r}" if column else file_name
        super().__init__(f"{where}: {message}", hint=hint)
        self.file_name = file_name
        self.column = column


class NotFoundError(RecEngineError):
    """An item, user, model version or job id that the workspace does not have."""


class NotReadyError(RecEngineError):
    """A step needs something that has not been computed yet (embeddings, index, analysis)."""


class ModelError(RecEngineError):
    """A model cannot be found, loaded or verified."""


class IndexFileError(RecEngineError):
    """A saved vector index is missing, corrupt, or does not match its sidecar (it is then rebuilt)."""


class ExportError(RecEngineError):
    """A table cannot be written to the requested file (unknown table or format, too many rows)."""
