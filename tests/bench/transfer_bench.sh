#!/usr/bin/env bash
# Transfer benchmark: `fieldsync transfer` of N readings (default 1,000,000) next to
# `pg_dump --data-only -t fieldsync.readings SOURCE | psql TARGET` of the same table, in the same
# run on the same server. Prints rows/s of both, their ratio and
# the transfer's peak RSS.
#
# Usage: tests/bench/transfer_bench.sh [ROWS]
# Env:   FIELDSYNC_TEST_PGURL  a superuser URL (tests/support/services.sh exports one); the
#                              script creates three databases next to it and drops them after
#        FIELDSYNC_BIN         the fieldsync binary (default: build/release/agent/fieldsync)
#        PGBIN                 directory of pg_dump and psql (default: from PATH)
# Output: ROW|...| lines (tests/bench/run.sh collects them): rate and peak RSS.
set -euo pipefail
cd "$(dirname "$0")/../.."
rows=${1:-1000000}
bin=${FIELDSYNC_BIN:-build/release/agent/fieldsync}
url=${FIELDSYNC_TEST_PGURL:?set FIELDSYNC_TEST_PGURL to a superuser URL}
[ -x "$bin" ] || { echo "no fieldsync binary at $bin" >&2; exit 2; }
psql=${PGBIN:+$PGBIN/}psql
pg_dump=${PGBIN:+$PGBIN/}pg_dump

# The same URL with another database.
url_for() { python3 -c 'import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/"+sys.argv[2])))' "$url" "$1"; }
tag="fsbench_$$"
src=$(url_for "${tag}_src") fs=$(url_for "${tag}_fs") dump=$(url_for "${tag}_dump")
admin() { "$psql" -qAtX -v ON_ERROR_STOP=1 "$url" -c "$1" >/dev/null; }
cleanup() { for d in src fs dump; do admin "DROP DATABASE IF EXISTS ${tag}_$d WITH (FORCE)" || true; done; }
trap cleanup EXIT
for d in src fs dump; do admin "CREATE DATABASE ${tag}_$d"; done

schema="CREATE SCHEMA fieldsync;
CREATE TABLE fieldsync.readings (gateway text NOT NULL, device text NOT NULL, metric text NOT NULL,
  ts timestamptz NOT NULL, value double precision, ts_source text, received_at timestamptz,
  PRIMARY KEY (gateway, device, metric, ts));
CREATE TABLE fieldsync.hourly (gateway text NOT NULL, device text NOT NULL, metric text NOT NULL,
  bucket timestamptz NOT NULL, n bigint, sum double precision, avg double precision,
  min double precision, max double precision, last double precision, last_ts timestamptz,
  delta double precision, optimal_n bigint, critical_n bigint, optimal_pct double precision,
  critical_pct double precision, updated_at timestamptz, PRIMARY KEY (gateway, device, metric, bucket));
CREATE TABLE fieldsync.daily (gateway text NOT NULL, device text NOT NULL, metric text NOT NULL,
  day date NOT NULL, tz text, n bigint, sum double precision, avg double precision,
  min double precision, max double precision, last double precision, last_ts timestamptz,
  delta double precision, optimal_n bigint, critical_n bigint, optimal_pct double precision,
  critical_pct double precision, updated_at timestamptz, PRIMARY KEY (gateway, device, metric, day));
CREATE TABLE fieldsync.devices (gateway text NOT NULL, device text NOT NULL,
  first_seen timestamptz, last_seen timestamptz, PRIMARY KEY (gateway, device));
CREATE TABLE fieldsync.metrics (gateway text NOT NULL, metric text NOT NULL, kind text, unit text,
  optimal_lo double precision, optimal_hi double precision, critical_lo double precision,
  critical_hi double precision, PRIMARY KEY (gateway, metric));"
for u in "$src" "$fs" "$dump"; do "$psql" -qAtX -v ON_ERROR_STOP=1 "$u" -c "$schema" >/dev/null; done

# 10 devices x 2 metrics, one reading a second each, all inside 2024-03-01..2024-03-07.
per_series=$(( (rows + 19) / 20 ))
"$psql" -qAtX -v ON_ERROR_STOP=1 "$src" -c "
  INSERT INTO fieldsync.devices SELECT 'bench', 'dev' || d, '2024-03-01Z', '2024-03-07Z'
    FROM generate_series(1, 10) d;
  INSERT INTO fieldsync.readings
    SELECT 'bench', 'dev' || d, m, '2024-03-01Z'::timestamptz + s * interval '1 s',
           random() * 100, 'device', '2024-03-01Z'::timestamptz + s * interval '1 s'
    FROM generate_series(1, 10) d, (VALUES ('temp'), ('hum')) AS mm(m),
         generate_series(0, $per_series - 1) s
    LIMIT $rows;
  ANALYZE;" >/dev/null
n=$("$psql" -qAtX "$src" -c "SELECT count(*) FROM fieldsync.readings")
"$psql" -qAtX -v ON_ERROR_STOP=1 "$fs" -c "INSERT INTO fieldsync.devices
  SELECT 'bench', 'dev' || d, NULL, NULL FROM generate_series(1, 10) d" >/dev/null

seconds() { python3 -c 'import time; print(time.monotonic())'; }
t0=$(seconds)
/usr/bin/time -f '%M' -o "/tmp/${tag}.rss" "$bin" transfer --source-url "$src" --target-url "$fs" --start-date 2024-03-01 \
  --end-date 2024-03-07 2>/dev/null
t1=$(seconds)
"$pg_dump" --data-only -t fieldsync.readings "$src" | "$psql" -qX -v ON_ERROR_STOP=1 "$dump" >/dev/null
t2=$(seconds)
got_fs=$("$psql" -qAtX "$fs" -c "SELECT count(*) FROM fieldsync.readings")
got_dump=$("$psql" -qAtX "$dump" -c "SELECT count(*) FROM fieldsync.readings")

rss=$(tail -n 1 "/tmp/${tag}.rss"); rm -f "/tmp/${tag}.rss"
python3 - "$n" "$got_fs" "$got_dump" "$t0" "$t1" "$t2" "$rss" <<'PY'
import sys
n, got_fs, got_dump = map(int, sys.argv[1:4]); t0, t1, t2 = map(float, sys.argv[4:7])
rss_kib = int(sys.argv[7])
fs, dump = t1 - t0, t2 - t1
print(f"rows in source:            {n}")
print(f"fieldsync transfer:        {got_fs} rows in {fs:.2f} s = {got_fs / fs:,.0f} rows/s")
print(f"pg_dump --data-only | psql: {got_dump} rows in {dump:.2f} s = {got_dump / dump:,.0f} rows/s")
print(f"transfer peak RSS:         {rss_kib / 1024:.1f} MiB")
print(f"ratio transfer / pg_dump:  {(got_fs / fs) / (got_dump / dump):.2f}")
print(f"ROW|fieldsync transfer between two PostgreSQL databases ({n:,} readings)|"
      f"{got_fs / fs:,.0f} rows/s|pg_dump --data-only into psql: {got_dump / dump:,.0f} rows/s|"
      f"{(got_fs / fs) / (got_dump / dump):.2f}")
print(f"ROW|peak RSS of fieldsync transfer ({n:,} readings)|{rss_kib / 1024:.1f} MiB|-|-")
if got_fs != n or got_dump != n:
    sys.exit("row counts differ")
PY
