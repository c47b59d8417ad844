#!/usr/bin/env bash
# NTP server benchmark: our server vs chronyd vs the bare reflector, measured
# in one run, on one machine, with the same pinning and the same load.
#
#   benches/ntp-bench.sh                       # all targets
#   TARGETS="reflector1 chrony" benches/ntp-bench.sh
#
# Every number comes from `ntp-load load` (see src/bin/ntp-load.rs): answered
# requests/s, loss, latency, and the server's user/system CPU time per
# answered request from /proc/<pid>/stat, with its idle background CPU
# (measured first, over IDLE_SECS) subtracted. Loopback only. chronyd runs
# with -x (never touches the clock) and a private config in a temp dir.
#
# Targets (space-separated in TARGETS):
#   reflector1  bare reflector, 1 worker, on SERVER_CPU
#   reflectorN  bare reflector, ALL_WORKERS workers, on ALL_CPUS
#   chrony      chronyd (single-threaded), on SERVER_CPU
#   ours1       our server, 1 worker, on SERVER_CPU
#   oursN       our server, ALL_WORKERS workers, on ALL_CPUS
#   base1/baseN like ours1/oursN with BASE_BIN instead of OURS_BIN (e.g. a
#               build of an earlier commit, for a before/after in one run)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)

# ---- knobs (environment overrides) ----------------------------------------
TARGETS=${TARGETS:-"reflector1 reflectorN chrony ours1 oursN"}
SERVER_CPU=${SERVER_CPU:-1}          # single-worker servers run here
LOAD_CPU=${LOAD_CPU:-0}              # the load generator runs here
NCPU=$(nproc)
ALL_CPUS=${ALL_CPUS:-0-$((NCPU - 1))} # multi-worker servers may use these
ALL_WORKERS=${ALL_WORKERS:-$NCPU}
DURATION=${DURATION:-10}             # seconds of load per target and round
ROUNDS=${ROUNDS:-3}                  # rounds over all targets; the table shows medians
IDLE_SECS=${IDLE_SECS:-3}            # idle window for background CPU
SOCKETS=${SOCKETS:-16}               # source ports
WINDOW=${WINDOW:-4}                  # outstanding requests per socket (16x4 fits in chronyd's default receive buffer)
RATE=${RATE:-}                       # set for fixed-rate load instead of closed loop
READY_SECS=${READY_SECS:-60}         # how long a server may take to serve valid replies
NICE=${NICE:-}                       # e.g. -10: favour server and load over other jobs on a busy host
PORT=${PORT:-12323}                  # NTP port used by every target
HTTP_PORT=${HTTP_PORT:-12380}
CHRONYD=${CHRONYD:-$(command -v chronyd || echo /usr/sbin/chronyd)}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
LOAD_BIN=${LOAD_BIN:-$CARGO_TARGET_DIR/release/ntp-load}
OURS_BIN=${OURS_BIN:-$CARGO_TARGET_DIR/release/gnss-timeserver}
BASE_BIN=${BASE_BIN:-}
# Our server. {port} {http} {data} are substituted. How workers are set is a
# variable too: OURS_WORKERS_ENV names an environment variable given the
# worker count (empty: don't set one); {workers} in OURS_CMD also works.
OURS_CMD=${OURS_CMD:-"$OURS_BIN demo --ntp 127.0.0.1:{port} --http 127.0.0.1:{http} --data {data}"}
OURS_WORKERS_ENV=${OURS_WORKERS_ENV-GNSS_TIMESERVER_NTP_WORKERS}
OUT_DIR=${OUT_DIR:-$CARGO_TARGET_DIR/ntp-bench/$(date -u +%Y%m%dT%H%M%SZ)}
NO_BUILD=${NO_BUILD:-}

mkdir -p "$OUT_DIR"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ntp-bench.XXXXXX")
SERVER_PID=
SERVER_LOG=
cleanup() {
    if [[ -n $SERVER_PID ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

die() { echo "ntp-bench: $*" >&2; exit 1; }
command -v jq >/dev/null || die "jq is required (apt-get install jq)"
command -v taskset >/dev/null || die "taskset is required (util-linux)"

needs_ours=0
[[ " $TARGETS " == *" ours"* ]] && needs_ours=1
if [[ -z $NO_BUILD ]]; then
    (cd "$ROOT" && cargo build --release --bin ntp-load)
    if ((needs_ours)) && [[ $OURS_BIN == "$CARGO_TARGET_DIR/release/gnss-timeserver" ]]; then
        (cd "$ROOT" && cargo build --release --bin gnss-timeserver)
    fi
fi
[[ -x $LOAD_BIN ]] || die "load tool not found at $LOAD_BIN"

# Server and load tool run under the same `nice` (if any), so neither is
# favoured over the other.
PRIO=()
[[ -n $NICE ]] && PRIO=(nice -n "$NICE")

load_args=(--sockets "$SOCKETS" --cpu "$LOAD_CPU" --expect-stratum 1 --expect-leap 0)
if [[ -n $RATE ]]; then load_args+=(--rate "$RATE"); else load_args+=(--window "$WINDOW"); fi

# Polls until the server at 127.0.0.1:$PORT gives valid stratum-1 replies.
wait_ready() {
    local name=$1 deadline=$((SECONDS + READY_SECS))
    while ((SECONDS < deadline)); do
        kill -0 "$SERVER_PID" 2>/dev/null || { echo "ntp-bench: $name exited during start-up" >&2; return 1; }
        if "$LOAD_BIN" load --target "127.0.0.1:$PORT" --max-requests 20 --timeout-ms 200 \
            --expect-stratum 1 --expect-leap 0 --json >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.5
    done
    echo "ntp-bench: $name did not give valid stratum-1 replies on 127.0.0.1:$PORT within ${READY_SECS}s" >&2
    return 1
}

# start_<target> launch the server in the background and set SERVER_PID.
# `taskset ... cmd &` execs cmd, so $! is the server's own pid.
start_reflector() {
    local workers=$1 cpus=$2
    "${PRIO[@]}" taskset -c "$cpus" "$LOAD_BIN" reflect --listen "127.0.0.1:$PORT" --workers "$workers" \
        >"$WORK/reflector.log" 2>&1 &
    SERVER_PID=$! SERVER_LOG=$WORK/reflector.log
}

start_chrony() {
    local dir=$WORK/chrony
    mkdir -p "$dir"
    # No `ratelimit` line: chronyd does not rate-limit NTP unless told to.
    cat >"$dir/chrony.conf" <<EOF
local stratum 1
port $PORT
bindaddress 127.0.0.1
allow 127.0.0.1
cmdport 0
pidfile $dir/chronyd.pid
driftfile $dir/drift
EOF
    local privs=(-U)
    [[ $(id -u) == 0 ]] && privs=(-u root)
    "${PRIO[@]}" taskset -c "$SERVER_CPU" "$CHRONYD" -x -d "${privs[@]}" -f "$dir/chrony.conf" \
        >"$dir/chronyd.log" 2>&1 &
    SERVER_PID=$! SERVER_LOG=$dir/chronyd.log
}

start_ours() {
    local workers=$1 cpus=$2 bin=${3:-$OURS_BIN} tag=${4:-ours}
    local data=$WORK/$tag-data-$1
    mkdir -p "$data"
    local cmd=${OURS_CMD//\{port\}/$PORT}
    cmd=${cmd//"$OURS_BIN"/$bin} # base1/baseN: BASE_BIN in place of OURS_BIN
    cmd=${cmd//\{http\}/$HTTP_PORT}
    cmd=${cmd//\{data\}/$data}
    cmd=${cmd//\{workers\}/$workers}
    local envs=()
    [[ -n $OURS_WORKERS_ENV ]] && envs=("$OURS_WORKERS_ENV=$workers")
    # shellcheck disable=SC2086 # OURS_CMD is a command line, split on purpose
    "${PRIO[@]}" env "${envs[@]}" taskset -c "$cpus" $cmd >"$WORK/$tag-$workers.log" 2>&1 &
    SERVER_PID=$! SERVER_LOG=$WORK/$tag-$workers.log
}

stop_server() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}

failed=()
run_target() {
    local name=$1 round=$2
    case $name in
        reflector1) start_reflector 1 "$SERVER_CPU" ;;
        reflectorN) start_reflector "$ALL_WORKERS" "$ALL_CPUS" ;;
        chrony) [[ -x $CHRONYD ]] || die "chronyd not found (apt-get install chrony)"; start_chrony ;;
        ours1) start_ours 1 "$SERVER_CPU" ;;
        oursN) start_ours "$ALL_WORKERS" "$ALL_CPUS" ;;
        base1 | baseN)
            [[ -x $BASE_BIN ]] || die "$name needs BASE_BIN (an executable)"
            if [[ $name == base1 ]]; then start_ours 1 "$SERVER_CPU" "$BASE_BIN" base; else start_ours "$ALL_WORKERS" "$ALL_CPUS" "$BASE_BIN" base; fi
            ;;
        *) die "unknown target $name" ;;
    esac
    if ! wait_ready "$name"; then
        echo "ntp-bench: last lines of $name's output:" >&2
        tail -n 5 "$SERVER_LOG" >&2 || true
        failed+=("$name")
        stop_server
        return
    fi
    echo "ntp-bench: round $round $name (pid $SERVER_PID): ${IDLE_SECS}s idle, ${DURATION}s load" >&2
    if ! "${PRIO[@]}" "$LOAD_BIN" load --target "127.0.0.1:$PORT" --server-pid "$SERVER_PID" \
        --idle-secs "$IDLE_SECS" --duration "$DURATION" "${load_args[@]}" --json \
        >"$OUT_DIR/$name.$round.json"; then
        echo "ntp-bench: $name: load run got no valid replies" >&2
        failed+=("$name")
    fi
    stop_server
    sleep 1 # let the port and the CPUs settle
}

# Targets take turns round by round, so a disturbance on the machine (other
# jobs) hits all of them alike rather than one.
for ((r = 1; r <= ROUNDS; r++)); do
    for t in $TARGETS; do run_target "$t" "$r"; done
done

# One JSON per target: the median of every number over its successful rounds.
median_json() {
    jq -s 'map(select(.answered > 0)) |
        def med: sort | .[(length - 1) / 2 | floor];
        def m(f): [.[] | f] | med;
        { rounds: length,
          answered_per_s: m(.answered_per_s), loss_ratio: m(.loss_ratio),
          invalid_total: m(.invalid_total),
          latency: { p50_us: m(.latency.p50_us), p99_us: m(.latency.p99_us) },
          server: { user_us_per_req: m(.server.user_us_per_req),
                    system_us_per_req: m(.server.system_us_per_req),
                    total_us_per_req: m(.server.total_us_per_req),
                    sched_total_us_per_req: m(.server.sched_total_us_per_req),
                    cpu_utilization: m(.server.cpu_utilization),
                    vm_rss_kib: m(.server.vm_rss_kib), vm_hwm_kib: m(.server.vm_hwm_kib) },
          user_us_per_req_all: [.[].server.user_us_per_req],
          total_us_per_req_all: [.[].server.total_us_per_req],
          answered_per_s_all: [.[].answered_per_s] }' "$@"
}
for t in $TARGETS; do
    files=("$OUT_DIR/$t".[0-9]*.json)
    if [[ -s ${files[0]} ]]; then median_json "${files[@]}" >"$OUT_DIR/$t.json"; fi
done

# ---- report ----------------------------------------------------------------
{
    echo "# NTP benchmark $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo
    echo "- host: $(uname -srm), $NCPU CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //' || true)), load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- chronyd: $("$CHRONYD" --version 2>/dev/null | head -1 || echo n/a)"
    echo "- load: ntp-load on CPU $LOAD_CPU, $SOCKETS sockets, $(if [[ -n $RATE ]]; then echo "fixed rate $RATE/s"; else echo "closed loop, window $WINDOW per socket"; fi), ${DURATION}s per target, idle window ${IDLE_SECS}s"
    echo "- single-worker servers on CPU $SERVER_CPU; multi-worker servers ($ALL_WORKERS workers) on CPUs $ALL_CPUS${NICE:+; server and load at nice $NICE}"
    echo
    echo "- medians over $ROUNDS rounds (targets interleaved round by round); per-round values in the JSON files"
    echo
    echo "| target | answered req/s | loss % | p50 µs | p99 µs | user µs/req | system µs/req | total µs/req | total µs/req (schedstat) | server CPUs busy | RSS KiB (HWM) | total µs/req per round |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    for t in $TARGETS; do
        f=$OUT_DIR/$t.json
        if [[ ! -s $f ]]; then echo "| $t | FAILED | | | | | | | | | | |"; continue; fi
        jq -r --arg t "$t" '"| \($t) | \(.answered_per_s|floor) | \(.loss_ratio*100*1000|round/1000) | \(.latency.p50_us|round) | \(.latency.p99_us|round) | \(.server.user_us_per_req*1000|round/1000) | \(.server.system_us_per_req*1000|round/1000) | \(.server.total_us_per_req*1000|round/1000) | \(.server.sched_total_us_per_req*1000|round/1000) | \(.server.cpu_utilization*100|round/100) | \(.server.vm_rss_kib) (\(.server.vm_hwm_kib)) | \(.total_us_per_req_all | map(.*1000|round/1000) | join(" ")) |"' "$f"
    done
    echo
    ratio() { # ratio <label> <fileA> <exprA> <fileB> <exprB>
        local a b
        [[ -s $OUT_DIR/$2.json && -s $OUT_DIR/$4.json ]] || { echo "- $1: n/a"; return; }
        a=$(jq -r "$3" "$OUT_DIR/$2.json")
        b=$(jq -r "$5" "$OUT_DIR/$4.json")
        jq -rn --arg l "$1" --argjson a "$a" --argjson b "$b" \
            '"- \($l): \(if $b == 0 then "n/a" else ($a / $b * 1000 | round / 1000) end)"'
    }
    U='.server.user_us_per_req'; T='.server.total_us_per_req'; R='.answered_per_s'
    ratio "ours (1 worker) user / chrony user (target ≤ 0.33)" ours1 "$U" chrony "$U"
    ratio "ours (all) user / chrony user" oursN "$U" chrony "$U"
    ratio "ours (1 worker) total / reflector (1 worker) total (target ≤ 1.2)" ours1 "$T" reflector1 "$T"
    ratio "ours (all) total / reflector (all) total" oursN "$T" reflectorN "$T"
    ratio "chrony total / reflector (1 worker) total" chrony "$T" reflector1 "$T"
    ratio "ours req/s scaling, all / 1 worker" oursN "$R" ours1 "$R"
    ratio "reflector req/s scaling, all / 1 worker" reflectorN "$R" reflector1 "$R"
    ratio "ours (1 worker) req/s / chrony req/s" ours1 "$R" chrony "$R"
    ratio "base (1 worker) user / chrony user" base1 "$U" chrony "$U"
    ratio "ours (1 worker) user / base (1 worker) user" ours1 "$U" base1 "$U"
    ratio "ours (1 worker) total / base (1 worker) total" ours1 "$T" base1 "$T"
    echo
    echo "JSON per target: $OUT_DIR"
} | tee "$OUT_DIR/results.md"

if ((${#failed[@]})); then
    echo "ntp-bench: FAILED targets: ${failed[*]}" >&2
    exit 1
fi
