from __future__ import annotations

from pathlib import Path

import pytest

from recengine.config import Settings
from recengine.errors import ConfigError
from recengine.workspace import Workspace


def test_new_workspace_is_empty(workspace: Workspace) -> None:
    summary = workspace.summary()
    assert summary.items == 0 and summary.reviews == 0 and summary.last_ingest is None


def test_failed_transaction_leaves_previous_state(workspace: Workspace) -> None:
    workspace.store.set_meta("probe", "before")
    with pytest.raises(RuntimeError):
        with workspace.store.transaction() as connection:
            connection.execute("UPDATE meta SET value = 'after' WHERE key = 'probe'")
            raise RuntimeError("crash in the middle")
    assert workspace.store.get_meta("probe") == "before"


def test_settings_round_trip_through_toml(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("RECENGINE_EMBED__MODEL", raising=False)
    settings = Settings()
    settings.recommend.weight_semantic = 0.5
    settings.recommend.new_arrivals_positions = [3, 7]
    config = tmp_path / "config.toml"
    config.write_text(settings.to_toml())
    loaded = Settings.load(config)
    assert loaded.recommend.weight_semantic == 0.5
    assert loaded.recommend.new_arrivals_positions == [3, 7]


def test_bad_setting_names_the_field(tmp_path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[embed]\nbatch_size = 0\n")
    with pytest.raises(ConfigError, match="embed.batch_size"):
        Settings.load(config)


def test_opening_a_workspace_removes_only_stale_temporaries(tmp_path: Path) -> None:
    import os
    import time

    from recengine.store import atomic_path
    from recengine.workspace import Workspace

    root = tmp_path / "ws"
    Workspace.open(root)
    folder = root / "indexes"
    folder.mkdir()
    stale = folder / ".items.faiss.k3j_x9a1.tmp"
    fresh = folder / ".items.faiss.q8w2e5r7.tmp"
    kept = [folder / "items.faiss", folder / ".gitignore", folder / "notes.tmp"]
    for path in [stale, fresh, *kept]:
        path.write_bytes(b"x")
    two_hours_ago = time.time() - 7200
    for path in [stale, *kept]:
        os.utime(path, (two_hours_ago, two_hours_ago))
    with atomic_path(folder / "probe.json") as temporary:  # the names atomic_path really uses match
        assert temporary.name.startswith(".probe.json.") and temporary.name.endswith(".tmp")
        os.utime(temporary, (two_hours_ago, two_hours_ago))
        Workspace.open(root)
        assert not temporary.exists()
        temporary.write_text("{}", encoding="utf-8")
    Workspace.open(root)
    assert not stale.exists()
    assert fresh.exists() and all(path.exists() for path in kept)
