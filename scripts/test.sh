#!/usr/bin/env bash
# The test command: sets up the project's environment, then runs every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
# --train: PyTorch and diffusers, for the tests that export a fresh model and run the PyTorch
# reference of `embody bench policy`.
scripts/setup.sh --train
# The ROS 2 tests run real DDS traffic inside a private network namespace (nothing leaves the
# machine): they need `unshare` (util-linux), `ip` (iproute2) and root or user namespaces.
if ! command -v ip >/dev/null || ! command -v unshare >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq iproute2 util-linux >/dev/null
  else
    echo "test: the ROS 2 tests need 'ip' (iproute2) and 'unshare' (util-linux)" >&2
    exit 1
  fi
fi
cargo test --workspace "$@"
