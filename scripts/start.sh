#!/usr/bin/env bash
# One command from a fresh clone to the dashboard on the demo workspace:
#   scripts/start.sh            (then open http://127.0.0.1:8501)
# Extra arguments go to `streamlit run`, e.g. scripts/start.sh --server.port 8600
# The demo's data is ingested before the dashboard starts (seconds); what needs the encoder (review
# analysis, embeddings, the sentiment model, an evaluation) runs as a background job of the workspace,
# which the home page follows. A job killed midway is resumed by the next start.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s.%N)
since_start() { awk -v start="$started" -v now="$(date +%s.%N)" 'BEGIN { printf "%.1f s", now - start }'; }

if [ -x .venv/bin/python ] && .venv/bin/python scripts/installed.py 2>/dev/null; then
  echo "Environment: .venv is up to date." >&2
else
  echo "Installing recengine into .venv (a few minutes on a fresh machine)..." >&2
  scripts/setup.sh
  echo "Installed in $(since_start)." >&2
fi
export RECENGINE_WORKSPACE=${RECENGINE_WORKSPACE:-workspaces/demo}
if [ ! -f "$RECENGINE_WORKSPACE/workspace.duckdb" ]; then
  echo "Creating the demo workspace in $RECENGINE_WORKSPACE (generated data)..." >&2
  .venv/bin/recengine demo --workspace "$RECENGINE_WORKSPACE" --background
else
  .venv/bin/recengine prepare --workspace "$RECENGINE_WORKSPACE" --background --resume
fi
echo "Starting the dashboard, $(since_start) after start.sh began (Streamlit prints its address)." >&2
exec .venv/bin/streamlit run app.py "$@"
