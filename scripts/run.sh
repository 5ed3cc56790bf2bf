#!/usr/bin/env bash
# Runs the whole product on this machine: web server, background worker, periodic jobs.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export DEBUG="${DEBUG:-true}"
export DEV_LOGIN_ENABLED="${DEV_LOGIN_ENABLED:-true}"
PORT="${PORT:-8000}"
# Links in e-mails, SMS and letters, the API's audience and problem URIs follow the port served.
export PORTAL_URL="${PORTAL_URL:-http://127.0.0.1:${PORT}}"
mkdir -p var

$PY manage.py migrate --no-input -v0
$PY manage.py seed_demo --if-empty --accounts "${DEMO_ACCOUNTS:-2000}"

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo "Stopping..."
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

$PY manage.py run_worker --queue-name '*' --interval 1 &
pids+=($!)
$PY manage.py run_periodic &
pids+=($!)
$PY manage.py runserver "127.0.0.1:${PORT}" --noreload &
pids+=($!)

sleep 2
$PY manage.py demo_logins --port "$PORT"
wait -n "${pids[@]}"
