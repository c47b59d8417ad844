#!/bin/sh
# mmdebstrap essential hook: $1 = the new root. Installing the kernel would
# run update-initramfs (each run emulated, minutes long, and the first one
# with every module); divert it to a no-op now and run it once, trimmed, in
# customize.sh.
set -eu
chroot "$1" dpkg-divert --quiet --local --rename \
    --divert /usr/sbin/update-initramfs.real --add /usr/sbin/update-initramfs
printf '#!/bin/sh\n# diverted during the image build (image/hooks/divert-initramfs.sh)\nexit 0\n' \
    > "$1/usr/sbin/update-initramfs"
chmod 755 "$1/usr/sbin/update-initramfs"
# raspi-firmware's kernel hooks copy into /boot/firmware; image/build.sh
# assembles the boot partition itself, so give them a directory to write to.
mkdir -p "$1/boot/firmware"
