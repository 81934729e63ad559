#!/usr/bin/env bash
# Installs everything the tests need on a fresh machine, then runs them.
# Python packages from requirements-dev.txt; Debian's Chromium for the real-browser tests and
# PostgreSQL 15 for the live PostgreSQL half of the metrics tests (the tests start and stop their own
# throwaway cluster; SPM_SKIP_POSTGRES=1 skips that half); Java 17 for the metrics tests on local Apache
# Spark (pyspark from requirements-dev.txt; SPM_SKIP_SPARK=1 skips them); poppler-utils' pdftoppm to
# render a report PDF page to an image.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
if [ "${SPM_SKIP_POSTGRES:-}" != 1 ] && [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then missing+=(postgresql); fi
if [ "${SPM_SKIP_SPARK:-}" != 1 ] && ! command -v java >/dev/null 2>&1; then missing+=(openjdk-17-jre-headless); fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then apt_get="apt-get"; else apt_get="sudo apt-get"; fi
  $apt_get update -qq && $apt_get install -y -qq "${missing[@]}" >/dev/null
fi
python3 -m ruff check .
python3 -m pytest -n auto --dist loadgroup "$@"  # one worker per core; see tests/conftest.py for the groups
