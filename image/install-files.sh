#!/bin/sh
# The project's files on top of the cached Debian root: $1 = root, $2 = the
# aarch64 daemon. Also makes $1/data-template, the data partition's first
# contents. Host tools only (systemctl --root works offline).
set -eu
r=$1
here=$(cd "$(dirname "$0")" && pwd)
board="$here/../board"
img="$here"

install -m 755 "$2" "$r/usr/bin/gnss-timeserver"
install -m 644 "$img/rootfs/gnss-timeserver.toml" "$r/etc/gnss-timeserver.toml"
install -m 644 "$board/gnss-timeserver.service" "$r/etc/systemd/system/"
install -m 644 "$board/99-gnss-timeserver.rules" "$r/etc/udev/rules.d/"
install -m 755 "$board/rps-setup" "$r/usr/lib/gnss-timeserver-rps-setup"
install -m 644 "$board/snmpd.conf" "$r/etc/snmp/snmpd.conf"
install -m 644 "$img/rootfs/gts-data-setup.service" "$r/etc/systemd/system/"
install -m 755 "$img/rootfs/gts-data-setup" "$r/usr/lib/gts-data-setup"
install -m 644 "$img/rootfs/10-eth.network" "$r/etc/systemd/network/"
install -d "$r/etc/ssh/sshd_config.d"
install -m 644 "$img/rootfs/sshd-gnss-timeserver.conf" "$r/etc/ssh/sshd_config.d/gnss-timeserver.conf"
install -m 644 "$img/rootfs/fstab" "$r/etc/fstab"
systemctl --root="$r" enable --quiet gnss-timeserver.service gts-data-setup.service systemd-networkd.service
# Serial getty off: the PL011 belongs to the receiver (no console on it).
systemctl --root="$r" mask --quiet serial-getty@ttyAMA0.service serial-getty@ttyS0.service
# No prompts on a headless box; the daemon binds 0.0.0.0 and needs no
# "network online" (which would fail the boot without a cable).
systemctl --root="$r" mask --quiet systemd-firstboot.service
systemctl --root="$r" disable --quiet systemd-networkd-wait-online.service

# Read-only root: what is written lives on the data partition (bind mounts
# in fstab) or in RAM; the hostname is made at first boot.
ln -sf /data/hostname "$r/etc/hostname"
# /var/agentx: snmpd's AgentX socket (board/snmpd.conf), a tmpfs on the read-only root.
mkdir -p "$r/data" "$r/var/lib/gnss-timeserver" "$r/var/agentx"
t="$r/data-template"
rm -rf "$t"
mkdir -p "$t/gnss-timeserver" "$t/systemd" "$t/snmp" "$t/ssh"
cp -a "$r/var/lib/systemd/." "$t/systemd/"
cp -a "$r/var/lib/snmp/." "$t/snmp/"
uid=$(awk -F: '$1 == "gnss-timeserver" { print $3 ":" $4 }' "$r/etc/passwd")
[ -n "$uid" ] || { echo "install-files.sh: no gnss-timeserver user in the root" >&2; exit 1; }
chown "$uid" "$t/gnss-timeserver"
chmod 750 "$t/gnss-timeserver"
chown --reference="$r/var/lib/snmp" "$t/snmp"
chmod 700 "$t/ssh"
echo gnss-timeserver > "$t/hostname"
