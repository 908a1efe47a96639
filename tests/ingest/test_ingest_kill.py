"""A kill in the middle of storing a file leaves the workspace exactly as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from recengine.ingest import IngestSource, ingest_files
from recengine.workspace import Workspace

CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from recengine.ingest import IngestSource, ingest_files
    from recengine.workspace import Workspace

    def progress(fraction, message):
        # Inside the transaction, after the rows went in and before COMMIT: tell the parent, then hang.
        if message.startswith("storing rows of big.csv"):
            print("INSIDE", flush=True)
            time.sleep(120)

    workspace = Workspace.open(sys.argv[1])
    ingest_files(workspace, [IngestSource("reviews", "big.csv", Path(sys.argv[2])),
                             IngestSource("catalog", "update.csv", Path(sys.argv[3]))], progress=progress)
    print("FINISHED", flush=True)
    """
)


def state(workspace: Workspace) -> tuple[object, ...]:
    return (
        workspace.items().drop(columns=["updated_at"]).to_json(),
        len(workspace.reviews()),
        len(workspace.users()),
        workspace.summary().ingest_batches,
        workspace.summary().rejected_rows,
        workspace.store.get_meta("data_version"),
    )


def test_sigkill_during_ingest_leaves_previous_state(tmp_path: Path) -> None:
    workspace = Workspace.open(tmp_path / "ws")
    ingest_files(workspace, [IngestSource("catalog", "first.csv", b"item_id,title\nA,Kettle\nB,Toaster\n")])
    before = state(workspace)

    reviews = tmp_path / "big.csv"
    reviews.write_text(
        "user_id,item_id,rating,text\n"
        + "".join(f"u{i},P{i % 50},{1 + i % 5},text {i}\n" for i in range(5000))
        + "x,,9,bad\n",
        encoding="utf-8",
    )
    update = tmp_path / "update.csv"
    update.write_text("item_id,title\nA,Kettle v2\n", encoding="utf-8")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(workspace.root), str(reviews), str(update)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    try:
        deadline = time.monotonic() + 120
        line = ""
        while time.monotonic() < deadline:
            line = child.stdout.readline() if child.stdout else ""
            if line.strip() in ("INSIDE", "FINISHED") or not line:
                break
        # The catalog is stored first (committed); the kill hits the reviews' transaction.
        assert line.strip() == "INSIDE", child.stderr.read() if child.stderr else ""
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    reopened = Workspace.open(workspace.root)
    after = state(reopened)
    # The catalog file was committed before the kill (one transaction per file)...
    assert reopened.item("A")["title"] == "Kettle v2"
    assert after[3] == before[3] + 1
    # ...but nothing of the killed reviews file is there: no reviews, users, placeholders or rejects.
    assert after[1:3] == before[1:3] == (0, 0)
    assert after[4] == before[4] == 0
    assert sorted(reopened.items()["item_id"]) == ["A", "B"]

    # And the workspace works afterwards: the same file ingests completely.
    report = ingest_files(reopened, [IngestSource("reviews", "big.csv", reviews)])
    assert report.files[0].accepted == 5000 and report.files[0].rejected == 1
