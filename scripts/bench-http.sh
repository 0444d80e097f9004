#!/usr/bin/env bash
# HTTP benchmark: authenticated GET /v1/me on a release build, driven by wrk on loopback.
#
# Anchors, measured in the same run on the same machine:
#   - GET /healthz on the same server (no authentication, no database): the cost of auth;
#   - nginx answering a fixed 200 (the ceiling for any HTTP server on these cores).
# wrk and the server share the machine's cores, as they would in the figures we compare with.
#
# Each measurement runs RUNS times; the median run (by req/s) is reported, since these
# machines are noisy.
#
#   DURATION=10s RUNS=3 CONNECTIONS=64 THREADS=2 bash scripts/bench-http.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-10s}"
RUNS="${RUNS:-3}"
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-2}"
PORT=18080
NGINX_PORT=18081

command -v wrk >/dev/null || { echo "wrk is missing: run scripts/setup.sh" >&2; exit 1; }
if ! command -v nginx >/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then apt-get install -y -qq nginx-light >/dev/null; else sudo apt-get install -y -qq nginx-light >/dev/null; fi
fi

swift build -c release --product cairn >&2
BIN=.build/release/cairn
WORK="$(mktemp -d)"
cleanup() {
  [ -n "${SERVER_PID:-}" ] && kill "$SERVER_PID" 2>/dev/null || true
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

export CAIRN_HOME="$WORK/home"
"$BIN" tenant create bench >/dev/null 2>&1
KEY="$("$BIN" key create --tenant bench --role viewer 2>/dev/null | tail -1)"
# Default log level: every request writes its JSON access-log line, as in production.
"$BIN" serve --port "$PORT" 2>"$WORK/server.log" &
SERVER_PID=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done

cat >"$WORK/nginx.conf" <<NGINX
worker_processes 2;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  server { listen 127.0.0.1:$NGINX_PORT; location / { return 200 "ok"; } }
}
NGINX
nginx -c "$WORK/nginx.conf"

# Prints "requests_per_second p99_milliseconds" for one wrk run.
measure_once() {
  local output
  output="$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@")"
  local rps p99
  rps="$(awk '/Requests\/sec/ {print $2}' <<<"$output")"
  p99="$(awk '$1 == "99%" {print $2}' <<<"$output")"
  # wrk prints latencies with units (us, ms, s); normalise to milliseconds.
  p99="$(awk -v v="$p99" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /[0-9]s$/ && v !~ /ms$/) n *= 1000; printf "%.2f", n }')"
  echo "$rps $p99"
}

# The median of RUNS runs, by requests per second.
measure() {
  for _ in $(seq 1 "$RUNS"); do measure_once "$@"; done | sort -n | awk '{ lines[NR] = $0 } END { print lines[int((NR + 1) / 2)] }'
}

curl -fs -H "Authorization: Bearer $KEY" "http://127.0.0.1:$PORT/v1/me" >/dev/null
read -r ME_RPS ME_P99 <<<"$(measure -H "Authorization: Bearer $KEY" "http://127.0.0.1:$PORT/v1/me")"
read -r HEALTH_RPS HEALTH_P99 <<<"$(measure "http://127.0.0.1:$PORT/healthz")"
read -r NGINX_RPS NGINX_P99 <<<"$(measure "http://127.0.0.1:$NGINX_PORT/")"

echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION, median of $RUNS runs, on $(nproc) cores"
printf '%-32s %12s %10s\n' "endpoint" "req/s" "p99 ms"
printf '%-32s %12s %10s\n' "GET /v1/me (API key)" "$ME_RPS" "$ME_P99"
printf '%-32s %12s %10s\n' "GET /healthz (no auth)" "$HEALTH_RPS" "$HEALTH_P99"
printf '%-32s %12s %10s\n' "nginx fixed 200 (anchor)" "$NGINX_RPS" "$NGINX_P99"
awk -v a="$ME_RPS" -v b="$HEALTH_RPS" -v c="$NGINX_RPS" \
  'BEGIN { printf "ratio /v1/me : /healthz = %.2f\nratio /v1/me : nginx = %.2f\n", a / b, a / c }'
