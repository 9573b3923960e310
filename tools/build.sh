#!/usr/bin/env bash
# Builds provium, provium-runner, provium-agent and the bundled default guest
# (kernel from Debian's linux-image-cloud-amd64) into ./build.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build/build.ninja ]; then
  meson setup build >/dev/null
fi
ninja -C build
