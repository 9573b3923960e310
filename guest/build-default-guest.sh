#!/usr/bin/env bash
# Builds Provium's bundled default guest: a Debian cloud kernel plus a tiny
# initramfs whose /init is provium-agent.
#
#   build-default-guest.sh OUTDIR AGENT_BINARY
#
# Writes to OUTDIR:
#   vmlinux             uncompressed kernel ELF (boots through PVH, the fastest
#                       path under TCG); the bzImage itself if no ELF is found
#   initramfs.cpio      uncompressed newc archive: agent as /init, busybox,
#                       the virtio modules, a few /etc files
#   agent-overlay.cpio  just /sbin/provium-agent, to append to a user's initrd
#   kernel-version      e.g. 6.1.0-56-cloud-amd64
#   cmdline             the recommended kernel command line
#
# The kernel package is the one linux-image-cloud-amd64 depends on, fetched with
# `apt-get download` into ${PROVIUM_GUEST_CACHE:-~/.cache/provium/guest-debs}
# once. Overrides: PROVIUM_GUEST_KERNEL_DEB=/path/to/linux-image-*.deb,
# PROVIUM_GUEST_BUSYBOX=/path/to/static/busybox.
# Re-running with the same agent and kernel only touches the outputs.
set -euo pipefail

readonly KERNEL_META_PACKAGE=linux-image-cloud-amd64
# Load order matters: each module after the ones it needs. Dependencies that
# are not listed are added (see add_module_with_dependencies).
# button + evdev: the ACPI power button reaches the agent as KEY_POWER (agent/power_button.h).
readonly MODULES=(virtio virtio_ring virtio_mmio virtio_console failover net_failover virtio_net virtio_blk virtio-rng
                  button evdev)
# quiet: the serial console is slow under TCG. loglevel=1 still prints
# KERN_EMERG, i.e. a panic's message and trace (loglevel=0 hides even those).
# tsc_early_khz: without it about one microvm boot in three hangs calibrating
# the TSC. cryptomgr.notests saves ~0.5 s. panic=-1: reboot at once on a
# panic, which ends QEMU when it runs with -no-reboot, instead of hanging the
# test until its timeout.
readonly CMDLINE="console=ttyS0 quiet loglevel=1 tsc=reliable no_timer_check tsc_early_khz=2000000 cryptomgr.notests mitigations=off panic=-1"
readonly OUTPUTS=(vmlinux initramfs.cpio agent-overlay.cpio kernel-version cmdline)

die() {
  echo "build-default-guest: $*" >&2
  exit 1
}

note() { echo "build-default-guest: $*" >&2; }

[[ $# -eq 2 ]] || die "usage: $0 OUTDIR AGENT_BINARY"
OUTDIR=$1
AGENT=$2
[[ -x $AGENT ]] || die "agent binary \`$AGENT' is missing or not executable"
# Without HOME (some CI environments), fall back where the supervisor does.
CACHE=${PROVIUM_GUEST_CACHE:-${HOME:-/tmp/provium-cache-$(id -u)}/.cache/provium/guest-debs}
SCRIPT_PATH=$(readlink -f "${BASH_SOURCE[0]}")
mkdir -p "$OUTDIR" "$CACHE"

# --- which kernel --------------------------------------------------------------

# Prints the path of the kernel .deb to use, downloading it if needed.
kernel_deb() {
  if [[ -n ${PROVIUM_GUEST_KERNEL_DEB:-} ]]; then
    [[ -f $PROVIUM_GUEST_KERNEL_DEB ]] || die "PROVIUM_GUEST_KERNEL_DEB=$PROVIUM_GUEST_KERNEL_DEB does not exist"
    echo "$PROVIUM_GUEST_KERNEL_DEB"
    return
  fi
  local package version file
  package=$(apt-cache depends "$KERNEL_META_PACKAGE" 2>/dev/null |
    awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }') || true
  if [[ -z $package ]]; then
    # Offline with a warm cache still works; otherwise say what to do.
    file=$(ls -1 "$CACHE"/linux-image-*-cloud-amd64_*.deb 2>/dev/null | sort -V | tail -n 1) || true
    if [[ -n $file ]]; then
      note "apt cannot resolve $KERNEL_META_PACKAGE; using cached $(basename "$file")"
      echo "$file"
      return
    fi
    die "apt does not know $KERNEL_META_PACKAGE (are the package lists missing?). Run \`apt-get update' (as root) and try again, or set PROVIUM_GUEST_KERNEL_DEB to a downloaded linux-image-*-cloud-amd64 .deb."
  fi
  version=$(apt-cache show --no-all-versions "$package" 2>/dev/null | awk '$1 == "Version:" { print $2; exit }')
  [[ -n $version ]] || die "apt-cache show $package gave no version; run \`apt-get update'"
  # apt-get download names files package_version_arch.deb with ':' escaped.
  file="$CACHE/${package}_${version//:/%3a}_amd64.deb"
  if [[ ! -f $file ]]; then
    note "downloading $package $version into $CACHE"
    (cd "$CACHE" && apt-get download "$package=$version" >&2) ||
      die "apt-get download $package=$version failed (no network? stale lists? try \`apt-get update')"
    [[ -f $file ]] || die "apt-get download did not produce $file"
  fi
  echo "$file"
}

# --- helpers -------------------------------------------------------------------

hash_of() { sha256sum "$1" | cut -d' ' -f1; }

# Finds the vmlinux ELF inside a Debian bzImage: the payload is an LZ4 legacy
# frame (magic 02 21 4c 18). Tries each occurrence of the magic in order.
extract_vmlinux() {
  local bzimage=$1 out=$2 offset
  for offset in $(LC_ALL=C grep -obUaP '\x02\x21\x4c\x18' "$bzimage" | cut -d: -f1); do
    # lz4 complains about the bytes that follow the frame; the ELF check decides.
    tail -c +$((offset + 1)) "$bzimage" | lz4 -dc >"$out" 2>/dev/null || true
    if [[ $(head -c 4 "$out" | od -An -tx1 | tr -d ' ') == 7f454c46 ]]; then
      return 0
    fi
  done
  note "no LZ4-compressed ELF found in $(basename "$bzimage"); using the bzImage as is (slower boot)"
  cp "$bzimage" "$out"
}

# Drops the appended PKCS#7 signature: the kernel does not enforce signatures
# here, and not checking them saves ~0.25 s of boot. Layout at the end of a
# signed module: signature, struct module_signature (12 bytes, big-endian
# sig_len in its last 4), then the 28-byte magic.
strip_module_signature() {
  local module=$1 size sig_len
  local -r magic='~Module signature appended~'
  [[ $(tail -c 28 "$module" | head -c 27) == "$magic" ]] || return 0
  size=$(stat -c %s "$module")
  sig_len=$(tail -c 32 "$module" | head -c 4 | od -An -tu1 | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }')
  truncate -s $((size - 28 - 12 - sig_len)) "$module"
}

# Copies a module (decompressing if needed) to $dest/NAME.ko.
install_module() {
  local source=$1 dest=$2 name
  name=$(basename "$source")
  name=${name%%.ko*}
  case $source in
    *.ko) cp "$source" "$dest/$name.ko" ;;
    *.ko.xz) xz -dc "$source" >"$dest/$name.ko" ;;
    *.ko.zst) zstd -q -dc "$source" >"$dest/$name.ko" ;;
    *.ko.gz) gzip -dc "$source" >"$dest/$name.ko" ;;
    *) die "unknown module format: $source" ;;
  esac
  strip_module_signature "$dest/$name.ko"
  echo "$name.ko"
}

# Module names use '-' and '_' interchangeably.
find_module_file() {
  local tree=$1 name=$2 pattern
  pattern=$(sed 's/[-_]/[-_]/g' <<<"$name")
  find "$tree" -regextype posix-extended -regex ".*/${pattern}\.ko(\.(xz|zst|gz))?" -print -quit
}

declare -A MODULE_DONE=()
MODULE_ORDER=()
# Depth-first, dependencies before dependents, each once.
add_module_with_dependencies() {
  local tree=$1 dest=$2 name=$3 file key dep
  key=${name//-/_}
  [[ -z ${MODULE_DONE[$key]:-} ]] || return 0
  MODULE_DONE[$key]=1
  file=$(find_module_file "$tree" "$name")
  if [[ -z $file ]]; then
    note "module $name is not in this kernel (built in?); skipping"
    return 0
  fi
  local deps
  deps=$(modinfo -F depends "$file" 2>/dev/null || true)
  for dep in ${deps//,/ }; do
    add_module_with_dependencies "$tree" "$dest" "$dep"
  done
  MODULE_ORDER+=("$(install_module "$file" "$dest")")
}

# Uncompressed newc, owned by root, fixed timestamps: byte-identical rebuilds.
pack_cpio() {
  local root=$1 out=$2
  find "$root" -mindepth 1 -exec touch -h -d @0 {} +
  (cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --owner=0:0 --reproducible --quiet) >"$out"
}

static_busybox() {
  if [[ -n ${PROVIUM_GUEST_BUSYBOX:-} ]]; then
    echo "$PROVIUM_GUEST_BUSYBOX"
    return
  fi
  if dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed'; then
    echo /bin/busybox
    return
  fi
  local deb
  deb=$(ls -1 "$CACHE"/busybox-static_*.deb 2>/dev/null | sort -V | tail -n 1) || true
  if [[ -z $deb ]]; then
    note "downloading busybox-static into $CACHE"
    (cd "$CACHE" && apt-get download busybox-static >&2) ||
      die "cannot get busybox-static: install it, run \`apt-get update', or set PROVIUM_GUEST_BUSYBOX"
    deb=$(ls -1 "$CACHE"/busybox-static_*.deb | sort -V | tail -n 1)
  fi
  mkdir -p "$WORK/busybox"
  dpkg -x "$deb" "$WORK/busybox"
  echo "$WORK/busybox/bin/busybox"
}

# --- skip if nothing changed ---------------------------------------------------

DEB=$(kernel_deb)
STAMP="$OUTDIR/.default-guest.stamp"
STAMP_CONTENT="agent $(hash_of "$AGENT")
kernel $(basename "$DEB")
script $(hash_of "$SCRIPT_PATH")
cmdline $CMDLINE"
all_outputs_present() {
  local output
  for output in "${OUTPUTS[@]}"; do [[ -s $OUTDIR/$output ]] || return 1; done
}
if all_outputs_present && [[ -f $STAMP && $(cat "$STAMP") == "$STAMP_CONTENT" ]]; then
  # Newer than the inputs, so the build system sees the target as up to date.
  for output in "${OUTPUTS[@]}"; do touch "$OUTDIR/$output"; done
  exit 0
fi

# --- build ---------------------------------------------------------------------

WORK=$(mktemp -d "$OUTDIR/.build-default-guest.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# The kernel-derived parts (vmlinux, stripped modules, their order) depend only
# on the .deb; keep them next to it so rebuilding for a new agent is quick.
prepare_kernel() {
  local target=$1 scratch version module
  [[ -f $target/complete ]] && return 0
  scratch=$(mktemp -d "$CACHE/.extract.XXXXXX")
  dpkg -x "$DEB" "$scratch/deb"
  version=$(ls -1 "$scratch/deb/lib/modules" | head -n 1)
  [[ -n $version ]] || die "$(basename "$DEB") has no lib/modules/<version>"
  [[ -f $scratch/deb/boot/vmlinuz-$version ]] || die "$(basename "$DEB") has no boot/vmlinuz-$version"
  extract_vmlinux "$scratch/deb/boot/vmlinuz-$version" "$scratch/vmlinux"
  mkdir -p "$scratch/modules"
  for module in "${MODULES[@]}"; do
    add_module_with_dependencies "$scratch/deb/lib/modules/$version/kernel" "$scratch/modules" "$module"
  done
  printf '%s\n' "${MODULE_ORDER[@]}" >"$scratch/modules/order"
  echo "$version" >"$scratch/kernel-version"
  rm -rf "$scratch/deb"
  touch "$scratch/complete"
  # One kernel at a time: older extractions are dead weight.
  find "$CACHE/extracted" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
  mv "$scratch" "$target"
}
KERNEL_PARTS="$CACHE/extracted/$(basename "$DEB" .deb)-$(hash_of "$SCRIPT_PATH" | head -c 12)"
mkdir -p "$CACHE/extracted"
prepare_kernel "$KERNEL_PARTS"
KERNEL_VERSION=$(cat "$KERNEL_PARTS/kernel-version")
cp "$KERNEL_PARTS/vmlinux" "$WORK/vmlinux"

ROOT="$WORK/root"
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp,proc,sys,dev,run,lib/modules}
chmod 1777 "$ROOT/tmp"
chmod 0700 "$ROOT/root"
cp -r "$KERNEL_PARTS/modules" "$ROOT/lib/modules/provium"

BUSYBOX=$(static_busybox)
install -m 0755 "$BUSYBOX" "$ROOT/bin/busybox"
# --list-full gives each applet's usual path (bin/sh, usr/bin/env, ...).
while read -r applet; do
  case $applet in
    */init | linuxrc | */linuxrc) continue ;;  # the agent is the init here
  esac
  [[ -e $ROOT/$applet ]] && continue
  mkdir -p "$ROOT/$(dirname "$applet")"
  ln -s /bin/busybox "$ROOT/$applet"
done < <("$ROOT/bin/busybox" --list-full)

# Debug info is most of the agent's size; the guest never needs it.
strip --strip-all -o "$ROOT/init" "$AGENT"
chmod 0755 "$ROOT/init"
ln -s /init "$ROOT/sbin/provium-agent"

cat >"$ROOT/etc/hosts" <<'EOF'
127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
EOF
cat >"$ROOT/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$ROOT/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
echo provium >"$ROOT/etc/hostname"

pack_cpio "$ROOT" "$WORK/initramfs.cpio"

OVERLAY="$WORK/overlay"
mkdir -p "$OVERLAY/sbin"
strip --strip-all -o "$OVERLAY/sbin/provium-agent" "$AGENT"
chmod 0755 "$OVERLAY/sbin/provium-agent"
pack_cpio "$OVERLAY" "$WORK/agent-overlay.cpio"

echo "$KERNEL_VERSION" >"$WORK/kernel-version"
echo "$CMDLINE" >"$WORK/cmdline"

for output in "${OUTPUTS[@]}"; do mv -f "$WORK/$output" "$OUTDIR/$output"; done
echo "$STAMP_CONTENT" >"$STAMP"
