#!/usr/bin/env bash
# Sets up a fresh machine (see setup.sh) and runs the main job: `ltrr simulate` on the Vaswani
# collection and on simulated Spotify listeners from ../shared/data. Prints each result table
# and writes reports/<collection>/ (summary.md, metrics.json, PNG plots). Extra arguments go
# to `ltrr simulate` (e.g. --rounds 500 for a quick run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
for collection in vaswani music; do
    .venv/bin/ltrr simulate --collection "$collection" --rounds 2000 --out reports "$@"
done
