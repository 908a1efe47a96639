from __future__ import annotations

import pytest

from recengine.access import (
    AccessPolicy,
    PermissionDeniedError,
    Role,
    hash_password,
    require_role,
    verify_password,
)


def test_hash_verifies_only_the_right_password() -> None:
    stored = hash_password("s3cret", iterations=1000)
    assert verify_password("s3cret", stored)
    assert not verify_password("S3cret", stored)
    assert not verify_password("s3cret", "garbage")
    assert hash_password("s3cret", iterations=1000) != stored  # salted


def test_policy_maps_passwords_to_roles(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECENGINE_EDITOR_PASSWORD_HASH", hash_password("edit", iterations=1000))
    policy = AccessPolicy.from_sources({"viewer_password_hash": hash_password("view", iterations=1000)})
    assert policy.enabled
    assert policy.role_for_password("edit") is Role.EDITOR
    assert policy.role_for_password("view") is Role.VIEWER
    assert policy.role_for_password("nope") is None


def test_no_hash_means_access_control_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RECENGINE_EDITOR_PASSWORD_HASH", raising=False)
    monkeypatch.delenv("RECENGINE_VIEWER_PASSWORD_HASH", raising=False)
    assert not AccessPolicy.from_sources().enabled


def test_viewer_cannot_write() -> None:
    require_role(Role.EDITOR, Role.EDITOR, "Uploading files")
    with pytest.raises(PermissionDeniedError, match="editor role"):
        require_role(Role.VIEWER, Role.EDITOR, "Uploading files")
    with pytest.raises(PermissionDeniedError):
        require_role(None, Role.VIEWER, "Browsing")
