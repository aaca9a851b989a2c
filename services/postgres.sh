#!/usr/bin/env bash
# Native PostgreSQL 15 from Debian: cluster under .state/postgres, port DB_PORT (10452),
# superuser/database/password from POSTGRES_USER / POSTGRES_DB / POSTGRES_PASSWORD.
source "$(dirname "$0")/lib.sh"
load_settings
PGUSER_NAME="${POSTGRES_USER:-it_one}"
PGDB_NAME="${POSTGRES_DB:-it_one}"
PGPORT_NUM="${DB_PORT:-10452}"
DATA="$DATALAB_STATE/postgres/data"
SOCK="$DATALAB_STATE/postgres/run"
LOGFILE="$DATALAB_STATE/postgres/postgres.log"

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1; }

# PostgreSQL refuses to run as root: use the Debian 'postgres' account then.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

install() {
  apt_ensure postgresql-15 postgresql-client-15
}

start() {
  install
  local bin; bin="$(pg_bin)"
  mkdir -p "$DATALAB_STATE/postgres" "$SOCK"
  [ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$DATALAB_STATE/postgres"
  if [ ! -f "$DATA/PG_VERSION" ]; then
    # Byte-order collation (lc-collate C): text keys sort and index several times faster,
    # and equality is the same; the character type stays UTF-8 aware.
    log "postgres: initdb into $DATA"
    local pw; pw="$(mktemp)"; printf '%s\n' "${POSTGRES_PASSWORD:-it_one}" > "$pw"
    [ "$(id -u)" -eq 0 ] && chown postgres "$pw"
    as_owner "$bin/initdb" -D "$DATA" -U "$PGUSER_NAME" --pwfile="$pw" \
      --auth-host=scram-sha-256 --auth-local=trust -E UTF8 --locale=C.UTF-8 --lc-collate=C >/dev/null
    rm -f "$pw"
  fi
  if as_owner "$bin/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    log "postgres: already running on port $PGPORT_NUM"
  else
    # wal_level=logical: logical replication slots (change data capture, issue 14) need it.
    log "postgres: starting on 127.0.0.1:$PGPORT_NUM"
    as_owner "$bin/pg_ctl" -D "$DATA" -l "$LOGFILE" -w -t 60 start \
      -o "-p $PGPORT_NUM -c listen_addresses=127.0.0.1 -k $SOCK -c max_connections=100 \
          -c shared_buffers=512MB -c max_wal_size=4GB -c checkpoint_timeout=15min \
          -c wal_level=logical -c max_replication_slots=10 -c max_wal_senders=10" >/dev/null
  fi
  wait_for_port "$PGPORT_NUM" 60 postgres
  # Create the project database once; the superuser already has the right name and password.
  if ! as_owner "$bin/psql" -h "$SOCK" -p "$PGPORT_NUM" -U "$PGUSER_NAME" -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = '$PGDB_NAME'" | grep -q 1; then
    as_owner "$bin/createdb" -h "$SOCK" -p "$PGPORT_NUM" -U "$PGUSER_NAME" "$PGDB_NAME"
  fi
  log "postgres: ready (db=$PGDB_NAME user=$PGUSER_NAME port=$PGPORT_NUM)"
}

stop() {
  local bin; bin="$(pg_bin)"
  if [ -f "$DATA/PG_VERSION" ] && as_owner "$bin/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    as_owner "$bin/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
    log "postgres: stopped"
  else
    log "postgres: not running"
  fi
}

status() {
  if port_open "$PGPORT_NUM"; then echo "postgres    running  127.0.0.1:$PGPORT_NUM"; else echo "postgres    stopped"; return 3; fi
}

"${1:-status}"
