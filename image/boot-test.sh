#!/usr/bin/env bash
# Boot the image built by image/build.sh under qemu-system-aarch64 -M virt
# (TCG) and check it from the host: a copy of the image gets the test hook
# (image/test/) and a config with the simulated receiver, then
#   boot 1: unit active, no failed units, the daemon as its own user with
#           exactly CAP_SYS_TIME + CAP_NET_BIND_SERVICE, systemd-analyze
#           security, read-only root, data partition grown, a stratum-1 NTP
#           answer (raw query, then chronyd -Q), /api/v1/status if the
#           daemon has it, snmpwalk of our enterprise subtree through snmpd
#           (AgentX master on the /var/agentx tmpfs, our subagent registered);
#           then a hard power-off while the disk is written;
#   boot 2: no receiver attached: the root was clean, the store opened with
#           its events, the daemon stays up, serves LI 3 / stratum 16 and
#           shows the reason "no_receiver" (status and SNMP).
# Environment: OUT (default target/image), KEEP=1 keeps the work files.
set -euo pipefail
started=$(date +%s)
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
OUT=${OUT:-$repo/target/image}
img="$OUT/gnss-timeserver-arm64.img"
t="$OUT/boot-test"

die() { echo "image/boot-test.sh: FAIL: $*" >&2; exit 1; }
step() { echo "== $(date -u +%H:%M:%S) $*"; }
missing=()
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$1 (Debian package $2)"); }
need qemu-system-aarch64 qemu-system-arm
need chronyd chrony
need python3 python3
need debugfs e2fsprogs
need e2fsck e2fsprogs
need sfdisk fdisk
need curl curl
need snmpwalk snmp
need snmpget snmp
[ ${#missing[@]} -eq 0 ] || die "missing tools: ${missing[*]}"
for f in "$img" "$OUT/vmlinuz" "$OUT/initrd.img"; do
    [ -f "$f" ] || die "$f missing: run image/build.sh first"
done

rm -rf "$t"
mkdir -p "$t"
disk="$t/disk.img"
cp --sparse=always "$img" "$disk"
# Room after the data partition: first boot must grow it.
truncate -s +256M "$disk"

# Partition N's start and size in 512-byte sectors.
part() { sfdisk -d "$disk" | grep "^$disk$1 " | sed -E 's/.*start= *([0-9]+), size= *([0-9]+).*/\1 \2/'; }
read -r root_start root_size < <(part 2)
read -r data_start data_size < <(part 3)
[ -n "$root_size" ] && [ -n "$data_size" ] || die "cannot read the partition table of $img"
extract() { dd if="$disk" of="$2" bs=512 skip="$1" count="$3" status=none; }
putback() { dd if="$2" of="$disk" bs=512 seek="$1" conv=notrunc status=none; }

# Put files into the root filesystem without mounting it (debugfs).
inject_root() { # $1 = config file for the daemon
    extract "$root_start" "$t/root.fs" "$root_size"
    debugfs -w -f - "$t/root.fs" >/dev/null 2>"$t/debugfs.log" <<CMDS
cd /etc
rm gnss-timeserver.toml
write $1 gnss-timeserver.toml
cd /etc/systemd/system
rm gts-boot-test.service
write $here/test/gts-boot-test.service gts-boot-test.service
cd /etc/systemd/system/multi-user.target.wants
rm gts-boot-test.service
symlink gts-boot-test.service /etc/systemd/system/gts-boot-test.service
cd /etc/snmp
rm snmpd.conf
write $t/snmpd.conf snmpd.conf
cd /usr/lib
rm gts-boot-test
write $here/test/gts-boot-test gts-boot-test
CMDS
    e2fsck -fn "$t/root.fs" >/dev/null 2>&1 || die "root filesystem damaged by the test's own edit"
    putback "$root_start" "$t/root.fs"
}

# The image's snmpd.conf plus read access for the host behind qemu's
# user-mode network (10.0.2.2), with a community only this test knows.
{ cat "$repo/board/snmpd.conf"; echo "rocommunity gts-boot-test 10.0.2.2/32 -V timeserver"; } > "$t/snmpd.conf"
free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
ntp_port=$(free_port)
snmp_port=$(free_port)
tcp_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
https_port=$(tcp_port)
http_port=$(tcp_port)
qemu_pid=""
cleanup() {
    [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null || true
    [ "${KEEP:-0}" = 1 ] || rm -f "$disk" "$t/root.fs" "$t/data.fs"
}
trap cleanup EXIT

boot() { # $1 = boot number
    step "boot $1"
    rm -f "$t/monitor.sock"
    boot_t0=$(date +%s.%N)
    nice -n 5 qemu-system-aarch64 -M virt -cpu cortex-a72 -smp 2 -m 1024 \
        -display none -serial "file:$t/console-$1.log" \
        -monitor "unix:$t/monitor.sock,server,nowait" \
        -kernel "$OUT/vmlinuz" -initrd "$OUT/initrd.img" \
        -append "root=LABEL=gts-root ro rootwait console=ttyAMA0 net.ifnames=0 panic=10" \
        -drive "if=none,id=d0,file=$disk,format=raw" -device virtio-blk-pci,drive=d0 \
        -netdev "user,id=n0,hostfwd=udp:127.0.0.1:$ntp_port-:123,hostfwd=udp:127.0.0.1:$snmp_port-:161,hostfwd=tcp:127.0.0.1:$https_port-:443,hostfwd=tcp:127.0.0.1:$http_port-:80" \
        -device virtio-net-pci,netdev=n0,romfile= \
        -no-reboot &
    qemu_pid=$!
}
# Hard power-off: qemu quits without any shutdown of the guest.
power_cut() {
    python3 - "$t/monitor.sock" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
time.sleep(0.5)
s.sendall(b"quit\n")
time.sleep(1)
PY
    wait "$qemu_pid" 2>/dev/null || true
    qemu_pid=""
}
# Value of a GTS-TEST line from boot N's console. Not anchored at the line
# start: the kernel and systemd write to the same console, and their output
# (spaces, escape sequences) can land in front of a report line.
report() {
    grep -a "GTS-TEST $2 " "$t/console-$1.log" | tail -1 | tr -d '\r' |
        sed "s/.*GTS-TEST $2 //"
}
wait_report() { # $1 = boot, $2 = timeout s
    local end=$(( $(date +%s) + $2 ))
    until grep -aq 'GTS-TEST report-done' "$t/console-$1.log" 2>/dev/null; do
        kill -0 "$qemu_pid" 2>/dev/null || die "qemu exited during boot $1 (console: $t/console-$1.log)"
        [ "$(date +%s)" -lt "$end" ] || die "no report from boot $1 within $2 s (console: $t/console-$1.log)"
        sleep 2
    done
}
passed=0
pass() { passed=$((passed + 1)); echo "ok: $*"; }
check() { # $1 = what, $2 = got, $3 = want (exact)
    if [ "$2" = "$3" ]; then pass "$1: $2"; else die "$1: got '$2', want '$3'"; fi
}

# Bad input first: build.sh on a host without mmdebstrap must stop before
# doing anything and name the tool and its Debian package.
mkdir -p "$t/bin"
IFS=: read -ra path_dirs <<< "$PATH"
for d in "${path_dirs[@]}"; do
    for f in "$d"/*; do
        n=${f##*/}
        [ "$n" = mmdebstrap ] || [ -e "$t/bin/$n" ] || ln -s "$f" "$t/bin/$n"
    done
done
if PATH="$t/bin" "$here/build.sh" > "$t/no-tool.log" 2>&1; then
    die "build.sh without mmdebstrap succeeded"
fi
grep -q "missing tools: mmdebstrap (Debian package mmdebstrap)" "$t/no-tool.log" \
    || die "build.sh without mmdebstrap: unclear message: $(cat "$t/no-tool.log")"
pass "build.sh without mmdebstrap: $(cat "$t/no-tool.log")"
rm -rf "$t/bin"

# ---- boot 1: simulated receiver ----
inject_root "$here/test/sim.toml"
boot 1
step "waiting for a stratum-1 NTP answer on 127.0.0.1:$ntp_port"
deadline=$(( $(date +%s) + 900 ))
first=""
while [ -z "$first" ]; do
    kill -0 "$qemu_pid" 2>/dev/null || die "qemu exited (console: $t/console-1.log)"
    [ "$(date +%s)" -lt "$deadline" ] || die "no stratum-1 answer within 900 s (console: $t/console-1.log)"
    ans=$(python3 "$here/test/ntp-query.py" 127.0.0.1 "$ntp_port" 1 || true)
    if [ "$ans" = "0 1" ]; then
        first=$(python3 -c "import time; print(f'{time.time() - $boot_t0:.1f}')")
    else
        sleep 1
    fi
done
echo "boot to first stratum-1 answer: $first s (emulated, TCG)"
wait_report 1 600
conf="$t/chrony.conf"
printf 'server 127.0.0.1 port %s iburst minpoll -4 maxpoll -4\npidfile %s/chronyd.pid\ndriftfile %s/drift\ncmdport 0\nport 0\nlogdir %s\nlog measurements\n' \
    "$ntp_port" "$t" "$t" "$t" > "$conf"
# A loaded host can make one run select no source: up to 3 runs.
for try in 1 2 3; do
    rm -f "$t/measurements.log"
    chronyd -Q -f "$conf" -t 30 -u root > "$t/chronyd.out" 2>&1 || true
    grep -q "System clock wrong by" "$t/chronyd.out" && break
    echo "chronyd -Q run $try: $(tail -2 "$t/chronyd.out" | head -1)"
done
# measurements.log: date time address LI stratum ...
st=$(awk '/^[0-9]/ { print $4, $5 }' "$t/measurements.log" 2>/dev/null | tail -1)
check "chronyd -Q measurement (LI stratum)" "$st" "N 1"
grep -q "System clock wrong by" "$t/chronyd.out" || die "chronyd -Q gave no offset: $(cat "$t/chronyd.out")"
pass "chronyd: $(grep -o 'System clock wrong by.*' "$t/chronyd.out")"
check "failed units (boot 1)" "$(report 1 failed-units | xargs)" ""
check "unit active (boot 1)" "$(report 1 unit-active)" active
check "daemon user" "$(report 1 user)" gnss-timeserver
check "watchdog period" "$(report 1 watchdog)" 30s
check "restarts (watchdog pings kept it alive)" "$(report 1 restarts)" 0
ran=$(report 1 ran-s)
[ "${ran:-0}" -ge 45 ] || die "the daemon ran only ${ran} s before the report (want > 45 s, WatchdogSec=30)"
pass "daemon ran $ran s under WatchdogSec=30 without a restart"
# CAP_NET_BIND_SERVICE (bit 10) + CAP_SYS_TIME (bit 25), nothing else.
check "daemon CapEff" "$(report 1 cap-eff)" 0000000002000400
check "daemon CapPrm" "$(report 1 cap-prm)" 0000000002000400
case "$(report 1 root-mount)" in ro,*|*,ro,*|ro) pass "root mounted read-only" ;; *) die "root not read-only: $(report 1 root-mount)" ;; esac
data_mib=$(report 1 data-size)
[ "${data_mib:-0}" -gt 200 ] || die "data partition not grown at first boot: ${data_mib} MiB"
pass "data partition grown to $data_mib MiB"
host1=$(report 1 hostname)
case "$host1" in gnss-timeserver-??????) pass "first-boot hostname $host1" ;; *) die "hostname '$host1'" ;; esac
echo "security: systemd-analyze security gnss-timeserver.service: $(report 1 security)"
echo "rps_cpus of eth0: $(report 1 rps)"
events1=$(report 1 events-stored)
[ "${events1:-0}" -gt 0 ] || die "no events stored in boot 1"
# Optional only while the daemon in the image has no HTTP API at all.
if grep -aq '/api/v1/status' "$OUT/gnss-timeserver"; then
    # The certificate is the image's own self-signed one: -k.
    curl -kfsS "https://127.0.0.1:$https_port/api/v1/status" > "$t/api-status.json" || die "/api/v1/status did not answer on 443"
    pass "/api/v1/status answered on 443 ($(wc -c < "$t/api-status.json") bytes)"
    loc=$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' "http://127.0.0.1:$http_port/api/v1/status") || true
    case "$loc" in 30[1278]\ https://*) pass "port 80 redirects: $loc" ;; *) die "port 80 did not redirect to https: '$loc'" ;; esac
else
    echo "skip: /api/v1/status: this daemon has no HTTP API yet"
fi

# snmpd (AgentX master on /var/agentx) answers for our subagent's subtree.
gts=.1.3.6.1.4.1.32473
snmp=(-v2c -c gts-boot-test -On -t 5 -r 2 "udp:127.0.0.1:$snmp_port")
echo "agentx socket: $(report 1 agentx)"
for _ in $(seq 20); do
    snmpwalk "${snmp[@]}" "$gts" > "$t/snmpwalk.txt" 2>&1 || true
    grep -q "^$gts\.1\.2\.2\.0 = STRING" "$t/snmpwalk.txt" && break
    sleep 3
done
n=$(grep -c "^$gts\." "$t/snmpwalk.txt" || true)
grep -q "^$gts\.1\.2\.2\.0 = STRING" "$t/snmpwalk.txt" \
    || die "snmpwalk $gts through snmpd: no gtsLockReason ($n objects): $(head -5 "$t/snmpwalk.txt")"
pass "snmpwalk of the enterprise subtree through snmpd + AgentX: $n objects"

step "hard power-off while the disk is written"
sleep 5
power_cut
extract "$root_start" "$t/root.fs" "$root_size"
e2fsck -fn "$t/root.fs" > "$t/fsck-root.log" 2>&1 || die "root filesystem not clean after the power cut: $(cat "$t/fsck-root.log")"
pass "root filesystem clean after the power cut"
extract "$data_start" "$t/data.fs" "$data_size"
echo "data partition after the cut: $(dumpe2fs -h "$t/data.fs" 2>/dev/null | grep -E '^Filesystem features' | grep -o needs_recovery || echo 'no journal replay needed')"

# ---- boot 2: no receiver ----
inject_root "$here/test/no-receiver.toml"
boot 2
wait_report 2 600
check "failed units (boot 2)" "$(report 2 failed-units | xargs)" ""
check "unit active without a receiver" "$(report 2 unit-active)" active
check "hostname kept" "$(report 2 hostname)" "$host1"
events2=$(report 2 events-stored)
[ "${events2:-0}" -ge "$events1" ] || die "store lost events across the power cut: $events1 -> $events2"
pass "store opened with its events ($events1 before the cut, $events2 now)"
ans=$(python3 "$here/test/ntp-query.py" 127.0.0.1 "$ntp_port" 3 || true)
check "NTP without a receiver (LI stratum)" "$ans" "3 16"
echo "discipline without a receiver: state $(report 2 discipline)"
check "status reason without a receiver" "$(report 2 reason)" no_receiver
lock_reason=""
for _ in $(seq 20); do
    lock_reason=$(snmpget "${snmp[@]}" -Oqv "$gts.1.2.2.0" 2>/dev/null | tr -d '"') || true
    [ "$lock_reason" = no_receiver ] && break
    sleep 3
done
check "gtsLockReason over SNMP without a receiver" "$lock_reason" no_receiver
power_cut
echo "boot test passed in $(( $(date +%s) - started )) s"
echo "boot-test: $passed passed, 0 failed"
