"""Who may do what: password hashing and the two roles of the dashboard.

Viewers browse; editors also upload, change rules, run jobs and activate models. When no password is
configured (the default, with the dashboard bound to localhost) everyone is an editor. Passwords are
configured as PBKDF2 hashes (`recengine hash-password`), never in clear, through Streamlit secrets
(`[auth] editor_password_hash = "..."`, `viewer_password_hash = "..."`) or the environment variables
RECENGINE_EDITOR_PASSWORD_HASH / RECENGINE_VIEWER_PASSWORD_HASH.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum

from recengine.errors import RecEngineError

ALGORITHM = "pbkdf2_sha256"
ITERATIONS = 310_000


class Role(IntEnum):
    """Ordered so that a higher role includes the rights of the lower ones."""

    VIEWER = 1
    EDITOR = 2


class PermissionDeniedError(RecEngineError):
    """The signed-in role may not perform this action."""


@dataclass(frozen=True)
class AccessPolicy:
    """The configured password hashes; no hash at all means access control is off."""

    editor_password_hash: str | None = None
    viewer_password_hash: str | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.editor_password_hash or self.viewer_password_hash)

    @classmethod
    def from_sources(cls, secrets_section: Mapping[str, str] | None = None) -> AccessPolicy:
        section = secrets_section or {}
        return cls(
            editor_password_hash=section.get("editor_password_hash")
            or os.environ.get("RECENGINE_EDITOR_PASSWORD_HASH")
            or None,
            viewer_password_hash=section.get("viewer_password_hash")
            or os.environ.get("RECENGINE_VIEWER_PASSWORD_HASH")
            or None,
        )

    def role_for_password(self, password: str) -> Role | None:
        """The role a password signs in as, or None when it matches no configured hash."""
        if self.editor_password_hash and verify_password(password, self.editor_password_hash):
            return Role.EDITOR
        if self.viewer_password_hash and verify_password(password, self.viewer_password_hash):
            return Role.VIEWER
        return None


def hash_password(password: str, *, iterations: int = ITERATIONS) -> str:
    """A salted PBKDF2-SHA256 hash in the form `pbkdf2_sha256$iterations$salt$digest`."""
    if not password:
        raise RecEngineError("An empty password cannot be hashed.", hint="Choose a password.")
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    encode = base64.urlsafe_b64encode
    return f"{ALGORITHM}${iterations}${encode(salt).decode()}${encode(digest).decode()}"


def verify_password(password: str, stored_hash: str) -> bool:
    """Constant-time check of `password` against a hash made by `hash_password`."""
    try:
        algorithm, iterations_text, salt_text, digest_text = stored_hash.split("$")
        if algorithm != ALGORITHM:
            return False
        salt = base64.urlsafe_b64decode(salt_text)
        expected = base64.urlsafe_b64decode(digest_text)
        iterations = int(iterations_text)
    except (ValueError, TypeError):
        return False
    actual = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return hmac.compare_digest(actual, expected)


def require_role(current: Role | None, needed: Role, action: str) -> None:
    """Raise `PermissionDeniedError` unless `current` includes `needed`."""
    if current is None or current < needed:
        raise PermissionDeniedError(
            f"{action} needs the {needed.name.lower()} role.",
            hint="Sign in with an editor password, or ask an editor to do it.",
        )
