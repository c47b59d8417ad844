#!/usr/bin/env bash
# Run every cargo-fuzz target listed in fuzz/Cargo.toml for N seconds each and
# report executions, coverage and crashes. Exits 1 when any target crashed
# (the reproducer is kept in fuzz/artifacts/<target>/).
#
#   tools/fuzz.sh [SECONDS]          default 60 s per target
#   FUZZ_PARALLEL=2 tools/fuzz.sh 600   two targets at a time
#   FUZZ_TARGETS="framer receiver" tools/fuzz.sh 30
#
#   FUZZ_STABLE=1 tools/fuzz.sh 30   stable toolchain, no cargo-fuzz: the
#                                    same libFuzzer targets built with the
#                                    sanitizer-coverage passes (no ASan; Rust
#                                    code is memory-safe, panics are crashes)
#
# Otherwise installs what it needs when missing: the nightly toolchain
# (minimal profile) and cargo-fuzz. Seeds the framer/receiver/nmea corpora from the
# GNSS fixtures (../shared/fixtures/gnss or $GNSS_FIXTURES_DIR) once.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-${FUZZ_SECONDS:-60}}
parallel=${FUZZ_PARALLEL:-1}
logs=${FUZZ_LOG_DIR:-fuzz/logs}
fixtures=${GNSS_FIXTURES_DIR:-../shared/fixtures/gnss}

stable=${FUZZ_STABLE:-0}
host=$(rustc -vV | sed -n 's/^host: //p')
if [ "$stable" = 1 ]; then
    # What cargo-fuzz passes, minus ASan; --target keeps the flags off build
    # scripts and proc macros.
    export RUSTFLAGS="--cfg fuzzing -Cdebug-assertions -Coverflow-checks -Cpasses=sancov-module \
-Cllvm-args=-sanitizer-coverage-level=4 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
-Cllvm-args=-sanitizer-coverage-pc-table -Cllvm-args=-sanitizer-coverage-trace-compares"
    default_targets=$(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^gnss')
else
    if ! rustup toolchain list | grep -q '^nightly'; then
        rustup toolchain install nightly --profile minimal
    fi
    if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
        cargo install cargo-fuzz --locked
    fi
    default_targets=$(cd fuzz && cargo +nightly fuzz list)
fi

targets=${FUZZ_TARGETS:-$default_targets}
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
if [ "$stable" = 1 ]; then
    (cd fuzz && cargo build --release --target "$host" --bins)
else
    (cd fuzz && cargo +nightly fuzz build)
fi
echo "fuzz build: $(( $(date +%s) - build_start )) s"

run_one() {
    local t=$1 log="$logs/$1.log"
    mkdir -p "fuzz/corpus/$t"
    # -rss_limit_mb: a leak or unbounded buffer is a finding too.
    local run
    if [ "$stable" = 1 ]; then
        mkdir -p "fuzz/artifacts/$t"
        run=(env -C fuzz "${CARGO_TARGET_DIR:-target}/$host/release/$t" "corpus/$t"
             -artifact_prefix="artifacts/$t/")
    else
        run=(env -C fuzz cargo +nightly fuzz run "$t" --)
    fi
    if "${run[@]}" -max_total_time="$secs" -print_final_stats=1 -rss_limit_mb=1024 \
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
