#!/usr/bin/env bash
# Runs the helpdesk on this machine: installs into .venv, migrates, loads the demo, serves the
# web app and runs the SLA scheduler beside it.
set -euo pipefail
cd "$(dirname "$0")"
. scripts/venv.sh
ensure_venv requirements.txt
compile_translations

export FLASK_APP=wsgi
PORT="${PORT:-5000}"
HOST="${HOST:-127.0.0.1}"

.venv/bin/flask db upgrade
.venv/bin/flask helpdesk demo

cat <<TXT

Helpdesk running at http://$HOST:$PORT/
Demo accounts (password: helpdesk-demo):
  client@example.com        client of Boutique Exemple SARL
  other-client@example.com  client of another organisation
  tech@example.com          technician
  lead@example.com          team lead
  finance@example.com       finance
  admin@example.com         admin
The SLA scheduler runs beside it (escalations, breaches, mail written to instance/mail/).
Stop both with Ctrl+C.

TXT
.venv/bin/flask sla scheduler &
scheduler=$!
.venv/bin/gunicorn --workers "${WORKERS:-2}" --bind "$HOST:$PORT" --access-logfile - wsgi:app &
web=$!
# Whichever stops first (Ctrl+C, a crash), the other is stopped too.
trap 'kill "$scheduler" "$web" 2>/dev/null; wait 2>/dev/null' EXIT
trap 'exit 130' INT TERM
wait -n "$scheduler" "$web"
