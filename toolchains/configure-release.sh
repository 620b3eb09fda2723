#!/usr/bin/env bash
# Configures the release build tree of one Debian architecture: the tree its .deb is made from.
#
#   toolchains/configure-release.sh amd64|arm64|armhf BUILD_DIR [CMAKE_ARGS...]
#
# tests/cross.sh (with the tests, which it then runs under qemu-user) and tests/package.sh
# (binary and cpack) both configure build/pkg-<arch> through this script, so the package stage
# packs the very objects the cross stage compiled and tested instead of compiling them again.
#
# The tree is Release at -O2 (Debian's level; GCC 12 at -O3 reports a false -Wrestrict in
# std::string concatenation) with the hardening flags of dpkg-buildflags and -ffile-prefix-map to
# keep build paths out of the binary. They go into the *_RELEASE cache variables on every
# configure: that is idempotent and adds to, rather than replaces, what a cross toolchain file
# sets (-rpath-link into the sysroot). A foreign architecture gets its toolchain file from
# toolchains/ and its sysroot (build/sysroot-<arch>, made by make-sysroot.sh when missing).
#
# Environment: FIELDSYNC_WERROR (default ON).
set -euo pipefail

SOURCE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly SOURCE_DIR

readonly OPTIMISE="-O2 -DNDEBUG"
readonly HARDENING="-fstack-protector-strong -D_FORTIFY_SOURCE=2 -Wformat -Werror=format-security"
readonly PREFIX_MAP="-ffile-prefix-map=${SOURCE_DIR}=."
readonly LINK_HARDENING="-Wl,-z,relro -Wl,-z,now"

main() {
  if [[ $# -lt 2 ]]; then
    echo "configure-release: usage: $0 amd64|arm64|armhf BUILD_DIR [CMAKE_ARGS...]" >&2
    return 2
  fi
  local arch=$1 build_dir=$2 host_arch toolchain
  shift 2
  host_arch=$(dpkg --print-architecture)
  local cross_args=()
  if [[ ${arch} != "${host_arch}" ]]; then
    case "${arch}" in
      arm64) toolchain=aarch64-linux-gnu.cmake ;;
      armhf) toolchain=arm-linux-gnueabihf.cmake ;;
      *)
        echo "configure-release: cannot build ${arch} on ${host_arch}" >&2
        return 2
        ;;
    esac
    local sysroot=${SOURCE_DIR}/build/sysroot-${arch}
    "${SOURCE_DIR}/toolchains/make-sysroot.sh" "${arch}" "${sysroot}"
    cross_args=(-DCMAKE_TOOLCHAIN_FILE="${SOURCE_DIR}/toolchains/${toolchain}"
      -DFIELDSYNC_SYSROOT="${sysroot}")
  fi
  cmake -S "${SOURCE_DIR}" -B "${build_dir}" -G Ninja --log-level=WARNING \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_FLAGS_RELEASE="${OPTIMISE} ${HARDENING} ${PREFIX_MAP}" \
    -DCMAKE_CXX_FLAGS_RELEASE="${OPTIMISE} ${HARDENING} ${PREFIX_MAP}" \
    -DCMAKE_EXE_LINKER_FLAGS_RELEASE="${LINK_HARDENING}" \
    -DCMAKE_SHARED_LINKER_FLAGS_RELEASE="${LINK_HARDENING}" \
    -DFIELDSYNC_WERROR="${FIELDSYNC_WERROR:-ON}" "${cross_args[@]}" "$@" >/dev/null
}

main "$@"
