#!/usr/bin/env bash
# Assembles a cross-build sysroot from Debian's arm64 or armhf packages.
#
#   toolchains/make-sysroot.sh arm64|armhf [SYSROOT_DIR]
#
# SYSROOT_DIR defaults to $FIELDSYNC_SYSROOT, then to build/sysroot-<arch> in the source tree.
# The sysroot holds the third-party libraries fieldsync links, their headers and every library they
# need at run time. The C library, libstdc++ and libgcc come from the cross toolchain
# (crossbuild-essential-<arch>) and are left out.
#
# Packages are only downloaded and unpacked, never installed: a foreign -dev package such as
# libpq-dev:arm64 cannot be installed beside the host's and would remove it.
# A sysroot built from the same package list is reused as it is (see the .complete stamp).
set -euo pipefail

SOURCE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly SOURCE_DIR

# The -dev packages of every library the project builds against; arch-all ones (headers only,
# CMake configs) carry no suffix because they exist for all architectures under one name.
readonly ROOT_PACKAGES=(
  libsqlite3-dev:ARCH libpq-dev:ARCH libtomlplusplus-dev:ARCH libsystemd-dev:ARCH
  libboost-dev:ARCH libboost-system-dev:ARCH libspdlog-dev:ARCH libfmt-dev:ARCH
  libhowardhinnant-date-dev:ARCH libpaho-mqttpp-dev:ARCH libpaho-mqtt-dev:ARCH
  libcpputest-dev:ARCH nlohmann-json3-dev libcli11-dev
)

# Provided by crossbuild-essential-<arch> under /usr/<triplet>: unpacking Debian's own copies into
# the sysroot would put a second libc beside the toolchain's.
readonly TOOLCHAIN_PACKAGES_RE='^(libc6|libc6-dev|libc-dev-bin|linux-libc-dev|gcc-[0-9]+-base|libgcc-s1|libgcc-[0-9]+-dev|libstdc\+\+6|libstdc\+\+-[0-9]+-dev|libasan[0-9]+|libatomic1|libgomp1|libitm1|liblsan0|libtsan[0-9]+|libubsan1|libhwasan0|libcrypt-dev|libnsl-dev|libtirpc-dev|rpcsvc-proto)$'

as_root() {
  if [[ ${EUID} -eq 0 ]]; then "$@"; else sudo -- "$@"; fi
}

die() {
  echo "make-sysroot: $*" >&2
  exit 1
}

# ensure_foreign_arch ARCH: lets apt see ARCH's package lists (nothing of ARCH gets installed).
ensure_foreign_arch() {
  local arch=$1
  if [[ $(dpkg --print-architecture) == "${arch}" ]]; then
    return 0
  fi
  if ! dpkg --print-foreign-architectures | grep -qx "${arch}"; then
    as_root dpkg --add-architecture "${arch}"
  fi
  # Refresh when ARCH's lists are missing or older than a day. A failed index (a mirror caught
  # mid-sync) is not fatal: the download below fails loudly if a package cannot be had.
  local lists
  lists=$(find /var/lib/apt/lists -maxdepth 1 -name "*binary-${arch}_Packages*" -mtime -1 |
    head -n 1)
  if [[ -z ${lists} ]]; then
    as_root apt-get update -qq >/dev/null 2>&1 ||
      echo "make-sysroot: warning: apt-get update reported errors, continuing" >&2
  fi
}

# download_closure ARCH DEBDIR: downloads the root packages and everything they depend on, as
# resolved by apt against an empty package database (so nothing of the host counts as present).
download_closure() {
  local arch=$1 debdir=$2 state=$2/state
  mkdir -p "${debdir}/partial" "${state}"
  : >"${state}/status"
  local roots=("${ROOT_PACKAGES[@]/%:ARCH/:${arch}}")
  # _apt cannot write into a root-owned build tree; downloading as root is fine for this.
  as_root apt-get install -qq -y --download-only --no-install-recommends \
    -o Dir::State::status="${state}/status" \
    -o Dir::State::extended_states="${state}/extended_states" \
    -o Dir::Cache::archives="${debdir}" \
    -o APT::Sandbox::User=root \
    "${roots[@]}" >"${debdir}/apt.log" 2>&1 ||
    {
      tail -n 20 "${debdir}/apt.log" >&2
      die "downloading the ${arch} packages failed"
    }
}

# unpack_into SYSROOT ARCH DEBDIR: unpacks the downloaded libraries of ARCH (and arch-all
# headers) that the cross toolchain does not already provide.
unpack_into() {
  local sysroot=$1 arch=$2 debdir=$3 deb name deb_arch count=0
  for deb in "${debdir}"/*.deb; do
    name=$(dpkg-deb -f "${deb}" Package)
    deb_arch=$(dpkg-deb -f "${deb}" Architecture)
    [[ ${deb_arch} == "${arch}" || ${deb_arch} == all ]] || continue
    [[ ${name} =~ ${TOOLCHAIN_PACKAGES_RE} ]] && continue
    [[ ${name} == lib* || ${name} == *-dev ]] || continue
    dpkg-deb -x "${deb}" "${sysroot}"
    echo "${name}:${deb_arch} $(dpkg-deb -f "${deb}" Version)" >>"${sysroot}/.packages"
    count=$((count + 1))
  done
  [[ ${count} -gt 0 ]] || die "no package unpacked from ${debdir}"
  rm -rf "${sysroot}/usr/share/doc" "${sysroot}/usr/share/man" "${sysroot}/usr/share/lintian" \
    "${sysroot}/usr/share/locale" "${sysroot}/usr/share/info"
}

# relativize_links SYSROOT: rewrites absolute symlinks (libfoo.so -> /lib/<triplet>/libfoo.so.1)
# to relative ones, so that they resolve inside the sysroot instead of on the build host.
relativize_links() {
  local sysroot=$1 link target dir
  while IFS= read -r -d '' link; do
    target=$(readlink "${link}")
    [[ ${target} == /* ]] || continue
    dir=$(dirname "${link}")
    ln -sfn "$(realpath -m --relative-to="${dir}" "${sysroot}${target}")" "${link}"
  done < <(find "${sysroot}" -type l -print0)
}

main() {
  local arch=${1:-}
  case "${arch}" in
    arm64 | armhf) ;;
    *) die "usage: $0 arm64|armhf [SYSROOT_DIR]" ;;
  esac
  local sysroot=${2:-${FIELDSYNC_SYSROOT:-${SOURCE_DIR}/build/sysroot-${arch}}}
  local wanted
  wanted=$(printf '%s\n' "${ROOT_PACKAGES[@]}" "${TOOLCHAIN_PACKAGES_RE}" | sha256sum | cut -c1-16)
  if [[ -f ${sysroot}/.complete && $(cat "${sysroot}/.complete") == "${wanted}" ]]; then
    echo "make-sysroot: ${sysroot} is up to date"
    return 0
  fi

  echo "make-sysroot: assembling ${arch} sysroot in ${sysroot}"
  ensure_foreign_arch "${arch}"
  local staging=${sysroot}.tmp
  rm -rf "${staging}"
  mkdir -p "${staging}/root"
  download_closure "${arch}" "${staging}/debs"
  unpack_into "${staging}/root" "${arch}" "${staging}/debs"
  relativize_links "${staging}/root"
  echo "${wanted}" >"${staging}/root/.complete"
  # Swap in only a finished sysroot: an interrupted run leaves no half-built one behind.
  rm -rf "${sysroot}"
  mv "${staging}/root" "${sysroot}"
  rm -rf "${staging}"
  echo "make-sysroot: $(wc -l <"${sysroot}/.packages") packages unpacked into ${sysroot}"
}

main "$@"
