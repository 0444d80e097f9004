#!/usr/bin/env bash
# Installs everything (scripts/setup.sh) and runs Cairn on its embedded default: SQLite and
# local state under CAIRN_HOME (default ./.cairn), listening on 127.0.0.1:8080.
# Arguments are passed to `cairn serve` (e.g. --port 9090).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .build/debug/cairn serve "$@"
