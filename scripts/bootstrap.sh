#!/usr/bin/env bash
# Make .venv hold slo-agent and its test tools. Guarded: a second run with an
# unchanged pyproject.toml returns in milliseconds.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ -f "$stamp" ]; then exit 0; fi
if ! command -v uv >/dev/null 2>&1 && ! python3 -m uv --version >/dev/null 2>&1; then
  echo "bootstrap: installing uv" >&2
  python3 -m pip install --quiet --disable-pip-version-check uv
fi
uv() { if command -v uv >/dev/null 2>&1; then command uv "$@"; else python3 -m uv "$@"; fi; }
[ -x .venv/bin/python ] || uv venv --quiet --python python3 .venv
echo "bootstrap: installing slo-agent and test tools into .venv" >&2
VIRTUAL_ENV=$PWD/.venv uv pip install --quiet -e '.[test]'
rm -f .venv/.installed-*
touch "$stamp"
