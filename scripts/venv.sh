# Sourced by run.sh and test.sh: a .venv with the pinned requirements, reinstalled only when they change.
# usage: ensure_venv requirements-file
ensure_venv() {
  local requirements="$1"
  local python="${PYTHON:-}"
  if [ -z "$python" ]; then
    for candidate in python3.11 python3; do
      if command -v "$candidate" >/dev/null 2>&1; then python="$candidate"; break; fi
    done
  fi
  if [ -z "$python" ]; then echo "Python 3.11 is required (python3.11 or python3 on PATH)." >&2; exit 1; fi
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "Python 3.11 or newer is required; $python is $("$python" --version 2>&1)." >&2; exit 1
  fi
  if [ ! -x .venv/bin/python ]; then
    echo "Creating .venv with $("$python" --version 2>&1)…"
    "$python" -m venv .venv
  fi
  local stamp=".venv/.installed-$(basename "$requirements")"
  local digest
  digest=$(cat "$requirements" requirements.txt | sha256sum | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
    echo "Installing $requirements into .venv…"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements"
    echo "$digest" > "$stamp"
  fi
}

# The .mo files the application reads are compiled from the committed .po catalogues, never
# committed themselves; only a catalogue newer than its .mo is compiled again.
compile_translations() {
  .venv/bin/python -m helpdesk.web.translations_cli compile --stale-only >/dev/null
}
