#!/usr/bin/env bash
# Steady-state benchmark: `fieldsync run` ingesting RATE readings/s over HTTP (arrays of 15
# frames of 7 readings, one commit per POST) while its sync loop uploads to PostgreSQL every
# second and deletes what landed, for SECONDS, once with [store] synchronous = "full" and once
# with "normal". Measures, over the second half of each run (tests/bench/steady_load.py):
#   - peak RSS (VmHWM) and steady RSS (median VmRSS) of the agent (the "full" run);
#   - bytes written to disk per reading, insert plus delete after upload (/proc/PID/io
#     write_bytes, checkpoints included), next to its baseline running at the same time and rate:
#     a plain SQLite table in WAL mode with the same synchronous setting, written in 100-row
#     transactions and range-deleted every second (tests/bench/wear_baseline.py). Aim: at most
#     0.7 x the baseline.
# A third run ("pruned", synchronous = full) sets [aggregate] late_window_s = 5: with the default
# 3600 s the late window's keys are only written in a run this short, while in the field, after
# the first hour, every key is also deleted again when the window moves past it.
#
# Usage: tests/bench/steady_state_bench.sh [SECONDS]     (default 60 per synchronous mode)
# Env:   FIELDSYNC_TEST_PGURL  a superuser URL (tests/support/services.sh); without it a throwaway
#                              server is started for the run
#        FIELDSYNC_BIN         the fieldsync binary (default: build/release/agent/fieldsync)
#        RATE                  readings/s (default 1000)
#        INTERVAL_S            the agent's [sync] interval_s and the baseline's delete interval
#                              (default 1; the agent's own default is 5)
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
rate=${RATE:-1000}
interval=${INTERVAL_S:-1}
bin=${FIELDSYNC_BIN:-build/release/agent/fieldsync}
[ -x "$bin" ] || { echo "no fieldsync binary at $bin" >&2; exit 2; }
bin=$(realpath "$bin")
work=$(mktemp -d "${TMPDIR:-/var/tmp}/fieldsync-steady-XXXXXX")
agent_pid=""
db=""
psql=psql
cleanup() {
  [ -z "$agent_pid" ] || kill -KILL "$agent_pid" 2>/dev/null || true
  [ -z "$db" ] || [ -z "${FIELDSYNC_TEST_PGURL:-}" ] || "$psql" -qAtX "$FIELDSYNC_TEST_PGURL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" \
    >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
if [ -z "${FIELDSYNC_TEST_PGURL:-}" ]; then
  # shellcheck source=tests/support/services.sh
  source tests/support/services.sh
  fieldsync_services_start >/dev/null
fi
[ -z "${FIELDSYNC_TEST_PGBIN:-}" ] || [ ! -x "$FIELDSYNC_TEST_PGBIN/psql" ] || psql=$FIELDSYNC_TEST_PGBIN/psql

db="fssteady_$$"
"$psql" -qAtX -v ON_ERROR_STOP=1 "$FIELDSYNC_TEST_PGURL" -c "CREATE DATABASE $db" >/dev/null
url=$(python3 -c 'import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/"+sys.argv[2])))' \
  "$FIELDSYNC_TEST_PGURL" "$db")
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/api.key"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# run_mode NAME [WINDOW]: one steady-state run, synchronous = NAME ("pruned": full, with a late
# window of WINDOW s); leaves $work/NAME.load.json and $work/NAME.base.json.
run_mode() {
  local name=$1 window=${2:-} mode=$1 port
  [ "$name" != pruned ] || mode=full
  port=$(free_port)
  mkdir -p "$work/$name"
  cat >"$work/$name.toml" <<TOML
gateway = "steady_$name"
state_dir = "$work/$name"
[log]
level = "error"
[store]
synchronous = "$mode"
[http]
listen = "127.0.0.1:$port"
api_key_file = "$work/api.key"
[sync]
url = "$url"
interval_s = $interval
TOML
  [ -z "$window" ] || printf '[aggregate]\nlate_window_s = %s\n' "$window" >>"$work/$name.toml"
  "$bin" --config "$work/$name.toml" remote migrate >/dev/null
  "$bin" --config "$work/$name.toml" run 2>"$work/$name.log" &
  agent_pid=$!
  local deadline=$((SECONDS + 30))
  until curl -sf "http://127.0.0.1:$port/status" >/dev/null; do
    ((SECONDS < deadline)) || { echo "agent did not start; log:" >&2; cat "$work/$name.log" >&2; exit 1; }
    sleep 0.1
  done
  python3 tests/bench/wear_baseline.py "$work/base-$name.db" --rate "$rate" --seconds "$seconds" \
    --synchronous "$mode" --upload-every "$interval" >"$work/$name.base.json" &
  local base_pid=$!
  python3 tests/bench/steady_load.py --port "$port" --key-file "$work/api.key" --pid "$agent_pid" \
    --rate "$rate" --seconds "$seconds" >"$work/$name.load.json" ||
    { echo "some POSTs failed ($name); agent log:" >&2; tail -n 20 "$work/$name.log" >&2; exit 1; }
  wait "$base_pid"
  kill -TERM "$agent_pid"
  wait "$agent_pid" || true
  agent_pid=""
  echo "$name: agent $(cat "$work/$name.load.json")"
  echo "$name: baseline $(cat "$work/$name.base.json")"
}

echo "steady state: $rate readings/s over HTTP for $seconds s per mode, sync every $interval s"
run_mode full
run_mode normal
run_mode pruned 5

python3 - "$work" "$rate" "$interval" <<'PY'
import json, sys
work, rate, interval = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
runs = ("full", "normal", "pruned")
load = {m: json.load(open(f"{work}/{m}.load.json")) for m in runs}
base = {m: json.load(open(f"{work}/{m}.base.json")) for m in runs}
label = {"full": "synchronous = full", "normal": "synchronous = normal",
         "pruned": "synchronous = full, late window keys pruned (late_window_s = 5)"}
bad = []
f = load["full"]
at = f"at {f['rate']:,.0f} readings/s"
print(f"ROW|RSS of fieldsync run ingesting {rate:,.0f} readings/s (HTTP + sync): peak|"
      f"{f['rss_peak_kib'] / 1024:.1f} MiB ({at})|-|-")
print(f"ROW|RSS of fieldsync run ingesting {rate:,.0f} readings/s (HTTP + sync): steady|"
      f"{f['rss_steady_kib'] / 1024:.1f} MiB (median of the second half)|-|-")
for mode in runs:
    l, b = load[mode], base[mode]
    per = l["window_write_bytes"] / max(l["window_accepted"], 1)
    ratio = per / b["bytes_per_row"] if b["bytes_per_row"] else float("nan")
    note = ""
    # Without the deletes in the window the figure would leave out half of its cost: the sync
    # loop (every second) must keep the backlog to a few seconds of readings.
    if l["pending_at_end"] > (interval + 4) * rate:
        note = f" (sync fell behind: {l['pending_at_end']:,.0f} pending at the end)"
        bad.append(mode)
    print(f"ROW|bytes written per reading, insert + delete after upload, {label[mode]}|"
          f"{per:.0f} B{note}|plain SQLite table, 100-row transactions, range delete: "
          f"{b['bytes_per_row']:.0f} B|{ratio:.2f} (aim <= 0.70)")
if bad:
    sys.exit(f"the sync loop did not keep up in: {', '.join(bad)}")
PY
