#!/usr/bin/env bash
# Flood benchmark (a benchmark, not a test): the daemon (`run`, default NTP
# policy: rate limit 1 s / burst 16) in a private network namespace, flooded
# from many loopback source addresses while legitimate clients poll at 1 Hz
# each. Reports the legitimate clients' answer ratio and latency without and
# with the flood, the flood's offered and answered rates, and the server's
# CPU and memory, from `ntp-load` (src/bin/ntp-load.rs).
#
#   cargo build --release --bin gnss-timeserver --bin ntp-load
#   benches/flood-bench.sh            # root, or unprivileged user namespaces
#
# The server runs capped: one NTP worker pinned to CPU 0 in a cgroup limited
# to SERVER_CPU_PERCENT of one core (cgroup v2 `cpu.max`, or v1
# `cpu.cfs_quota_us`), so a generator on the same 2-core machine can outrun
# it. Capacity first: the capped server with rate limiting off, closed loop
# from FLOOD_SOURCES addresses; its answered req/s is C. The flood then asks
# for FLOOD_FACTOR x C (default 10) from those addresses under the default
# policy; the offered rate it reached is printed beside C.
# The namespace has only loopback: nothing leaves the machine, the host's
# port 123 is untouched, every 127.x.y.z is a local address.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=${BIN:-$TARGET_DIR/release/gnss-timeserver}
LOAD=${LOAD:-$TARGET_DIR/release/ntp-load}
DURATION=${DURATION:-10}            # seconds per phase
FLOOD_SOURCES=${FLOOD_SOURCES:-1024}
FLOOD_THREADS=${FLOOD_THREADS:-1}
FLOOD_FACTOR=${FLOOD_FACTOR:-10}
LEGIT_CLIENTS=${LEGIT_CLIENTS:-64}  # each polls once a second
WORKERS=${WORKERS:-1}               # NTP workers (the cap is per process)
SERVER_CPU_PERCENT=${SERVER_CPU_PERCENT:-5}  # of one core; 0 = no cap
SERVER_CPU=${SERVER_CPU:-0}         # the core the server is pinned to

if [ "${FLOOD_IN_NS:-}" != 1 ]; then
    for f in "$BIN" "$LOAD"; do
        [ -x "$f" ] || { echo "missing $f: cargo build --release --bin gnss-timeserver --bin ntp-load" >&2; exit 1; }
    done
    command -v jq >/dev/null || { echo "jq is required" >&2; exit 1; }
    if [ "$(id -u)" = 0 ]; then ns=-n; else ns=-rn; fi
    exec unshare "$ns" env FLOOD_IN_NS=1 BIN="$BIN" LOAD="$LOAD" "$0" "$@"
fi

ip link set lo up
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
work=$(mktemp -d)
pid=""
# The server's CPU cap: a cgroup of our own (v2 or v1 cpu controller).
cg=""
if [ "$SERVER_CPU_PERCENT" != 0 ]; then
    period=100000
    quota=$((period * SERVER_CPU_PERCENT / 100))
    if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
        cg=/sys/fs/cgroup/gts-flood-$$
        echo +cpu >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true
        mkdir "$cg"
        echo "$quota $period" >"$cg/cpu.max"
    elif [ -d /sys/fs/cgroup/cpu ]; then
        cg=/sys/fs/cgroup/cpu/gts-flood-$$
        mkdir "$cg"
        echo "$period" >"$cg/cpu.cfs_period_us"
        echo "$quota" >"$cg/cpu.cfs_quota_us"
    else
        echo "no cgroup cpu controller: cannot cap the server (SERVER_CPU_PERCENT=0 runs uncapped)" >&2
        exit 1
    fi
fi
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    wait 2>/dev/null
    [ -n "$cg" ] && rmdir "$cg" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

# Start `run` serving 127.0.0.1:123 with rate-limit interval $1 (s); sets pid.
start_server() {
    local dir="$work/$2"
    mkdir -p "$dir"
    cat >"$dir/cfg.toml" <<EOF
[receiver]
device = "$dir/no-receiver"
[pps]
source = "sim"
[discipline]
clock = "virtual"
[ntp]
listen = ["127.0.0.1:123"]
workers = $WORKERS
rate-limit = { interval-s = $1, burst = 16 }
[store]
path = "$dir/store.redb"
[status]
socket = "$dir/control.sock"
EOF
    # Joins the cgroup before exec, so every thread the daemon starts is capped.
    CG="$cg" CPU="$SERVER_CPU" sh -c '[ -z "$CG" ] || echo $$ >"$CG/cgroup.procs"; exec taskset -c "$CPU" "$@"' \
        sh "$BIN" run --config "$dir/cfg.toml" 2>"$dir/server.log" &
    pid=$!
    for _ in $(seq 1 100); do
        if "$LOAD" load --target 127.0.0.1:123 --max-requests 1 --duration 1 --json 2>/dev/null \
            | jq -e '.answered > 0' >/dev/null; then
            return 0
        fi
        sleep 0.2
    done
    echo "server did not answer; log:" >&2
    cat "$dir/server.log" >&2
    exit 1
}

stop_server() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }

legit() { # legitimate clients: LEGIT_CLIENTS addresses at 1 Hz each
    "$LOAD" load --target 127.0.0.1:123 --source-base 127.2.0.0 \
        --sockets "$LEGIT_CLIENTS" --rate "$LEGIT_CLIENTS" --duration "$DURATION" --json
}

echo "== capacity: server capped at ${SERVER_CPU_PERCENT}% of CPU $SERVER_CPU, rate limiting off, closed loop from $FLOOD_SOURCES addresses"
start_server 0 capacity
cap=$("$LOAD" load --target 127.0.0.1:123 --source-base 127.1.0.0 --sockets "$FLOOD_SOURCES" \
    --threads "$FLOOD_THREADS" --window 2 --duration "$DURATION" --server-pid "$pid" --json)
C=$(jq -r '.answered_per_s | floor' <<<"$cap")
echo "capacity C = $C answered req/s; server $(jq -r '.server.cpu_utilization' <<<"$cap") CPUs, RSS $(jq -r '.server.vm_rss_kib' <<<"$cap") KiB"
stop_server

echo "== default policy (1 s, burst 16): legitimate clients alone"
start_server 1.0 flood
quiet=$(legit)
echo "legit alone: answered $(jq -r '.answered' <<<"$quiet") of $(jq -r '.sent' <<<"$quiet"), loss $(jq -r '.loss_ratio' <<<"$quiet")"

want=$((C * FLOOD_FACTOR))
echo "== flood at ${FLOOD_FACTOR}x C = $want req/s from $FLOOD_SOURCES addresses, legitimate clients polling"
"$LOAD" load --target 127.0.0.1:123 --source-base 127.1.0.0 --sockets "$FLOOD_SOURCES" \
    --threads "$FLOOD_THREADS" --rate "$want" --duration "$DURATION" --server-pid "$pid" \
    --idle-secs 1 --json >"$work/flood.json" &
fpid=$!
sleep 1
loud=$(legit)
wait "$fpid"
flood=$(cat "$work/flood.json")
status=$("$BIN" status --socket "$work/flood/control.sock" || echo '{}')
stop_server

offered=$(jq -r '(.sent / .elapsed_s) | floor' <<<"$flood")
printf '\n%-44s %s\n' "measure" "value"
printf '%-44s %s\n' "server cap, % of one core" "$SERVER_CPU_PERCENT"
printf '%-44s %s\n' "capacity C (rate limit off), req/s" "$C"
printf '%-44s %s (%.1fx C)\n' "flood offered, req/s" "$offered" "$(jq -n "$offered / $C")"
printf '%-44s %s\n' "flood answered, req/s" "$(jq -r '.answered_per_s | floor' <<<"$flood")"
printf '%-44s %s\n' "legit answered alone" "$(jq -r '"\(.answered)/\(.sent)"' <<<"$quiet")"
printf '%-44s %s\n' "legit answered under flood" "$(jq -r '"\(.answered)/\(.sent)"' <<<"$loud")"
printf '%-44s %s\n' "legit mean latency alone / flood, us" \
    "$(jq -r '.latency.mean_us // "?"' <<<"$quiet") / $(jq -r '.latency.mean_us // "?"' <<<"$loud")"
printf '%-44s %s\n' "server CPU under flood, cores" "$(jq -r '.server.cpu_utilization' <<<"$flood")"
printf '%-44s %s\n' "server RSS / peak under flood, KiB" \
    "$(jq -r '"\(.server.vm_rss_kib) / \(.server.vm_hwm_kib)"' <<<"$flood")"
printf '%-44s %s\n' "server KoD RATE / rate drops / kernel drops" \
    "$(jq -r '"\(.ntp.counters.kod_rate) / \(.ntp.counters.drop_rate) / \(.ntp.counters.kernel_rx_drops)"' <<<"$status")"
printf '%-44s %s\n' "clients tracked / evictions" \
    "$(jq -r '"\(.ntp.clients_tracked) / \(.ntp.client_evictions)"' <<<"$status")"
