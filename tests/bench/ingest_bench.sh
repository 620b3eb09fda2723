#!/usr/bin/env bash
# Ingest benchmark: `fieldsync ingest` of N JSON frames (7 metrics each) next to the sqlite3
# command-line tool importing the same rows into a plain table, in the same run.
# Prints readings/s of both, their ratio, peak RSS and bytes written per reading.
#
# Usage: tests/bench/ingest_bench.sh [FRAMES]      (default 150000 frames = 1,050,000 readings)
# Env:   FIELDSYNC_BIN  the fieldsync binary (default: build/release/agent/fieldsync)
# Output: ROW|...| lines (tests/bench/run.sh collects them): rate, peak RSS, bytes written.
set -euo pipefail
cd "$(dirname "$0")/../.."
frames=${1:-150000}
bin=${FIELDSYNC_BIN:-build/release/agent/fieldsync}
[ -x "$bin" ] || { echo "no fieldsync binary at $bin (build the release preset first)" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/var/tmp}/fieldsync-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT

python3 tests/bench/gen_frames.py "$frames" "$work/frames.jsonl" "$work/rows.csv" >/dev/null
readings=$(wc -l <"$work/rows.csv")

cat >"$work/fieldsync.toml" <<TOML
gateway = "bench"
state_dir = "$work/state"
[http]
listen = ""
TOML
mkdir -p "$work/state"

# /usr/bin/time: %e elapsed s, %M peak RSS KiB, %O file-system output blocks (512 B each; the
# kernel's write_bytes / 512, so it counts what reached the block layer, checkpoints included).
measure() { /usr/bin/time -f '%e %M %O' -o "$work/time.out" "$@" >/dev/null; cat "$work/time.out"; }

read -r f_s f_rss f_blocks < <(measure "$bin" --config "$work/fieldsync.toml" ingest \
  "$work/frames.jsonl")
sync
read -r s_s s_rss s_blocks < <(measure sqlite3 "$work/plain.db" \
  "CREATE TABLE readings(device TEXT, metric TEXT, ts INTEGER, value REAL);" \
  ".mode csv" ".import $work/rows.csv readings")

python3 - "$readings" "$f_s" "$f_rss" "$f_blocks" "$s_s" "$s_rss" "$s_blocks" <<'PY'
import sys
n = int(sys.argv[1]); fs, frss, fb, ss, srss, sb = map(float, sys.argv[2:])
fr, sr = n / max(fs, 1e-3), n / max(ss, 1e-3)
print(f"readings                  {n}")
print(f"fieldsync ingest          {fr:12,.0f} readings/s  ({fs:.2f} s, peak RSS {frss/1024:.1f} MiB, "
      f"{fb*512/n:.0f} B written/reading)")
print(f"sqlite3 .import baseline  {sr:12,.0f} readings/s  ({ss:.2f} s, peak RSS {srss/1024:.1f} MiB, "
      f"{sb*512/n:.0f} B written/reading)")
print(f"ratio ingest/baseline     {fr/sr:.2f}")
what = f"{n:,} readings in JSON frames of 7"
print(f"ROW|ingest rate, fieldsync ingest ({what})|{fr:,.0f} readings/s|"
      f"sqlite3 .import of the same rows: {sr:,.0f} readings/s|{fr / sr:.2f}")
print(f"ROW|peak RSS of fieldsync ingest ({what})|{frss / 1024:.1f} MiB|"
      f"sqlite3 .import: {srss / 1024:.1f} MiB|{frss / srss:.2f}")
print(f"ROW|bytes written per reading by fieldsync ingest (insert only, 5,000 frames per commit)|"
      f"{fb * 512 / n:.0f} B|sqlite3 .import: {sb * 512 / n:.0f} B|{fb / max(sb, 1):.2f}")
PY
