"""Device choice: explicit settings win, and the status-only guess never imports torch."""

from __future__ import annotations

import subprocess
import sys

import pytest

from recengine import runtime
from recengine.errors import ConfigError


def test_explicit_device_wins_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECENGINE_DEVICE", "cuda")
    assert runtime.choose_device("cpu") == "cpu"
    assert runtime.expected_device("cpu") == "cpu"
    assert runtime.expected_device() == "cuda"


def test_unknown_device_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="Unknown device"):
        runtime.expected_device("tpu")


def test_expected_device_does_not_import_torch() -> None:
    code = (
        "import sys\n"
        "from recengine.runtime import expected_device\n"
        "device = expected_device()\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "print(device)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() in runtime.VALID_DEVICES


def test_expected_device_agrees_with_torch_once_loaded() -> None:
    pytest.importorskip("torch")
    assert runtime.expected_device() == runtime.choose_device()
