#!/usr/bin/env bash
# Installs the Debian 12 packages that fieldsync needs to build and test, and only those that are
# missing: when everything is present it returns in well under a second without touching apt.
#
#   tests/deps.sh          build, test and service packages
#   tests/deps.sh --cross  the same plus the arm64/armhf cross compilers and qemu-user
#
# Works as root or through sudo. Safe to run any number of times.
set -euo pipefail

readonly BASE_PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libsqlite3-dev sqlite3 libpq-dev postgresql postgresql-client
  libtomlplusplus-dev libcli11-dev nlohmann-json3-dev libhowardhinnant-date-dev tzdata
  libboost-dev libboost-system-dev libspdlog-dev libpaho-mqttpp-dev libpaho-mqtt-dev
  libsystemd-dev libcpputest-dev cpputest
  mosquitto mosquitto-clients socat curl clang-format clang libclang-rt-14-dev
)
readonly CROSS_PACKAGES=(crossbuild-essential-arm64 crossbuild-essential-armhf qemu-user-static)

# as_root CMD...: runs CMD with root rights, through sudo when not root already.
as_root() {
  if [[ ${EUID} -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -- "$@"
  else
    echo "deps: need root or sudo to install packages" >&2
    return 1
  fi
}

# missing_packages PKG...: prints the packages of the list that are not installed.
missing_packages() {
  local pkg status
  for pkg in "$@"; do
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "${pkg}" 2>/dev/null || true)
    [[ ${status} == ii* ]] || echo "${pkg}"
  done
}

# apt_update: refreshes the package lists. A failed index (a mirror in the middle of a sync, an
# unreachable third-party source) must not stop the install when the lists already on disk can
# still serve it, so it is reported and apt-get install decides.
apt_update() {
  local attempt
  for attempt in 1 2; do
    if as_root apt-get update -qq >/dev/null 2>"${TMPDIR:-/tmp}/fieldsync-apt-update.err"; then
      return 0
    fi
    sleep "${attempt}"
  done
  echo "deps: warning: apt-get update reported errors, using the lists it could get:" >&2
  grep -E '^(E|W):' "${TMPDIR:-/tmp}/fieldsync-apt-update.err" | head -n 5 >&2 || true
}

# install_missing PKG...: installs the packages of the list that are not installed yet.
install_missing() {
  local missing
  mapfile -t missing < <(missing_packages "$@")
  if [[ ${#missing[@]} -eq 0 ]]; then
    return 0
  fi
  echo "deps: installing ${missing[*]}"
  apt_update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

main() {
  local with_cross=0 arg
  for arg in "$@"; do
    case "${arg}" in
      --cross) with_cross=1 ;;
      -h | --help)
        sed -n '2,8p' "$0"
        return 0
        ;;
      *)
        echo "deps: unknown argument '${arg}' (try --help)" >&2
        return 2
        ;;
    esac
  done
  if [[ ${with_cross} -eq 1 ]]; then
    install_missing "${BASE_PACKAGES[@]}" "${CROSS_PACKAGES[@]}"
  else
    install_missing "${BASE_PACKAGES[@]}"
  fi
}

main "$@"
