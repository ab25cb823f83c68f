#!/usr/bin/env bash
# The test command: sets up the project's environment, then runs every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
# --train: PyTorch and diffusers, for the tests that export a fresh model and run the PyTorch
# reference of `embody bench policy`.
scripts/setup.sh --train
cargo test --workspace "$@"
