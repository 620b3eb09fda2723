#!/usr/bin/env bash
# sync_tls_test: a throwaway CA, a server certificate for localhost and a PostgreSQL that only
# accepts TLS (hostssl), then `fieldsync remote migrate/check` and `sync` with
# sslmode=verify-full: they succeed with the right CA, fail with another CA with a message that
# says why, and the password appears in no output or log line.
#
# Usage: tls_test.sh FIELDSYNC_BINARY      (exit 77 = skipped: no PostgreSQL server binaries)
set -euo pipefail
bin=$1
pgbin=${FIELDSYNC_TEST_PGBIN:-}
if [[ -z ${pgbin} ]]; then
  # shellcheck disable=SC2012 # Debian's version directories are plain numbers.
  pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
fi
[[ -x ${pgbin}/initdb ]] || { echo "SKIP: no PostgreSQL server binaries"; exit 77; }
command -v openssl >/dev/null || { echo "SKIP: no openssl"; exit 77; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/fieldsync-tls.XXXXXX")
chmod 755 "${dir}"
runas=()
[[ ${EUID} -ne 0 ]] || runas=(runuser -u postgres --)
cleanup() {
  "${runas[@]}" "${pgbin}/pg_ctl" -D "${dir}/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "${dir}"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# The CA that signs the server, another CA nobody used, and the server's certificate.
cd "${dir}"
for ca in ca other; do
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=fieldsync test ${ca}" \
    -keyout "${ca}.key" -out "${ca}.crt" 2>/dev/null
done
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr \
  2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >server.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
  -extfile server.ext -out server.crt 2>/dev/null

password="Tls-Secret-7f3a9c"
echo "${password}" >pw
mkdir data logs
chmod 600 server.key
if [[ ${#runas[@]} -gt 0 ]]; then chown postgres: data logs server.key server.crt pw; fi
"${runas[@]}" "${pgbin}/initdb" -D "${dir}/data" -U fieldsync --pwfile="${dir}/pw" \
  --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >initdb.log 2>&1 ||
  { cat initdb.log; fail "initdb"; }
rm -f pw
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >>data/postgresql.conf <<CONF
listen_addresses = 'localhost'
port = ${port}
unix_socket_directories = '${dir}/logs'
ssl = on
ssl_cert_file = '${dir}/server.crt'
ssl_key_file = '${dir}/server.key'
fsync = off
log_min_messages = warning
CONF
cat >data/pg_hba.conf <<HBA
local all all trust
hostssl all all 127.0.0.1/32 scram-sha-256
hostssl all all ::1/128 scram-sha-256
HBA
"${runas[@]}" "${pgbin}/pg_ctl" -D "${dir}/data" -l "${dir}/logs/server.log" -w -t 60 start >/dev/null ||
  { cat logs/server.log; fail "server did not start"; }

conf() {  # conf NAME ROOTCERT
  mkdir -p "${dir}/$1"
  cat >"${dir}/$1.toml" <<TOML
gateway = "tls-gw"
state_dir = "${dir}/$1"
[http]
listen = ""
[sync]
url = "host=localhost port=${port} dbname=postgres user=fieldsync password=${password} sslmode=verify-full sslrootcert=$2 connect_timeout=5"
op_timeout_s = 10
TOML
}
conf good "${dir}/ca.crt"
conf bad "${dir}/other.crt"
step=0
run() {  # run NAME ARGS... : output in $last_out, exit status in $rc
  local name=$1 out
  shift
  step=$((step + 1))
  out="${dir}/${name}-${step}-$1.out"
  rc=0
  "${bin}" --config "${dir}/${name}.toml" "$@" >"${out}" 2>&1 || rc=$?
  last_out=${out}
}

run good remote migrate
[[ ${rc} -eq 0 ]] || { cat "${last_out}"; fail "remote migrate over verify-full"; }
run good remote check
[[ ${rc} -eq 0 ]] || { cat "${last_out}"; fail "remote check over verify-full"; }
echo '{"device":"d1","ts":1767225600000,"temperature":21.5}' >"${dir}/frame.jsonl"
run good ingest "${dir}/frame.jsonl"
[[ ${rc} -eq 0 ]] || { cat "${last_out}"; fail "ingest"; }
run good sync
[[ ${rc} -eq 0 ]] || { cat "${last_out}"; fail "sync over verify-full"; }
landed=$("${pgbin}/psql" -h "${dir}/logs" -p "${port}" -U fieldsync -d postgres -qAtX \
  -c "SELECT count(*) FROM fieldsync.readings WHERE gateway = 'tls-gw'")
[[ ${landed} -eq 1 ]] || fail "expected 1 reading at the remote, found ${landed}"
# pg_hba.conf accepts only hostssl from the network: the rows above came over TLS.

run bad remote check
[[ ${rc} -ne 0 ]] || fail "remote check succeeded with the wrong CA"
grep -qi "certificate verify failed" "${last_out}" ||
  { cat "${last_out}"; fail "the wrong-CA error does not say why"; }
run bad ingest "${dir}/frame.jsonl"
run bad sync
[[ ${rc} -ne 0 ]] || fail "sync succeeded with the wrong CA"
grep -qi "certificate verify failed" "${last_out}" ||
  { cat "${last_out}"; fail "the wrong-CA sync error does not say why"; }

# No secret anywhere: not in any output of ours, nor in the server log.
if grep -l -- "${password}" "${dir}"/*.out "${dir}/logs/server.log" 2>/dev/null; then
  fail "the password appears in the files above"
fi
echo "PASS: verify-full with the right CA (migrate, check, sync: 1 reading landed), refused" \
  "with another CA (certificate verify failed), no password in any output or log"
