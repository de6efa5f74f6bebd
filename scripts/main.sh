#!/usr/bin/env bash
# Sets up a fresh machine (see setup.sh) and runs the main job: index the CISI and Vaswani
# collections from ../shared/data, answer their queries, print nDCG@10 and queries/second.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ltrr evaluate "$@"
