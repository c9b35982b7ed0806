#!/usr/bin/env bash
# pywb for tests/test_pywb.py (a real replay of an exported WARC), in a venv of its own:
# pywb 2.10 pins redis==2.10.6 (and pyOpenSSL<26.2, werkzeug==3.1.7), which our dev extras'
# redis>=5 cannot share a venv with. Installed from PyPI only when missing; quiet.
#     ci/pywb.sh      # makes ${GOVCRAWLER_PYWB_VENV:-.venv-pywb} with pywb's wayback and wb-manager
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${GOVCRAWLER_PYWB_VENV:-.venv-pywb}
VERSION="2.10.*"
if [ -x "$VENV/bin/wayback" ] && "$VENV/bin/python" -c \
    "import importlib.metadata as m, sys; sys.exit(not m.version('pywb').startswith('2.10.'))"; then
    exit 0
fi
"${PYTHON:-python3}" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "pywb==$VERSION" >&2
