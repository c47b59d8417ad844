#!/usr/bin/env bash
# Run every cargo-fuzz target listed in fuzz/Cargo.toml for N seconds each and
# report executions, coverage and crashes. Exits 1 when any target crashed
# (the reproducer is kept in fuzz/artifacts/<target>/).
#
#   tools/fuzz.sh [SECONDS]          default 60 s per target
#   FUZZ_PARALLEL=2 tools/fuzz.sh 600   two targets at a time
#   FUZZ_TARGETS="framer receiver" tools/fuzz.sh 30
#
# Installs what it needs when missing: the nightly toolchain (minimal
# profile) and cargo-fuzz. Seeds the framer/receiver/nmea corpora from the
# GNSS fixtures (../shared/fixtures/gnss or $GNSS_FIXTURES_DIR) once.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-${FUZZ_SECONDS:-60}}
parallel=${FUZZ_PARALLEL:-1}
logs=${FUZZ_LOG_DIR:-fuzz/logs}
fixtures=${GNSS_FIXTURES_DIR:-../shared/fixtures/gnss}

if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

targets=${FUZZ_TARGETS:-$(cd fuzz && cargo +nightly fuzz list)}
mkdir -p "$logs"

# Seed corpora (libFuzzer adds what it finds next to them).
if [ -d "$fixtures" ]; then
    for t in framer receiver; do
        mkdir -p "fuzz/corpus/$t"
        for f in "$fixtures"/*.log; do
            [ -e "fuzz/corpus/$t/$(basename "$f")" ] || head -c 65536 "$f" >"fuzz/corpus/$t/$(basename "$f")"
        done
    done
    mkdir -p fuzz/corpus/nmea_decode
    if [ -z "$(ls -A fuzz/corpus/nmea_decode)" ]; then
        grep -ah '^\$' "$fixtures"/*.log | head -200 | split -l 1 - fuzz/corpus/nmea_decode/seed- || true
    fi
fi

build_start=$(date +%s)
(cd fuzz && cargo +nightly fuzz build)
echo "fuzz build: $(( $(date +%s) - build_start )) s"

run_one() {
    local t=$1 log="$logs/$1.log"
    mkdir -p "fuzz/corpus/$t"
    # -rss_limit_mb: a leak or unbounded buffer is a finding too.
    if (cd fuzz && cargo +nightly fuzz run "$t" -- \
            -max_total_time="$secs" -print_final_stats=1 -rss_limit_mb=1024) \
            >"$log" 2>&1; then
        echo "ok" >"$log.result"
    else
        echo "CRASH" >"$log.result"
    fi
}

running=0
for t in $targets; do
    run_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$parallel" ]; then
        wait -n || true
        running=$((running - 1))
    fi
done
wait

status=0
printf '%-14s %8s %14s %10s %8s  %s\n' target seconds execs exec/s cov result
for t in $targets; do
    log="$logs/$t.log"
    execs=$(grep -ao 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
    rate=$(grep -ao 'stat::average_exec_per_sec: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
    cov=$(grep -ao 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
    result=$(cat "$log.result" 2>/dev/null || echo missing)
    printf '%-14s %8s %14s %10s %8s  %s\n' "$t" "$secs" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$result"
    if [ "$result" != ok ]; then
        status=1
        echo "--- $t: last lines of $log" >&2
        tail -30 "$log" >&2
        ls "fuzz/artifacts/$t" 2>/dev/null >&2 || true
    fi
done
exit $status
