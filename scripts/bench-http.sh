#!/usr/bin/env bash
# Requests per second of five routes of one server, measured in short
# rounds: in each, every route runs PASSES times for ROUND_SECS, in a
# rotating order (each pass starts one route later than the last), and
# keeps its best pass; each round's rates are divided by that round's bare
# rate, and the per-round ratios are reported with their median and range.
# The machine is shared and its load drifts: ratios within a round hold
# where rates across minutes do not, and the best of short passes is the
# one the other load disturbed least.
#
# Routes (1 KiB signed deliveries, each with its own event id, wrk on
# 127.0.0.1):
#   bare       an axum route that reads the body as bytes and answers
#   fresh      the full receiver (verify, parse, in-memory dedupe, route,
#              settle, metrics), event ids never seen
#   duplicates the full receiver, ids it has already handled
#   naive      an axum route that checks the HMAC and the timestamp as the
#              published examples do, then parses into serde_json::Value
#   no-store   (diagnostic) the receiver with a store that remembers nothing
#
#   scripts/bench-http.sh                      # 9 rounds, 2 passes of 1 s per route
#   ROUNDS=15 PASSES=3 ROUND_SECS=2 CONNECTIONS=64 PIN=1 scripts/bench-http.sh
#   PROFILE=fresh scripts/bench-http.sh        # then perf record -g on the
#                                              # server during one more load
#
# Needs wrk (apt-get install -y wrk) and curl. Builds example-bench-server
# in release mode, starts it on 127.0.0.1, stops it (by its pid) on exit.
set -euo pipefail

ROUNDS=${ROUNDS:-9}
ROUND_SECS=${ROUND_SECS:-1}       # seconds per route per pass
PASSES=${PASSES:-2}               # passes per round; each route's best pass counts
WARMUP=${WARMUP:-2}               # seconds per route before the first round
THREADS=${THREADS:-1}             # wrk threads
CONNECTIONS=${CONNECTIONS:-32}
PER_ROUND=${PER_ROUND:-150000}    # fresh deliveries signed for each pass of a round
LOG=${BENCH_LOG:-warn}            # the server's RUST_LOG; info logs a line per request
PORT=${PORT:-39181}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
SERVER=$TARGET/release/example-bench-server
SECRET=whsec_bench_$$
WARMUP_IDS=50000
PROFILE_SECS=${PROFILE_SECS:-5}

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

echo "signing $WARMUP_IDS deliveries of 1 KiB (each round signs $PER_ROUND more)..." >&2
COSTKATANA_WEBHOOK_SECRET=$SECRET "$SERVER" generate "$WARMUP_IDS" "$WORK/warmup.tsv" evt_warmup_

ADDR=127.0.0.1:$PORT COSTKATANA_WEBHOOK_SECRET=$SECRET RUST_LOG=$LOG COSTKATANA_WEBHOOK_TOLERANCE_SECS=3600 \
  BENCH_STORE_ENTRIES=$((WARMUP_IDS + (ROUNDS * PASSES + PROFILE_SECS) * PER_ROUND + 100000)) \
  "${server_cpu[@]}" "$SERVER" >"$WORK/server.out" 2>"$WORK/server.err" &
pid=$!
for _ in $(seq 100); do
  grep -q "listening on" "$WORK/server.out" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$WORK/server.err" >&2; exit 1; }
  sleep 0.05
done
grep -q "listening on" "$WORK/server.out" || { echo "the bench server did not start" >&2; exit 1; }

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }

# Outcome counters of the running server, as "processed duplicate".
outcomes() {
  curl -s "http://127.0.0.1:$PORT/metrics" | awk '
    /requests_total\{outcome="processed"\}/ { p = $2 }
    /requests_total\{outcome="duplicate"\}/ { d = $2 }
    END { printf "%d %d\n", p, d }'
}

# Runs wrk on path $1 for $2 seconds with file $3; prints "requests/s
# requests server-cpu-ticks".
load() {
  local out cpu0 cpu1 count
  cpu0=$(cpu_ticks)
  out=$(BENCH_REQUESTS=$3 BENCH_PATH=$1 BENCH_THREADS=$THREADS \
    "${client_cpu[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$2"s -s "$ROOT/scripts/bench-http.lua" \
    "http://127.0.0.1:$PORT")
  cpu1=$(cpu_ticks)
  if grep -q "Non-2xx" <<<"$out"; then
    echo "$out" >&2
    echo "some answers to $1 were not 2xx" >&2
    exit 1
  fi
  count=$(awk '/requests in/ { print $1 }' <<<"$out")
  awk -v c="$((cpu1 - cpu0))" -v n="$count" '/^Requests\/sec:/ { printf "%s %d %d\n", $2, n, c }' <<<"$out"
}

ROUTES=(bare fresh duplicates naive no-store)
path_of() {
  case $1 in
    bare) echo /bare ;;
    fresh | duplicates) echo /webhooks/costkatana ;;
    naive) echo /naive ;;
    no-store) echo /diagnostic/no-store ;;
  esac
}

# Warm-up: every route; the receiver until every warm-up id is handled,
# so that replaying them is the duplicate path.
for route in bare naive no-store; do
  load "$(path_of $route)" "$WARMUP" "$WORK/warmup.tsv" >/dev/null
done
for _ in $(seq 20); do
  load /webhooks/costkatana "$WARMUP" "$WORK/warmup.tsv" >/dev/null
  read -r handled _ <<<"$(outcomes)"
  ((handled >= WARMUP_IDS)) && break
done

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A rate cpu requests
stray_dup=0 stray_fresh=0
for ((r = 0; r < ROUNDS; r++)); do
  # This round's fresh ids, one file per pass, signed before its first load
  # (not while one runs) and deleted after it.
  for ((p = 0; p < PASSES; p++)); do
    COSTKATANA_WEBHOOK_SECRET=$SECRET "$SERVER" generate "$PER_ROUND" "$WORK/fresh$p.tsv" "evt_r${r}p${p}_"
  done
  for ((p = 0; p < PASSES; p++)); do
    for ((k = 0; k < ${#ROUTES[@]}; k++)); do
      route=${ROUTES[$(((r * PASSES + p + k) % ${#ROUTES[@]}))]}
      # Ids matter only to the store: fresh ids for the fresh route, the
      # handled warm-up ids for the others (the smaller file loads faster).
      file=$WORK/warmup.tsv
      [[ $route == fresh ]] && file=$WORK/fresh$p.tsv
      read -r p0 d0 <<<"$(outcomes)"
      read -r rps n ticks <<<"$(load "$(path_of "$route")" "$ROUND_SECS" "$file")"
      read -r p1 d1 <<<"$(outcomes)"
      case $route in
        fresh) stray_dup=$((stray_dup + d1 - d0)) ;;
        duplicates) stray_fresh=$((stray_fresh + p1 - p0)) ;;
      esac
      # The round keeps each route's best pass: the one least disturbed
      # by the machine's other load.
      rate[$route,$r]=$(awk -v a="${rate[$route,$r]:-0}" -v b="$rps" 'BEGIN { print (b > a) ? b : a }')
      cpu[$route]=$((${cpu[$route]:-0} + ticks))
      requests[$route]=$((${requests[$route]:-0} + n))
    done
  done
  rm -f "$WORK"/fresh*.tsv
  echo "round $((r + 1))/$ROUNDS done" >&2
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# PROFILE=<route>: one more load of that route (fresh: ids of their own)
# (PROFILE_SECS, default 5) with `perf record -g` on the server for its
# duration, into PROFILE_OUT.
if [[ -n ${PROFILE:-} ]]; then
  command -v perf >/dev/null || { echo "perf is not installed" >&2; exit 1; }
  file=$WORK/warmup.tsv
  if [[ $PROFILE == fresh ]]; then
    COSTKATANA_WEBHOOK_SECRET=$SECRET "$SERVER" generate "$((PER_ROUND * PROFILE_SECS))" "$WORK/profile.tsv" evt_profile_
    file=$WORK/profile.tsv
  fi
  out=${PROFILE_OUT:-$PWD/bench-http.$PROFILE.perf.data}
  # perf starts first and stops by itself after the load's duration.
  perf record -g -o "$out" -p "$pid" -- sleep "$((PROFILE_SECS + 1))" 2>"$WORK/perf.err" &
  perf_pid=$!
  sleep 0.5
  load "$(path_of "$PROFILE")" "$PROFILE_SECS" "$file" >/dev/null
  wait "$perf_pid" || { cat "$WORK/perf.err" >&2; exit 1; }
  echo "profile of the server under $PROFILE: $out (perf report -i $out --no-children)" >&2
fi

# One line per route: the per-round ratios to bare, their median and range.
hz=$(getconf CLK_TCK)
printf '\n%-34s %12s %9s  %s\n' "route" "median req/s" "CPU µs/req" "ratio to bare: median (min-max); each round"
for route in "${ROUTES[@]}"; do
  rates=() ratios=()
  for ((r = 0; r < ROUNDS; r++)); do
    rates+=("${rate[$route,$r]}")
    ratios+=("$(awk -v a="${rate[$route,$r]}" -v b="${rate[bare,$r]}" 'BEGIN { printf "%.3f", a / b }')")
  done
  printf '%s\n' "${rates[@]}" | sort -g >"$WORK/rates"
  printf '%s\n' "${ratios[@]}" | sort -g >"$WORK/ratios"
  median_rate=$(awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }' "$WORK/rates")
  summary=$(awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.3f (%.3f-%.3f)", m, v[1], v[NR] }' "$WORK/ratios")
  per_req=$(awk -v c="${cpu[$route]}" -v n="${requests[$route]}" -v hz="$hz" 'BEGIN { printf "%.1f", c * 1e6 / hz / n }')
  printf '%-34s %12.0f %9s  %s; %s\n' "$route" "$median_rate" "$per_req" "$summary" "${ratios[*]}"
done

# The receiver against the naive route, round by round.
ratios=()
for ((r = 0; r < ROUNDS; r++)); do
  ratios+=("$(awk -v a="${rate[fresh,$r]}" -v b="${rate[naive,$r]}" 'BEGIN { printf "%.3f", a / b }')")
done
printf '%s\n' "${ratios[@]}" | sort -g >"$WORK/ratios"
echo
echo "fresh / naive: $(awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.3f (%.3f-%.3f)", m, v[1], v[NR] }' "$WORK/ratios"); ${ratios[*]}"
echo
if [[ $PIN == 1 ]]; then cores="server on CPU 0, wrk on CPU 1"; else cores="$(nproc) cores shared by wrk and the server"; fi
echo "$ROUNDS rounds, each route's best of $PASSES passes of ${ROUND_SECS}s, rotating order; wrk -t$THREADS -c$CONNECTIONS, 1 KiB bodies, 127.0.0.1, $cores, server RUST_LOG=$LOG"
echo "load average before: $load_before; after: $load_after"
echo "fresh runs answered $stray_dup duplicates, duplicate runs processed $stray_fresh fresh (both should be 0)"
if ((stray_dup > 0)); then
  echo "warning: a fresh pass re-used ids; raise PER_ROUND" >&2
fi
