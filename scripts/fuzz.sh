#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 600), two at a time, with
# libFuzzer and AddressSanitizer, starting from the committed seed corpus
# (new inputs go to a scratch directory, not into the repository).
#
#   cargo install cargo-fuzz     # once
#   scripts/fuzz.sh [SECONDS]
#
# cargo fuzz needs nightly-only compiler flags; RUSTC_BOOTSTRAP=1 lets the
# stable toolchain accept them. Exits non-zero if any target finds a crash,
# a hang (over 10 s per input) or an out-of-memory (over 2 GiB); the
# failing input is left under fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds=${1:-600}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export RUSTC_BOOTSTRAP=1
cargo fuzz build -O
run() {
    local target=$1
    mkdir -p "$scratch/$target"
    local status=0
    cargo fuzz run -O "$target" "$scratch/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        > "$scratch/$target.log" 2>&1 || status=$?
    printf '%-8s %s\n' "$target" "$(grep -E '^Done|stat::number_of_executed_units|stat::peak_rss_mb' "$scratch/$target.log" | tr '\n' ' ')"
    if [ "$status" -ne 0 ]; then tail -40 "$scratch/$target.log"; fi
    return "$status"
}
failed=0
for pair in "headers verify" "event intake"; do
    pids=()
    for target in $pair; do run "$target" & pids+=($!); done
    for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
done
exit "$failed"
