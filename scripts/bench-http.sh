#!/usr/bin/env bash
# Requests per second, in one run, of: a bare route that reads the body as
# bytes and answers; a naive route that parses it into a serde_json::Value;
# the full receiver (verify + parse + in-memory dedupe + route + settle +
# metrics) on fresh ids and on duplicates. 1 KiB signed deliveries, each
# with its own event id, on loopback, with wrk.
#
#   scripts/bench-http.sh            # 10 s per route
#   DURATION=30 CONNECTIONS=64 PIN=1 scripts/bench-http.sh
#
# Needs wrk (apt-get install -y wrk). Builds example-bench-server in release
# mode, starts it on 127.0.0.1 and stops it on exit.
set -euo pipefail

DURATION=${DURATION:-10}          # seconds per route
WARMUP=${WARMUP:-2}               # seconds per route before measuring
THREADS=${THREADS:-1}             # wrk threads
CONNECTIONS=${CONNECTIONS:-32}
REQUESTS=${REQUESTS:-1000000}      # distinct signed deliveries for the measured runs
LOG=${BENCH_LOG:-warn}            # the server's RUST_LOG; info logs a line per request
PORT=${PORT:-39181}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
SERVER=$TARGET/release/example-bench-server
SECRET=whsec_bench_$$

command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install -y wrk)" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is not installed" >&2; exit 1; }
# With PIN=1 (and taskset), the server runs on CPU 0 and wrk on CPU 1, so
# neither steals the other's core.
PIN=${PIN:-0}
server_cpu=() client_cpu=()
if [[ $PIN == 1 ]]; then
  server_cpu=(taskset -c 0) client_cpu=(taskset -c 1)
fi
WORK=$(mktemp -d)
pid=
cleanup() {
  if [[ -n $pid ]]; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "building example-bench-server (release)..." >&2
cargo build --quiet --release -p example-bench-server --manifest-path "$ROOT/Cargo.toml"

# A fresh server per route, so both start with an empty dedupe store.
start_server() {
  ADDR=127.0.0.1:$PORT COSTKATANA_WEBHOOK_SECRET=$SECRET RUST_LOG=$LOG \
    "${server_cpu[@]}" "$SERVER" >"$WORK/server.out" 2>"$WORK/server.err" &
  pid=$!
  for _ in $(seq 100); do
    grep -q "listening on" "$WORK/server.out" 2>/dev/null && return
    kill -0 "$pid" 2>/dev/null || { cat "$WORK/server.err" >&2; exit 1; }
    sleep 0.05
  done
  echo "the bench server did not start" >&2
  exit 1
}
stop_server() {
  kill -TERM "$pid"
  wait "$pid"
  pid=
}

# Runs wrk on $1 for $2 seconds with file $3; prints requests/s and the
# server's CPU time per request in microseconds (user + system).
load() {
  local out cpu0 cpu1 count
  cpu0=$(cpu_ticks)
  out=$(BENCH_REQUESTS=$3 BENCH_PATH=$1 BENCH_THREADS=$THREADS \
    "${client_cpu[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$2"s -s "$ROOT/scripts/bench-http.lua" \
    "http://127.0.0.1:$PORT")
  echo "$out" >"$WORK/wrk.out"
  if grep -q "Non-2xx" <<<"$out"; then
    echo "$out" >&2
    echo "some answers were not 2xx" >&2
    exit 1
  fi
  cpu1=$(cpu_ticks)
  count=$(awk '/requests in/ { print $1 }' <<<"$out")
  awk -v c="$((cpu1 - cpu0))" -v n="$count" -v hz="$(getconf CLK_TCK)" \
    '/^Requests\/sec:/ { printf "%s %.1f\n", $2, c * 1e6 / hz / n }' <<<"$out"
}

cpu_ticks() {
  awk '{ print $14 + $15 }' "/proc/$pid/stat"
}

# Outcome counters of the running server, as "processed duplicate".
outcomes() {
  curl -s "http://127.0.0.1:$PORT/metrics" | awk '
    /requests_total\{outcome="processed"\}/ { p = $2 }
    /requests_total\{outcome="duplicate"\}/ { d = $2 }
    END { printf "%d %d\n", p, d }'
}

echo "signing $REQUESTS deliveries of 1 KiB..." >&2
COSTKATANA_WEBHOOK_SECRET=$SECRET "$SERVER" generate "$REQUESTS" "$WORK/requests.tsv"
# Warm-up requests come from their own file, so the measured run starts
# with ids the server has never seen.
WARMUP_IDS=50000
COSTKATANA_WEBHOOK_SECRET=$SECRET "$SERVER" generate "$WARMUP_IDS" "$WORK/warmup.tsv" evt_warmup_

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A rps
# Bare: warm up, measure. Receiver: warm up (up to 50 000 ids processed),
# replay the warm-up ids (the duplicate path; they fit the default store's
# 1,000,000 entries), then measure fresh ids.
for route in /bare /naive /webhooks/costkatana; do
  start_server
  load "$route" "$WARMUP" "$WORK/warmup.tsv" >/dev/null
  if [[ $route == /webhooks/costkatana ]]; then
    # Finish the warm-up file, so every replayed id is a duplicate.
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      read -r p0 _ <<<"$(outcomes)"
      ((p0 >= WARMUP_IDS)) && break
      load "$route" "$WARMUP" "$WORK/warmup.tsv" >/dev/null
    done
    rps[duplicates]=$(load "$route" "$DURATION" "$WORK/warmup.tsv")
    read -r p1 d1 <<<"$(outcomes)"
    replayed_fresh=$((p1 - p0))
  fi
  rps[$route]=$(load "$route" "$DURATION" "$WORK/requests.tsv")
  if [[ $route == /webhooks/costkatana ]]; then
    read -r p2 d2 <<<"$(outcomes)"
    fresh=$((p2 - p1))
    dup=$((d2 - d1))
    # Diagnostic: the same receiver whose store remembers nothing.
    rps[no_store]=$(load /diagnostic/no-store "$DURATION" "$WORK/requests.tsv")
  fi
  stop_server
done

printf '%-34s %10s requests/s %6s us server CPU/request\n' \
  "bare handler (bytes)" ${rps[/bare]} \
  "naive handler (serde_json::Value)" ${rps[/naive]} \
  "receiver, fresh event ids" ${rps[/webhooks/costkatana]} \
  "receiver, duplicates" ${rps[duplicates]} \
  "(diagnostic) receiver, no store" ${rps[no_store]}
echo
if [[ $PIN == 1 ]]; then cores="server on CPU 0, wrk on CPU 1"; else cores="$(nproc) cores shared by wrk and the server"; fi
echo "wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s, 1 KiB bodies, 127.0.0.1, $cores, server RUST_LOG=$LOG, load average before: $load_before"
echo "fresh run: $fresh deliveries processed, $dup duplicates; duplicate run: $replayed_fresh processed (should be 0)"
if ((dup > 0)); then
  echo "warning: the fresh run re-used ids; raise REQUESTS above $((fresh + dup))" >&2
fi
awk -v r="${rps[/webhooks/costkatana]% *}" -v d="${rps[duplicates]% *}" -v b="${rps[/bare]% *}" \
  -v n="${rps[no_store]% *}" -v v="${rps[/naive]% *}" \
  'BEGIN { printf "receiver / bare = %.3f (fresh), %.3f (duplicates); receiver / naive = %.3f (fresh); without a store / bare %.3f\n", r / b, d / b, r / v, n / b }'
