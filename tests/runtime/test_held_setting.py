"""A process-wide setting held by overlapping users (recengine.held_setting)."""

from __future__ import annotations

import pytest

from recengine.held_setting import HeldSetting


def test_the_first_holder_saves_and_the_last_restores() -> None:
    value = {"threads": 4}
    changes: list[int] = []

    def hold() -> int:
        original = value["threads"]
        value["threads"] = 1
        changes.append(1)
        return original

    def release(original: int) -> None:
        value["threads"] = original
        changes.append(original)

    setting = HeldSetting(hold, release)
    assert setting.saved is None
    with setting.held():
        with setting.held():
            assert value["threads"] == 1 and setting.saved == 4
        assert value["threads"] == 1  # the outer holder still needs it
    assert value["threads"] == 4 and setting.saved is None
    assert changes == [1, 4]


def test_a_failing_block_still_restores() -> None:
    value = {"on": True}
    setting = HeldSetting(lambda: value.update(on=False) or True, lambda was: value.update(on=was))
    with pytest.raises(RuntimeError), setting.held():
        raise RuntimeError("boom")
    assert value["on"] is True
