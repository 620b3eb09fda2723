#!/usr/bin/env bash
# Idle cost of `fieldsync run` with three inputs connected: a serial input on a socat
# pseudo-terminal, an MQTT input on the test mosquitto, and the HTTP server listening. Once all are
# up (GET /status shows the serial and MQTT inputs connected and answers on HTTP), the agent is
# left alone for IDLE_SECONDS; then its resident set (VmRSS) and its CPU use over that time
# (utime + stime from /proc/PID/stat, delta over wall time) are printed.
#
# Usage: tests/bench/idle_bench.sh
# Env:   IDLE_SECONDS             how long to watch the idle agent (default 60)
#        FIELDSYNC_TEST_MQTT_URL  tcp://host:port of a broker (tests/support/services.sh);
#                                 without it one is started
#        FIELDSYNC_BIN            the fieldsync binary (default: build/release/agent/fieldsync)
# Output: ROW|<figure>|<value>|-|- lines (tests/bench/run.sh collects them).
set -euo pipefail
cd "$(dirname "$0")/../.."
idle=${IDLE_SECONDS:-60}
bin=${FIELDSYNC_BIN:-build/release/agent/fieldsync}
[ -x "$bin" ] || { echo "no fieldsync binary at $bin" >&2; exit 2; }
bin=$(realpath "$bin")
command -v socat >/dev/null || { echo "socat not found" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/var/tmp}/fieldsync-idle-bench-XXXXXX")
agent_pid=""
socat_pid=""
cleanup() {
  [ -z "$agent_pid" ] || kill -KILL "$agent_pid" 2>/dev/null || true
  [ -z "$socat_pid" ] || kill -TERM "$socat_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
if [ -z "${FIELDSYNC_TEST_MQTT_URL:-}" ]; then
  # shellcheck source=tests/support/services.sh
  source tests/support/services.sh
  fieldsync_services_start >/dev/null
  trap 'cleanup; fieldsync_services_stop "$FIELDSYNC_TEST_DIR" 2>/dev/null || true' EXIT
fi

socat pty,raw,echo=0,link="$work/ttyAGENT" pty,raw,echo=0,link="$work/ttyBOARD" 2>"$work/socat.log" &
socat_pid=$!
for _ in $(seq 100); do [ -e "$work/ttyAGENT" ] && [ -e "$work/ttyBOARD" ] && break; sleep 0.05; done

http_port=$(( (RANDOM % 20000) + 30000 ))
printf 'idle-bench-key\n' >"$work/api_key"
chmod 600 "$work/api_key"
cat >"$work/fieldsync.toml" <<EOF
gateway = "idle-bench"
state_dir = "$work/state"
[clock]
trust_unsynced = true
[http]
listen = "127.0.0.1:$http_port"
api_key_file = "$work/api_key"
[[serial]]
name = "board"
port = "$work/ttyAGENT"
baud = 115200
format = "kv"
device = "uno"
[[mqtt]]
name = "broker"
url = "$FIELDSYNC_TEST_MQTT_URL"
client_id = "fieldsync-idle-bench-$$"
topics = ["idle-bench-$$/{device}"]
EOF
"$bin" --config "$work/fieldsync.toml" run 2>"$work/agent.log" &
agent_pid=$!

status() { curl -s "http://127.0.0.1:$http_port/status" || true; }
up() {  # name: the input is connected in GET /status
  status | grep -q "\"connected\":true,[^}]*\"name\":\"$1\"\|\"name\":\"$1\"[^}]*\"connected\":true"
}
deadline=$((SECONDS + 30))
until up board && up broker; do
  ((SECONDS < deadline)) || { echo "inputs did not connect; log:" >&2; cat "$work/agent.log" >&2; exit 1; }
  sleep 0.1
done
# One frame through the serial input, so that its whole path has run once before measuring.
printf 'temperature=21.5\n' >"$work/ttyBOARD"
sleep 1

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$agent_pid/stat"; }
t0_cpu=$(cpu_ticks)
t0=$(date +%s.%N)
sleep "$idle"
t1_cpu=$(cpu_ticks)
t1=$(date +%s.%N)
rss_kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$agent_pid/status")
if ! { up board && up broker; }; then
  echo "an input disconnected while idle; log:" >&2
  cat "$work/agent.log" >&2
  exit 1
fi

cpu_pct=$(awk -v a="$t0_cpu" -v b="$t1_cpu" -v hz="$ticks" -v w0="$t0" -v w1="$t1" \
  'BEGIN { printf "%.3f", (b - a) / hz / (w1 - w0) * 100 }')
rss_mib=$(awk -v k="$rss_kb" 'BEGIN { printf "%.1f", k / 1024 }')
wall=$(awk -v w0="$t0" -v w1="$t1" 'BEGIN { printf "%.0f", w1 - w0 }')
echo "idle agent: serial (pty), mqtt (mosquitto), http listening; ${wall} s; $((t1_cpu - t0_cpu)) ticks of ${ticks}/s"
echo "ROW|idle RSS, 3 inputs connected|${rss_mib} MiB|-|-"
echo "ROW|idle CPU, 3 inputs connected (${wall} s)|${cpu_pct} %|-|-"
kill -TERM "$agent_pid"
wait "$agent_pid" || true
agent_pid=""
