# Shared helpers for the native service scripts under services/.
# Each service script defines install/start/stop/status and sources this file.
set -euo pipefail

DATALAB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Downloads and builds are cached outside the checkout so clean clones stay fast.
DATALAB_CACHE="${DATALAB_CACHE:-$HOME/.cache/datalab}"
# Runtime data (databases, logs, pid files) lives in an ignored folder of the checkout.
DATALAB_STATE="${DATALAB_STATE:-$DATALAB_ROOT/.state}"
mkdir -p "$DATALAB_CACHE" "$DATALAB_STATE"

log() { printf '[services] %s\n' "$*" >&2; }
die() { printf '[services] error: %s\n' "$*" >&2; exit 1; }

# Runs apt-get install only for packages that are missing (apt-get update once per run).
apt_ensure() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt-get install ${missing[*]}"
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  if [ -z "${DATALAB_APT_UPDATED:-}" ]; then
    $sudo apt-get update -qq; export DATALAB_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Loads the project's settings (defaults < .env < environment) for service scripts.
load_settings() {
  if [ -f "$DATALAB_ROOT/.env" ]; then
    # Only take keys that the environment has not set: env vars win over .env.
    while IFS='=' read -r key value; do
      [[ "$key" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || continue
      [ -n "${!key+x}" ] && continue
      value="${value%\"}"; value="${value#\"}"; value="${value%\'}"; value="${value#\'}"
      export "$key=$value"
    done < <(grep -v '^\s*#' "$DATALAB_ROOT/.env")
  fi
}

# Waits until a TCP port on 127.0.0.1 accepts connections.
wait_for_port() {
  local port="$1" seconds="${2:-60}" name="${3:-service}"
  for _ in $(seq 1 $((seconds * 4))); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.25
  done
  die "$name did not open port $port within ${seconds}s"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Stops the process named in a pid file, with its process group when it leads one: SIGTERM
# (services flush and shut down cleanly on it), up to `seconds` to exit, then SIGKILL.
terminate_pidfile() {
  local label="$1" pidfile="$2" seconds="${3:-30}" pid
  pid="$(cat "$pidfile")"
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 $((seconds * 4))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  if kill -0 "$pid" 2>/dev/null; then
    log "$label: did not stop within ${seconds}s, killing"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

# Resolves Maven dependencies (the <dependency> elements given) from Maven Central and puts
# their runtime jars into `out`; `out/.complete` marks a finished copy, so a broken download
# is never mistaken for a cache. The pom and Maven's log stay in `work`.
maven_copy_jars() {
  local label="$1" work="$2" out="$3" dependencies="$4"
  apt_ensure maven
  mkdir -p "$work"
  cat > "$work/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>datalab</groupId><artifactId>$label-jars</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
$dependencies
  </dependencies>
</project>
EOF
  rm -rf "$out.tmp"
  mvn -B -f "$work/pom.xml" dependency:copy-dependencies -DoutputDirectory="$out.tmp" \
    -DincludeScope=runtime > "$work/mvn.log" 2>&1 \
    || { tail -n 40 "$work/mvn.log" >&2; rm -rf "$out.tmp"; die "$label: maven could not resolve the jars (log: $work/mvn.log)"; }
  touch "$out.tmp/.complete"
  rm -rf "$out"; mv "$out.tmp" "$out"
}
