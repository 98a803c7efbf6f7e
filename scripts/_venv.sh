# Sourced by scripts/demo and scripts/test: make .venv with Vitrina installed (idempotent).
# Reinstalls only when pyproject.toml changed since the last install.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VITRINA_VENV:-$ROOT/.venv}"
EXTRAS="${1:-}"
PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "Vitrina needs Python 3.11 or newer (found: $("$PY" --version 2>&1))." >&2
  exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
  echo "Creating a virtual environment in $VENV ..." >&2
  "$PY" -m venv "$VENV"
fi
stamp="$VENV/.vitrina-installed${EXTRAS:+-$EXTRAS}"
if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
  echo "Installing Vitrina${EXTRAS:+ [$EXTRAS]} into $VENV ..." >&2
  if [ ! -x "$VENV/bin/uv" ]; then
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check uv >/dev/null 2>&1 || true
  fi
  if [ -x "$VENV/bin/uv" ]; then
    "$VENV/bin/uv" pip install -q --python "$VENV/bin/python" -e "$ROOT${EXTRAS:+[$EXTRAS]}"
  else
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$ROOT${EXTRAS:+[$EXTRAS]}"
  fi
  touch "$stamp"
fi
