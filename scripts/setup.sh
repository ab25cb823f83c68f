#!/usr/bin/env bash
# Sets up what embody needs beyond the Rust toolchain, inside the repository:
# a Python virtual environment in .venv with the pinned packages of scripts/requirements.txt
# (ONNX Runtime for the diffusion policy, the MuJoCo reference of `embody bench sim`, MCAP
# readers). With --train it adds scripts/requirements-train.txt (PyTorch, ONNX, diffusers:
# training, export and the reference of `embody bench policy`; about 5 GB).
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$py" -m venv .venv
fi
install() {
  local req=$1 stamp=.venv/.embody-$(basename "$1")
  if ! cmp -s "$req" "$stamp" 2>/dev/null; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$req"
    cp "$req" "$stamp"
  fi
}
install scripts/requirements.txt
if [ "${1:-}" = "--train" ]; then
  install scripts/requirements-train.txt
fi
echo "setup: .venv ready ($(.venv/bin/python --version))"
