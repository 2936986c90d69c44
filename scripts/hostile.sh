#!/usr/bin/env bash
# Hostile traffic against the axum example on 127.0.0.1, with figures:
# builds example-axum and example-hostile (release), starts the receiver on
# a free loopback port with a fresh secret and the in-memory store, runs
# every scenario (each bounded in time; about four minutes in all), prints
# a Markdown table, and stops the receiver.
#
#   scripts/hostile.sh            # HOSTILE_IDS=<n> for fewer than 1,000,000 ids
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p example-axum -p example-hostile
secret="whsec_hostile_$RANDOM$RANDOM"
log=$(mktemp)
# Enough descriptors for a thousand slow clients on each side.
ulimit -n 20000
COSTKATANA_WEBHOOK_SECRET="$secret" ADDR=127.0.0.1:0 RUST_LOG=warn \
    target/release/example-axum > "$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 100); do
    grep -q "listening on" "$log" && break
    sleep 0.1
done
addr=$(grep -o 'http://[0-9.:]*' "$log" | head -1 | sed 's|http://||')
echo "receiver $server on $addr; $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ)"
target/release/example-hostile "$addr" "$secret" "$server"
