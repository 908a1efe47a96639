#!/usr/bin/env bash
# One command from a fresh clone to the test results:  scripts/test.sh [pytest arguments]
# Installs recengine with its test extras into .venv, Debian's Chromium for the browser tests (when
# apt-get is usable), then runs the default suite (fast tests, no real model; `-m slow` for the rest).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "Installing Debian's chromium for the browser tests..." >&2
  $SUDO apt-get update -qq >/dev/null && \
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null \
    || echo "warning: could not install chromium; browser tests will be skipped" >&2
fi
exec .venv/bin/python -m pytest "$@"
