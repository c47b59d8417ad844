#!/bin/sh
# mmdebstrap customize hook: $1 = the new root. Runs on the host (chroot for
# the few target commands). Environment from build.sh: GTS_BIN, repo.
set -eu
r="$1"
board="$repo/board"
img="$repo/image"
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

# The daemon, its user and its files.
install -m 755 "$GTS_BIN" "$r/usr/bin/gnss-timeserver"
chroot "$r" useradd --system --user-group --no-create-home --home-dir /var/lib/gnss-timeserver \
    --shell /usr/sbin/nologin --groups dialout gnss-timeserver
install -m 644 "$img/rootfs/gnss-timeserver.toml" "$r/etc/gnss-timeserver.toml"
install -m 644 "$board/gnss-timeserver.service" "$r/etc/systemd/system/"
install -m 644 "$board/99-gnss-timeserver.rules" "$r/etc/udev/rules.d/"
install -m 755 "$board/rps-setup" "$r/usr/lib/gnss-timeserver-rps-setup"
install -m 644 "$board/snmpd.conf" "$r/etc/snmp/snmpd.conf"
for f in gts-data-setup.service; do install -m 644 "$img/rootfs/$f" "$r/etc/systemd/system/"; done
install -m 755 "$img/rootfs/gts-data-setup" "$r/usr/lib/gts-data-setup"
install -m 644 "$img/rootfs/10-eth.network" "$r/etc/systemd/network/"
install -d "$r/etc/ssh/sshd_config.d"
install -m 644 "$img/rootfs/sshd-gnss-timeserver.conf" "$r/etc/ssh/sshd_config.d/gnss-timeserver.conf"
install -m 644 "$img/rootfs/fstab" "$r/etc/fstab"
chroot "$r" systemctl enable --quiet gnss-timeserver.service gts-data-setup.service systemd-networkd.service
# Serial getty off: the PL011 belongs to the receiver (no console on it).
chroot "$r" systemctl mask --quiet serial-getty@ttyAMA0.service serial-getty@ttyS0.service
# No prompts on a headless box; the daemon binds 0.0.0.0 and needs no
# "network online" (which would fail the boot without a cable).
chroot "$r" systemctl mask --quiet systemd-firstboot.service
chroot "$r" systemctl disable --quiet systemd-networkd-wait-online.service

# Read-only root: everything written lives on the data partition (bind
# mounts in fstab) or in RAM. No passwords anywhere: root stays locked, SSH
# takes keys only, host keys are made at first boot.
rm -f "$r"/etc/ssh/ssh_host_*
chroot "$r" passwd --lock root >/dev/null
: > "$r/etc/machine-id"
ln -sf /etc/machine-id "$r/var/lib/dbus/machine-id"
ln -sf /data/hostname "$r/etc/hostname"
mkdir -p "$r/data" "$r/var/lib/gnss-timeserver"
rm -rf "$r/var/cache/apt/archives"/*.deb "$r/var/lib/apt/lists"/*_Packages
# The data partition's first contents, made into its filesystem by build.sh.
t="$r/data-template"
mkdir -p "$t/gnss-timeserver" "$t/systemd" "$t/snmp" "$t/ssh"
cp -a "$r/var/lib/systemd/." "$t/systemd/" 2>/dev/null || true
cp -a "$r/var/lib/snmp/." "$t/snmp/" 2>/dev/null || true
chown "$(chroot "$r" id -u gnss-timeserver):$(chroot "$r" id -g gnss-timeserver)" "$t/gnss-timeserver"
chmod 750 "$t/gnss-timeserver"
chown --reference="$r/var/lib/snmp" "$t/snmp" 2>/dev/null || true
chmod 700 "$t/ssh"
echo gnss-timeserver > "$t/hostname"
