#!/usr/bin/env bash
# Runs the whole test suite against embedded SQLite and a private PostgreSQL on loopback.
# Installs what it needs first (scripts/setup.sh). The output ends with Swift Testing's summary.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

# shellcheck source=scripts/test-postgres.sh
source scripts/test-postgres.sh
trap stop_test_postgres EXIT
start_test_postgres

export CAIRN_REQUIRE_POSTGRES=1
export CAIRN_TEST_TOOLS="$PWD/.venv/bin"
export CAIRN_BINARY="$PWD/.build/debug/cairn"
export CAIRN_SHARED_DATA="${CAIRN_SHARED_DATA:-$(cd .. && pwd)/shared/data}"
export CAIRN_TEST_MODEL_DIR="${CAIRN_HOME:-$PWD/.cairn}/models/all-MiniLM-L6-v2"

swift test --skip-build
