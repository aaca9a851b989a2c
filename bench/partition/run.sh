#!/usr/bin/env bash
# Partition load benchmark: the default data set of `datalab run partition` (the original's
# four generation calls, 2 011 000 orders over 2015–2025) loaded in one run by
#   (a) datalab: orders generated in C++ as Arrow batches, COPY binary (FREEZE) straight
#       into each year's partition, then indexes on the busy partitions and ANALYZE;
#   (b) the original's approach: a server-side PL/pgSQL procedure over generate_series
#       inserting through the partitioned parent (bench/partition/server_side.sql), into
#       the same layout, then the same indexes and ANALYZE.
# Both start from a freshly recreated `partition` schema and end in the same state (the
# script checks the rows per partition match). Prints wall time, rows/s, the ratio and
# peak memory: datalab's own peak RSS (GNU time) and, for both, the peak RSS of the
# PostgreSQL backend that did the work (VmHWM; it includes the shared buffers the backend
# touched, so it says more about the server than about the client).
#
#   bench/partition/run.sh [path/to/datalab]      (default: build/release/datalab)
# Connection: DB_HOST, DB_PORT, POSTGRES_USER, POSTGRES_DB, POSTGRES_PASSWORD (defaults:
# 127.0.0.1, 10452, it_one, it_one, it_one).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DATALAB=${1:-$ROOT/build/release/datalab}
ROWS=2011000
export PGHOST=${DB_HOST:-127.0.0.1} PGPORT=${DB_PORT:-10452} PGUSER=${POSTGRES_USER:-it_one}
export PGDATABASE=${POSTGRES_DB:-it_one} PGPASSWORD=${POSTGRES_PASSWORD:-it_one}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

[[ -x $DATALAB ]] || { echo "datalab binary not found: $DATALAB (build it, or pass its path)" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "GNU time is needed: apt-get install time" >&2; exit 2; }

psql_quiet() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

# Follows the backend of the session named $1 (application_name) until it exits and writes
# its peak RSS in MiB to $2.
watch_backend() {
  local app=$1 out=$2 pid="" hwm=0 kb
  for _ in $(seq 1 600); do
    pid=$(psql -X -At -c "SELECT pid FROM pg_stat_activity WHERE application_name = '$app' LIMIT 1" 2>/dev/null || true)
    [[ -n $pid ]] && break
    sleep 0.05
  done
  if [[ -z $pid ]]; then echo "?" >"$out"; return; fi
  while kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null) && [[ -n $kb ]]; do
    hwm=$kb
    sleep 0.1
  done
  echo $((hwm / 1024)) >"$out"
}

rows_per_partition() {
  psql -X -At -c "SELECT tableoid::regclass, count(*) FROM partition.orders GROUP BY 1 ORDER BY 1"
}

now() { date +%s.%N; }

# (a) datalab. It names its sessions application_name=datalab.
psql_quiet -c "DROP SCHEMA IF EXISTS partition CASCADE" 2>/dev/null
watch_backend datalab "$WORK/datalab_backend" &
watcher=$!
start=$(now)
/usr/bin/time -v -o "$WORK/datalab_time" "$DATALAB" run partition --no-explain >"$WORK/datalab_out" 2>"$WORK/datalab_err"
datalab_s=$(echo "$(now) - $start" | bc -l)
wait $watcher
datalab_rss=$(awk '/Maximum resident set size/ {printf "%d", $6 / 1024}' "$WORK/datalab_time")
rows_per_partition >"$WORK/datalab_rows"

# (b) the server-side procedure, into the same layout.
psql_quiet -c "DROP SCHEMA IF EXISTS partition CASCADE" 2>/dev/null
watch_backend partition_bench_server "$WORK/server_backend" &
watcher=$!
start=$(now)
PGAPPNAME=partition_bench_server psql_quiet -f "$ROOT/src/modules/partition/sql/create_tables.sql" \
  -f "$ROOT/bench/partition/server_side.sql" 2>/dev/null
server_s=$(echo "$(now) - $start" | bc -l)
wait $watcher
rows_per_partition >"$WORK/server_rows"

if ! cmp -s "$WORK/datalab_rows" "$WORK/server_rows"; then
  echo "warning: rows per partition differ between the two loads:" >&2
  diff "$WORK/datalab_rows" "$WORK/server_rows" >&2 || true
fi

# Leave the database as `datalab run partition` leaves it.
"$DATALAB" run partition --no-explain >/dev/null 2>&1

rate() { printf "%.0f" "$(echo "$ROWS / $1" | bc -l)"; }
echo "partition load, $ROWS orders (1000:10:2015 10000:5:2020 1000000:2:2024 1000000:1:2025), $(nproc) cores"
echo
echo "| loader | seconds | rows/s | client peak RSS | backend peak RSS (VmHWM) |"
echo "| --- | ---: | ---: | ---: | ---: |"
printf "| datalab run partition (Arrow → COPY binary FREEZE per partition, then indexes, ANALYZE) | %.2f | %s | %s MiB | %s MiB |\n" \
  "$datalab_s" "$(rate "$datalab_s")" "$datalab_rss" "$(cat "$WORK/datalab_backend")"
printf "| server-side PL/pgSQL generate_series procedure (the original's), same indexes, ANALYZE | %.2f | %s | (psql, negligible) | %s MiB |\n" \
  "$server_s" "$(rate "$server_s")" "$(cat "$WORK/server_backend")"
echo
printf "datalab time / server-side time = %.2f (goal: at most 1.5)\n" "$(echo "$datalab_s / $server_s" | bc -l)"
