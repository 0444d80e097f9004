#!/usr/bin/env bash
# Installs everything (scripts/setup.sh), seeds the demo policies and runs Cairn on its embedded
# default: SQLite and local state under CAIRN_HOME (default ./.cairn), listening on 127.0.0.1:8080.
# Arguments are passed to `cairn serve` (e.g. --port 9090).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The demo policies, rendered as PDFs and approved in the tenant 'default', so that
# `cairn ask "…"` answers at once. Seeding again changes nothing.
.build/debug/cairn demo seed
exec .build/debug/cairn serve "$@"
