#!/usr/bin/env bash
# Apache Kafka 4.x (KAFKA_VERSION, 4.1.2) as one KRaft node (broker+controller) on 127.0.0.1.
# The distribution tarball is not on Maven Central, so the jars come from Maven (a generated
# pom under $DATALAB_CACHE/kafka). Broker port from BOOTSTRAP_SERVER (127.0.0.1:9092), controller
# on KAFKA_CONTROLLER_PORT (9093), data and logs under .state/kafka. Topics are not auto-created:
#   services/kafka.sh topics --create --topic NAME --partitions 1 --replication-factor 1
source "$(dirname "$0")/lib.sh"
load_settings
KAFKA_VERSION="${KAFKA_VERSION:-4.1.2}"
LOG4J_VERSION="2.25.3"   # the log4j2 version kafka-server 4.1.2 depends on
BOOTSTRAP="${BOOTSTRAP_SERVER:-127.0.0.1:9092}"
BOOTSTRAP="${BOOTSTRAP%%,*}"              # first host:port if a list is given
BROKER_PORT="${BOOTSTRAP##*:}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
CACHE="$DATALAB_CACHE/kafka"
LIBS="$CACHE/$KAFKA_VERSION/libs"
DIR="$DATALAB_STATE/kafka"
PIDFILE="$DIR/kafka.pid"

# Our pid file and a live process that really is kafka (a stale pid may have been reused).
running_pid() { pid_alive "$PIDFILE" && grep -qa 'kafka.Kafka' "/proc/$(cat "$PIDFILE")/cmdline"; }

install() {
  apt_ensure maven kcat
  [ -f "$LIBS/.complete" ] && return 0
  log "kafka: resolving Kafka $KAFKA_VERSION jars from Maven Central into $LIBS"
  # kafka-tools brings TopicCommand etc.; its connect-runtime (Jetty, Jersey, ...) is not needed.
  maven_copy_jars kafka "$CACHE/$KAFKA_VERSION" "$LIBS" "
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-server</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version>
      <exclusions><exclusion><groupId>org.apache.kafka</groupId><artifactId>connect-runtime</artifactId></exclusion></exclusions></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J_VERSION</version></dependency>
    <!-- Kafka logs through slf4j 1.7: this binds it to log4j2 -->
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>$LOG4J_VERSION</version></dependency>"
}

write_config() {
  mkdir -p "$DIR/data" "$DIR/logs"
  cat > "$DIR/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$BROKER_PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$BROKER_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DIR/data
auto.create.topics.enable=false
num.partitions=1
# A single node: every internal topic has one replica.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=168
EOF
  cat > "$DIR/log4j2.properties" <<EOF
appender.file.type=RollingFile
appender.file.name=file
appender.file.fileName=$DIR/logs/server.log
appender.file.filePattern=$DIR/logs/server.log.%i
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=[%d] %p %m (%c)%n
appender.file.policies.type=Policies
appender.file.policies.size.type=SizeBasedTriggeringPolicy
appender.file.policies.size.size=50MB
appender.file.strategy.type=DefaultRolloverStrategy
appender.file.strategy.max=3
rootLogger.level=INFO
rootLogger.appenderRef.file.ref=file
EOF
  # Command-line tools only print warnings, to stderr.
  cat > "$DIR/tools-log4j2.properties" <<EOF
appender.err.type=Console
appender.err.name=err
appender.err.target=SYSTEM_ERR
appender.err.layout.type=PatternLayout
appender.err.layout.pattern=[%d] %p %m (%c)%n
rootLogger.level=WARN
rootLogger.appenderRef.err.ref=err
EOF
}

kafka_java() { java -cp "$LIBS/*" -Dlog4j2.configurationFile="$DIR/tools-log4j2.properties" "$@"; }

# Answers when the broker serves metadata (an open port alone is not enough).
broker_ready() { kcat -b "127.0.0.1:$BROKER_PORT" -L -m 3 >/dev/null 2>&1; }

start() {
  install
  if running_pid && broker_ready; then
    log "kafka: already running on 127.0.0.1:$BROKER_PORT"; return 0
  fi
  running_pid && die "kafka: pid $(cat "$PIDFILE") is alive but does not answer; run stop first"
  ! port_open "$BROKER_PORT" || die "port $BROKER_PORT is taken by another process (set BOOTSTRAP_SERVER)"
  write_config
  if [ ! -f "$DIR/data/meta.properties" ]; then
    # A KRaft log dir must be formatted once with a cluster id (22 chars of url-safe base64).
    [ -f "$DIR/cluster.id" ] || head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=' \
      | sed 's/^-/A/' > "$DIR/cluster.id"
    log "kafka: formatting $DIR/data (cluster id $(cat "$DIR/cluster.id"))"
    kafka_java kafka.tools.StorageTool format -t "$(cat "$DIR/cluster.id")" \
      -c "$DIR/server.properties" >/dev/null
  fi
  log "kafka: starting on 127.0.0.1:$BROKER_PORT (controller $CONTROLLER_PORT)"
  # setsid: the broker must not die with the calling shell or get its Ctrl-C.
  setsid nohup java -Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$DIR/log4j2.properties" -cp "$LIBS/*" \
    kafka.Kafka "$DIR/server.properties" >"$DIR/logs/kafka.out" 2>&1 < /dev/null &
  echo $! > "$PIDFILE"
  for _ in $(seq 1 240); do
    broker_ready && { log "kafka: ready (bootstrap 127.0.0.1:$BROKER_PORT)"; return 0; }
    running_pid || break
    sleep 0.25
  done
  tail -n 30 "$DIR/logs/kafka.out" "$DIR/logs/server.log" >&2 2>/dev/null || true
  die "kafka did not answer on port $BROKER_PORT within 60s"
}

stop() {
  if running_pid; then
    terminate_pidfile kafka "$PIDFILE" 60  # controlled shutdown; flushes the logs
    log "kafka: stopped"
  else
    log "kafka: not running"
  fi
}

status() {
  if port_open "$BROKER_PORT"; then echo "kafka       running  127.0.0.1:$BROKER_PORT"; else echo "kafka       stopped"; return 3; fi
}

# services/kafka.sh topics ARGS...: Kafka's topic tool against this broker.
topics() {
  install >/dev/null
  kafka_java org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$BROKER_PORT" "$@"
}

# services/kafka.sh tool CLASS ARGS...: any class of the cached Kafka jars against this
# installation (e.g. org.apache.kafka.tools.ProducerPerformance for the benchmarks).
tool() {
  install >/dev/null
  kafka_java "$@"
}

"${1:-status}" "${@:2}"
