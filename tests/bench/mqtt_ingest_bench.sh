#!/usr/bin/env bash
# MQTT ingest benchmark: readings/s end to end, from mosquitto_pub through the broker and
# `fieldsync run` into the local store, once with ack = "durable" and once with ack = "received",
# next to the sqlite3 command-line tool importing the same rows into a plain table (same run).
# For each mode a fresh agent is started and connected, then N QoS 1 messages (one JSON frame of
# 7 readings each, tests/bench/gen_frames.py) are published from a file with `mosquitto_pub -l`;
# the clock runs from the first publish until GET /status counts all their readings pending.
# Rates for the offline backlog (messages queued while the agent was stopped, drained at start)
# are measured too.
#
# Usage: tests/bench/mqtt_ingest_bench.sh [N]     (default 5,000 messages = 35,000 readings)
# Env:   FIELDSYNC_TEST_MQTT_URL  tcp://host:port of a broker with max_queued_messages >= N
#                                 (tests/support/services.sh); without it one is started
#        FIELDSYNC_BIN            the fieldsync binary (default: build/release/agent/fieldsync)
# Output: ROW|...| lines (tests/bench/run.sh collects them), one per mode and case.
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-5000}
bin=${FIELDSYNC_BIN:-build/release/agent/fieldsync}
[ -x "$bin" ] || { echo "no fieldsync binary at $bin" >&2; exit 2; }
bin=$(realpath "$bin")
work=$(mktemp -d "${TMPDIR:-/var/tmp}/fieldsync-mqtt-bench-XXXXXX")
agent_pid=""
cleanup() {
  [ -z "$agent_pid" ] || kill -KILL "$agent_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
if [ -z "${FIELDSYNC_TEST_MQTT_URL:-}" ]; then
  # shellcheck source=tests/support/services.sh
  source tests/support/services.sh
  fieldsync_services_start >/dev/null
fi
hostport=${FIELDSYNC_TEST_MQTT_URL#*://}
host=${hostport%:*}
port=${hostport##*:}

python3 tests/bench/gen_frames.py "$n" "$work/messages" "$work/rows.csv" >/dev/null
readings=$(wc -l <"$work/rows.csv")

now() { date +%s.%N; }
pending() {
  curl -s "http://127.0.0.1:$1/status" | sed -n 's/.*"pending":{[^}]*"readings":\([0-9]*\).*/\1/p'
}
connected() {
  curl -s "http://127.0.0.1:$1/status" | grep -q '"connected":true,[^}]*"name":"bench"\|"name":"bench"[^}]*"connected":true'
}
wait_pending() {  # port count: waits (up to 600 s) until count readings are pending
  local deadline=$((SECONDS + 600))
  while (($(pending "$1" || echo 0) < $2)); do
    ((SECONDS < deadline)) || { echo "timed out; log:" >&2; tail -n 20 "$work/agent.log" >&2; exit 1; }
    sleep 0.05
  done
}

# start_agent MODE STATE_DIR: starts the agent, sets agent_pid and http_port.
start_agent() {
  http_port=$(( (RANDOM % 20000) + 30000 ))
  cat >"$work/fieldsync.toml" <<EOF
gateway = "bench"
state_dir = "$2"
[http]
listen = "127.0.0.1:$http_port"
[[mqtt]]
name = "bench"
url = "$FIELDSYNC_TEST_MQTT_URL"
client_id = "fieldsync-bench-$2-$$"
topics = ["bench-$$/+"]
qos = 1
ack = "$1"
EOF
  "$bin" --config "$work/fieldsync.toml" run 2>"$work/agent.log" &
  agent_pid=$!
  local deadline=$((SECONDS + 20))
  until connected "$http_port"; do
    ((SECONDS < deadline)) || { echo "agent did not connect; log:" >&2; cat "$work/agent.log" >&2; exit 1; }
    sleep 0.05
  done
}
stop_agent() {
  kill -TERM "$agent_pid"
  wait "$agent_pid" || true
  agent_pid=""
}

# The baseline: the same rows into a plain table by the sqlite3 CLI.
t0=$(now)
sqlite3 "$work/plain.db" "CREATE TABLE readings(device TEXT, metric TEXT, ts INTEGER, value REAL);" \
  ".mode csv" ".import $work/rows.csv readings"
t1=$(now)
baseline=$(echo "$readings / ($t1 - $t0)" | bc -l)

echo "MQTT ingest, $n QoS 1 messages of one 7-reading frame each, $(nproc) CPUs"
for mode in durable received; do
  # Live: the agent is connected while the messages are published.
  start_agent "$mode" "$work/state-live-$mode"
  t0=$(now)
  mosquitto_pub -h "$host" -p "$port" -q 1 -t "bench-$$/frames" -l <"$work/messages"
  wait_pending "$http_port" "$readings"
  t1=$(now)
  stop_agent
  live=$(echo "$readings / ($t1 - $t0)" | bc -l)

  # Backlog: published while the agent is stopped, drained when it starts.
  start_agent "$mode" "$work/state-backlog-$mode"
  stop_agent
  mosquitto_pub -h "$host" -p "$port" -q 1 -t "bench-$$/frames" -l <"$work/messages"
  t0=$(now)
  start_agent "$mode" "$work/state-backlog-$mode"
  wait_pending "$http_port" "$readings"
  t1=$(now)
  stop_agent
  backlog=$(echo "$readings / ($t1 - $t0)" | bc -l)
  for case in "$live|published to the running agent" "$backlog|queued while it was stopped"; do
    rate=${case%%|*} what=${case#*|}
    python3 -c 'import sys; m, w, n, r, rate, base = sys.argv[1:]; rate, base = float(rate), float(base)
print(f"ROW|MQTT ingest, ack = \"{m}\", {w} ({int(n):,} frames, {int(r):,} readings)|{rate:,.0f} readings/s|"
      f"sqlite3 .import of the same rows: {base:,.0f} readings/s|{rate / base:.3f}")' \
      "$mode" "$what" "$n" "$readings" "$rate" "$baseline"
  done
done
