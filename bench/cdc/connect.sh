#!/usr/bin/env bash
# Kafka Connect (standalone worker) with Debezium's PostgreSQL connector, for bench/cdc/run.py only.
# Not a service of services/ctl: the jars are resolved from Maven Central with services/lib.sh's
# maven_copy_jars into $DATALAB_CACHE/debezium/<connect>-<debezium>/libs (one pom, so one version
# of each artifact on one classpath), and the worker runs in the foreground of the caller:
#   bench/cdc/connect.sh install
#   bench/cdc/connect.sh classpath          # prints the libs folder
#   bench/cdc/connect.sh run WORKER.properties CONNECTOR.properties
source "$(dirname "$0")/../../services/lib.sh"
CONNECT_VERSION="${CONNECT_VERSION:-4.1.2}"          # the broker's version (services/kafka.sh)
DEBEZIUM_VERSION="${DEBEZIUM_VERSION:-3.6.1.Final}"
LOG4J_VERSION="2.25.3"
CACHE="$DATALAB_CACHE/debezium/$CONNECT_VERSION-$DEBEZIUM_VERSION"
LIBS="$CACHE/libs"

install() {
  [ -f "$LIBS/.complete" ] && return 0
  log "kafka-connect: resolving connect-runtime $CONNECT_VERSION + debezium-connector-postgres $DEBEZIUM_VERSION into $LIBS"
  maven_copy_jars debezium "$CACHE" "$LIBS" "
    <dependency><groupId>org.apache.kafka</groupId><artifactId>connect-runtime</artifactId><version>$CONNECT_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>connect-json</artifactId><version>$CONNECT_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-clients</artifactId><version>$CONNECT_VERSION</version></dependency>
    <dependency><groupId>io.debezium</groupId><artifactId>debezium-connector-postgres</artifactId><version>$DEBEZIUM_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>$LOG4J_VERSION</version></dependency>"
}

classpath() { install >/dev/null; echo "$LIBS"; }

run() {
  install
  local dir; dir="$(dirname "$1")"
  cat > "$dir/log4j2.properties" <<L4J
appender.file.type=File
appender.file.name=file
appender.file.fileName=$dir/connect.log
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=[%d] %p %m (%c)%n
rootLogger.level=INFO
rootLogger.appenderRef.file.ref=file
L4J
  exec java -Xms512m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$dir/log4j2.properties" -cp "$LIBS/*" \
    org.apache.kafka.connect.cli.ConnectStandalone "$@"
}

"${1:-install}" "${@:2}"
