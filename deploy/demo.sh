#!/usr/bin/env bash
# The fieldsync demo: a simulated Arduino greenhouse controller on a pseudo-terminal, an MQTT
# energy meter, a local mosquitto broker and a throwaway PostgreSQL, with `fieldsync run` moving
# the readings from the serial line and the broker through its SQLite store into the remote
# tables. Prints what lands remotely as it goes, with the agent's resident memory (VmRSS); Ctrl-C
# (or --duration) stops everything it started. A --duration over a minute ends with the agent's
# steady-state VmRSS (samples after the first minute).
#
#   deploy/demo.sh [--duration SECONDS] [--interval-ms N]
#
# Installs the Debian packages that are missing and builds first (as root or through sudo).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
duration=0
interval_ms=200
while [[ $# -gt 0 ]]; do
  case $1 in
    --duration) duration=${2:?--duration needs seconds}; shift 2 ;;
    --interval-ms) interval_ms=${2:?--interval-ms needs milliseconds}; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "demo: unknown option $1" >&2; exit 2 ;;
  esac
done

say() { printf '\033[1m== %s\033[0m\n' "$*"; }

say "installing what is missing"
"${ROOT}/tests/deps.sh"

say "building"
BUILD=${ROOT}/build/demo
cmake -S "${ROOT}" -B "${BUILD}" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFIELDSYNC_BUILD_TESTS=OFF \
  >/dev/null
cmake --build "${BUILD}" --target fieldsync arduino_sim -j "$(nproc)"
FIELDSYNC=${BUILD}/agent/fieldsync
SIM=${BUILD}/deploy/demo/arduino_sim

say "starting PostgreSQL and mosquitto on loopback"
# shellcheck source=../tests/support/services.sh
source "${ROOT}/tests/support/services.sh"
pids=()
cleanup() {
  trap - INT TERM
  for pid in "${pids[@]}"; do kill "${pid}" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM
fieldsync_services_start
trap 'cleanup; fieldsync_services_stop "${FIELDSYNC_TEST_DIR:-}"' EXIT
work=${FIELDSYNC_TEST_DIR}/demo
mkdir -p "${work}/state"
mqtt_port=${FIELDSYNC_TEST_MQTT_URL##*:}

say "simulated Arduino on a pseudo-terminal"
socat pty,raw,echo=0,link="${work}/ttyArduino" pty,raw,echo=0,link="${work}/ttySim" &
pids+=($!)
for _ in $(seq 50); do [[ -e ${work}/ttySim ]] && break; sleep 0.1; done

http_port=$(fieldsync_free_port)
cat >"${work}/fieldsync.toml" <<TOML
gateway   = "demo-greenhouse"
state_dir = "${work}/state"

[[serial]]
name   = "arduino1"
port   = "${work}/ttyArduino"
baud   = 115200
format = "json"
device = "greenhouse_a"

[[mqtt]]
name      = "broker"
url       = "${FIELDSYNC_TEST_MQTT_URL}"
client_id = "fieldsync-demo"
topics    = ["sensors/{device}/{metric}"]

[http]
listen = "127.0.0.1:${http_port}"

[metrics.temperature]
unit    = "C"
optimal = [18.0, 26.0]

[metrics.humidity]
unit     = "%"
optimal  = [55.0, 75.0]
critical = [40.0, 90.0]

[metrics.ph]
optimal = [5.8, 6.5]

[metrics.energy_wh]
kind = "counter"
unit = "Wh"

[metrics.energy_kwh]
kind = "counter"
unit = "kWh"

[clock]
# A demo machine's clock is often not NTP-synchronised (containers, fresh images); a real
# gateway keeps this false so that readings stamped before the time is known are held (§10).
trust_unsynced = true

[sync]
url        = "${FIELDSYNC_TEST_PGURL}"
interval_s = 2
TOML

say "creating the remote schema"
"${FIELDSYNC}" --config "${work}/fieldsync.toml" remote migrate

say "fieldsync run (log: ${work}/fieldsync.log)"
"${FIELDSYNC}" --config "${work}/fieldsync.toml" run 2>"${work}/fieldsync.log" &
agent_pid=$!
pids+=("${agent_pid}")
"${SIM}" --port "${work}/ttySim" --interval-ms "${interval_ms}" --garbage-every 40 \
  --reset-every 500 &
pids+=($!)
# One MQTT energy meter publishing its counter every second.
(
  kwh=1000
  while :; do
    kwh=$(awk -v k="${kwh}" 'BEGIN { printf "%.3f", k + 0.01 + rand() / 50 }')
    mosquitto_pub -p "${mqtt_port}" -q 1 -t sensors/meter_1/energy_kwh -m "${kwh}" || true
    sleep 1
  done
) &
pids+=($!)

# agent_rss_kb [FIELD]: the agent's resident set (VmRSS, or RssAnon: its own heap and stacks,
# RssFile: mapped binary and shared libraries) in kB; empty once it has exited.
agent_rss_kb() {
  awk -v f="${1:-VmRSS}:" '$1 == f { print $2 }' "/proc/${agent_pid}/status" 2>/dev/null || true
}
steady_rss=()

psql_q() { psql "${FIELDSYNC_TEST_PGURL}" -X -q -v ON_ERROR_STOP=1 -P footer=off "$@"; }
started=$(date +%s)
say "data flowing (Ctrl-C to stop)"
while :; do
  sleep 10
  echo
  date '+%H:%M:%S'
  psql_q -c "SELECT device, count(*) AS readings, count(*) FILTER (WHERE received_at > now() - interval '1 minute') AS last_minute, max(ts) AS newest FROM fieldsync.readings GROUP BY device ORDER BY device" || true
  psql_q -c "SELECT device, metric, bucket, n, round(avg::numeric, 2) AS avg, round(min::numeric, 2) AS min, round(max::numeric, 2) AS max, round(delta::numeric, 2) AS delta, round(optimal_pct::numeric, 1) AS optimal_pct, round(critical_pct::numeric, 1) AS critical_pct FROM fieldsync.hourly WHERE bucket = (SELECT max(bucket) FROM fieldsync.hourly) ORDER BY device, metric" || true
  "${FIELDSYNC}" --config "${work}/fieldsync.toml" status | head -n 20 || true
  rss=$(agent_rss_kb)
  echo "agent VmRSS: ${rss:-gone} kB (RssAnon $(agent_rss_kb RssAnon) kB," \
    "RssFile $(agent_rss_kb RssFile) kB)"
  # The first minute holds start-up (schema, first uploads, catching up): the steady state is after.
  if [[ -n ${rss} && $(($(date +%s) - started)) -gt 60 ]]; then steady_rss+=("${rss}"); fi
  if [[ ${duration} -gt 0 && $(($(date +%s) - started)) -ge ${duration} ]]; then
    say "--duration reached"
    break
  fi
done
if [[ ${#steady_rss[@]} -gt 0 ]]; then
  printf '%s\n' "${steady_rss[@]}" | sort -n | awk '{ v[NR] = $1 }
    END { printf "agent steady-state VmRSS after the first minute: %d samples, " \
      "min %d kB, median %d kB, max %d kB\n", NR, v[1], v[int((NR + 1) / 2)], v[NR] }'
fi
