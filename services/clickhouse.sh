#!/usr/bin/env bash
# Native ClickHouse 18.16 from Debian, run with its own config under .state/clickhouse (the
# system config and service are left alone): HTTP on CLICKHOUSE_DB_PORT (10453), native TCP
# on CLICKHOUSE_NATIVE_PORT (10454), 127.0.0.1 only, user/password/database from
# CLICKHOUSE_USER / CLICKHOUSE_PASSWORD / CLICKHOUSE_DB; system.query_log is on for every query.
source "$(dirname "$0")/lib.sh"
load_settings
CH_USER="${CLICKHOUSE_USER:-it_one}"
CH_PASSWORD="${CLICKHOUSE_PASSWORD:-it_one}"
CH_DB="${CLICKHOUSE_DB:-it_one}"
CH_HTTP="${CLICKHOUSE_DB_PORT:-10453}"
CH_TCP="${CLICKHOUSE_NATIVE_PORT:-10454}"
DIR="$DATALAB_STATE/clickhouse"
PIDFILE="$DIR/clickhouse-server.pid"

# Run the server as the package's 'clickhouse' account when we are root (like the Debian unit),
# so its data files never end up owned by root.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u clickhouse -- "$@"; else "$@"; fi
}

# Our pid file and a live process that really is clickhouse (a stale pid may have been reused).
running_pid() { pid_alive "$PIDFILE" && grep -qa 'clickhouse-server' "/proc/$(cat "$PIDFILE")/cmdline"; }

install() {
  apt_ensure clickhouse-server clickhouse-client curl
}

# Rewritten on every start so that changed settings apply after a restart.
write_config() {
  mkdir -p "$DIR"/{data,tmp,user_files,format_schemas,log}
  local pw_sha; pw_sha="$(printf '%s' "$CH_PASSWORD" | sha256sum | cut -d' ' -f1)"
  cat > "$DIR/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
    <logger>
        <level>information</level>
        <log>$DIR/log/clickhouse-server.log</log>
        <errorlog>$DIR/log/clickhouse-server.err.log</errorlog>
        <size>100M</size>
        <count>3</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <http_port>$CH_HTTP</http_port>
    <tcp_port>$CH_TCP</tcp_port>
    <max_connections>4096</max_connections>
    <keep_alive_timeout>3</keep_alive_timeout>
    <max_concurrent_queries>100</max_concurrent_queries>
    <uncompressed_cache_size>1073741824</uncompressed_cache_size>
    <mark_cache_size>1073741824</mark_cache_size>
    <path>$DIR/data/</path>
    <tmp_path>$DIR/tmp/</tmp_path>
    <user_files_path>$DIR/user_files/</user_files_path>
    <format_schema_path>$DIR/format_schemas/</format_schema_path>
    <users_config>$DIR/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
    <builtin_dictionaries_reload_interval>3600</builtin_dictionaries_reload_interval>
    <max_session_timeout>3600</max_session_timeout>
    <default_session_timeout>60</default_session_timeout>
    <query_log>
        <database>system</database>
        <table>query_log</table>
        <partition_by>toYYYYMM(event_date)</partition_by>
        <flush_interval_milliseconds>7500</flush_interval_milliseconds>
    </query_log>
</yandex>
EOF
  # log_queries=1 in the default profile: without it system.query_log stays empty.
  cat > "$DIR/users.xml" <<EOF
<?xml version="1.0"?>
<yandex>
    <profiles>
        <default>
            <max_memory_usage>10000000000</max_memory_usage>
            <use_uncompressed_cache>0</use_uncompressed_cache>
            <load_balancing>random</load_balancing>
            <log_queries>1</log_queries>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks><ip>::1</ip><ip>127.0.0.1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
        <$CH_USER>
            <password_sha256_hex>$pw_sha</password_sha256_hex>
            <networks><ip>::1</ip><ip>127.0.0.1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </$CH_USER>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries><errors>0</errors><result_rows>0</result_rows>
                <read_rows>0</read_rows><execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
EOF
  [ "$(id -u)" -eq 0 ] && chown -R clickhouse:clickhouse "$DIR"
  return 0
}

ch_query() {
  curl -sS --fail-with-body "http://127.0.0.1:$CH_HTTP/" -u "$CH_USER:$CH_PASSWORD" --data-binary "$1"
}

start() {
  install
  if running_pid && port_open "$CH_HTTP"; then
    log "clickhouse: already running on 127.0.0.1:$CH_HTTP (native $CH_TCP)"
  else
    write_config
    rm -f "$PIDFILE"   # an old pid file whose pid got reused would block the start
    log "clickhouse: starting on 127.0.0.1:$CH_HTTP (native $CH_TCP)"
    ( cd "$DIR" && as_owner /usr/sbin/clickhouse-server --config-file="$DIR/config.xml" \
        --pid-file="$PIDFILE" --daemon ) >>"$DIR/launch.log" 2>&1
    # --daemon returns before the ports are bound: poll /ping until it says "Ok.".
    # (The daemon itself redirects its stdout/stderr to log/stdout.log and log/stderr.log.)
    local ok=""
    for _ in $(seq 1 240); do
      [ "$(curl -s "http://127.0.0.1:$CH_HTTP/ping" 2>/dev/null)" = "Ok." ] && { ok=1; break; }
      [ -f "$PIDFILE" ] && ! running_pid && break   # the daemon died
      sleep 0.25
    done
    if [ -z "$ok" ]; then
      tail -n 20 "$DIR/launch.log" "$DIR"/log/*err*.log >&2 2>/dev/null || true
      die "clickhouse did not answer on port $CH_HTTP within 60s"
    fi
  fi
  # Check the native port with a real query (a bare TCP probe logs a warning in the server).
  clickhouse-client --host 127.0.0.1 --port "$CH_TCP" --user "$CH_USER" --password "$CH_PASSWORD" \
    -q 'SELECT 1' >/dev/null || die "clickhouse native port $CH_TCP does not answer"
  ch_query "CREATE DATABASE IF NOT EXISTS \`$CH_DB\`" >/dev/null
  log "clickhouse: ready (db=$CH_DB user=$CH_USER http=$CH_HTTP native=$CH_TCP)"
}

stop() {
  if running_pid; then
    terminate_pidfile clickhouse "$PIDFILE" 30
    log "clickhouse: stopped"
  else
    log "clickhouse: not running"
  fi
}

status() {
  if port_open "$CH_HTTP"; then echo "clickhouse  running  127.0.0.1:$CH_HTTP"; else echo "clickhouse  stopped"; return 3; fi
}

"${1:-status}"
