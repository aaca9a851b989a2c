#!/usr/bin/env bash
# Apache Spark 4 (SPARK_VERSION, 4.3.0) from PyPI's `pyspark`, which carries Spark's jars and launch
# scripts, run natively as a standalone cluster on loopback:
#   master        : SPARK_MASTER_URL (spark://127.0.0.1:7077), web UI on SPARK_MASTER_UI_PORT (10458)
#   worker        : one, SPARK_WORKER_CORES (2) cores, SPARK_WORKER_MEMORY (1g), UI on 18081
#   Spark Connect : SPARK_CONNECT_URL (sc://127.0.0.1:15002), a driver attached to the master
#                   (its own UI on SPARK_CONNECT_UI_PORT, 14040)
# Cached under $DATALAB_CACHE: the venv spark-venv (pyspark[connect], also the Python Connect
# client: $DATALAB_CACHE/spark-venv/bin/python) and spark-jars (hadoop-aws matching pyspark's
# Hadoop, the AWS SDK bundle, the PostgreSQL JDBC driver, resolved from Maven Central).
# S3A points at S3_ENDPOINT (http://127.0.0.1:10456), path style, no SSL, keys AWS_ACCESS_KEY_ID /
# AWS_SECRET_ACCESS_KEY (datalab / datalab-secret), region S3_REGION (us-east-1; AWS_REGION or
# AWS_DEFAULT_REGION only when S3_REGION is unset). Conf, logs, pids, work dirs under .state/spark;
# the S3 secret is only in .state/spark/conf/connect.conf (mode 600), never on a command line.
# S3A reads with the classic input stream: Hadoop 3.5's default "analytics" stream keeps every
# object's metadata for the life of the process (HADOOP-19559/HADOOP-20058), so an object
# overwritten with a different size (products.parquet on every run) then fails to read.
source "$(dirname "$0")/lib.sh"
load_settings

SPARK_VERSION="${SPARK_VERSION:-4.3.0}"
POSTGRES_JDBC_VERSION="${POSTGRES_JDBC_VERSION:-42.7.14}"

VENV="$DATALAB_CACHE/spark-venv"
JARS_CACHE="$DATALAB_CACHE/spark-jars"
STATE="$DATALAB_STATE/spark"
CONF_DIR="$STATE/conf"

MASTER_URL="${SPARK_MASTER_URL:-spark://127.0.0.1:7077}"
MASTER_HOSTPORT="${MASTER_URL#spark://}"; MASTER_HOSTPORT="${MASTER_HOSTPORT%%/*}"
MASTER_HOST="${MASTER_HOSTPORT%:*}"; MASTER_PORT="${MASTER_HOSTPORT##*:}"
[[ "$MASTER_PORT" =~ ^[0-9]+$ ]] || MASTER_PORT=7077
[ "$MASTER_HOST" = "$MASTER_HOSTPORT" ] && MASTER_HOST=127.0.0.1
CONNECT_URL="${SPARK_CONNECT_URL:-sc://127.0.0.1:15002}"
CONNECT_PORT="${CONNECT_URL#sc://}"; CONNECT_PORT="${CONNECT_PORT%%/*}"; CONNECT_PORT="${CONNECT_PORT%%;*}"
CONNECT_PORT="${CONNECT_PORT##*:}"
[[ "$CONNECT_PORT" =~ ^[0-9]+$ ]] || CONNECT_PORT=15002
MASTER_UI_PORT="${SPARK_MASTER_UI_PORT:-10458}"
WORKER_UI_PORT="${SPARK_WORKER_UI_PORT:-18081}"
CONNECT_UI_PORT="${SPARK_CONNECT_UI_PORT:-14040}"
WORKER_CORES="${SPARK_WORKER_CORES:-2}"
WORKER_MEMORY="${SPARK_WORKER_MEMORY:-1g}"
DRIVER_MEMORY="${SPARK_DRIVER_MEMORY:-1g}"
DAEMON_MEMORY="${SPARK_DAEMON_MEMORY:-256m}"

S3_ENDPOINT="${S3_ENDPOINT:-http://127.0.0.1:10456}"
S3_ACCESS_KEY="${AWS_ACCESS_KEY_ID:-datalab}"
S3_SECRET_KEY="${AWS_SECRET_ACCESS_KEY:-datalab-secret}"
S3_REGION="$(s3_region)"  # S3_REGION, else AWS_REGION / AWS_DEFAULT_REGION (lib.sh)

spark_home() { echo "$VENV/lib/python$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')/site-packages/pyspark"; }

# ---------------------------------------------------------------- install
venv_ok() {
  [ -x "$VENV/bin/python" ] &&
    [ "$("$VENV/bin/python" -c 'import pyspark, grpc, pyarrow, pandas; print(pyspark.__version__)' 2>/dev/null)" = "$SPARK_VERSION" ]
}

install_venv() {
  venv_ok && return 0
  python3 -c 'import venv, ensurepip' 2>/dev/null || apt_ensure python3-venv
  log "spark: installing pyspark[connect]==$SPARK_VERSION into $VENV (about 450 MB of jars)"
  local t0=$SECONDS
  [ -x "$VENV/bin/pip" ] || python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "pyspark[connect]==$SPARK_VERSION" >&2 \
    || die "spark: pip could not install pyspark[connect]==$SPARK_VERSION"
  venv_ok || die "spark: pyspark $SPARK_VERSION not importable from $VENV"
  log "spark: venv ready in $((SECONDS - t0))s"
}

# Hadoop version of the client jars inside pyspark (hadoop-aws must match it exactly).
hadoop_version() {
  local jar; jar="$(ls "$(spark_home)"/jars/hadoop-client-api-*.jar 2>/dev/null | head -n1)"
  [ -n "$jar" ] || die "spark: no hadoop-client-api jar in $(spark_home)/jars"
  jar="${jar##*/hadoop-client-api-}"; echo "${jar%.jar}"
}

jars_dir() { echo "$JARS_CACHE/hadoop-aws-$(hadoop_version)_postgresql-$POSTGRES_JDBC_VERSION"; }

install_jars() {
  local hv dir; hv="$(hadoop_version)"; dir="$(jars_dir)"
  [ -f "$dir/.complete" ] && return 0
  log "spark: resolving hadoop-aws $hv (+ AWS SDK bundle) and postgresql $POSTGRES_JDBC_VERSION from Maven Central"
  maven_copy_jars spark "$JARS_CACHE" "$dir" "
    <dependency><groupId>org.apache.hadoop</groupId><artifactId>hadoop-aws</artifactId><version>$hv</version></dependency>
    <dependency><groupId>org.postgresql</groupId><artifactId>postgresql</artifactId><version>$POSTGRES_JDBC_VERSION</version></dependency>"
  ls "$dir"/hadoop-aws-*.jar "$dir"/bundle-*.jar "$dir"/postgresql-*.jar >/dev/null \
    || { rm -rf "$dir"; die "spark: expected jars missing in $dir"; }
}

install() {
  command -v java >/dev/null || apt_ensure openjdk-17-jre-headless
  mkdir -p "$DATALAB_CACHE"
  exec 9>"$DATALAB_CACHE/.spark-install.lock"
  flock 9
  install_venv
  install_jars
  flock -u 9; exec 9>&-
}

# ---------------------------------------------------------------- config
# Extra jars as one classpath (local paths: the worker runs on this machine, so executors use the
# cached jars in place instead of copying the ~600 MB AWS SDK bundle into every app's work dir).
extra_classpath() { ls "$(jars_dir)"/*.jar | paste -sd: -; }

write_config() {
  mkdir -p "$CONF_DIR" "$STATE/logs" "$STATE/work" "$STATE/tmp"
  chmod 700 "$CONF_DIR"
  local cp; cp="$(extra_classpath)"
  local old_umask; old_umask="$(umask)"; umask 077
  cat >"$CONF_DIR/connect.conf.tmp" <<EOF
# Spark Connect server settings, written by services/spark.sh (holds the S3 secret: mode 600).
spark.master                                $MASTER_URL
spark.app.name                              Spark Connect server
spark.connect.grpc.binding.address          127.0.0.1
spark.connect.grpc.binding.port             $CONNECT_PORT
spark.driver.host                           127.0.0.1
spark.driver.bindAddress                    127.0.0.1
spark.driver.memory                         $DRIVER_MEMORY
spark.driver.extraClassPath                 $cp
spark.executor.extraClassPath               $cp
spark.executor.memory                       $WORKER_MEMORY
spark.executor.cores                        $WORKER_CORES
spark.cores.max                             $WORKER_CORES
spark.ui.port                               $CONNECT_UI_PORT
spark.local.dir                             $STATE/tmp
spark.sql.warehouse.dir                     $STATE/warehouse
spark.hadoop.fs.s3a.endpoint                $S3_ENDPOINT
spark.hadoop.fs.s3a.endpoint.region         $S3_REGION
spark.hadoop.fs.s3a.path.style.access       true
spark.hadoop.fs.s3a.connection.ssl.enabled  false
spark.hadoop.fs.s3a.aws.credentials.provider org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider
spark.hadoop.fs.s3a.access.key              $S3_ACCESS_KEY
spark.hadoop.fs.s3a.secret.key              $S3_SECRET_KEY
spark.hadoop.fs.s3a.input.stream.type       classic
EOF
  umask "$old_umask"
  mv "$CONF_DIR/connect.conf.tmp" "$CONF_DIR/connect.conf"
}

# (SPARK_DAEMON_MEMORY is set for master and worker only: spark-submit would size the Connect
# server's heap from it too, overriding spark.driver.memory.)
# Environment shared by the three JVMs: Spark from the venv, our (empty) conf dir so no stray
# spark-defaults.conf / spark-env.sh is read, loopback only, no AWS variables inherited.
spark_env() {
  SPARK_ENV=(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u PYSPARK_DRIVER_PYTHON -u SPARK_DAEMON_MEMORY
    SPARK_HOME="$(spark_home)" SPARK_CONF_DIR="$CONF_DIR" SPARK_LOCAL_IP=127.0.0.1 SPARK_LOCAL_DIRS="$STATE/tmp"
    SPARK_CONNECT_MODE=0 PYSPARK_PYTHON="$VENV/bin/python")
}

# ---------------------------------------------------------------- processes
# pid file names a live JVM running the expected main class (a stale pid may have been reused).
alive() {
  local pidfile="$STATE/$1.pid" class="$2"
  pid_alive "$pidfile" && tr '\0' ' ' <"/proc/$(cat "$pidfile")/cmdline" 2>/dev/null | grep -q "$class"
}
master_alive()  { alive master  org.apache.spark.deploy.master.Master; }
worker_alive()  { alive worker  org.apache.spark.deploy.worker.Worker; }
connect_alive() { alive connect org.apache.spark.sql.connect.service.SparkConnectServer; }

master_json() { curl -s -m 3 "http://127.0.0.1:$MASTER_UI_PORT/json/" 2>/dev/null; }
master_ready() { master_json | grep -q '"status" *: *"ALIVE"'; }
# The master lists at least one ALIVE worker with our core count.
worker_ready() { master_json | tr -d ' \n' | grep -q '"aliveworkers":[1-9]'; }
connect_ready() { port_open "$CONNECT_PORT" && master_json | tr -d ' \n' | grep -q '"activeapps":\[{'; }

# launch NAME LOGFILE cmd...: runs in its own session (so stop can signal the whole group,
# executors included) with the pid file naming the JVM (spark-class execs java).
launch() {
  local name="$1"; shift
  spark_env
  ( cd "$STATE" && exec 8>&- 9>&- && exec "${SPARK_ENV[@]}" setsid "$@" </dev/null >>"$STATE/logs/$name.log" 2>&1 ) &
  echo $! >"$STATE/$name.pid"
}

wait_until() {
  local what="$1" check="$2" name="$3" seconds="$4"
  for _ in $(seq 1 $((seconds * 2))); do
    "$check" && return 0
    pid_alive "$STATE/$name.pid" || { tail -n 30 "$STATE/logs/$name.log" >&2; rm -f "$STATE/$name.pid"; die "spark: $what exited (log: $STATE/logs/$name.log)"; }
    sleep 0.5
  done
  tail -n 30 "$STATE/logs/$name.log" >&2
  die "spark: $what did not become ready within ${seconds}s (log: $STATE/logs/$name.log)"
}

free_port() { port_open "$1" && die "spark: port $1 ($2) is already taken by another process"; return 0; }

start() {
  case "$S3_ACCESS_KEY$S3_SECRET_KEY" in *[[:space:]]*) die "spark: AWS credentials must not contain spaces";; esac
  install
  apt_ensure curl
  mkdir -p "$STATE"
  exec 8>"$STATE/.start.lock"
  flock 8
  local home t0=$SECONDS; home="$(spark_home)"
  write_config

  if master_alive; then
    log "spark: master already running (pid $(cat "$STATE/master.pid"))"
  else
    # A worker or driver left from an earlier master would not re-attach cleanly: restart them.
    worker_alive && stop_one worker
    connect_alive && stop_one connect
    free_port "$MASTER_PORT" "master RPC"; free_port "$MASTER_UI_PORT" "master UI"
    log "spark: starting master $MASTER_URL (UI http://127.0.0.1:$MASTER_UI_PORT)"
    launch master env SPARK_DAEMON_MEMORY="$DAEMON_MEMORY" "$home/bin/spark-class" org.apache.spark.deploy.master.Master \
      --host "$MASTER_HOST" --port "$MASTER_PORT" --webui-port "$MASTER_UI_PORT"
  fi
  wait_until "master" master_ready master 120

  if worker_alive; then
    log "spark: worker already running (pid $(cat "$STATE/worker.pid"))"
  else
    free_port "$WORKER_UI_PORT" "worker UI"
    log "spark: starting worker ($WORKER_CORES cores, $WORKER_MEMORY)"
    launch worker env SPARK_DAEMON_MEMORY="$DAEMON_MEMORY" "$home/bin/spark-class" org.apache.spark.deploy.worker.Worker \
      --host 127.0.0.1 --cores "$WORKER_CORES" --memory "$WORKER_MEMORY" \
      --webui-port "$WORKER_UI_PORT" --work-dir "$STATE/work" "$MASTER_URL"
  fi
  wait_until "worker" worker_ready worker 120

  if connect_alive; then
    log "spark: Spark Connect server already running (pid $(cat "$STATE/connect.pid"))"
  else
    free_port "$CONNECT_PORT" "Spark Connect"
    log "spark: starting Spark Connect server on 127.0.0.1:$CONNECT_PORT"
    launch connect "$home/bin/spark-submit" --properties-file "$CONF_DIR/connect.conf" \
      --class org.apache.spark.sql.connect.service.SparkConnectServer spark-internal
  fi
  wait_until "Spark Connect server" connect_ready connect 180
  log "spark: ready in $((SECONDS - t0))s (connect $CONNECT_URL, master $MASTER_URL, UI http://127.0.0.1:$MASTER_UI_PORT, client python $VENV/bin/python)"
}

stop_one() {
  local name="$1" pidfile="$STATE/$1.pid" pid
  if ! pid_alive "$pidfile"; then rm -f "$pidfile"; return 0; fi
  pid="$(cat "$pidfile")"
  terminate_pidfile "spark $name" "$pidfile" 30
  # executors are children of the worker in its process group: make sure none is left
  kill -KILL -- "-$pid" 2>/dev/null || true
}

stop() {
  if ! master_alive && ! worker_alive && ! connect_alive; then
    rm -f "$STATE"/*.pid 2>/dev/null || true; log "spark: not running"; return 0
  fi
  stop_one connect; stop_one worker; stop_one master
  log "spark: stopped"
}

status() {
  local m=down w=down c=down
  master_alive && port_open "$MASTER_PORT" && m=up
  worker_alive && w=up
  connect_alive && port_open "$CONNECT_PORT" && c=up
  if [ "$m$w$c" = upupup ]; then
    echo "spark       running  127.0.0.1:$CONNECT_PORT (master 127.0.0.1:$MASTER_PORT, UI 127.0.0.1:$MASTER_UI_PORT)"
  elif [ "$m$w$c" = downdowndown ]; then
    echo "spark       stopped"; return 3
  else
    echo "spark       partial  master=$m worker=$w connect=$c"; return 3
  fi
}

"${1:-status}"
