#!/usr/bin/env bash
# Installs everything ltrr_fast needs on a fresh Debian machine: system libraries, a virtual
# environment in .venv and the package with its dev extras. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pkg in libroaring-dev libstemmer-dev g++ python3-venv; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}"
fi

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[dev]"
