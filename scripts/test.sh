#!/usr/bin/env bash
# The test command: sets up the project's environment, then runs every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo test --workspace "$@"
