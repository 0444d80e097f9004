#!/usr/bin/env bash
# Installs everything Cairn needs on a fresh Debian 12 machine (with the Swift toolchain on
# PATH) and builds it. Safe to run again: every step is idempotent.
#
#   CAIRN_SETUP_SKIP_APT=1   skip apt-get (packages already present)
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '==> %s\n' "$*" >&2; }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# System packages: PostgreSQL for the production engine and its tests, promtool (in
# `prometheus`) to lint /metrics, wrk for the HTTP benchmark, python3-venv for the test tools;
# MuPDF (static only, with the libraries it links against), Tesseract with English, OpenBLAS;
# mutool (`mupdf-tools`) is the parsing benchmark's anchor.
APT_PACKAGES=(
  postgresql prometheus wrk python3-venv python3-pip curl ca-certificates
  libmupdf-dev libmujs-dev libgumbo-dev libopenjp2-7-dev libjbig2dec0-dev libfreetype-dev libharfbuzz-dev
  libjpeg62-turbo-dev zlib1g-dev mupdf-tools
  libtesseract-dev libleptonica-dev tesseract-ocr-eng
  libopenblas-dev
)

if [ "${CAIRN_SETUP_SKIP_APT:-0}" != 1 ]; then
  missing=()
  for package in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    as_root apt-get update -qq
    # Debian's postgresql package starts a cluster of its own; the tests use a private one.
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# Python tools the test suite drives: the OpenAPI validator and schemathesis.
if [ ! -x .venv/bin/schemathesis ] || [ ! -x .venv/bin/openapi-spec-validator ]; then
  log "Python test tools into .venv"
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check 'openapi-spec-validator>=0.7' 'schemathesis>=3.39,<5'
fi

log "swift build"
swift build --build-tests
