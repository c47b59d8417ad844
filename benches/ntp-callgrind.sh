#!/usr/bin/env bash
# User-space instructions per answered NTP request of one server worker,
# counted by callgrind (repeatable, unlike tick-sampled CPU time; the kernel's
# share is not counted).
#
#   benches/ntp-callgrind.sh [gnss-timeserver binary | chrony ...]
#
# `chrony` counts chronyd (`local stratum 1`, -x, same port and load) the same
# way: the baseline for the issue's "user time at most a third of chrony's",
# in instructions, which repeat where tick-sampled CPU time does not.
#
# For each binary: `demo` with one worker under valgrind --tool=callgrind,
# N requests (default 50000) from `ntp-load` (closed loop, 16 sockets x 4, so
# batches are full as in ntp-bench.sh), then the instruction total of the
# thread that called recvmmsg divided by the answered requests. The server
# does not have to be synchronized: the request path is the same at stratum 16.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
LOAD_BIN=${LOAD_BIN:-$CARGO_TARGET_DIR/release/ntp-load}
N=${N:-50000}
PORT=${PORT:-12523}
HTTP_PORT=${HTTP_PORT:-12580}
SERVER_CPU=${SERVER_CPU:-1}
LOAD_CPU=${LOAD_CPU:-0}
[[ $# -gt 0 ]] || set -- "$CARGO_TARGET_DIR/release/gnss-timeserver"

die() { echo "ntp-callgrind: $*" >&2; exit 1; }
command -v valgrind >/dev/null || die "valgrind is required (apt-get install valgrind)"
command -v jq >/dev/null || die "jq is required (apt-get install jq)"
[[ -x $LOAD_BIN ]] || die "load tool not found at $LOAD_BIN"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ntp-callgrind.XXXXXX")
PID=
cleanup() {
    [[ -n $PID ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

CHRONYD=${CHRONYD:-$(command -v chronyd || echo /usr/sbin/chronyd)}

for bin in "$@"; do
    rm -rf "$WORK/data" "$WORK"/cg.*
    mkdir -p "$WORK/data"
    if [[ $bin == chrony ]]; then
        [[ -x $CHRONYD ]] || die "chronyd not found (apt-get install chrony)"
        # chronyd never rate-limits unless told to; -x: never touches the clock.
        printf '%s\n' "local stratum 1" "port $PORT" "bindaddress 127.0.0.1" \
            "allow 127.0.0.1" "cmdport 0" "pidfile $WORK/data/chronyd.pid" \
            "driftfile $WORK/data/drift" >"$WORK/data/chrony.conf"
        privs=(-U)
        [[ $(id -u) == 0 ]] && privs=(-u root)
        taskset -c "$SERVER_CPU" valgrind --tool=callgrind \
            --separate-threads=yes --callgrind-out-file="$WORK/cg.%p" \
            "$CHRONYD" -x -d "${privs[@]}" -f "$WORK/data/chrony.conf" \
            >"$WORK/server.log" 2>&1 &
    else
        [[ -x $bin ]] || die "$bin is not an executable"
        GNSS_TIMESERVER_NTP_WORKERS=1 taskset -c "$SERVER_CPU" valgrind --tool=callgrind \
            --separate-threads=yes --callgrind-out-file="$WORK/cg.%p" \
            "$bin" demo --ntp "127.0.0.1:$PORT" --http "127.0.0.1:$HTTP_PORT" --data "$WORK/data" \
            >"$WORK/server.log" 2>&1 &
    fi
    PID=$!
    ready=0
    for _ in $(seq 240); do
        if "$LOAD_BIN" load --target "127.0.0.1:$PORT" --max-requests 5 --timeout-ms 500 \
            --json >/dev/null 2>&1; then
            ready=1
            break
        fi
        sleep 0.5
    done
    ((ready)) || die "$bin did not answer under valgrind"
    "$LOAD_BIN" load --target "127.0.0.1:$PORT" --cpu "$LOAD_CPU" --max-requests "$N" \
        --duration 120 --json >"$WORK/load.json"
    kill -TERM "$PID"
    wait "$PID" || true
    PID=
    answered=$(jq .answered "$WORK/load.json")
    # --separate-threads names every thread's file cg.PID-NN; chronyd's one
    # thread receives with recvmmsg too.
    worker=$(grep -l recvmmsg "$WORK"/cg.*-* | head -1 || true)
    [[ -n $worker ]] || die "no worker thread profile for $bin"
    ir=$(awk '/^summary:/ {print $2; exit}' "$worker")
    # The readiness probes were answered too: at most a few dozen requests.
    echo "$bin: $ir instructions / $answered requests = $((ir / answered)) per request"
done
