#!/usr/bin/env bash
# Installs everything Provium needs to build, run and test on Debian 12.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  exec sudo "$0" "$@"
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  g++ meson ninja-build pkg-config python3 \
  capnproto libcapnp-dev liblua5.4-dev libseccomp-dev libcap-dev \
  libtomlplusplus-dev libcli11-dev libfmt-dev libssl-dev nlohmann-json3-dev libgtest-dev libmsgpack-cxx-dev python3-msgpack \
  libnl-3-dev libnl-route-3-dev libnftables-dev \
  qemu-system-x86 busybox-static lz4 cpio kmod xz-utils zstd binutils procps iproute2 \
  >/dev/null
echo "install-deps: done"
