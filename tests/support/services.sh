#!/usr/bin/env bash
# Throwaway servers for the integration tests: a PostgreSQL 15 and a mosquitto broker, each on
# 127.0.0.1 on a free port with its data under one temporary directory.
#
# Sourced by tests/run.sh:
#   source tests/support/services.sh
#   fieldsync_services_start      # starts both, exports the variables below, traps EXIT
#   ...run tests...
#   fieldsync_services_stop       # also run by the trap, even when a step failed
#
# Or by hand, for running integration tests from a build directory:
#   eval "$(tests/support/services.sh start)"   # prints the exports
#   tests/support/services.sh stop "$FIELDSYNC_TEST_DIR"
#
# Exported for the tests:
#   FIELDSYNC_TEST_PGURL      postgresql://fieldsync:fieldsync@127.0.0.1:PORT/fieldsync_test
#                             (role fieldsync is a superuser; tests may create databases)
#   FIELDSYNC_TEST_PGBIN      the PostgreSQL server binaries (pg_ctl, postgres, initdb)
#   FIELDSYNC_TEST_PGDATA     the data directory
#   FIELDSYNC_TEST_PG_STOP    a command that stops the server and waits until it is down
#   FIELDSYNC_TEST_PG_START   a command that starts it again and waits until it accepts connections
#   FIELDSYNC_TEST_MQTT_URL   tcp://127.0.0.1:PORT (anonymous, persistence on)
#   FIELDSYNC_TEST_MQTT_STOP / FIELDSYNC_TEST_MQTT_START   the same pair for the broker
#   FIELDSYNC_TEST_DIR        the temporary directory holding all of the above
#   FIELDSYNC_TEST_SOCAT      path of socat, for pseudo-terminal tests (empty when missing)
# The start/stop commands are executable scripts: run them with system() or a shell.

# pg_bindir: the newest installed PostgreSQL server binaries directory (Debian layout).
fieldsync_pg_bindir() {
  local dir
  # shellcheck disable=SC2012 # Debian's version directories are plain numbers.
  for dir in /usr/lib/postgresql/15/bin $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
    if [[ -x ${dir}/pg_ctl && -x ${dir}/initdb ]]; then
      echo "${dir}"
      return 0
    fi
  done
  return 1
}

# fieldsync_free_port: prints a TCP port on 127.0.0.1 that nothing listens on right now.
fieldsync_free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null; then
      echo "${port}"
      return 0
    fi
  done
  echo "services: no free port found" >&2
  return 1
}

# fieldsync_wait_port PORT SECONDS: waits until something accepts connections on PORT.
fieldsync_wait_port() {
  local port=$1 deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

# _fieldsync_write_script PATH LINE...: writes an executable bash script made of LINEs.
_fieldsync_write_script() {
  local path=$1
  shift
  {
    echo '#!/usr/bin/env bash'
    echo 'set -euo pipefail'
    printf '%s\n' "$@"
  } >"${path}"
  chmod 755 "${path}"
}

# fieldsync_pg_start DIR: initialises and starts PostgreSQL with its data in DIR/pg.
fieldsync_pg_start() {
  local dir=$1 bindir port runas=""
  bindir=$(fieldsync_pg_bindir) || {
    echo "services: PostgreSQL server binaries not found (install postgresql)" >&2
    return 1
  }
  # initdb and the server refuse to run as root; they run as the postgres account instead.
  if [[ ${EUID} -eq 0 ]]; then
    runas="runuser -u postgres --"
  fi
  mkdir -p "${dir}/pg"
  [[ -z ${runas} ]] || chown postgres: "${dir}/pg"
  echo fieldsync >"${dir}/pg.pw"
  chmod 644 "${dir}/pg.pw"
  ${runas} "${bindir}/initdb" -D "${dir}/pg/data" -U fieldsync --pwfile="${dir}/pg.pw" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 \
    >"${dir}/pg-initdb.log" 2>&1 || {
    cat "${dir}/pg-initdb.log" >&2
    return 1
  }

  for _ in 1 2 3; do
    port=$(fieldsync_free_port) || return 1
    # Durability is pointless for a throwaway server and fsync costs seconds per test.
    cat >>"${dir}/pg/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = ${port}
unix_socket_directories = '${dir}/pg'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 60
shared_buffers = 32MB
log_min_messages = warning
EOF
    _fieldsync_write_script "${dir}/pg-start" \
      "${runas} '${bindir}/pg_ctl' -D '${dir}/pg/data' -l '${dir}/pg/server.log' -w -t 60 start >/dev/null"
    _fieldsync_write_script "${dir}/pg-stop" \
      "${runas} '${bindir}/pg_ctl' -D '${dir}/pg/data' -m fast -w -t 60 stop >/dev/null"
    if "${dir}/pg-start"; then
      break
    fi
    echo "services: PostgreSQL did not start on port ${port}, retrying" >&2
    tail -n 5 "${dir}/pg/server.log" >&2 || true
    port=""
  done
  [[ -n ${port} ]] || return 1
  local psql=${bindir}/psql
  [[ -x ${psql} ]] || psql=psql
  "${psql}" -h "${dir}/pg" -p "${port}" -U fieldsync -d postgres -qAtX \
    -c "CREATE DATABASE fieldsync_test" >/dev/null
  export FIELDSYNC_TEST_PGURL="postgresql://fieldsync:fieldsync@127.0.0.1:${port}/fieldsync_test"
  export FIELDSYNC_TEST_PGBIN=${bindir}
  export FIELDSYNC_TEST_PGDATA=${dir}/pg/data
  export FIELDSYNC_TEST_PG_START=${dir}/pg-start
  export FIELDSYNC_TEST_PG_STOP=${dir}/pg-stop
}

# fieldsync_mqtt_start DIR: starts mosquitto with its persistence file in DIR/mqtt.
fieldsync_mqtt_start() {
  local dir=$1 port
  command -v mosquitto >/dev/null || {
    echo "services: mosquitto not found (install mosquitto)" >&2
    return 1
  }
  mkdir -p "${dir}/mqtt"
  # As root, mosquitto drops to its own account (and warns when told to stay root).
  local user
  user=$(id -un)
  if [[ ${EUID} -eq 0 ]] && id mosquitto >/dev/null 2>&1; then
    user=mosquitto
    chown mosquitto: "${dir}/mqtt"
  fi
  for _ in 1 2 3; do
    port=$(fieldsync_free_port) || return 1
    # Persistence on and a deep queue: the tests take the broker down and expect queued QoS 1
    # messages for a persistent session to survive, and push bursts larger than the default 1000.
    cat >"${dir}/mqtt/mosquitto.conf" <<EOF
listener ${port} 127.0.0.1
allow_anonymous true
persistence true
persistence_location ${dir}/mqtt/
autosave_interval 1
max_queued_messages 100000
pid_file ${dir}/mqtt/mosquitto.pid
log_dest file ${dir}/mqtt/mosquitto.log
user ${user}
EOF
    _fieldsync_write_script "${dir}/mqtt-start" \
      "mosquitto -d -c '${dir}/mqtt/mosquitto.conf'" \
      "for i in \$(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/${port}) 2>/dev/null && exit 0; sleep 0.1; done" \
      "echo 'mosquitto did not come up' >&2; exit 1"
    _fieldsync_write_script "${dir}/mqtt-stop" \
      "pid=\$(cat '${dir}/mqtt/mosquitto.pid' 2>/dev/null) || exit 0" \
      "kill -TERM \"\${pid}\" 2>/dev/null || exit 0" \
      "for i in \$(seq 1 100); do kill -0 \"\${pid}\" 2>/dev/null || exit 0; sleep 0.1; done" \
      "kill -KILL \"\${pid}\" 2>/dev/null || true"
    if "${dir}/mqtt-start" 2>/dev/null; then
      export FIELDSYNC_TEST_MQTT_URL=tcp://127.0.0.1:${port}
      export FIELDSYNC_TEST_MQTT_START=${dir}/mqtt-start
      export FIELDSYNC_TEST_MQTT_STOP=${dir}/mqtt-stop
      return 0
    fi
    "${dir}/mqtt-stop" || true
    echo "services: mosquitto did not start on port ${port}, retrying" >&2
  done
  tail -n 5 "${dir}/mqtt/mosquitto.log" >&2 || true
  return 1
}

# fieldsync_services_stop [DIR]: stops both servers and removes their directory. Idempotent.
fieldsync_services_stop() {
  local dir=${1:-${FIELDSYNC_TEST_DIR:-}}
  [[ -n ${dir} && -d ${dir} ]] || return 0
  [[ ! -x ${dir}/mqtt-stop ]] || "${dir}/mqtt-stop" >/dev/null 2>&1 || true
  if [[ -x ${dir}/pg-stop && -f ${dir}/pg/data/postmaster.pid ]]; then
    "${dir}/pg-stop" >/dev/null 2>&1 || true
  fi
  if [[ -z ${FIELDSYNC_KEEP_SERVICES_DIR:-} ]]; then
    rm -rf "${dir}"
  fi
  if [[ ${dir} == "${FIELDSYNC_TEST_DIR:-}" ]]; then
    unset FIELDSYNC_TEST_DIR FIELDSYNC_TEST_PGURL FIELDSYNC_TEST_MQTT_URL
  fi
}

# fieldsync_services_start: starts both servers under a new temporary directory, exports their
# addresses, and arranges for them to be stopped when the calling shell exits.
fieldsync_services_start() {
  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/fieldsync-services.XXXXXX")
  # The postgres account must reach its data directory below this one.
  chmod 755 "${dir}"
  export FIELDSYNC_TEST_DIR=${dir}
  if [[ -z ${FIELDSYNC_SERVICES_NO_TRAP:-} ]]; then
    # Chain onto whatever EXIT trap the caller already has.
    local previous
    previous=$(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT\$//")
    # shellcheck disable=SC2064
    trap "fieldsync_services_stop '${dir}'; ${previous:-:}" EXIT
  fi
  fieldsync_pg_start "${dir}" || return 1
  fieldsync_mqtt_start "${dir}" || return 1
  FIELDSYNC_TEST_SOCAT=$(command -v socat || true)
  export FIELDSYNC_TEST_SOCAT
  if [[ -z ${FIELDSYNC_TEST_SOCAT} ]]; then
    echo "services: warning: socat not found, pseudo-terminal tests will skip" >&2
  fi
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -euo pipefail
  case "${1:-}" in
    start)
      if ! FIELDSYNC_SERVICES_NO_TRAP=1 fieldsync_services_start >&2; then
        fieldsync_services_stop "${FIELDSYNC_TEST_DIR:-}"
        exit 1
      fi
      for var in FIELDSYNC_TEST_DIR FIELDSYNC_TEST_PGURL FIELDSYNC_TEST_PGBIN FIELDSYNC_TEST_PGDATA \
        FIELDSYNC_TEST_PG_START FIELDSYNC_TEST_PG_STOP FIELDSYNC_TEST_MQTT_URL \
        FIELDSYNC_TEST_MQTT_START FIELDSYNC_TEST_MQTT_STOP FIELDSYNC_TEST_SOCAT; do
        printf 'export %s=%q\n' "${var}" "${!var}"
      done
      ;;
    stop)
      fieldsync_services_stop "${2:?usage: $0 stop DIR}"
      ;;
    *)
      echo "usage: $0 start | stop DIR" >&2
      exit 2
      ;;
  esac
fi
