#!/usr/bin/env bash
# Serial reconnect latency of `fieldsync run`: a socat pseudo-terminal pair plays the board; it is
# torn down (the agent sees the port vanish, as on a USB unplug), left down for DOWN_MS, and
# recreated. The figure is the time from the recreated pty to the first frame ingested from it
# (committed to the store: GET /status counts one more pending reading), while the "board" writes
# one frame every 20 ms. Median and maximum over ROUNDS recreations. The agent's first retry comes
# 1 s after the loss (backing off while the port stays away), so DOWN_MS is part of what a user
# waits: the figure is measured from the moment the port is back.
#
# Usage: tests/bench/pty_reconnect_bench.sh
# Env:   ROUNDS         recreations (default 10)
#        DOWN_MS        how long the port stays away each time (default 300)
#        FIELDSYNC_BIN  the fieldsync binary (default: build/release/agent/fieldsync)
# Output: ROW|<figure>|<value>|-|- lines (tests/bench/run.sh collects them).
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${ROUNDS:-10}
down_ms=${DOWN_MS:-300}
bin=${FIELDSYNC_BIN:-build/release/agent/fieldsync}
[ -x "$bin" ] || { echo "no fieldsync binary at $bin" >&2; exit 2; }
bin=$(realpath "$bin")
command -v socat >/dev/null || { echo "socat not found" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/var/tmp}/fieldsync-pty-bench-XXXXXX")
agent_pid=""
socat_pid=""
cleanup() {
  [ -z "$agent_pid" ] || kill -KILL "$agent_pid" 2>/dev/null || true
  [ -z "$socat_pid" ] || kill -TERM "$socat_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

start_pty() {
  socat pty,raw,echo=0,link="$work/ttyAGENT" pty,raw,echo=0,link="$work/ttyBOARD" \
    2>>"$work/socat.log" &
  socat_pid=$!
  for _ in $(seq 200); do
    [ -e "$work/ttyAGENT" ] && [ -e "$work/ttyBOARD" ] && return 0
    sleep 0.01
  done
  echo "socat did not create the pty pair" >&2
  exit 1
}
stop_pty() {
  kill -TERM "$socat_pid" 2>/dev/null || true
  wait "$socat_pid" 2>/dev/null || true
  socat_pid=""
  rm -f "$work/ttyAGENT" "$work/ttyBOARD"
}

start_pty
http_port=$(( (RANDOM % 20000) + 30000 ))
cat >"$work/fieldsync.toml" <<EOF
gateway = "pty-bench"
state_dir = "$work/state"
[clock]
trust_unsynced = true
[http]
listen = "127.0.0.1:$http_port"
[[serial]]
name = "board"
port = "$work/ttyAGENT"
baud = 115200
format = "kv"
device = "uno"
EOF
"$bin" --config "$work/fieldsync.toml" run 2>"$work/agent.log" &
agent_pid=$!

pending() {  # pending readings per GET /status; empty while the server is not up yet
  { curl -s "http://127.0.0.1:$http_port/status" || true; } |
    sed -n 's/.*"pending":{[^}]*"readings":\([0-9]*\).*/\1/p'
}
now_ms() { date +%s%3N; }
value=0
# Writes frames every 20 ms until more than $1 readings are pending; prints the time it took.
wait_ingested() {
  local before=$1 start=$2 deadline=$(( $(now_ms) + 30000 ))
  while true; do
    value=$((value + 1))
    printf 'v=%d\n' "$value" >"$work/ttyBOARD" 2>/dev/null || true
    local p
    p=$(pending)
    if [ -n "$p" ] && ((p > before)); then
      echo $(( $(now_ms) - start ))
      return 0
    fi
    (( $(now_ms) < deadline )) || { echo "no frame ingested; log:" >&2; tail -n 20 "$work/agent.log" >&2; exit 1; }
    sleep 0.02
  done
}

# Connected once before measuring.
wait_ingested 0 "$(now_ms)" >/dev/null
times=()
for ((i = 1; i <= rounds; i++)); do
  stop_pty
  sleep "$(awk -v ms="$down_ms" 'BEGIN { print ms / 1000 }')"
  before=$(pending)
  [ -n "$before" ] || { echo "no status from the agent; log:" >&2; tail -n 20 "$work/agent.log" >&2; exit 1; }
  start_pty
  t0=$(now_ms)
  times+=("$(wait_ingested "$before" "$t0")")
  echo "round $i: ${times[-1]} ms"
done
fds=$(find "/proc/$agent_pid/fd" -mindepth 1 -maxdepth 1 | wc -l)
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
median=$(printf '%s\n' "$sorted" | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
max=$(printf '%s\n' "$sorted" | tail -n 1)
echo "agent open descriptors after $rounds recreations: $fds"
echo "ROW|pty recreated to first ingested frame, median of $rounds (down ${down_ms} ms)|${median} ms|-|-"
echo "ROW|pty recreated to first ingested frame, max of $rounds (down ${down_ms} ms)|${max} ms|-|-"
kill -TERM "$agent_pid"
wait "$agent_pid" || true
agent_pid=""
