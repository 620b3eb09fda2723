#!/usr/bin/env bash
# Drain benchmark: `fieldsync sync` emptying a local backlog of N readings into PostgreSQL, next
# to two baselines on the same rows, server and run:
#   - `psql \copy` of the same rows into a table of the same shape (the server's bulk rate);
#   - one INSERT statement per reading, one transaction per batch_size readings, through psql
#     (how a hand-written sync script does it; measured on the first INSERT_ROWS readings);
# plus the same drain through a loopback proxy that adds 50 ms of round trip (25 ms each way),
# and the peak RSS of `fieldsync sync` for two backlog sizes (N and N/10).
# Output: a table, and ROW|...| lines (tests/bench/run.sh collects them).
#
# Usage: tests/bench/drain_bench.sh [N]        (default 1,000,000 readings)
# Env:   FIELDSYNC_TEST_PGURL  a superuser URL (tests/support/services.sh); without it a
#                              throwaway server is started for the run
#        FIELDSYNC_BIN         the fieldsync binary (default: build/release/agent/fieldsync)
#        INSERT_ROWS           readings for the INSERT baseline (default: N/5, at least 1)
#        BATCH_SIZE            [sync] batch_size for the drain and the INSERT baseline (5000)
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-1000000}
bin=${FIELDSYNC_BIN:-build/release/agent/fieldsync}
batch=${BATCH_SIZE:-5000}
insert_rows=${INSERT_ROWS:-$(( n / 5 > 0 ? n / 5 : 1 ))}
[ -x "$bin" ] || { echo "no fieldsync binary at $bin" >&2; exit 2; }
bin=$(realpath "$bin")
work=$(mktemp -d "${TMPDIR:-/var/tmp}/fieldsync-drain-XXXXXX")
proxy_pid=""
cleanup() {
  [ -z "$proxy_pid" ] || kill "$proxy_pid" 2>/dev/null || true
  [ -z "${db:-}" ] || "$psql" -qAtX "$FIELDSYNC_TEST_PGURL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" \
    >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
if [ -z "${FIELDSYNC_TEST_PGURL:-}" ]; then
  # shellcheck source=tests/support/services.sh
  source tests/support/services.sh
  fieldsync_services_start >/dev/null
fi
psql=psql
[ -z "${FIELDSYNC_TEST_PGBIN:-}" ] || [ ! -x "$FIELDSYNC_TEST_PGBIN/psql" ] || psql=$FIELDSYNC_TEST_PGBIN/psql

# A database of our own next to the harness's.
db="fsdrain_$$"
"$psql" -qAtX -v ON_ERROR_STOP=1 "$FIELDSYNC_TEST_PGURL" -c "CREATE DATABASE $db" >/dev/null
url=$(python3 -c 'import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/"+sys.argv[2])))' \
  "$FIELDSYNC_TEST_PGURL" "$db")
pgport=$(python3 -c 'import sys,urllib.parse as u; print(u.urlsplit(sys.argv[1]).port)' "$url")
q() { "$psql" -qAtX -v ON_ERROR_STOP=1 "$url" "$@"; }

# --- the backlog ----------------------------------------------------------------------------
frames=$(( (n + 6) / 7 ))
python3 tests/bench/gen_frames.py "$frames" "$work/frames.jsonl" "$work/rows.csv" >/dev/null
readings=$(wc -l <"$work/rows.csv")
small_frames=$(( frames / 10 > 0 ? frames / 10 : 1 ))
head -n "$small_frames" "$work/frames.jsonl" >"$work/small.jsonl"

config() {  # config NAME GATEWAY URL
  cat >"$work/$1.toml" <<TOML
gateway = "$2"
state_dir = "$work/$1"
[http]
listen = ""
[sync]
url = "$3"
batch_size = $batch
TOML
  mkdir -p "$work/$1"
}
config plain bench "$url"
config small bench_small "$url"
"$bin" --config "$work/plain.toml" remote migrate >/dev/null 2>&1
"$bin" --config "$work/plain.toml" ingest "$work/frames.jsonl" >/dev/null 2>&1
"$bin" --config "$work/small.toml" ingest "$work/small.jsonl" >/dev/null 2>&1
small_readings=$(( small_frames * 7 ))
# The proxied drain starts from a copy of the same store under another gateway name.
cp -a "$work/plain" "$work/proxy"

# The same rows in the shape of the remote table, for the baselines.
python3 - "$work/rows.csv" "$work/rows.copy" "$work/inserts.sql" "$insert_rows" "$batch" <<'PY'
import sys, datetime as dt
src, copy_out, sql_out, insert_rows, batch = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
epoch = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
with open(src) as f, open(copy_out, "w") as c, open(sql_out, "w") as s:
    for i, line in enumerate(f):
        device, metric, ts_us, value = line.rstrip("\n").split(",")
        ts = (epoch + dt.timedelta(microseconds=int(ts_us))).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        c.write(f"bench\t{device}\t{metric}\t{ts}\t{value}\tdevice\t{ts}\n")
        if i < insert_rows:
            if i % batch == 0:
                s.write("BEGIN;\n")
            s.write("INSERT INTO base_insert (gateway, device, metric, ts, value, ts_source, received_at) "
                    f"VALUES ('bench', '{device}', '{metric}', '{ts}', {value}, 'device', '{ts}');\n")
            if i % batch == batch - 1 or i == insert_rows - 1:
                s.write("COMMIT;\n")
PY
q -c "CREATE TABLE base_copy (LIKE fieldsync.readings INCLUDING ALL);
      CREATE TABLE base_insert (LIKE fieldsync.readings INCLUDING ALL)" >/dev/null

now() { python3 -c 'import time; print(time.monotonic())'; }
# run_sync NAME -> "seconds peak_rss_kib"
run_sync() {
  local t0 t1
  t0=$(now)
  /usr/bin/time -f '%M' -o "$work/$1.rss" "$bin" --config "$work/$1.toml" sync \
    >"$work/$1.out" 2>"$work/$1.err" || { cat "$work/$1.err" >&2; exit 1; }
  t1=$(now)
  echo "$(python3 -c "print($t1 - $t0)") $(tail -n 1 "$work/$1.rss")"
}
fresh_remote() { q -c "TRUNCATE fieldsync.readings; CHECKPOINT" >/dev/null; }

# --- (a) the drain ---------------------------------------------------------------------------
fresh_remote
read -r a_s a_rss < <(run_sync plain)
a_rows=$(q -c "SELECT count(*) FROM fieldsync.readings WHERE gateway = 'bench'")

# --- (d) the drain through a proxy adding 50 ms of round trip --------------------------------
# Right after (a), before the baselines load 1.2 M rows into the same server: run after them, the
# proxied drain measured 0.56 to 0.89 of (a) from one run to the next (2026-12-04), while on its
# own it drains at about the loopback rate.
proxy_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 tests/bench/latency_proxy.py "$proxy_port" 127.0.0.1 "$pgport" 25 >"$work/proxy.log" 2>&1 &
proxy_pid=$!
for _ in $(seq 50); do grep -q ready "$work/proxy.log" && break; sleep 0.1; done
proxy_url=$(python3 -c 'import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(netloc=p.netloc.rsplit(":",1)[0]+":"+sys.argv[2])))' \
  "$url" "$proxy_port")
config proxy bench_proxy "$proxy_url"
fresh_remote
read -r d_s d_rss < <(run_sync proxy)
d_rows=$(q -c "SELECT count(*) FROM fieldsync.readings WHERE gateway = 'bench_proxy'")
kill "$proxy_pid" 2>/dev/null || true
proxy_pid=""

# --- (b) psql \copy --------------------------------------------------------------------------
q -c "CHECKPOINT" >/dev/null  # starts as clean as the drains did
t0=$(now)
q -c "\\copy base_copy FROM '$work/rows.copy'" >/dev/null
t1=$(now)
b_s=$(python3 -c "print($t1 - $t0)")

# --- (c) one INSERT per reading, one transaction per batch -----------------------------------
t0=$(now)
q -f "$work/inserts.sql" >/dev/null
t1=$(now)
c_s=$(python3 -c "print($t1 - $t0)")
c_rows=$(q -c "SELECT count(*) FROM base_insert")

# --- peak RSS for a backlog ten times smaller ------------------------------------------------
read -r e_s e_rss < <(run_sync small)

python3 - "$readings" "$a_rows" "$a_s" "$a_rss" "$b_s" "$c_rows" "$c_s" "$d_rows" "$d_s" "$d_rss" \
  "$small_readings" "$e_s" "$e_rss" "$batch" <<'PY'
import sys
(n, a_rows, a_s, a_rss, b_s, c_rows, c_s, d_rows, d_s, d_rss, e_n, e_s, e_rss, batch) = sys.argv[1:]
n, a_rows, c_rows, d_rows, e_n, batch = map(int, (n, a_rows, c_rows, d_rows, e_n, batch))
a_s, b_s, c_s, d_s, e_s = map(float, (a_s, b_s, c_s, d_s, e_s))
a_rss, d_rss, e_rss = (int(x) / 1024 for x in (a_rss, d_rss, e_rss))
a, b, c, d = a_rows / a_s, n / b_s, c_rows / c_s, d_rows / d_s
rows = [
    ("(a) fieldsync sync (loopback)", a_rows, a_s, a, f"{a / b:.2f} x (b)  [>= 0.5, aim 0.75]"),
    ("(b) psql \\copy", n, b_s, b, "1.00"),
    (f"(c) INSERT per reading, BEGIN/COMMIT per {batch}", c_rows, c_s, c, f"(a) = {a / c:.1f} x (c)  [>= 3]"),
    ("(d) fieldsync sync via +50 ms RTT proxy", d_rows, d_s, d, f"{d / a:.2f} x (a)  [>= 0.8]"),
]
print(f"{'':46} {'readings':>10} {'seconds':>8} {'readings/s':>11}  ratio")
for name, rows_, secs, rate, ratio in rows:
    print(f"{name:46} {rows_:>10} {secs:8.2f} {rate:11,.0f}  {ratio}")
print(f"peak RSS of fieldsync sync: {a_rss:.1f} MiB draining {n}, {e_rss:.1f} MiB draining {e_n} "
      f"({e_n / e_s:,.0f} readings/s), {d_rss:.1f} MiB through the proxy  [< 20 MiB, flat]")
print(f"ROW|drain into PostgreSQL, fieldsync sync ({n:,} readings, batch {batch:,})|{a:,.0f} readings/s|"
      f"psql \\copy of the same rows: {b:,.0f} readings/s|{a / b:.2f} (>= 0.5, aim 0.75)")
print(f"ROW|drain vs one INSERT per reading ({c_rows:,} readings, COMMIT per {batch:,})|{a:,.0f} readings/s|"
      f"INSERT per reading: {c:,.0f} readings/s|{a / c:.1f} (>= 3)")
print(f"ROW|drain through a proxy adding 50 ms of round trip|{d:,.0f} readings/s|"
      f"same drain on loopback: {a:,.0f} readings/s|{d / a:.2f} (>= 0.8)")
print(f"ROW|peak RSS of fieldsync sync draining {n:,}|{a_rss:.1f} MiB|"
      f"draining {e_n:,}: {e_rss:.1f} MiB|{a_rss / e_rss:.2f} (flat, < 20 MiB)")
print(f"ROW|peak RSS of fieldsync sync draining {n:,} through the proxy|{d_rss:.1f} MiB|-|-")
bad = [x for x, want in ((a_rows, n), (d_rows, n)) if x != want]
if bad:
    sys.exit(f"the remote holds {bad} readings, expected {n}")
PY
