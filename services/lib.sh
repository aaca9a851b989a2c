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

# The .env parser shared by every service script. Same syntax and errors as datalab's own
# (parse_env_text in src/core/config.cpp; tests/e2e/test_settings.py proves they agree): blank
# lines and `#` comments are skipped, an optional `export ` is dropped, spaces around the key
# and the value are trimmed, one pair of matching single or double quotes around the value is
# removed (nothing inside is expanded), and ` #` after an unquoted value starts a comment. Any
# other line is an error naming file:line. Calls `callback KEY VALUE` for each setting in file order.
_env_trim() {
  local s="$1"
  while [[ "$s" == [$' \t\r']* ]]; do s="${s:1}"; done
  while [[ "$s" == *[$' \t\r'] ]]; do s="${s:0:${#s}-1}"; done
  printf '%s' "$s"
}
parse_env_file() {
  # Bytes and ASCII classes, as the C++ side counts and classifies them.
  local LC_ALL=C file="$1" callback="$2" line key value number=0
  [ -r "$file" ] || die "cannot read env file '$file'"
  while IFS= read -r line || [ -n "$line" ]; do
    number=$((number + 1))
    line="$(_env_trim "$line")"
    if [ -z "$line" ] || [ "${line:0:1}" = "#" ]; then continue; fi
    if [ "${line:0:7}" = "export " ]; then line="$(_env_trim "${line:7}")"; fi
    if [[ "$line" == *=* ]]; then key="$(_env_trim "${line%%=*}")"; else key="$line"; fi
    if [[ "$line" != *=* || ! "$key" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
      die "$file:$number: expected KEY=VALUE, got a line starting with '${key:0:20}'"
    fi
    value="$(_env_trim "${line#*=}")"
    if [ ${#value} -ge 2 ] && [[ "${value:0:1}" == [\"\'] ]] && [ "${value: -1}" = "${value:0:1}" ]; then
      value="${value:1:${#value}-2}"
    elif [[ "$value" == *" #"* ]]; then
      value="$(_env_trim "${value%%" #"*}")"  # inline comment after an unquoted value
    fi
    "$callback" "$key" "$value"
  done < "$file"
}

# Exports a setting unless the environment already has it: env vars win over .env.
_export_unless_set() { [ -n "${!1+x}" ] || export "$1=$2"; }

# Loads the project's settings (.env < environment) for service scripts: the same names as
# datalab's (README, "Configuration"), read by parse_env_file from the file given, else from
# $DATALAB_ROOT/.env when present. Each script then applies its defaults with ${NAME:-default},
# the values of the defaults table in src/core/config.cpp (empty means the default there too).
load_settings() {
  local file="${1:-$DATALAB_ROOT/.env}"
  if [ -n "${1:-}" ] || [ -f "$file" ]; then parse_env_file "$file" _export_unless_set; fi
  return 0
}

# The S3 region, by the name datalab reads: S3_REGION. AWS_REGION, then AWS_DEFAULT_REGION
# (what AWS tools read) stand in only when S3_REGION is not set at all; empty means the
# default, us-east-1, as in datalab.
s3_region() {
  local region
  if [ -n "${S3_REGION+x}" ]; then region="$S3_REGION"; else region="${AWS_REGION:-${AWS_DEFAULT_REGION:-}}"; fi
  printf '%s\n' "${region:-us-east-1}"
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
