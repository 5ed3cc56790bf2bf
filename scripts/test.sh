#!/usr/bin/env bash
# The whole suite: SQLite leg, then PostgreSQL leg. Without a reachable PostgreSQL the second
# leg is skipped with a line saying so, except in CI (CI=true), where that is a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
WORKERS="${TEST_WORKERS:-2}"
export TEST_PG_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/borc}"

echo "== SQLite leg"
env -u TEST_DATABASE_URL -u DATABASE_URL $PY -m pytest -n "$WORKERS" -p no:cacheprovider "$@"
sqlite_rc=$?

if $PY scripts/pg_ready.py "$TEST_PG_URL"; then
  echo "== PostgreSQL leg ($TEST_PG_URL); the browser journeys ran in the SQLite leg"
  TEST_DATABASE_URL="$TEST_PG_URL" $PY -m pytest -n "$WORKERS" -p no:cacheprovider --ignore=browser_tests "$@"
  pg_rc=$?
elif [ "${CI:-}" = "true" ]; then
  echo "== PostgreSQL leg FAILED: PostgreSQL at $TEST_PG_URL is unreachable (required in CI)"
  pg_rc=1
else
  echo "== PostgreSQL leg SKIPPED: no PostgreSQL reachable at $TEST_PG_URL (set TEST_DATABASE_URL)"
  pg_rc=0
fi

if [ $sqlite_rc -ne 0 ] || [ $pg_rc -ne 0 ]; then
  echo "FAILED: sqlite=$sqlite_rc postgres=$pg_rc"
  exit 1
fi
