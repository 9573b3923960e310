#!/usr/bin/env bash
# Builds provium, provium-runner, provium-agent and the bundled default guest
# (kernel from Debian's linux-image-cloud-amd64) into ./build.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build/build.ninja ]; then
  if [ "${CI:-}" = true ]; then
    # CI builds once and never attaches a debugger: -O1 with line tables only
    # (enough for backtraces) compiles about a third faster than -O2 -g.
    meson setup build -Doptimization=1 -Dcpp_args=-g1 -Dc_args=-g1 >/dev/null
  else
    meson setup build >/dev/null
  fi
fi
ninja -C build
