#!/usr/bin/env bash
# Aggregation cost: the ingest commit path with the hourly/daily aggregates maintained in every
# transaction (what fieldsync always does) next to the same path on the bare store (no aggregates,
# no late-window duplicate filter), same frames, same disk, same run. Two commit sizes:
#   - FileIngest, exactly what `fieldsync ingest FILE` runs (5,000 frames per transaction);
#   - 256 frames per transaction, the largest group `fieldsync run` commits.
# Each pair is measured ROUNDS times, alternating which mode goes first; medians are compared.
# Aim (aggregates on / off): at least 0.75.
#
# Usage: tests/bench/aggregation_bench.sh [FRAMES]   (default 150000 frames = 1,050,000 readings)
# Env:   FIELDSYNC_BIN           the fieldsync binary (default: build/release/agent/fieldsync)
#        FIELDSYNC_INGEST_BENCH  the timing tool (default: tests/bench/fieldsync_ingest_bench in
#                                the build directory of FIELDSYNC_BIN; target
#                                fieldsync_ingest_bench)
#        ROUNDS                  measurements per mode (default 3)
set -euo pipefail
cd "$(dirname "$0")/../.."
frames=${1:-150000}
rounds=${ROUNDS:-3}
bin=${FIELDSYNC_BIN:-build/release/agent/fieldsync}
tool=${FIELDSYNC_INGEST_BENCH:-$(dirname "$(dirname "$bin")")/tests/bench/fieldsync_ingest_bench}
[ -x "$tool" ] || { echo "no fieldsync_ingest_bench at $tool (build that target)" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/var/tmp}/fieldsync-agg-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT

python3 tests/bench/gen_frames.py "$frames" "$work/frames.jsonl" >/dev/null

# measure MODE GROUP -> the tool's JSON line, on a fresh store.
measure() {
  rm -rf "$work/state"
  mkdir -p "$work/state"
  cat >"$work/fieldsync.toml" <<TOML
gateway = "bench"
state_dir = "$work/state"
[http]
listen = ""
TOML
  sync
  "$tool" --config "$work/fieldsync.toml" --aggregation "$1" --frames-per-commit "$2" \
    "$work/frames.jsonl"
}

for group in 0 256; do
  : >"$work/results-$group"
  for ((r = 0; r < rounds; r++)); do
    if ((r % 2 == 0)); then order="on off"; else order="off on"; fi
    for mode in $order; do
      echo "$mode $(measure "$mode" "$group")" | tee -a "$work/results-$group"
    done
  done
done

python3 - "$work" <<'PY'
import json, statistics, sys
work = sys.argv[1]
for group, label in (("0", "fieldsync ingest path, 5,000 frames per commit"),
                     ("256", "256 frames per commit, as run groups them")):
    rates = {"on": [], "off": []}
    readings = set()
    for line in open(f"{work}/results-{group}"):
        mode, doc = line.split(" ", 1)
        r = json.loads(doc)
        readings.add(r["readings"])
        rates[mode].append(r["readings"] / r["seconds"])
    if len(readings) != 1:
        sys.exit(f"the modes stored different numbers of readings: {sorted(readings)}")
    on, off = statistics.median(rates["on"]), statistics.median(rates["off"])
    print(f"ROW|ingest with aggregation on vs off ({label}, {readings.pop():,} readings)|"
          f"{on:,.0f} readings/s|aggregation off: {off:,.0f} readings/s|{on / off:.2f} (aim >= 0.75)")
PY
