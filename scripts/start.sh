#!/usr/bin/env bash
# One command from a fresh clone to the dashboard on the demo workspace:
#   scripts/start.sh            (then open http://127.0.0.1:8501)
# Extra arguments go to `streamlit run`, e.g. scripts/start.sh --server.port 8600
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export RECENGINE_WORKSPACE=${RECENGINE_WORKSPACE:-workspaces/demo}
if [ ! -f "$RECENGINE_WORKSPACE/workspace.duckdb" ]; then
  echo "Creating the demo workspace in $RECENGINE_WORKSPACE (generated data, about a minute)..." >&2
  .venv/bin/recengine demo --workspace "$RECENGINE_WORKSPACE"
fi
exec .venv/bin/streamlit run app.py "$@"
