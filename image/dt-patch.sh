#!/usr/bin/env bash
# Patch a Debian (upstream Linux) Raspberry Pi 4 / CM4 device tree blob in
# place for the receiver, the equivalent of Raspberry Pi OS's
# `dtoverlay=disable-bt` + `dtoverlay=pps-gpio,gpiopin=N` (which need the
# Raspberry Pi kernel's overlays): the PL011 (uart0, /dev/ttyAMA0) moves from
# Bluetooth to GPIO 14/15, the mini-UART (uart1) that sat there is disabled,
# and a pps-gpio node on GPIO N gives /dev/pps0.
# Usage: dt-patch.sh FILE.dtb GPIO
set -euo pipefail
dtb=$1
pin=$2
die() { echo "dt-patch.sh: $dtb: $*" >&2; exit 1; }

# BCM2711 peripherals, same addresses on the Pi 4 and the CM4.
gpio=/soc/gpio@7e200000
uart0=/soc/serial@7e201000
uart1=/soc/serial@7e215040
fdtget "$dtb" "$uart0" compatible >/dev/null 2>&1 || die "no PL011 at $uart0"
fdtget "$dtb" "$gpio" compatible >/dev/null 2>&1 || die "no GPIO controller at $gpio"

# Highest phandle in the tree, to give new phandles to nodes that need one.
next_phandle() {
    local max
    max=$(dtc -I dtb -O dts "$dtb" 2>/dev/null \
        | sed -n 's/.*phandle = <\(0x[0-9a-f]*\)>;.*/\1/p' \
        | while read -r h; do echo $((h)); done | sort -n | tail -1)
    echo $((${max:-0} + 1))
}
phandle_of() {
    local node=$1 ph
    ph=$(fdtget -t u "$dtb" "$node" phandle 2>/dev/null || true)
    if [ -z "$ph" ]; then
        ph=$(next_phandle)
        fdtput -t u "$dtb" "$node" phandle "$ph"
    fi
    echo "$ph"
}

# uart0 pins: GPIO 14/15 in ALT0, no RTS/CTS, no Bluetooth child.
pins=$gpio/uart0_gpio14
fdtget "$dtb" "$pins" brcm,pins >/dev/null 2>&1 || die "no pin group $pins"
fdtput -t u "$dtb" "$uart0" pinctrl-0 "$(phandle_of "$pins")"
fdtput -t s "$dtb" "$uart0" pinctrl-names default
fdtput -d "$dtb" "$uart0" uart-has-rtscts 2>/dev/null || true
fdtput -r "$dtb" "$uart0/bluetooth" 2>/dev/null || true
fdtput -t s "$dtb" "$uart0" status okay
# The mini-UART would claim the same pins.
if fdtget "$dtb" "$uart1" compatible >/dev/null 2>&1; then
    fdtput -t s "$dtb" "$uart1" status disabled
fi

# 1PPS: the pps-gpio driver timestamps the rising edge in the interrupt.
fdtput -r "$dtb" /pps 2>/dev/null || true
fdtput -c "$dtb" /pps
fdtput -t s "$dtb" /pps compatible pps-gpio
fdtput -t u "$dtb" /pps gpios "$(phandle_of "$gpio")" "$pin" 0
fdtput -t s "$dtb" /pps status okay
