from __future__ import annotations

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
    config = tmp_path / "config.toml"
    config.write_text(settings.to_toml())
    assert Settings.load(config).recommend.weight_semantic == 0.5


def test_bad_setting_names_the_field(tmp_path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[embed]\nbatch_size = 0\n")
    with pytest.raises(ConfigError, match="embed.batch_size"):
        Settings.load(config)
