#!/usr/bin/env bash
# Hostile traffic against the axum example on 127.0.0.1, with figures:
# builds example-axum and example-hostile (release), starts the receiver on
# a free loopback port with a fresh secret and the in-memory store, runs
# every scenario (each bounded in time; about three minutes in all), prints
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
# A real attacker runs on other machines: with two cores or more, the receiver gets
# core 0 and the load generator the others, so the attack does not steal the
# receiver's CPU. Logging at warn: at the default info every rejection is a line.
server_cpus=() attacker_cpus=()
if [ "$(nproc)" -ge 2 ]; then
    server_cpus=(taskset -c 0) attacker_cpus=(taskset -c "1-$(($(nproc) - 1))")
fi
COSTKATANA_WEBHOOK_SECRET="$secret" ADDR=127.0.0.1:0 RUST_LOG=warn \
    "${server_cpus[@]}" target/release/example-axum > "$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 100); do
    grep -q "listening on" "$log" && break
    sleep 0.1
done
addr=$(grep -o 'http://[0-9.:]*' "$log" | head -1 | sed 's|http://||')
echo "receiver $server on $addr; $(nproc) cores (receiver on ${server_cpus[*]:-all}); $(date -u +%Y-%m-%dT%H:%MZ)"
"${attacker_cpus[@]}" target/release/example-hostile "$addr" "$secret" "$server"
