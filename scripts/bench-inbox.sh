#!/usr/bin/env bash
# Acknowledged deliveries per second and the time to acknowledge, over HTTP,
# in one run: the bare route (reads the body, answers; the floor), the
# receiver in memory (verify + dedupe + handler, nothing durable), and the
# receiver in inbox mode on SQLite (process-crash and power-loss durable)
# and on Postgres (fsync on). Fresh 1 KiB signed deliveries with distinct
# ids, wrk on 127.0.0.1; ROUNDS rounds in rotating order, a fresh server and
# a fresh inbox per run, the ratios to bare taken within each round.
#
#   scripts/bench-inbox.sh                 # 3 rounds of 10 s per contender
#   ROUNDS=5 DURATION=20 CONNECTIONS=64 PIN=1 scripts/bench-inbox.sh
#
# Needs wrk (apt-get install -y wrk); Postgres's server binaries for its row
# (skipped, said so, without them). Builds example-bench-server in release
# mode; every server it starts listens on 127.0.0.1 and is stopped on exit.
set -euo pipefail

DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-1}
CONNECTIONS=${CONNECTIONS:-32}
REQUESTS=${REQUESTS:-1000000}     # distinct deliveries per round (more than a run can send)
PORT=${PORT:-39182}
PIN=${PIN:-0}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
SERVER=$TARGET/release/example-bench-server
SECRET=whsec_bench_$$

command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install -y wrk)" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is not installed" >&2; exit 1; }
server_cpu=() client_cpu=()
if [[ $PIN == 1 ]]; then server_cpu=(taskset -c 0) client_cpu=(taskset -c 1); fi
WORK=$(mktemp -d)
pid= pg_pid=
cleanup() {
  [[ -n $pid ]] && { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
  [[ -n $pg_pid ]] && { kill -INT "$pg_pid" 2>/dev/null || true; wait "$pg_pid" 2>/dev/null || true; }
  rm -rf "$WORK"
}
trap cleanup EXIT

# A throwaway Postgres on its own port and directory (as the postgres user
# when run as root, since Postgres refuses root).
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
PG_PORT=$((PORT + 1))
start_postgres() {
  [[ -x $PG_BIN/initdb ]] || return 1
  local as=()
  if [[ $(id -u) == 0 ]]; then as=(setpriv --reuid=postgres --regid=postgres --init-groups); chown postgres "$WORK"; fi
  "${as[@]}" "$PG_BIN/initdb" -D "$WORK/pg" -U postgres -A trust -E UTF8 >/dev/null
  "${as[@]}" "$PG_BIN/postgres" -D "$WORK/pg" -p "$PG_PORT" -c listen_addresses=127.0.0.1 \
    -c unix_socket_directories="$WORK" -c max_connections=200 >"$WORK/pg.log" 2>&1 &
  pg_pid=$!
  for _ in $(seq 200); do
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" && return 0
    sleep 0.05
  done
  echo "postgres did not start; see $WORK/pg.log" >&2
  return 1
}
inbox_url() { # contender round -> INBOX_URL ("" for none)
  case $1 in
    memory|bare) echo "" ;;
    sqlite) echo "sqlite:$WORK/inbox-$RANDOM$RANDOM.db" ;;
    sqlite-power) echo "sqlite:$WORK/inbox-$RANDOM$RANDOM.db?durability=power-loss" ;;
    postgres)
      "$PG_BIN/psql" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -c "CREATE DATABASE bench_$2" >&2
      echo "postgres://postgres@127.0.0.1:$PG_PORT/bench_$2" ;;
  esac
}

start_server() { # INBOX_URL
  INBOX_URL=$1 ADDR=127.0.0.1:$PORT COSTKATANA_WEBHOOK_SECRET=$SECRET RUST_LOG=warn \
    "${server_cpu[@]}" "$SERVER" >"$WORK/server.out" 2>"$WORK/server.err" &
  pid=$!
  for _ in $(seq 200); do
    grep -q "listening on" "$WORK/server.out" 2>/dev/null && return
    kill -0 "$pid" 2>/dev/null || { cat "$WORK/server.err" >&2; exit 1; }
    sleep 0.05
  done
  echo "the bench server did not start" >&2; exit 1
}
stop_server() { kill -TERM "$pid"; wait "$pid" || true; pid=; }

# Handler runs that succeeded so far: the inbox workers' done attempts, or
# the inline receiver's processed requests.
handled() {
  curl -s "http://127.0.0.1:$PORT/metrics" | awk '
    /inbox_attempts_total\{result="done"\}/ { n = $2 }
    /requests_total\{outcome="processed"\}/ { p = $2 }
    END { printf "%d\n", (n > 0 ? n : p) }'
}

# wrk on a path; prints "requests/s p50_ms p99_ms".
load() {
  local out
  out=$(BENCH_REQUESTS=$WORK/requests.tsv BENCH_PATH=$1 BENCH_THREADS=$THREADS \
    "${client_cpu[@]}" wrk --latency -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION"s \
    -s "$ROOT/scripts/bench-http.lua" "http://127.0.0.1:$PORT")
  if grep -q "Non-2xx" <<<"$out"; then echo "$out" >&2; echo "some answers were not 2xx" >&2; exit 1; fi
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) } /^Requests\/sec:/ { rps = $2 }
    END { printf "%s %.3f %.3f\n", rps, p50, p99 }' <<<"$out"
}

echo "building example-bench-server (release)..." >&2
cargo build --quiet --release -p example-bench-server --manifest-path "$ROOT/Cargo.toml"
contenders=(bare memory sqlite sqlite-power postgres)
if ! start_postgres; then
  echo "Postgres server binaries not found: the postgres row is skipped" >&2
  contenders=(bare memory sqlite sqlite-power)
fi
declare -A rows
for ((round = 0; round < ROUNDS; round++)); do
  # Signed now, so a round ends well inside the 300 s tolerance.
  COSTKATANA_WEBHOOK_SECRET=$SECRET "$SERVER" generate "$REQUESTS" "$WORK/requests.tsv" "evt_r${round}_" 
  n=${#contenders[@]}
  for ((k = 0; k < n; k++)); do
    c=${contenders[$(((k + round) % n))]}
    start_server "$(inbox_url "$c" "$round")"
    path=/webhooks/costkatana; [[ $c == bare ]] && path=/bare
    result=$(load "$path")
    if [[ $c == bare ]]; then done_n=0; else done_n=$(handled); fi
    result="$result $(awk -v n="$done_n" -v d="$DURATION" 'BEGIN { printf "%.0f", n / d }')"
    stop_server
    rm -f "$WORK"/inbox-*
    rows[$c,$round]=$result
    printf 'round %d: %-13s %s\n' "$round" "$c" "$result" >&2
  done
done

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
label() {
  case $1 in
    bare) echo "bare route (reads the body; floor)" ;;
    memory) echo "receiver, in memory (not durable)" ;;
    sqlite) echo "inbox, SQLite, process-crash durable" ;;
    sqlite-power) echo "inbox, SQLite, power-loss durable" ;;
    postgres) echo "inbox, Postgres (fsync on)" ;;
  esac
}
echo
if [[ $PIN == 1 ]]; then cores="server on CPU 0, wrk on CPU 1"; else cores="$(nproc) cores shared by wrk and the server"; fi
echo "wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s, $ROUNDS rounds, 1 KiB bodies, 127.0.0.1, $cores; medians over rounds, ratios within each round"
echo
echo "| contender | acknowledged/s | handled/s | p50 ack | p99 ack | ratio to bare |"
echo "|---|---:|---:|---:|---:|---:|"
for c in "${contenders[@]}"; do
  rps=$(for ((r = 0; r < ROUNDS; r++)); do echo "${rows[$c,$r]}" | cut -d' ' -f1; done | median)
  handled=$(for ((r = 0; r < ROUNDS; r++)); do echo "${rows[$c,$r]}" | cut -d' ' -f4; done | median)
  p50=$(for ((r = 0; r < ROUNDS; r++)); do echo "${rows[$c,$r]}" | cut -d' ' -f2; done | median)
  p99=$(for ((r = 0; r < ROUNDS; r++)); do echo "${rows[$c,$r]}" | cut -d' ' -f3; done | median)
  ratio=$(for ((r = 0; r < ROUNDS; r++)); do
    awk -v a="$(echo "${rows[$c,$r]}" | cut -d' ' -f1)" -v b="$(echo "${rows[bare,$r]}" | cut -d' ' -f1)" 'BEGIN { print a / b }'
  done | median)
  [[ $c == bare ]] && handled="-"
  printf '| %s | %.0f | %s | %s ms | %s ms | %.3f |\n' "$(label "$c")" "$rps" "$handled" "$p50" "$p99" "$ratio"
done
