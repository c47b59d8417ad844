#!/usr/bin/env bash
# Build the Raspberry Pi 4 / CM4 SD-card image in one command:
#   image/build.sh            -> target/image/gnss-timeserver-arm64.img
# Debian 12 arm64 packages (mmdebstrap, dpkg scripts under qemu-user), the
# daemon cross-compiled for aarch64, filesystems made from directories and
# partitioned on a file: no root, no loop mounts needed for the image itself.
# Layout (MBR): 1 boot FAT32 | 2 root ext4, mounted read-only | 3 data ext4,
# grown to the card at first boot. Environment:
#   OUT=DIR            output directory (default target/image)
#   PPS_GPIO=N         GPIO of the receiver's 1PPS (default 18)
#   GTS_BIN=FILE       use this aarch64 daemon binary instead of building it
#   GTS_CACHE=DIR      .debs and the last Debian root (keyed by the package
#                      list and hooks), kept between builds (default ~/.cache/gnss-timeserver)
#   MIRROR=URL         Debian mirror (default http://deb.debian.org/debian)
#   ROOT_ONLY=1        only build (or find) the cached Debian root, then stop:
#                      it needs no daemon, so CI starts it first and lets its
#                      waiting overlap the cargo builds (.ci/run)
set -euo pipefail
started=$(date +%s)
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
OUT=${OUT:-$repo/target/image}
PPS_GPIO=${PPS_GPIO:-18}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
GTS_CACHE=${GTS_CACHE:-${HOME:-/root}/.cache/gnss-timeserver}
TARGET=aarch64-unknown-linux-gnu

die() { echo "image/build.sh: error: $*" >&2; exit 1; }
step() { echo "== $(date -u +%H:%M:%S) $*"; }

# Every tool with the Debian package that brings it, checked before anything runs.
missing=()
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$1 (Debian package $2)"); }
need mmdebstrap mmdebstrap
need mkfs.ext4 e2fsprogs
need e2fsck e2fsprogs
need mkfs.vfat dosfstools
need mcopy mtools
need mmd mtools
need sfdisk fdisk
need fdtput device-tree-compiler
need fdtget device-tree-compiler
need dtc device-tree-compiler
need depmod kmod
need arch-test arch-test
need qemu-aarch64-static qemu-user-static
ROOT_ONLY=${ROOT_ONLY:-0}
if [ -z "${GTS_BIN:-}" ] && [ "$ROOT_ONLY" != 1 ]; then
    need cargo "rustup (https://rustup.rs)"
    need aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu
fi
[ ${#missing[@]} -eq 0 ] || die "missing tools: ${missing[*]}"
[[ "$PPS_GPIO" =~ ^[0-9]+$ ]] && [ "$PPS_GPIO" -le 57 ] || die "PPS_GPIO=$PPS_GPIO: expected a GPIO number 0..57"
[ "$(id -u)" -eq 0 ] || die "run as root: mmdebstrap must create files owned by the image's users (root, gnss-timeserver)"
arch-test arm64 >/dev/null 2>&1 || die "this host cannot run arm64 binaries: install qemu-user-static and binfmt-support, and mount binfmt_misc (mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc; update-binfmts --enable qemu-aarch64)"

# 1. The daemon.
if [ "$ROOT_ONLY" = 1 ]; then
    :
elif [ -z "${GTS_BIN:-}" ]; then
    step "cross-compiling the daemon for $TARGET (profile image)"
    rustup target list --installed 2>/dev/null | grep -qx "$TARGET" \
        || die "Rust target $TARGET missing: rustup target add $TARGET"
    (cd "$repo" && cargo build --locked --profile image --target "$TARGET" --bin gnss-timeserver)
    GTS_BIN=${CARGO_TARGET_DIR:-$repo/target}/$TARGET/image/gnss-timeserver
fi
if [ "$ROOT_ONLY" != 1 ]; then
    [ -x "$GTS_BIN" ] || die "daemon binary $GTS_BIN not found"
    file_out=$(od -An -tx1 -j18 -N2 "$GTS_BIN" | tr -d ' ')
    [ "$file_out" = "b700" ] || die "$GTS_BIN is not an aarch64 ELF binary"
fi

# 2. The Debian root (packages, one trimmed initramfs, the daemon's user),
# built by mmdebstrap or reused from the cache when nothing it depends on changed.
packages=(
    systemd systemd-sysv udev dbus kmod
    linux-image-arm64 raspi-firmware initramfs-tools zstd
    snmpd openssh-server
    e2fsprogs fdisk tzdata iproute2 procps
)
# Where the wall time of a from-scratch root went (measured, README): dpkg's
# fsyncs on a busy disk, not emulation. The root is a throwaway tree until
# mkfs copies it, so nothing here needs to reach the disk before that:
# eatmydata (mmdebstrap's hook) turns every sync of dpkg and its maintainer
# scripts into a no-op, force-unsafe-io covers what runs outside it.
mm_opts=(
    --variant=minbase --architectures=arm64 --mode=root
    --include="$(IFS=,; echo "${packages[*]}")"
    --aptopt='APT::Install-Recommends "false"'
    --aptopt='Acquire::Retries "3"'
    --dpkgopt=force-unsafe-io
    --hook-dir=/usr/share/mmdebstrap/hooks/eatmydata
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*'
    --dpkgopt='path-exclude=/usr/share/info/*'
)
key=$( (echo "${packages[*]}" "$MIRROR" "${mm_opts[*]}"; cat "$here/hooks/"*.sh) | sha256sum | cut -c1-16)
base="$GTS_CACHE/base-$key"
apt_cache="$GTS_CACHE/apt"
mkdir -p "$apt_cache"
if [ -d "$base" ]; then
    step "Debian root: reusing $base"
else
    step "mmdebstrap: Debian 12 arm64 minbase + ${#packages[@]} packages"
    rm -rf "$GTS_CACHE"/base-*
    [ -d /usr/share/mmdebstrap/hooks/eatmydata ] \
        || die "mmdebstrap without its eatmydata hook (/usr/share/mmdebstrap/hooks/eatmydata): need mmdebstrap >= 1.3 (Debian 12)"
    nice -n 10 mmdebstrap "${mm_opts[@]}" \
        --skip=download/empty \
        --setup-hook='mkdir -p "$1"/var/cache/apt/archives' \
        --setup-hook="sync-in $apt_cache /var/cache/apt/archives" \
        --essential-hook="$here/hooks/divert-initramfs.sh \"\$1\"" \
        --customize-hook="sync-out /var/cache/apt/archives $apt_cache" \
        --customize-hook="$here/hooks/customize.sh \"\$1\"" \
        bookworm "$base.tmp" \
        "deb $MIRROR bookworm main non-free-firmware" \
        "deb $MIRROR bookworm-updates main non-free-firmware" \
        "deb ${MIRROR%/debian}/debian-security bookworm-security main non-free-firmware" \
        || die "mmdebstrap failed (see above)"
    mv "$base.tmp" "$base"
    echo "Debian root from scratch: $(( $(date +%s) - started )) s"
fi
if [ "$ROOT_ONLY" = 1 ]; then
    echo "Debian root ready: $base"
    exit 0
fi
work="$OUT/work"
rm -rf "$work"
mkdir -p "$work"
root="$work/root"
step "the project's files"
cp -a "$base" "$root"
"$here/install-files.sh" "$root" "$GTS_BIN"

# 3. Boot partition: Pi 4 firmware, kernel, initramfs, patched device trees.
step "boot partition"
boot="$work/boot"
mkdir -p "$boot"
kver=$(ls "$root/usr/lib/modules")
[ "$(echo "$kver" | wc -l)" -eq 1 ] || die "expected one kernel, found: $kver"
cp "$root/usr/lib/raspi-firmware/start4.elf" "$root/usr/lib/raspi-firmware/fixup4.dat" "$boot/"
cp "$root/boot/vmlinuz-$kver" "$boot/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$boot/initrd.img"
for dtb in bcm2711-rpi-4-b bcm2711-rpi-cm4-io; do
    src="$root/usr/lib/linux-image-$kver/broadcom/$dtb.dtb"
    [ -f "$src" ] || die "device tree $dtb.dtb missing from linux-image-$kver"
    cp "$src" "$boot/$dtb.dtb"
    "$here/dt-patch.sh" "$boot/$dtb.dtb" "$PPS_GPIO"
done
cp "$here/boot/config.txt" "$boot/config.txt"
cp "$repo/board/cmdline.txt" "$boot/cmdline.txt"
# The image's own kernel and initramfs stay out of the read-only root's /boot
# copies' way: the boot partition is what the firmware reads.
rm -rf "$root"/boot/vmlinuz-* "$root"/boot/initrd.img-* "$root"/boot/System.map-* "$root"/boot/config-* "$root"/boot/firmware/*

# 4. Filesystems from directories, then one partitioned file.
step "filesystems"
data="$work/data"
mv "$root/data-template" "$data"
mib() { echo $(( ($1 + 1048575) / 1048576 )); }
boot_mib=256
root_used=$(du -sb --apparent-size "$root" | cut -f1)
root_mib=$(( $(mib "$root_used") * 120 / 100 + 64 ))
data_mib=64
img="$OUT/gnss-timeserver-arm64.img"
rm -f "$img" "$work"/*.fs
mkfs.vfat -C -F 32 -n GTS-BOOT "$work/boot.fs" $(( boot_mib * 1024 )) >/dev/null
mcopy -s -i "$work/boot.fs" "$boot"/* ::/
truncate -s "${root_mib}M" "$work/root.fs"
mkfs.ext4 -q -L gts-root -m 0 -d "$root" "$work/root.fs"
truncate -s "${data_mib}M" "$work/data.fs"
mkfs.ext4 -q -L gts-data -m 1 -d "$data" "$work/data.fs"
e2fsck -fn "$work/root.fs" > "$work/fsck.log" 2>&1 || die "root filesystem check failed: $(cat "$work/fsck.log")"
total_mib=$(( 1 + boot_mib + root_mib + data_mib ))
truncate -s "${total_mib}M" "$img"
sfdisk -q "$img" <<PARTS
label: dos
start=1MiB, size=${boot_mib}MiB, type=c, bootable
size=${root_mib}MiB, type=83
size=${data_mib}MiB, type=83
PARTS
put() { dd if="$1" of="$img" bs=1M seek="$2" conv=notrunc,sparse status=none; }
put "$work/boot.fs" 1
put "$work/root.fs" $(( 1 + boot_mib ))
put "$work/data.fs" $(( 1 + boot_mib + root_mib ))
# Kept beside the image for the boot test (direct kernel boot under qemu).
cp "$boot/vmlinuz" "$boot/initrd.img" "$OUT/"
cp "$GTS_BIN" "$OUT/gnss-timeserver"
rm -rf "$root" "$data" "$boot" "$work"/*.fs

size=$(stat -c %s "$img")
echo "image: $img"
echo "image size: $(( size / 1048576 )) MiB (boot ${boot_mib} + root ${root_mib} + data ${data_mib}, root tree $(mib "$root_used") MiB)"
echo "build time: $(( $(date +%s) - started )) s"
