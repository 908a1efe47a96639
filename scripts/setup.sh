#!/usr/bin/env bash
# Create .venv and install recengine into it. Usage: scripts/setup.sh [extras], e.g. scripts/setup.sh test
# Safe to run again: it only installs what is missing (and returns at once when nothing is).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
extras=${1:-}

# Everything already there (a second start): skip pip, which takes 10-20 s even when nothing is missing.
if [ -x .venv/bin/python ] && .venv/bin/python scripts/installed.py "$extras" 2>/dev/null; then
  exit 0
fi

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
fi
# Install the CPU build of torch first: on the team's machines `torch==2.13.0` comes from local disk,
# while an unpinned torch pulled in by sentence-transformers would download a multi-GB CUDA build.
# A machine that already has a torch in .venv (a GPU build, say) keeps it.
if ! .venv/bin/python -c "import torch" >/dev/null 2>&1; then
  .venv/bin/python -m pip install --quiet "torch==2.13.0"
fi
target="."
[ -n "$extras" ] && target=".[$extras]"
.venv/bin/python -m pip install --quiet -e "$target" 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import recengine, torch, sentence_transformers, faiss, streamlit" \
  || { echo "setup failed: recengine or one of its dependencies does not import" >&2; exit 1; }
