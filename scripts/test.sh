#!/usr/bin/env bash
# Installs everything the tests need on a fresh machine, then runs them.
# Python packages from requirements-dev.txt; Debian's Chromium for the real-browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then apt_get="apt-get"; else apt_get="sudo apt-get"; fi
  $apt_get update -qq && $apt_get install -y -qq chromium >/dev/null
fi
python3 -m ruff check .
python3 -m pytest "$@"
