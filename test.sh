#!/usr/bin/env bash
# Runs the whole suite: SQLite always; PostgreSQL when TEST_DATABASE_URL is set or a local server
# answers; browser tests when Chromium is found. REQUIRE_POSTGRES=1 / REQUIRE_BROWSER=1 turn a
# missing one into a failure instead of a skip (CI sets both).
set -euo pipefail
cd "$(dirname "$0")"
. scripts/venv.sh
ensure_venv requirements-dev.txt
compile_translations

LOCAL_PG="postgresql+psycopg://postgres@127.0.0.1:5432/test"
if [ -z "${TEST_DATABASE_URL:-}" ] && .venv/bin/python - "$LOCAL_PG" <<'PY' 2>/dev/null
import sys, psycopg
psycopg.connect(sys.argv[1].replace("+psycopg", ""), connect_timeout=2).close()
PY
then
  TEST_DATABASE_URL="$LOCAL_PG"
fi

if [ -z "${CHROMIUM_PATH:-}" ]; then
  for candidate in /usr/bin/chromium /usr/bin/chromium-browser; do
    if [ -x "$candidate" ]; then export CHROMIUM_PATH="$candidate"; break; fi
  done
fi
if [ -z "${CHROMIUM_PATH:-}" ]; then
  if [ "${REQUIRE_BROWSER:-0}" = 1 ]; then echo "Chromium is required (REQUIRE_BROWSER=1) but was not found." >&2; exit 1; fi
  echo "Chromium not found: browser tests will be skipped."
fi

echo "== Lint =="
.venv/bin/ruff check .
echo "== Types =="
.venv/bin/mypy
echo "== Imports =="
# The layers of ARCHITECTURE.md; helpdesk is imported from this checkout, not installed.
PYTHONPATH=. .venv/bin/lint-imports --no-cache

echo "== SQLite =="
# Each SQLite test works on its own copy of the database: the pass spreads over every CPU
# (pytest-xdist). PostgreSQL's pass stays in one process, its tests sharing one server.
env -u TEST_DATABASE_URL .venv/bin/python -m pytest -n "${TEST_WORKERS:-auto}" "$@"

if [ -n "${TEST_DATABASE_URL:-}" ]; then
  echo "== PostgreSQL =="
  # The engine tests do not touch a database and the browser tests already ran: no need twice.
  TEST_DATABASE_URL="$TEST_DATABASE_URL" .venv/bin/python -m pytest -m "not browser" \
    --ignore=tests/sla "$@"
elif [ "${REQUIRE_POSTGRES:-0}" = 1 ]; then
  echo "PostgreSQL is required (REQUIRE_POSTGRES=1) but TEST_DATABASE_URL is unset and no local server answers." >&2
  exit 1
else
  echo "PostgreSQL not reachable: its pass was skipped (set TEST_DATABASE_URL to run it)."
fi
