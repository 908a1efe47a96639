"""Helpers of the browser tests: Debian's Chromium, and a `streamlit run app.py` on a loopback port.

A plain module (conftest names collide across test folders), imported by conftest.py and the tests.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("RECENGINE_CHROMIUM", "/usr/bin/chromium"))
# Without the background-networking flags Chromium keeps trying networks that are closed here.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass(frozen=True)
class RunningApp:
    url: str
    workspace: Path
    process: subprocess.Popen[bytes]
    log: Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_app(workspace: Path, log_path: Path, *, extra_env: dict[str, str] | None = None) -> RunningApp:
    """Start `streamlit run app.py` on a free loopback port and wait until it answers its health check."""
    port = free_port()
    env = {
        **os.environ,
        "RECENGINE_WORKSPACE": str(workspace),
        "RECENGINE_EMBED__MODEL": "fake",
        "RECENGINE_EMBED__DEVICE": "cpu",
        **(extra_env or {}),
    }
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(port),
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
    ]  # fmt: skip
    log = open(log_path, "wb")  # noqa: SIM115 - closed when the server stops
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as response:
                if response.status == 200:
                    return RunningApp(url, workspace, process, log_path)
        except OSError:
            time.sleep(0.2)
    stop_app(process)
    raise RuntimeError(f"streamlit did not answer on {url} within 30 s:\n{log_path.read_text()}")


def stop_app(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
