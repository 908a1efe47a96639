"""`--engine`: local by default, a one-line error (exit 2) when Ray is asked for but not installed."""

from __future__ import annotations

import builtins
from pathlib import Path

import pytest

from recengine.cli import main


@pytest.fixture
def without_ray(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def fake_import(name: str, *args: object, **kwargs: object) -> object:
        if name == "ray" or name.startswith("ray."):
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", fake_import)


@pytest.mark.parametrize("command", [["embed"], ["analyze"],
                                     ["recommend", "--users-file", "u.txt", "--format", "jsonl", "--out", "o.jsonl"]])
def test_engine_ray_without_ray_is_one_line_and_exit_2(
    command: list[str], without_ray: None, workspace: object, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main([command[0], "--workspace", str(workspace.root), *command[1:], "--engine", "ray"])  # type: ignore[attr-defined]
    error = capsys.readouterr().err.strip()
    assert code == 2
    assert "install recengine[ray]" in error and len(error.splitlines()) == 1


def test_ray_options_need_engine_ray(workspace: object, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["embed", "--workspace", str(workspace.root), "--address", "auto"]) == 2  # type: ignore[attr-defined]
    assert "--engine ray" in capsys.readouterr().err


def test_engine_ray_is_for_batch_exports(workspace: object, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("ray")
    assert main(["recommend", "--workspace", str(workspace.root), "--user", "U1", "--engine", "ray"]) == 2  # type: ignore[attr-defined]
    assert "batch exports" in capsys.readouterr().err


def test_local_engine_is_the_default(tmp_path: Path) -> None:
    from recengine.cli import build_parser

    for command in (["embed"], ["analyze"], ["recommend", "--user", "U1"]):
        arguments = build_parser().parse_args([*command, "--workspace", str(tmp_path)])
        assert arguments.engine == "local" and arguments.address is None and arguments.shards is None


def test_importing_the_engine_options_does_not_import_ray() -> None:
    import subprocess
    import sys

    code = "import recengine.cli, recengine.distributed, sys; print('ray' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_ray_job_kinds_are_built_in_and_load_ray_only_when_run() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from recengine.jobs.kinds import KIND_LABELS, known_kinds, resolve_kind\n"
        "assert {'ray_embed', 'ray_analyze'} <= set(known_kinds())\n"
        "assert {'ray_embed', 'ray_analyze'} <= set(KIND_LABELS)\n"
        "assert callable(resolve_kind('ray_embed')) and callable(resolve_kind('ray_analyze'))\n"
        "assert 'ray' not in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
