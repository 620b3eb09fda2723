#!/usr/bin/env bash
# Builds the Debian packages and checks them.
#
#   tests/package.sh [amd64|arm64|armhf|all]...
#
# With no argument: amd64 and the architectures of the cross stage, FIELDSYNC_CROSS_ARCHES (default
# "arm64 armhf"); amd64 alone when FIELDSYNC_SKIP_CROSS=1. For each architecture, in
# build/pkg-<arch>:
#   1. a Release build (toolchains/configure-release.sh: Debian's optimisation and hardening flags;
#      cross ones through toolchains/ and a sysroot), then `cpack -G DEB`. A fresh tree is
#      configured without tests; a tree tests/cross.sh has already built and tested (it uses the
#      same directory and flags) is only brought up to date, so after the cross stage an ARM
#      package costs a cpack run, not a second compile;
#   2. the .deb checked with dpkg-deb: Architecture, a well-formed Maintainer, Depends covering
#      every library the binary needs, the files (binary, unit, example config as a conffile),
#      executable maintainer scripts, a stripped binary;
#   3. the packaged binary run for `--version` and `config check` against the packaged example
#      config (under qemu-user for arm64 and armhf);
#   4. on the host's own architecture, as root: install with apt-get, check the command, the user,
#      the permissions, `systemd-analyze verify` and `security` on the installed unit, then remove,
#      purge and take away whatever the install pulled in (skipped, saying so, when fieldsync is
#      already on the machine or FIELDSYNC_SKIP_INSTALL=1).
# Prints the time of each build and the stripped binary size per architecture.
#
# Environment: FIELDSYNC_JOBS (default: nproc), FIELDSYNC_WERROR (default ON),
# FIELDSYNC_CROSS_ARCHES, FIELDSYNC_SKIP_CROSS=1, FIELDSYNC_SKIP_INSTALL=1,
# FIELDSYNC_MAX_EXPOSURE (highest accepted `systemd-analyze security` exposure, default 2.5).

# `check && pass ... || fail ...` is meant throughout: pass only prints and never fails.
# shellcheck disable=SC2015
set -uo pipefail

SOURCE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly SOURCE_DIR
readonly JOBS=${FIELDSYNC_JOBS:-$(nproc)}
readonly MAX_EXPOSURE=${FIELDSYNC_MAX_EXPOSURE:-2.5}
HOST_ARCH=$(dpkg --print-architecture)
readonly HOST_ARCH

SUMMARY=()
FAILURES=0

as_root() {
  if [[ ${EUID} -eq 0 ]]; then "$@"; else sudo -n -- "$@"; fi
}

# fail MESSAGE: records one failed check and says which.
fail() {
  echo "package: FAIL: $*" >&2
  FAILURES=$((FAILURES + 1))
  return 1
}

pass() {
  echo "package: ok: $*"
}

triplet_of() {
  case "$1" in
    amd64) echo x86_64-linux-gnu ;;
    arm64) echo aarch64-linux-gnu ;;
    armhf) echo arm-linux-gnueabihf ;;
  esac
}

qemu_of() {
  case "$1" in
    arm64) echo qemu-aarch64-static ;;
    armhf) echo qemu-arm-static ;;
  esac
}

# build_deb ARCH BUILD_DIR: configures, builds and packages; leaves exactly one .deb in BUILD_DIR.
# A tree the cross stage has configured and built (tests included) is only brought up to date.
build_deb() {
  local arch=$1 build_dir=$2 tests_args=()
  [[ -f ${build_dir}/CMakeCache.txt ]] || tests_args=(-DFIELDSYNC_BUILD_TESTS=OFF)
  "${SOURCE_DIR}/toolchains/configure-release.sh" "${arch}" "${build_dir}" "${tests_args[@]}" ||
    return 1
  cmake --build "${build_dir}" -j "${JOBS}" || return 1
  rm -f "${build_dir}"/fieldsync_*.deb
  (cd "${build_dir}" && cpack -G DEB >cpack.log 2>&1) || {
    tail -n 20 "${build_dir}/cpack.log" >&2
    return 1
  }
}

# package_of_soname SONAME: the Debian package that ships SONAME, looked up by its exact path among
# the host's installed packages (package names are the same on every architecture). Debian 12
# records most libraries under /usr/lib/<triplet>, libc6 and a few more under /lib/<triplet>.
package_of_soname() {
  local soname=$1 triplet dir hit
  # The dynamic loader is named per architecture (ld-linux-aarch64.so.1, ld-linux-armhf.so.3);
  # libc6 ships it on each.
  if [[ ${soname} == ld-linux*.so.* ]]; then
    echo libc6
    return 0
  fi
  triplet=$(triplet_of "${HOST_ARCH}")
  for dir in "/usr/lib/${triplet}" "/lib/${triplet}"; do
    hit=$(dpkg -S "${dir}/${soname}" 2>/dev/null | head -n 1) || continue
    [[ -n ${hit} ]] || continue
    hit=${hit%%:*}
    echo "${hit%%,*}"
    return 0
  done
  return 1
}

# check_deb ARCH DEB EXTRACT_DIR: the static checks; extracts the package into EXTRACT_DIR.
check_deb() {
  local arch=$1 deb=$2 root=$3 field contents depends soname pkg missing=()
  rm -rf "${root}"
  mkdir -p "${root}/ctrl"

  field=$(dpkg-deb -f "${deb}" Architecture)
  [[ ${field} == "${arch}" ]] && pass "${arch}: Architecture: ${field}" ||
    fail "${arch}: Architecture is '${field}'"

  # "Name <user@host>", and not the placeholder of an unconfigured tree.
  local maintainer_re='^[^<>]+ <[^<>@ ]+@[^<>@ ]+>$'
  field=$(dpkg-deb -f "${deb}" Maintainer)
  [[ ${field} =~ ${maintainer_re} && ${field} != *@localhost\> ]] &&
    pass "${arch}: Maintainer: ${field}" || fail "${arch}: Maintainer is '${field}'"

  contents=$(dpkg-deb --contents "${deb}") || return 1
  local want
  for want in ./usr/bin/fieldsync ./etc/fieldsync/fieldsync.toml; do
    grep -Eq " ${want}\$" <<<"${contents}" && pass "${arch}: ships ${want#.}" ||
      fail "${arch}: ${want#.} is not in the package"
  done
  grep -Eq ' \./(usr/)?lib/systemd/system/fieldsync\.service$' <<<"${contents}" &&
    pass "${arch}: ships the unit under lib/systemd/system" ||
    fail "${arch}: fieldsync.service is not under /lib/systemd/system or /usr/lib/systemd/system"
  grep -Eq '^-rwxr-xr-x root/root .* \./usr/bin/fieldsync$' <<<"${contents}" ||
    fail "${arch}: /usr/bin/fieldsync is not root-owned 0755"

  # Control files with their modes as packaged.
  local ctrl_list
  ctrl_list=$(dpkg-deb --ctrl-tarfile "${deb}" | tar -tvf -) || return 1
  local script
  for script in postinst prerm postrm; do
    grep -Eq "^-rwxr-xr-x .* \./${script}\$" <<<"${ctrl_list}" &&
      pass "${arch}: maintainer script ${script} is executable" ||
      fail "${arch}: maintainer script ${script} missing or not 0755"
  done
  dpkg-deb -e "${deb}" "${root}/ctrl" || return 1
  grep -qx /etc/fieldsync/fieldsync.toml "${root}/ctrl/conffiles" 2>/dev/null &&
    pass "${arch}: /etc/fieldsync/fieldsync.toml is a conffile" ||
    fail "${arch}: /etc/fieldsync/fieldsync.toml is not listed in conffiles"

  dpkg-deb -x "${deb}" "${root}/data" || return 1
  local bin=${root}/data/usr/bin/fieldsync
  if readelf -S --wide "${bin}" | grep -Eq ' \.(symtab|debug_[a-z]+) '; then
    fail "${arch}: /usr/bin/fieldsync is not stripped"
  else
    pass "${arch}: /usr/bin/fieldsync is stripped"
  fi
  readelf -h "${bin}" | grep -q "Machine:.*$(machine_of "${arch}")" ||
    fail "${arch}: the binary is not a $(machine_of "${arch}") executable"
  # The hardening flags took: position-independent, full RELRO (relro + bind now), no exec stack.
  if readelf -h "${bin}" | grep -q 'Type:.*DYN' && readelf -d "${bin}" | grep -q 'FLAGS.*BIND_NOW' &&
    readelf -lW "${bin}" | grep -q GNU_RELRO &&
    readelf -lW "${bin}" | grep -E 'GNU_STACK' | grep -qv 'RWE'; then
    pass "${arch}: PIE, full RELRO, non-executable stack"
  else
    fail "${arch}: the binary lacks PIE, full RELRO or a non-executable stack"
  fi

  # Every library the binary loads must come from a package named in Depends.
  depends=$(dpkg-deb -f "${deb}" Depends)
  echo "package: ${arch}: Depends: ${depends}"
  local depends_names
  depends_names=$(awk '{print $1}' <<<"${depends//[,|]/$'\n'}" | sort -u)
  while read -r soname; do
    pkg=$(package_of_soname "${soname}") || {
      fail "${arch}: no installed package ships ${soname}: cannot check Depends for it"
      continue
    }
    grep -qx "${pkg}" <<<"${depends_names}" || missing+=("${soname} (${pkg})")
  done < <(readelf -d "${bin}" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  if [[ ${#missing[@]} -eq 0 ]]; then
    pass "${arch}: Depends names the package of every NEEDED library"
  else
    fail "${arch}: Depends lacks ${missing[*]}"
  fi
}

machine_of() {
  case "$1" in
    amd64) echo "X86-64" ;;
    arm64) echo "AArch64" ;;
    armhf) echo "ARM" ;;
  esac
}

# run_packaged ARCH ROOT ARGS...: runs the extracted binary (under qemu-user for a foreign arch).
run_packaged() {
  local arch=$1 root=$2
  shift 2
  local bin=${root}/data/usr/bin/fieldsync
  if [[ ${arch} == "${HOST_ARCH}" ]]; then
    "${bin}" "$@"
    return
  fi
  local triplet sysroot
  triplet=$(triplet_of "${arch}")
  sysroot=${SOURCE_DIR}/build/sysroot-${arch}
  "$(qemu_of "${arch}")" -L "/usr/${triplet}" \
    -E "LD_LIBRARY_PATH=${sysroot}/usr/lib/${triplet}:${sysroot}/lib/${triplet}" "${bin}" "$@"
}

# run_checks ARCH ROOT VERSION: --version and config check of the packaged binary and config.
run_checks() {
  local arch=$1 root=$2 version=$3 out
  if out=$(run_packaged "${arch}" "${root}" --version 2>&1) &&
    grep -qF "${version}" <<<"${out}"; then
    pass "${arch}: fieldsync --version: ${out}"
  else
    fail "${arch}: fieldsync --version failed or does not say ${version}: ${out}"
  fi
  if out=$(run_packaged "${arch}" "${root}" --config "${root}/data/etc/fieldsync/fieldsync.toml" \
    config check 2>&1); then
    pass "${arch}: config check of the packaged example config"
  else
    echo "${out}" >&2
    fail "${arch}: config check of the packaged example config failed"
  fi
}

# installed_packages: every installed package, one `name:arch` a line, sorted.
installed_packages() {
  dpkg-query -W -f='${db:Status-Abbrev} ${Package}:${Architecture}\n' |
    awk '$1 == "ii" {print $2}' | sort
}

# install_cleanup: purges fieldsync and whatever its install pulled in. Safe to call twice.
install_cleanup() {
  [[ -n ${INSTALL_BEFORE:-} ]] || return 0
  if dpkg-query -W fieldsync >/dev/null 2>&1; then
    as_root dpkg -P fieldsync >/dev/null 2>&1 || true
  fi
  local added
  mapfile -t added < <(comm -13 "${INSTALL_BEFORE}" <(installed_packages))
  if [[ ${#added[@]} -gt 0 ]]; then
    echo "package: removing what the install pulled in: ${added[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "${added[@]}" >/dev/null 2>&1 ||
      fail "could not remove ${added[*]}"
  fi
  if ! cmp -s "${INSTALL_BEFORE}" <(installed_packages); then
    fail "the installed package set differs from before the install test"
  fi
  rm -f "${INSTALL_BEFORE}"
  INSTALL_BEFORE=
}

# expect_stat PATH OWNER:GROUP MODE
expect_stat() {
  local got
  got=$(stat -c '%U:%G %a' "$1" 2>/dev/null)
  [[ ${got} == "$2 $3" ]] && pass "installed: $1 is $2 $3" ||
    fail "installed: $1 is '${got}', want $2 $3"
}

# install_test DEB VERSION: installs the package on this machine, checks it, then purges it and
# leaves the package set as it was.
install_test() {
  local deb=$1 version=$2 out rc unit exposure
  if [[ ${EUID} -ne 0 ]] && ! sudo -n true 2>/dev/null; then
    echo "package: install test SKIPPED: needs root or password-less sudo"
    return 0
  fi
  if dpkg-query -W fieldsync >/dev/null 2>&1 || getent passwd fieldsync >/dev/null ||
    getent group fieldsync >/dev/null || [[ -e /etc/fieldsync || -e /var/lib/fieldsync ]]; then
    echo "package: install test SKIPPED: this machine already has a fieldsync package, user or" \
      "directory, which the test would change"
    return 0
  fi
  echo "== install ${deb##*/}"
  INSTALL_BEFORE=$(mktemp)
  installed_packages >"${INSTALL_BEFORE}"
  # apt-get (not dpkg -i) so that Depends are resolved from the archive like on a user's machine.
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "$(realpath "${deb}")" >"${deb%.deb}.install.log" 2>&1; then
    tail -n 20 "${deb%.deb}.install.log" >&2
    fail "apt-get install of ${deb##*/} failed"
    install_cleanup
    return 1
  fi
  pass "apt-get install ${deb##*/}"

  [[ $(command -v fieldsync) == /usr/bin/fieldsync ]] ||
    fail "installed: fieldsync is not /usr/bin/fieldsync on PATH"
  out=$(fieldsync --version 2>&1) && grep -qF "${version}" <<<"${out}" &&
    pass "installed: fieldsync --version: ${out}" || fail "installed: fieldsync --version: ${out}"
  out=$(fieldsync --config /etc/fieldsync/fieldsync.toml config check 2>&1) &&
    pass "installed: fieldsync --config /etc/fieldsync/fieldsync.toml config check" ||
    fail "installed: config check of the installed config: ${out}"
  # The service runs as fieldsync: it must be able to read its configuration.
  out=$(as_root runuser -u fieldsync -- /usr/bin/fieldsync config check 2>&1) &&
    pass "installed: config check as the fieldsync user (default config path)" ||
    fail "installed: config check as the fieldsync user: ${out}"

  local passwd
  passwd=$(getent passwd fieldsync)
  if [[ -n ${passwd} ]]; then
    IFS=: read -r _ _ uid _ _ home shell <<<"${passwd}"
    [[ ${uid} -lt 1000 && ${home} == /var/lib/fieldsync && ${shell} == */nologin ]] &&
      pass "installed: system user fieldsync (uid ${uid}, home ${home}, shell ${shell})" ||
      fail "installed: user fieldsync is '${passwd}'"
    id -nG fieldsync | tr ' ' '\n' | grep -qx dialout &&
      pass "installed: fieldsync is in dialout" || fail "installed: fieldsync is not in dialout"
  else
    fail "installed: no fieldsync user"
  fi
  expect_stat /etc/fieldsync root:fieldsync 750
  expect_stat /etc/fieldsync/fieldsync.toml root:fieldsync 640
  dpkg-query -W -f='${Conffiles}\n' fieldsync | grep -q '^ /etc/fieldsync/fieldsync.toml ' &&
    pass "installed: dpkg lists /etc/fieldsync/fieldsync.toml as a conffile" ||
    fail "installed: dpkg does not list the config as a conffile"

  unit=$(dpkg -L fieldsync | grep -E '/lib/systemd/system/fieldsync\.service$' | head -n 1)
  if [[ -z ${unit} ]]; then
    fail "installed: no fieldsync.service"
  else
    out=$(systemd-analyze verify "${unit}" 2>&1)
    rc=$?
    if [[ ${rc} -eq 0 && -z ${out} ]]; then
      pass "installed: systemd-analyze verify ${unit}: no complaint"
    else
      fail "installed: systemd-analyze verify ${unit} (exit ${rc}): ${out}"
    fi
    out=$(systemd-analyze security --offline=yes "${unit}" 2>&1)
    exposure=$(sed -n 's/.*Overall exposure level for fieldsync\.service: \([0-9.]*\).*/\1/p' \
      <<<"${out}")
    if [[ -z ${exposure} ]]; then
      fail "installed: no exposure level from systemd-analyze security: ${out: -300}"
    elif awk -v e="${exposure}" -v m="${MAX_EXPOSURE}" 'BEGIN { exit !(e <= m) }'; then
      pass "installed: systemd-analyze security: exposure ${exposure} (<= ${MAX_EXPOSURE})"
    else
      fail "installed: exposure ${exposure} is above ${MAX_EXPOSURE}"
    fi
  fi

  # What systemd's StateDirectory= would have made, with a store in it, for remove and purge.
  as_root install -d -m 0750 -o fieldsync -g fieldsync /var/lib/fieldsync
  as_root install -m 0640 -o fieldsync -g fieldsync /dev/null /var/lib/fieldsync/fieldsync.db
  echo "# local edit" | as_root tee -a /etc/fieldsync/fieldsync.toml >/dev/null
  echo "postgresql://example" | as_root tee /etc/fieldsync/pg_url >/dev/null

  as_root dpkg -r fieldsync >/dev/null || fail "dpkg -r fieldsync failed"
  [[ ! -e /usr/bin/fieldsync ]] || fail "removed: /usr/bin/fieldsync is still there"
  [[ $(dpkg-query -W -f='${db:Status-Abbrev}' fieldsync 2>/dev/null) == rc* ]] ||
    fail "removed: dpkg does not hold the package as config-files"
  tail -n 1 /etc/fieldsync/fieldsync.toml 2>/dev/null | grep -qx '# local edit' &&
    [[ -f /etc/fieldsync/pg_url && -f /var/lib/fieldsync/fieldsync.db ]] &&
    getent passwd fieldsync >/dev/null &&
    pass "removed: edited config, credentials, store and user are kept" ||
    fail "removed: config, credentials, store or user did not survive dpkg -r"

  as_root dpkg -P fieldsync >/dev/null || fail "dpkg -P fieldsync failed"
  local left=()
  getent passwd fieldsync >/dev/null && left+=("user fieldsync")
  getent group fieldsync >/dev/null && left+=("group fieldsync")
  [[ -e /etc/fieldsync ]] && left+=(/etc/fieldsync)
  [[ -e /var/lib/fieldsync ]] && left+=(/var/lib/fieldsync)
  dpkg-query -W fieldsync >/dev/null 2>&1 && left+=("dpkg entry")
  [[ ${#left[@]} -eq 0 ]] &&
    pass "purged: no user, group, /etc/fieldsync or /var/lib/fieldsync left" ||
    fail "purged: left behind: ${left[*]}"

  install_cleanup
  [[ ${#left[@]} -ne 0 ]] || pass "install test left the package set as it found it"
}

# children_cpu_seconds VAR: sets VAR to the user+system CPU seconds of every finished child of this
# shell so far (`times` must run in this shell, not in a $(...) subshell, to see them). The
# build's CPU time says what it costs on an idle machine, whatever else was running.
children_cpu_seconds() {
  local file
  file=$(mktemp)
  times >"${file}"
  printf -v "$1" '%s' "$(tail -n 1 "${file}" | awk '{
    total = 0
    for (i = 1; i <= 2; i++) { split($i, p, "m"); total += p[1] * 60 + p[2] }
    printf "%d", total }')"
  rm -f "${file}"
}

package_one() {
  local arch=$1 build_dir=${SOURCE_DIR}/build/pkg-$1 start cpu_start build_s cpu_s deb size version
  echo
  echo "== package ${arch}"
  start=$(date +%s)
  children_cpu_seconds cpu_start
  if ! build_deb "${arch}" "${build_dir}"; then
    fail "${arch}: build or cpack failed"
    SUMMARY+=("${arch}|$(($(date +%s) - start))|-|-|-|build failed")
    return 1
  fi
  build_s=$(($(date +%s) - start))
  children_cpu_seconds cpu_s
  cpu_s=$((cpu_s - cpu_start))
  local debs=("${build_dir}"/fieldsync_*_"${arch}".deb)
  deb=${debs[0]}
  if [[ ! -f ${deb} ]]; then
    fail "${arch}: cpack made no fieldsync_*_${arch}.deb"
    SUMMARY+=("${arch}|${build_s}|${cpu_s}|-|-|no .deb")
    return 1
  fi
  echo "package: ${arch}: built ${deb#"${SOURCE_DIR}"/} in ${build_s} s (${cpu_s} s of CPU)"
  version=$(dpkg-deb -f "${deb}" Version)
  local before=${FAILURES} root=${build_dir}/deb-check
  check_deb "${arch}" "${deb}" "${root}"
  run_checks "${arch}" "${root}" "${version}"
  size=$(stat -c %s "${root}/data/usr/bin/fieldsync" 2>/dev/null || echo -)
  if [[ ${arch} == "${HOST_ARCH}" ]]; then
    if [[ ${FIELDSYNC_SKIP_INSTALL:-0} == 1 ]]; then
      echo "package: ${arch}: install test skipped (FIELDSYNC_SKIP_INSTALL=1)"
    else
      install_test "${deb}" "${version}"
    fi
  fi
  local verdict=ok
  [[ ${FAILURES} -eq ${before} ]] || verdict="$((FAILURES - before)) checks failed"
  SUMMARY+=("${arch}|${build_s}|${cpu_s}|${size}|$(stat -c %s "${deb}")|${verdict}")
}

main() {
  local arches=() arg
  for arg in "$@"; do
    case "${arg}" in
      all) arches+=(amd64 arm64 armhf) ;;
      amd64 | arm64 | armhf) arches+=("${arg}") ;;
      -h | --help)
        sed -n '2,/^$/p' "$0" | sed -n '/^#/s/^# \{0,1\}//p'
        return 0
        ;;
      *)
        echo "package: usage: $0 [amd64|arm64|armhf|all]..." >&2
        return 2
        ;;
    esac
  done
  if [[ ${#arches[@]} -eq 0 ]]; then
    arches=(amd64)
    if [[ ${FIELDSYNC_SKIP_CROSS:-0} != 1 ]]; then
      # shellcheck disable=SC2206 # a space-separated list of architecture names
      arches+=(${FIELDSYNC_CROSS_ARCHES:-arm64 armhf})
    fi
  fi
  local deps_args=() arch
  for arch in "${arches[@]}"; do
    case "${arch}" in
      amd64 | arm64 | armhf) ;;
      *)
        echo "package: unknown architecture '${arch}' (FIELDSYNC_CROSS_ARCHES?)" >&2
        return 2
        ;;
    esac
    if [[ ${arch} != "${HOST_ARCH}" ]]; then
      [[ ${HOST_ARCH} == amd64 && ${arch} != amd64 ]] || {
        echo "package: cannot build ${arch} on ${HOST_ARCH}" >&2
        return 2
      }
      deps_args=(--cross)
    fi
  done
  "${SOURCE_DIR}/tests/deps.sh" "${deps_args[@]}" || return 1
  for arch in "${arches[@]}"; do
    package_one "${arch}"
  done

  echo
  echo "== package summary"
  printf '  %-6s %8s  %8s  %16s  %10s  %s\n' arch "build s" "CPU s" "stripped bin B" "deb B" result
  local row a b c s d r
  for row in "${SUMMARY[@]}"; do
    IFS='|' read -r a b c s d r <<<"${row}"
    printf '  %-6s %8s  %8s  %16s  %10s  %s\n' "${a}" "${b}" "${c}" "${s}" "${d}" "${r}"
  done
  if [[ ${FAILURES} -ne 0 ]]; then
    echo "package: ${FAILURES} checks failed"
    return 1
  fi
  echo "package: all checks passed"
}

main "$@"
