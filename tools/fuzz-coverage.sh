#!/usr/bin/env bash
# Line and region coverage of each fuzz target's committed corpus (what
# tests/fuzz_replay.rs replays on stable, and what libFuzzer starts from),
# measured with llvm-cov over the source files the target exercises.
#
#   tools/fuzz-coverage.sh            # from the repository root; needs jq and
#                                     # llvm-profdata/llvm-cov of rustc's LLVM
#                                     # major version (Debian: llvm-22)
#
# Only this crate is instrumented (tools/cov-rustc as RUSTC_WRAPPER): the
# dependencies are reused from the target directory. The crate is rebuilt
# uninstrumented at the end, so later builds do not link instrumented code.
set -euo pipefail
cd "$(dirname "$0")/.."
major=$(rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')
PROFDATA=${LLVM_PROFDATA:-$(command -v "llvm-profdata-$major" || true)}
COV=${LLVM_COV:-$(command -v "llvm-cov-$major" || true)}
if [ -z "$PROFDATA" ] || [ -z "$COV" ]; then
    echo "need llvm-profdata-$major and llvm-cov-$major (apt-get install llvm-$major)" >&2
    exit 1
fi
command -v jq >/dev/null || { echo "jq is required" >&2; exit 1; }
work=$(mktemp -d)
restore() {
    touch src/lib.rs tests/fuzz_replay.rs
    cargo test --test fuzz_replay --no-run -q >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap restore EXIT

touch src/lib.rs tests/fuzz_replay.rs
bin=$(RUSTC_WRAPPER="$PWD/tools/cov-rustc" cargo test --test fuzz_replay --no-run \
    --message-format=json 2>/dev/null |
    jq -r 'select(.reason == "compiler-artifact" and .target.name == "fuzz_replay" and .executable != null) | .executable')

# The source files each target is about (coverage is reported over these).
sources() {
    case $1 in
    framer) echo src/gnss/framer ;;
    ubx_decode) echo src/gnss/ubx ;;
    nmea_decode) echo src/gnss/nmea ;;
    receiver) echo src/gnss/framer src/gnss/ubx src/gnss/nmea src/gnss/receiver ;;
    leap_file) echo src/discipline/leap/file.rs ;;
    ntp_request) echo src/ntp/handler.rs src/ntp/packet.rs src/ntp/auth.rs src/ntp/clients.rs src/ntp/access.rs ;;
    agentx_decode) echo src/snmp/codec src/snmp/codec.rs src/snmp/session src/snmp/session.rs ;;
    mode6_request) echo src/ntp/mode6.rs ;;
    store_open) echo src/store ;;
    esac
}

printf '%-14s %7s %15s %15s %15s  %s\n' target inputs "lines hit" "regions hit" "functions hit" files
for t in $(grep -A1 '^\[\[bin\]\]' fuzz/Cargo.toml | sed -n 's/^name = "\(.*\)"/\1/p'); do
    LLVM_PROFILE_FILE="$work/$t-%p.profraw" GNSS_FIXTURES_DIR=${GNSS_FIXTURES_DIR:-../shared/fixtures/gnss} \
        "$bin" "$t" --exact --nocapture >"$work/$t.out" 2>&1
    inputs=$(grep -o "$t: [0-9]* inputs" "$work/$t.out" | grep -o '[0-9]*' | head -1)
    "$PROFDATA" merge -sparse "$work/$t"-*.profraw -o "$work/$t.profdata"
    files=()
    for s in $(sources "$t"); do
        [ -e "$s" ] || continue
        if [ -d "$s" ]; then
            while IFS= read -r f; do files+=("$f"); done < <(find "$s" -name '*.rs' ! -name '*tests*.rs' | sort)
        else
            files+=("$s")
        fi
    done
    total=$("$COV" report "$bin" -instr-profile="$work/$t.profdata" "${files[@]}" | grep '^TOTAL')
    # TOTAL: regions missed cover% functions missed cover% lines missed cover% ...
    read -r _ reg regm regp fn fnm fnp ln lnm lnp _ <<<"$total"
    printf '%-14s %7s %15s %15s %15s  %s\n' "$t" "${inputs:-?}" \
        "$((ln - lnm))/$ln ($lnp)" "$((reg - regm))/$reg ($regp)" "$((fn - fnm))/$fn ($fnp)" \
        "$(sources "$t")"
done
