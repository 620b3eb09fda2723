#!/usr/bin/env bash
# Cross-builds fieldsync for ARM and runs its unit tests under qemu-user.
#
#   tests/cross.sh [arm64|armhf|all]     (default: arm64)
#
# For each architecture: configures build/pkg-<arch> with toolchains/configure-release.sh (the
# toolchain file, the sysroot, assembled first if needed, and the release flags the .deb is built
# with) plus the tests, builds everything (so the agent itself must compile for the target) and
# runs every test that is not labelled `integration` through ctest, each binary under qemu.
# tests/package.sh then packs the same tree without compiling it again. armhf has a 32-bit time_t:
# this is where code that squeezes time through time_t or long fails.
#
# Environment: FIELDSYNC_JOBS (default: nproc), FIELDSYNC_WERROR (default ON),
# FIELDSYNC_TEST_TIMEOUT (seconds per test binary, default 600).
set -euo pipefail

SOURCE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly SOURCE_DIR
readonly JOBS=${FIELDSYNC_JOBS:-$(nproc)}

# cross_one ARCH: builds and tests one architecture; returns non-zero on any failure.
cross_one() {
  local arch=$1
  case "${arch}" in
    arm64 | armhf) ;;
    *)
      echo "cross: unknown architecture '${arch}'" >&2
      return 2
      ;;
  esac
  local build_dir=${SOURCE_DIR}/build/pkg-${arch}
  # Called from an `if`, where set -e does not apply: every step checks for itself.
  "${SOURCE_DIR}/toolchains/configure-release.sh" "${arch}" "${build_dir}" \
    -DFIELDSYNC_BUILD_TESTS=ON || return 1
  cmake --build "${build_dir}" -j "${JOBS}" || return 1
  # Integration tests need servers on the host; everything else is a unit test and runs here.
  ctest --test-dir "${build_dir}" --output-on-failure -LE integration \
    --timeout "${FIELDSYNC_TEST_TIMEOUT:-600}" -j "${JOBS}"
}

main() {
  local what=${1:-arm64} arches arch status=0
  case "${what}" in
    all) arches=(arm64 armhf) ;;
    arm64 | armhf) arches=("${what}") ;;
    -h | --help)
      sed -n '2,15p' "$0"
      return 0
      ;;
    *)
      echo "cross: usage: $0 [arm64|armhf|all]" >&2
      return 2
      ;;
  esac
  "${SOURCE_DIR}/tests/deps.sh" --cross
  for arch in "${arches[@]}"; do
    echo "== cross ${arch}"
    if ! cross_one "${arch}"; then
      echo "cross: ${arch} FAILED" >&2
      status=1
    fi
  done
  return "${status}"
}

main "$@"
