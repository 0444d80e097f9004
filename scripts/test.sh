#!/usr/bin/env bash
# Runs the whole test suite against embedded SQLite and a private PostgreSQL on loopback.
# Installs what it needs first (scripts/setup.sh). The output ends with Swift Testing's summary.
set -euo pipefail
cd "$(dirname "$0")/.."

# Formatting first: it takes seconds, and a tree that is not formatted fails before the build.
swift format lint --strict --recursive Sources Tests Package.swift

bash scripts/setup.sh

# shellcheck source=scripts/test-postgres.sh
source scripts/test-postgres.sh
trap stop_test_postgres EXIT
start_test_postgres

export CAIRN_REQUIRE_POSTGRES=1
# The tests parse scans in process: Tesseract's OpenMP threads would cost more than they save
# (see Sources/CairnRuntime/OpenMPThreadLimit.swift, which does this for `cairn` itself).
export OMP_THREAD_LIMIT="${OMP_THREAD_LIMIT:-1}"
export CAIRN_TEST_TOOLS="$PWD/.venv/bin"
export CAIRN_BINARY="$PWD/.build/debug/cairn"
export CAIRN_SHARED_DATA="${CAIRN_SHARED_DATA:-$(cd .. && pwd)/shared/data}"
export CAIRN_TEST_MODEL_DIR="${CAIRN_HOME:-$PWD/.cairn}/models/all-MiniLM-L6-v2"

# The log is kept so that, when something fails, the failures can be repeated just above the
# closing summary: CI shows only the end of a long run, where they would otherwise be lost.
log="$(mktemp)"
status=0
# A run takes 6–15 minutes. One that hangs would otherwise hold CI until its own limit and end
# without a word on where; after 30 minutes it is stopped and the tests still open are named.
timeout --kill-after=30s 30m swift test --skip-build 2>&1 | tee "$log" || status=$?
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    echo "The test run did not finish within 30 minutes. Tests that started and never ended:"
    python3 scripts/unfinished-tests.py "$log"
fi
if [ "$status" -ne 0 ]; then
    echo "What failed, repeated from above:"
    grep -A4 -E '^✘ (Test|Suite) .*(recorded an issue|failed)' "$log" | grep -v -E '^✘ Test run with' | head -120 || true
    grep -E '^[✔✘] Test run with' "$log" | tail -1 || true
fi
rm -f "$log"
exit "$status"
