#!/usr/bin/env bash
# The benchmark suite in one command: builds the release binary if it is missing, starts a
# throwaway PostgreSQL and mosquitto once (tests/support/services.sh), runs every benchmark script
# of this directory, and prints one markdown table of what they measured (each figure next to the
# baseline measured in the same run) with the date and the machine. docs/benchmarks.md explains
# each figure.
#
# Usage: tests/bench/run.sh [--quick] [NAME...]
#   --quick  small sizes: the whole suite takes a few minutes (figures are noisier)
#   NAME     run only these benchmarks (e.g. `ingest drain`; default all of them)
# Env:   FIELDSYNC_BIN        the fieldsync binary (default: <build dir>/agent/fieldsync); its
#                             build directory also provides fieldsync_ingest_bench
#        FIELDSYNC_BUILD_DIR  the build directory when FIELDSYNC_BIN is not set (default
#                             build/release, made with `cmake --preset release`)
#        FIELDSYNC_BENCH_LOGS where each script's full output is kept (default: a new directory
#                             under $TMPDIR or /var/tmp); the table is saved there as results.md
#
# Contract with the scripts: each prints, among whatever log it likes, one line per figure
#   ROW|<figure>|<value with unit>|<baseline with unit, or ->|<ratio, or ->
# (no `|` inside a field). A script that exits non-zero, or prints no ROW line, appears in the
# table as failed; the suite goes on and exits non-zero at the end.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
root=$PWD

quick=0
only=()
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    -h | --help)
      sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    -*) echo "usage: $0 [--quick] [NAME...]" >&2; exit 2 ;;
    *) only+=("${arg%_bench.sh}") ;;
  esac
done

# --- the binaries ---------------------------------------------------------------------------
if [ -n "${FIELDSYNC_BIN:-}" ]; then
  bin=$FIELDSYNC_BIN
  build_dir=$(dirname "$(dirname "$bin")")
else
  build_dir=${FIELDSYNC_BUILD_DIR:-build/release}
  bin=$build_dir/agent/fieldsync
fi
tool=$build_dir/tests/bench/fieldsync_ingest_bench
missing=()
[ -x "$bin" ] || missing+=(fieldsync)
[ -x "$tool" ] || missing+=(fieldsync_ingest_bench)
if ((${#missing[@]})); then
  echo "building ${missing[*]} in $build_dir"
  if [ ! -f "$build_dir/CMakeCache.txt" ]; then
    if [ "$(realpath -m "$build_dir")" = "$root/build/release" ]; then
      cmake --preset release >/dev/null || exit 1
    else
      cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFIELDSYNC_WERROR=ON \
        >/dev/null || exit 1
    fi
  fi
  # Each target on its own: without the timing tool only the aggregation figures fail.
  for target in "${missing[@]}"; do
    cmake --build "$build_dir" --target "$target" -j "${FIELDSYNC_BUILD_JOBS:-2}" >/dev/null ||
      echo "warning: building $target failed" >&2
  done
fi
[ -x "$bin" ] || { echo "no fieldsync binary at $bin" >&2; exit 1; }
FIELDSYNC_BIN=$(realpath "$bin")
FIELDSYNC_INGEST_BENCH=$(realpath -m "$tool")
export FIELDSYNC_BIN FIELDSYNC_INGEST_BENCH

logs=${FIELDSYNC_BENCH_LOGS:-$(mktemp -d "${TMPDIR:-/var/tmp}/fieldsync-bench-XXXXXX")}
mkdir -p "$logs"
started=$(date -u '+%Y-%m-%d %H:%M UTC')
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)

# --- the services, once for every script ------------------------------------------------------
# shellcheck source=tests/support/services.sh
source tests/support/services.sh
if ! fieldsync_services_start >"$logs/services.log" 2>&1; then
  echo "warning: the test services did not start (see $logs/services.log);" \
    "the benchmarks that need them will fail" >&2
fi

# --- the benchmarks ---------------------------------------------------------------------------
# name | arguments (quick) | arguments (full) | environment (quick) | environment (full)
benches=(
  "ingest_bench.sh|20000|150000||"
  "aggregation_bench.sh|20000|150000|ROUNDS=3|ROUNDS=3"
  "mqtt_ingest_bench.sh|1000|20000||"
  "steady_state_bench.sh|20|60||"
  "drain_bench.sh|50000|1000000||"
  "transfer_bench.sh|100000|1000000||"
  "idle_bench.sh|||IDLE_SECONDS=15|IDLE_SECONDS=60"
  "pty_reconnect_bench.sh|||ROUNDS=3|ROUNDS=10"
)
timeout_s=$((quick ? 900 : 7200))
rows=()
failed=0

wanted() {
  ((${#only[@]} == 0)) && return 0
  local name
  for name in "${only[@]}"; do [ "${1%_bench.sh}" = "$name" ] && return 0; done
  return 1
}

for entry in "${benches[@]}"; do
  IFS='|' read -r script quick_args full_args quick_env full_env <<<"$entry"
  wanted "$script" || continue
  if [ ! -f "tests/bench/$script" ]; then
    echo "-- $script: not present, skipped"
    continue
  fi
  if ((quick)); then args=$quick_args envs=$quick_env; else args=$full_args envs=$full_env; fi
  log=$logs/${script%.sh}.log
  echo "-- $script $args${envs:+ ($envs)}"
  t0=$SECONDS
  # shellcheck disable=SC2086 # args and envs are word lists by design.
  env $envs timeout --kill-after=30 "$timeout_s" bash "tests/bench/$script" $args >"$log" 2>&1
  status=$?
  got=0
  while IFS= read -r line; do
    rows+=("$line")
    got=$((got + 1))
  done < <(grep '^ROW|' "$log")
  if ((status != 0)); then
    rows+=("ROW|$script|failed (exit $status; log $log)|-|-")
    failed=1
  elif ((got == 0)); then
    rows+=("ROW|$script|failed (no figures; log $log)|-|-")
    failed=1
  fi
  echo "   exit $status, $got figures, $((SECONDS - t0)) s"
done

# --- the table --------------------------------------------------------------------------------
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || commit="$commit (with local changes)"
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
{
  echo
  echo "## fieldsync benchmarks$( ((quick)) && echo ' (--quick)')"
  echo
  echo "$started · $(uname -m) · ${cpu:-unknown CPU} · $(nproc) CPUs · load average at start" \
    "$load_at_start · commit $commit"
  echo
  echo "| figure | value | baseline | ratio |"
  echo "|---|---|---|---|"
  for row in "${rows[@]}"; do
    IFS='|' read -r _ figure value baseline ratio _ <<<"$row"
    echo "| $figure | $value | ${baseline:--} | ${ratio:--} |"
  done
} | tee "$logs/results.md"
echo
echo "logs and results.md: $logs"
exit "$failed"
