#!/bin/sh
# mmdebstrap customize hook: $1 = the new root. Runs on the host (chroot for
# the few target commands). Everything here depends on the packages only, so
# build.sh caches the result; our own files come after (install-files.sh).
set -eu
r="$1"
kver=$(ls "$r/usr/lib/modules")

# Modules a Pi 4 / CM4 appliance (or the qemu virt board of the boot test)
# never loads: graphics, media, sound, radios, other vendors' NICs, ...
m="$r/usr/lib/modules/$kver/kernel"
for d in drivers/gpu drivers/media drivers/staging drivers/infiniband drivers/isdn \
    drivers/net/wireless drivers/net/can drivers/net/wwan drivers/net/hamradio \
    drivers/bluetooth drivers/iio drivers/input/touchscreen drivers/input/joystick \
    drivers/scsi/qla2xxx drivers/scsi/lpfc drivers/scsi/mpt3sas drivers/scsi/megaraid \
    drivers/video drivers/accel drivers/hwtracing drivers/nfc drivers/atm drivers/fpga \
    net/bluetooth net/wireless net/mac80211 net/nfc net/can sound fs/btrfs fs/xfs \
    fs/ocfs2 fs/gfs2 fs/nfs fs/nfsd fs/ceph fs/smb fs/f2fs fs/jfs fs/reiserfs; do
    rm -rf "${m:?}/$d"
done
for d in "$m"/drivers/net/ethernet/*; do
    case "${d##*/}" in broadcom) ;; *) rm -rf "$d" ;; esac
done
depmod -b "$r" "$kver"

# The one initramfs: only what finds the root (SD/eMMC on the Pi, virtio in
# qemu), lz4-free zstd, no firmware.
cat > "$r/etc/initramfs-tools/conf.d/gnss-timeserver.conf" <<CONF
MODULES=list
COMPRESS=zstd
CONF
cat > "$r/etc/initramfs-tools/modules" <<MODS
ext4
crc32c_generic
mmc_block
sdhci_iproc
sdhci_pltfm
virtio_pci
virtio_mmio
virtio_blk
MODS
chroot "$r" /usr/sbin/update-initramfs.real -c -k "$kver"
# Restore the real tool so later kernel updates on a writable system work.
rm -f "$r/usr/sbin/update-initramfs"
chroot "$r" dpkg-divert --quiet --local --rename --remove /usr/sbin/update-initramfs

# Raspberry Pi firmware: the Pi 4 / CM4 boot only start4.elf / fixup4.dat.
find "$r/usr/lib/raspi-firmware" -type f ! -name 'start4.elf' ! -name 'fixup4.dat' -delete

# The daemon's user (its files are added by image/install-files.sh).
chroot "$r" useradd --system --user-group --no-create-home --home-dir /var/lib/gnss-timeserver \
    --shell /usr/sbin/nologin --groups dialout gnss-timeserver
# Read-only root: everything written lives on the data partition (bind
# mounts in fstab) or in RAM. No passwords anywhere: root stays locked, SSH
# takes keys only, host keys are made at first boot.
rm -f "$r"/etc/ssh/ssh_host_*
chroot "$r" passwd --lock root >/dev/null
: > "$r/etc/machine-id"
ln -sf /etc/machine-id "$r/var/lib/dbus/machine-id"
rm -rf "$r/var/cache/apt/archives"/*.deb "$r/var/lib/apt/lists"/*_Packages
