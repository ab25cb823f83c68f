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
# Everything but the Bevy viewer: no Bevy in this build.
cargo test --workspace --exclude embody-viewer "$@"

# The viewer (`--features viewer`, a long first build) in a real window on a virtual X server,
# rendering through Mesa's lavapipe. EMBODY_TEST_VIEWER=0 skips it.
if [ "${EMBODY_TEST_VIEWER:-1}" = 0 ]; then
  echo "test: viewer skipped (EMBODY_TEST_VIEWER=0)"
  exit 0
fi
viewer_packages="xvfb xauth mesa-vulkan-drivers libvulkan1 libxkbcommon-x11-0 libxcursor1 libxrandr2 libxi6 libx11-xcb1"
missing=$(for p in $viewer_packages; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  else
    echo "test: the viewer test needs these packages: $missing (or EMBODY_TEST_VIEWER=0)" >&2
    exit 1
  fi
fi
cargo test --features viewer --test viewer_e2e "$@"
