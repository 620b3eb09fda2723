#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang (ASan + UBSan + coverage) and runs each for a bounded
# time on a scratch copy of its seed corpus (the repository is never written). Exits non-zero on
# any crash, leak, sanitizer report or broken invariant, leaving the input under
# build/fuzz/findings/<target>/ (see docs/fuzzing.md to reproduce it).
#
# Usage: tests/fuzz/run.sh [--quick | --seconds N] [TARGET...]
#   --quick       18 s per target (the tests/run.sh stage; under 2 minutes for all)
#   --seconds N   N seconds per target (default 300)
#   TARGET        frame_decoder line_framer topic_template config http_ingest (default: all)
#
# Environment:
#   FIELDSYNC_FUZZ_BUILD_DIR   build directory (default: build/fuzz)
#   FIELDSYNC_JOBS             parallel build jobs (default: nproc, at most 2 here)
#   FIELDSYNC_FUZZ_WERROR=ON   also fail on clang warnings in the project libraries (the harnesses
#                              are always built with -Werror)
#   FIELDSYNC_FUZZ_KEEP=1      keep the grown corpus in the build directory instead of deleting it
set -uo pipefail

SOURCE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
readonly SOURCE_DIR
readonly FUZZ_DIR=${SOURCE_DIR}/tests/fuzz
readonly BUILD_DIR=${FIELDSYNC_FUZZ_BUILD_DIR:-${SOURCE_DIR}/build/fuzz}
readonly JOBS=${FIELDSYNC_JOBS:-$(nproc)}
readonly ALL_TARGETS=(frame_decoder line_framer topic_template config http_ingest)

# Longest input per target: a frame is a line (max_line 4096 by default); bodies and configs are
# larger; a topic is short.
declare -A MAX_LEN=([frame_decoder]=4096 [line_framer]=8192 [topic_template]=512
  [config]=8192 [http_ingest]=16384)

seconds=300
targets=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) seconds=18 ;;
    --seconds)
      seconds=${2:?--seconds needs a number}
      shift
      ;;
    -h | --help)
      sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    -*)
      echo "unknown option: $1" >&2
      exit 2
      ;;
    *) targets+=("$1") ;;
  esac
  shift
done
[[ ${#targets[@]} -gt 0 ]] || targets=("${ALL_TARGETS[@]}")

toolchain() {
  if ! command -v clang++ >/dev/null 2>&1 ||
    ! echo 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long) { return 0; }' |
    clang++ -x c++ -fsanitize=fuzzer,address,undefined -o /dev/null - 2>/dev/null; then
    echo "fuzz: clang++ with libFuzzer is missing (Debian: apt-get install clang libclang-rt-14-dev)" >&2
    return 1
  fi
}

build() {
  local flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
  flags+=" -fno-omit-frame-pointer -O1 -g"
  CC=clang CXX=clang++ cmake -S "${SOURCE_DIR}" -B "${BUILD_DIR}" -G Ninja --log-level=WARNING \
    -DCMAKE_BUILD_TYPE= -DFIELDSYNC_FUZZ=ON -DFIELDSYNC_BUILD_TESTS=OFF \
    -DFIELDSYNC_WERROR="${FIELDSYNC_FUZZ_WERROR:-OFF}" \
    -DCMAKE_C_FLAGS="${flags}" -DCMAKE_CXX_FLAGS="${flags}" || return 1
  local t names=()
  for t in "${targets[@]}"; do names+=("fuzz_${t}"); done
  cmake --build "${BUILD_DIR}" --target "${names[@]}" -j "${JOBS}"
}

# run_target NAME: fuzzes one target; prints its figures; returns non-zero on any finding.
run_target() {
  local name=$1 seeds=${FUZZ_DIR}/corpus/$1 work=${BUILD_DIR}/work/$1
  local findings=${BUILD_DIR}/findings/$1 log=${BUILD_DIR}/logs/$1.log dict rc
  rm -rf "${work}"
  mkdir -p "${work}" "${findings}" "$(dirname "${log}")"
  [[ -d ${seeds} ]] && cp -r "${seeds}/." "${work}/"
  local args=(-max_total_time="${seconds}" -max_len="${MAX_LEN[${name}]:-4096}" -timeout=10
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="${findings}/")
  dict=${FUZZ_DIR}/dict/${name}.dict
  [[ -f ${dict} ]] && args+=(-dict="${dict}")
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "${BUILD_DIR}/tests/fuzz/fuzz_${name}" "${args[@]}" "${work}" >"${log}" 2>&1
  rc=$?
  local runs cov ft corpus speed
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "${log}" | tail -n 1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "${log}" | tail -n 1)
  cov=$(grep -oE 'cov: [0-9]+' "${log}" | tail -n 1 | cut -d' ' -f2)
  ft=$(grep -oE 'ft: [0-9]+' "${log}" | tail -n 1 | cut -d' ' -f2)
  corpus=$(grep -oE 'corp: [0-9]+/[0-9]+[a-zA-Z]*' "${log}" | tail -n 1 | cut -d' ' -f2)
  printf '  %-15s %10s runs %8s exec/s  cov %6s  ft %6s  corpus %-12s %s\n' "${name}" \
    "${runs:-?}" "${speed:-?}" "${cov:-?}" "${ft:-?}" "${corpus:-?}" \
    "$([[ ${rc} -eq 0 ]] && echo ok || echo "FAILED (exit ${rc})")"
  if [[ ${rc} -ne 0 ]]; then
    echo "---- ${name}: finding (log ${log})" >&2
    grep -E '==fuzz==|ERROR: |SUMMARY: |runtime error|Test unit written to' "${log}" | head -n 20 >&2
    return 1
  fi
  if [[ ${FIELDSYNC_FUZZ_KEEP:-0} != 1 ]]; then rm -rf "${work}"; fi
  return 0
}

main() {
  toolchain || return 1
  build || {
    echo "fuzz: build failed" >&2
    return 1
  }
  local t failed=0
  echo "fuzz: ${seconds} s per target, logs in ${BUILD_DIR}/logs"
  for t in "${targets[@]}"; do
    run_target "${t}" || failed=1
  done
  if [[ ${failed} -ne 0 ]]; then
    echo "fuzz: FAILED (inputs in ${BUILD_DIR}/findings; docs/fuzzing.md says how to replay)"
  else
    echo "fuzz: ok"
  fi
  return "${failed}"
}

main
