#!/usr/bin/env bash
# The one test command: installs what is missing, builds with warnings as errors, starts a
# throwaway PostgreSQL and mosquitto, runs every test through CTest, cross-builds for arm64 and
# armhf and runs the unit tests under qemu-user, then builds the Debian packages for amd64, arm64
# and armhf and checks them (tests/package.sh). The cross stage compiles in build/pkg-<arch> with the
# packages' release flags, so the package stage packs those trees instead of compiling ARM twice.
# Exits non-zero on any failure. Works from any directory.
#
# Environment:
#   FIELDSYNC_SKIP_CROSS=1      skip the cross stage, and build only the amd64 package
#   FIELDSYNC_CROSS_ARCHES      ARM architectures of the cross and package stages (default:
#                               "arm64 armhf")
#   FIELDSYNC_SKIP_FUZZ=1       skip the fuzz stage (clang libFuzzer harnesses, about 2 minutes)
#   FIELDSYNC_SKIP_PACKAGE=1    skip the package stage (tests/package.sh: .debs built and checked)
#   FIELDSYNC_SKIP_INSTALL=1    package stage without the install test of the amd64 .deb
#   FIELDSYNC_SANITIZE=1        also build and run the unit tests with GCC ASan+UBSan
#   FIELDSYNC_WERROR=OFF        let warnings through, to see the tests of a tree that has some
#   FIELDSYNC_JOBS=N            parallel build and test jobs (default: nproc)
#   FIELDSYNC_TEST_TIMEOUT=S    per-test-binary timeout in seconds (default: 900)
set -uo pipefail

SOURCE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly SOURCE_DIR
readonly JOBS=${FIELDSYNC_JOBS:-$(nproc)}
readonly TIMEOUT=${FIELDSYNC_TEST_TIMEOUT:-900}
readonly BUILD_DIR=${SOURCE_DIR}/build/ci
readonly LOG_DIR=${SOURCE_DIR}/build/logs

STAGE_NAMES=()
STAGE_TIMES=()
STAGE_RESULTS=()
TEST_SUMMARIES=()
TEST_FAILURES=()
FAILED=0
RUN_START=$(date +%s)

# stage NAME CMD...: runs one stage, prints and records how long it took and whether it passed.
stage() {
  local name=$1 start rc
  shift
  echo
  echo "== ${name}"
  start=$(date +%s)
  "$@"
  rc=$?
  STAGE_NAMES+=("${name}")
  STAGE_TIMES+=($(($(date +%s) - start)))
  if [[ ${rc} -eq 0 ]]; then
    STAGE_RESULTS+=(ok)
  else
    STAGE_RESULTS+=("FAILED (exit ${rc})")
    FAILED=1
  fi
  echo "-- ${name}: ${STAGE_RESULTS[-1]}, ${STAGE_TIMES[-1]} s"
  return "${rc}"
}

# note_failures LABEL LOG: keeps the names of the tests ctest listed as failed in LOG (with the
# reason, e.g. "(Timeout)") for the summary, which is the part of the output that is always read.
note_failures() {
  local label=$1 log=$2 name
  while IFS= read -r name; do
    TEST_FAILURES+=("${label}: ${name}")
  done < <(sed -n '/^The following tests FAILED:/,/^[^[:space:]]/{/^[[:space:]]/p}' "${log}" |
    sed 's/^[[:space:]]*//')
}

# run_ctest LABEL LOG ARGS...: runs ctest, keeps its output in LOG and its closing line for the
# summary.
run_ctest() {
  local label=$1 log=$2 rc line
  shift 2
  ctest --output-on-failure --timeout "${TIMEOUT}" --no-tests=error "$@" 2>&1 | tee "${log}"
  rc=${PIPESTATUS[0]}
  line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "${log}" | tail -n 1)
  TEST_SUMMARIES+=("${label}|${line:-no test result (ctest exit ${rc})}")
  note_failures "${label}" "${log}"
  return "${rc}"
}

configure() {
  (cd "${SOURCE_DIR}" && cmake --preset ci --log-level=WARNING \
    -DFIELDSYNC_WERROR="${FIELDSYNC_WERROR:-ON}")
}

build() {
  cmake --build "${BUILD_DIR}" -j "${JOBS}"
}

services() {
  # shellcheck source=tests/support/services.sh
  source "${SOURCE_DIR}/tests/support/services.sh"
  fieldsync_services_start || return 1
  echo "PostgreSQL: ${FIELDSYNC_TEST_PGURL}"
  echo "mosquitto:  ${FIELDSYNC_TEST_MQTT_URL}"
}

host_tests() {
  # Tests share the machine's two cores with qemu and the servers; two at a time keeps the
  # timing-sensitive ones honest.
  run_ctest host "${LOG_DIR}/ctest-host.log" --test-dir "${BUILD_DIR}" -j "${JOBS}"
}

sanitize() {
  (cd "${SOURCE_DIR}" && cmake --preset asan --log-level=WARNING) || return 1
  cmake --build "${SOURCE_DIR}/build/asan" -j "${JOBS}" || return 1
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_ctest asan "${LOG_DIR}/ctest-asan.log" --test-dir "${SOURCE_DIR}/build/asan" \
    -LE integration -j "${JOBS}"
}

cross() {
  local arch rc=0
  local start line
  for arch in ${FIELDSYNC_CROSS_ARCHES:-arm64 armhf}; do
    start=$(date +%s)
    "${SOURCE_DIR}/tests/cross.sh" "${arch}" 2>&1 | tee "${LOG_DIR}/cross-${arch}.log"
    [[ ${PIPESTATUS[0]} -eq 0 ]] || rc=1
    echo "-- cross ${arch}: $(($(date +%s) - start)) s"
    line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' \
      "${LOG_DIR}/cross-${arch}.log" | tail -n 1)
    TEST_SUMMARIES+=("cross-${arch}|${line:-no test result}")
    note_failures "cross-${arch}" "${LOG_DIR}/cross-${arch}.log"
  done
  return "${rc}"
}

summary() {
  local i passed=0 failed=0 host_line="" label line total_n failed_n
  echo
  echo "== summary"
  for i in "${!STAGE_NAMES[@]}"; do
    printf '  %-10s %6s s  %s\n' "${STAGE_NAMES[i]}" "${STAGE_TIMES[i]}" "${STAGE_RESULTS[i]}"
  done
  printf '  %-10s %6s s\n' total $(($(date +%s) - RUN_START))
  for i in "${!TEST_SUMMARIES[@]}"; do
    label=${TEST_SUMMARIES[i]%%|*}
    line=${TEST_SUMMARIES[i]#*|}
    printf '  %-14s %s\n' "${label}:" "${line}"
    if [[ ${line} =~ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]; then
      failed_n=${BASH_REMATCH[1]}
      total_n=${BASH_REMATCH[2]}
      passed=$((passed + total_n - failed_n))
      failed=$((failed + failed_n))
    else
      failed=$((failed + 1))
    fi
    [[ ${label} != host ]] || host_line=${line}
  done
  for i in "${!TEST_FAILURES[@]}"; do
    echo "  failed: ${TEST_FAILURES[i]}"
  done
  echo
  # CI reads the closing lines: the host run's own ctest line, then the count over every run
  # (host, sanitizer, each cross architecture), which is not 0 failed unless all of them passed.
  [[ -z ${host_line} ]] || echo "${host_line}"
  if [[ ${FAILED} -ne 0 && ${failed} -eq 0 ]]; then
    failed=1 # a stage failed before its tests could run
  fi
  echo "tests: ${passed} passed, ${failed} failed"
}

main() {
  mkdir -p "${LOG_DIR}"
  local deps_args=()
  [[ ${FIELDSYNC_SKIP_CROSS:-0} == 1 ]] || deps_args=(--cross)
  if stage deps "${SOURCE_DIR}/tests/deps.sh" "${deps_args[@]}" &&
    stage configure configure &&
    stage build build &&
    stage services services; then
    stage tests host_tests
    if [[ ${FIELDSYNC_SANITIZE:-0} == 1 ]]; then
      stage sanitize sanitize
    fi
    [[ ${FIELDSYNC_SKIP_FUZZ:-0} == 1 ]] || stage fuzz "${SOURCE_DIR}/tests/fuzz/run.sh" --quick
    if declare -F fieldsync_services_stop >/dev/null; then
      fieldsync_services_stop
    fi
    if [[ ${FIELDSYNC_SKIP_CROSS:-0} != 1 ]]; then
      stage cross cross
    fi
    [[ ${FIELDSYNC_SKIP_PACKAGE:-0} == 1 ]] || stage package "${SOURCE_DIR}/tests/package.sh"
  fi
  summary
  return "${FAILED}"
}

main "$@"
