#!/usr/bin/env bash
# Sets up what embody needs beyond the Rust toolchain, inside the repository:
# a Python virtual environment in .venv with the pinned packages of scripts/requirements.txt
# (the MuJoCo reference for `embody bench sim --reference mujoco`).
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$py" -m venv .venv
fi
stamp=.venv/.embody-requirements
if ! cmp -s scripts/requirements.txt "$stamp" 2>/dev/null; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r scripts/requirements.txt
  cp scripts/requirements.txt "$stamp"
fi
echo "setup: .venv ready ($(.venv/bin/python --version))"
