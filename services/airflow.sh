#!/usr/bin/env bash
# Apache Airflow 3 from PyPI in its own virtual environment (cached outside the checkout),
# with the HTTP provider; AIRFLOW_HOME (SQLite metadata DB, logs) under .state/airflow and
# the DAGs from airflow/dags/. The scheduler and UI are not needed for `airflow dags test`:
#   services/airflow.sh install | start | stop | status
#   services/airflow.sh airflow <args...>     the airflow CLI with the project's settings
# start only installs and migrates the metadata DB (there is no daemon to run for the tests).
source "$(dirname "$0")/lib.sh"
load_settings
AIRFLOW_VERSION="${AIRFLOW_VERSION:-3.1.8}"
AIRFLOW_HTTP_PROVIDER_VERSION="${AIRFLOW_HTTP_PROVIDER_VERSION:-6.3.0}"
VENV="$DATALAB_CACHE/airflow-venv"
export AIRFLOW_HOME="${AIRFLOW_HOME:-$DATALAB_STATE/airflow}"
export AIRFLOW__CORE__DAGS_FOLDER="${AIRFLOW__CORE__DAGS_FOLDER:-$DATALAB_ROOT/airflow/dags}"
export AIRFLOW__CORE__LOAD_EXAMPLES="${AIRFLOW__CORE__LOAD_EXAMPLES:-False}"
export AIRFLOW__CORE__UNIT_TEST_MODE="${AIRFLOW__CORE__UNIT_TEST_MODE:-False}"
# The DAG's `backend` connection: the delivery service of `datalab serve`.
export AIRFLOW_CONN_BACKEND="${AIRFLOW_CONN_BACKEND:-http://127.0.0.1:${DELIVERY_API_PORT:-10459}}"

python_for_venv() {
  # Airflow 3.1 supports Python 3.10-3.13; prefer the machine's python3.
  for p in python3.12 python3.11 python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import sys; sys.exit(0 if (3,10) <= sys.version_info[:2] <= (3,13) else 1)' 2>/dev/null; then
      echo "$p"; return 0
    fi
  done
  die "airflow: no Python 3.10-3.13 found"
}

installed() {
  [ -x "$VENV/bin/airflow" ] && "$VENV/bin/python" -c "
import importlib.metadata as m, sys
sys.exit(0 if m.version('apache-airflow') == '$AIRFLOW_VERSION' and m.version('apache-airflow-providers-http') == '$AIRFLOW_HTTP_PROVIDER_VERSION' else 1)" 2>/dev/null
}

install() {
  installed && return 0
  local py; py="$(python_for_venv)"
  log "airflow: installing apache-airflow $AIRFLOW_VERSION + HTTP provider into $VENV (takes a few minutes the first time)"
  [ -x "$VENV/bin/python" ] || "$py" -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip >/dev/null
  # Airflow's constraint files are not on PyPI: the pins here are the tested combination.
  "$VENV/bin/pip" install -q "apache-airflow==$AIRFLOW_VERSION" \
    "apache-airflow-providers-http==$AIRFLOW_HTTP_PROVIDER_VERSION" >/dev/null
  installed || die "airflow: install did not produce apache-airflow $AIRFLOW_VERSION"
}

start() {
  install
  mkdir -p "$AIRFLOW_HOME"
  "$VENV/bin/airflow" db migrate >"$AIRFLOW_HOME/db-migrate.log" 2>&1 \
    || { tail -n 30 "$AIRFLOW_HOME/db-migrate.log" >&2; die "airflow: db migrate failed"; }
  log "airflow: ready ($VENV, AIRFLOW_HOME=$AIRFLOW_HOME; run DAGs with: services/airflow.sh airflow dags test airflow-pipeline)"
}

stop() { log "airflow: nothing running (no scheduler is started)"; }

status() {
  if installed; then echo "airflow     installed  $AIRFLOW_VERSION ($VENV)"; else echo "airflow     not installed"; return 3; fi
}

airflow() { install; exec "$VENV/bin/airflow" "$@"; }

cmd="${1:-status}"; shift || true
"$cmd" "$@"
