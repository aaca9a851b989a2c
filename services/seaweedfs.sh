#!/usr/bin/env bash
# SeaweedFS (S3-compatible object store), built once from the Go module proxy and run natively:
# one `weed mini` process (master + volume + filer + S3 gateway + admin web UI) on loopback.
# Data/logs/pid under .state/seaweedfs; source, Go caches and binary under $DATALAB_CACHE/seaweedfs.
#   S3 endpoint : S3_ENDPOINT (default http://127.0.0.1:10456), region S3_REGION (us-east-1; AWS_REGION
#                 or AWS_DEFAULT_REGION only when S3_REGION is unset), as datalab reads them
#   credentials : AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (default datalab / datalab-secret),
#                 written to .state/seaweedfs/s3.env for other scripts (source it)
#   admin UI    : http://127.0.0.1:${SEAWEEDFS_ADMIN_PORT:-10457}
source "$(dirname "$0")/lib.sh"
load_settings

# Pinned upstream snapshot (pseudo-version as served by the Go module proxy) and the Go
# toolchain used when the machine has no usable `go`.
SEAWEEDFS_VERSION="${SEAWEEDFS_VERSION:-v0.0.0-20261109003541-7506e5f91cd6}"
SEAWEEDFS_GO_TOOLCHAIN="${SEAWEEDFS_GO_TOOLCHAIN:-go1.26.8}"

CACHE="$DATALAB_CACHE/seaweedfs"
BIN="$CACHE/bin/weed-$SEAWEEDFS_VERSION"
STATE="$DATALAB_STATE/seaweedfs"
DATA="$STATE/data"
PIDFILE="$STATE/weed.pid"
LOGFILE="$STATE/weed.log"

S3_ENDPOINT="${S3_ENDPOINT:-http://127.0.0.1:10456}"
S3_PORT="${S3_ENDPOINT##*:}"; S3_PORT="${S3_PORT%%/*}"
[[ "$S3_PORT" =~ ^[0-9]+$ ]] || S3_PORT=10456
S3_ACCESS_KEY="${AWS_ACCESS_KEY_ID:-datalab}"
S3_SECRET_KEY="${AWS_SECRET_ACCESS_KEY:-datalab-secret}"
S3_REGION="$(s3_region)"  # S3_REGION, else AWS_REGION / AWS_DEFAULT_REGION (lib.sh)
ADMIN_PORT="${SEAWEEDFS_ADMIN_PORT:-10457}"
# Internal ports (loopback only, outside the project's 10452-10461 range); gRPC = port + 10000.
MASTER_PORT="${SEAWEEDFS_MASTER_PORT:-19333}"
VOLUME_PORT="${SEAWEEDFS_VOLUME_PORT:-18080}"
FILER_PORT="${SEAWEEDFS_FILER_PORT:-18888}"

# ---------------------------------------------------------------- build
go_env() {
  export GOMODCACHE="$CACHE/gomod" GOCACHE="$CACHE/gocache" GOPATH="$CACHE/gopath"
  export GOFLAGS="-mod=mod -buildvcs=false" CGO_ENABLED=0 GOTOOLCHAIN=auto
  export GOPROXY="${GOPROXY:-https://proxy.golang.org,direct}"
}

# Prints the path of a go binary >= 1.21 (older ones cannot switch toolchains); fetches the
# pinned toolchain module from the Go module proxy when there is none.
find_go() {
  local g v
  for g in "$(command -v go 2>/dev/null || true)" /usr/local/go/bin/go /usr/lib/go/bin/go; do
    [ -n "$g" ] && [ -x "$g" ] || continue
    v="$("$g" env GOVERSION 2>/dev/null || true)"; v="${v#go}"
    if [[ "$v" =~ ^1\.([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -ge 21 ]; then echo "$g"; return 0; fi
  done
  local dir="$CACHE/toolchain/$SEAWEEDFS_GO_TOOLCHAIN"
  if [ ! -x "$dir/bin/go" ]; then
    apt_ensure curl unzip ca-certificates
    local proxy="${GOPROXY:-https://proxy.golang.org}"; proxy="${proxy%%,*}"
    local zip="$CACHE/toolchain/$SEAWEEDFS_GO_TOOLCHAIN.zip" tmp="$CACHE/toolchain/tmp.$$"
    mkdir -p "$CACHE/toolchain"
    log "seaweedfs: fetching Go toolchain $SEAWEEDFS_GO_TOOLCHAIN from the Go module proxy"
    curl -fsSL --retry 3 -o "$zip" \
      "$proxy/golang.org/toolchain/@v/v0.0.1-$SEAWEEDFS_GO_TOOLCHAIN.linux-amd64.zip" >&2
    rm -rf "$tmp"; unzip -q "$zip" -d "$tmp"
    local root="$tmp/golang.org/toolchain@v0.0.1-$SEAWEEDFS_GO_TOOLCHAIN.linux-amd64"
    chmod -R u+x "$root/bin" "$root/pkg/tool"   # zip archives drop the executable bits
    rm -rf "$dir"; mv "$root" "$dir"; rm -rf "$tmp" "$zip"
  fi
  echo "$dir/bin/go"
}

build() {
  local go src work
  go="$(find_go)"
  go_env
  log "seaweedfs: building weed $SEAWEEDFS_VERSION with $("$go" version | cut -d' ' -f3) (slow: several minutes on 2 cores)"
  # `go install pkg@version` refuses modules with replace directives (seaweedfs has one),
  # so take the module source from the proxy and build ./weed inside a writable copy.
  src="$("$go" mod download -json "github.com/seaweedfs/seaweedfs@$SEAWEEDFS_VERSION" \
        | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')"
  [ -n "$src" ] && [ -f "$src/go.mod" ] || die "seaweedfs: go mod download gave no source dir"
  work="$CACHE/src/$SEAWEEDFS_VERSION"
  if [ ! -f "$work/go.mod" ]; then
    rm -rf "$work.tmp"; mkdir -p "$CACHE/src"
    cp -r "$src" "$work.tmp"; chmod -R u+w "$work.tmp"; mv "$work.tmp" "$work"
  fi
  mkdir -p "$CACHE/bin"
  local t0=$SECONDS blog="$CACHE/build.log"
  ( cd "$work" && exec "$go" build -trimpath -o "$BIN.tmp" \
      -ldflags "-s -w -X github.com/seaweedfs/seaweedfs/weed/util/version.COMMIT=${SEAWEEDFS_VERSION##*-}" ./weed ) >"$blog" 2>&1 &
  local bpid=$! next=60
  while kill -0 "$bpid" 2>/dev/null; do
    sleep 2
    if (( SECONDS - t0 >= next )); then log "seaweedfs: still building ($((SECONDS - t0))s)"; next=$((next + 60)); fi
  done
  if ! wait "$bpid"; then tail -n 30 "$blog" >&2; rm -f "$BIN.tmp"; die "seaweedfs: build failed (log: $blog)"; fi
  mv "$BIN.tmp" "$BIN"
  log "seaweedfs: built $BIN in $((SECONDS - t0))s"
}

install() {
  [ -x "$BIN" ] && return 0
  mkdir -p "$CACHE"
  # One build at a time, even when several scripts start the service together.
  exec 9>"$CACHE/.build.lock"
  flock 9
  [ -x "$BIN" ] || build
  flock -u 9; exec 9>&-
}

# ---------------------------------------------------------------- run
write_config() {
  mkdir -p "$DATA" "$STATE/admin"
  local cfg="$STATE/s3.json"
  local old_umask; old_umask="$(umask)"
  umask 077
  cat >"$cfg" <<EOF
{
  "identities": [
    {
      "name": "datalab",
      "credentials": [ { "accessKey": "$S3_ACCESS_KEY", "secretKey": "$S3_SECRET_KEY" } ],
      "actions": [ "Admin", "Read", "List", "Tagging", "Write" ]
    }
  ]
}
EOF
  umask 022
  cat >"$STATE/s3.env" <<EOF
# SeaweedFS S3 settings, written by services/seaweedfs.sh (source this file).
export S3_ENDPOINT=$S3_ENDPOINT
export AWS_ENDPOINT_URL=$S3_ENDPOINT
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY
export AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY
export S3_REGION=$S3_REGION
export AWS_REGION=$S3_REGION
export AWS_DEFAULT_REGION=$S3_REGION
EOF
  umask "$old_umask"
  chmod 644 "$STATE/s3.env"
}

# True while the pid file names a live `weed mini` (not a recycled pid of something else).
weed_alive() {
  pid_alive "$PIDFILE" || return 1
  tr '\0' ' ' <"/proc/$(cat "$PIDFILE")/cmdline" 2>/dev/null | grep -q '/weed-[^ ]* .*mini -dir='
}

# Answers only when the gateway really serves S3: anonymous requests get an S3 XML error.
s3_ready() {
  curl -s -m 3 "http://127.0.0.1:$S3_PORT/" 2>/dev/null | grep -q '<Error>\|<ListAllMyBucketsResult'
}

admin_ready() {
  [ "$ADMIN_PORT" = "0" ] || curl -s -o /dev/null -m 3 "http://127.0.0.1:$ADMIN_PORT/"
}

start() {
  case "$S3_ACCESS_KEY$S3_SECRET_KEY" in *[\"\\\ \$\`\']*) die "seaweedfs: AWS credentials must not contain quotes, backslashes, \$ or spaces";; esac
  install
  apt_ensure curl
  mkdir -p "$STATE"
  # Two concurrent starts must not launch two servers.
  exec 8>"$STATE/.start.lock"
  flock 8
  if weed_alive; then
    log "seaweedfs: already running (pid $(cat "$PIDFILE"))"
    grep -q "AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY\$" "$STATE/s3.env" 2>/dev/null && grep -q "AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY\$" "$STATE/s3.env" 2>/dev/null ||
      log "seaweedfs: warning: running with the credentials in $STATE/s3.env; stop and start to apply new ones"
  else
    write_config
    local p
    for p in "$S3_PORT" "$MASTER_PORT" "$VOLUME_PORT" "$FILER_PORT" \
             $((MASTER_PORT + 10000)) $((VOLUME_PORT + 10000)) $((FILER_PORT + 10000)) $((S3_PORT + 10000)); do
      port_open "$p" && die "seaweedfs: port $p is already taken by another process"
    done
    if [ "$ADMIN_PORT" != "0" ]; then
      for p in "$ADMIN_PORT" $((ADMIN_PORT + 10000)); do
        port_open "$p" && die "seaweedfs: port $p is already taken by another process"
      done
    fi
    mkdir -p "$STATE/logs"
    log "seaweedfs: starting weed mini (S3 on 127.0.0.1:$S3_PORT, data in $DATA)"
    local t0=$SECONDS admin_flags=(-admin.ui=false)
    [ "$ADMIN_PORT" != "0" ] && admin_flags=(-admin.ui=true -admin.port="$ADMIN_PORT"
      -admin.port.grpc=$((ADMIN_PORT + 10000)) -admin.port.legacy=0 -admin.dataDir="$STATE/admin")
    # One process runs master, volume, filer, S3 gateway and admin UI. Run from the state dir
    # so no stray master.toml/filer.toml from the caller's cwd is picked up; the credentials
    # come only from s3.json (AWS_* variables would be a fallback identity otherwise).
    ( cd "$STATE" && exec 8>&- 9>&- && exec env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
        setsid "$BIN" -logdir="$STATE/logs" mini \
        -dir="$DATA" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
        -master.port="$MASTER_PORT" -master.port.grpc=$((MASTER_PORT + 10000)) \
        -master.volumeSizeLimitMB=64 -master.telemetry=false \
        -volume.port="$VOLUME_PORT" -volume.port.grpc=$((VOLUME_PORT + 10000)) -volume.max=0 \
        -filer.port="$FILER_PORT" -filer.port.grpc=$((FILER_PORT + 10000)) \
        -s3.port="$S3_PORT" -s3.port.grpc=$((S3_PORT + 10000)) -s3.config="$STATE/s3.json" \
        -s3.port.iceberg=0 -s3.port.lance=0 -webdav=false "${admin_flags[@]}" \
        </dev/null >>"$LOGFILE" 2>&1 ) &
    echo $! >"$PIDFILE"
    local i
    for i in $(seq 1 240); do
      s3_ready && admin_ready && break
      # plain pid check: right after the fork the pid may still be the subshell, not weed yet
      pid_alive "$PIDFILE" || { tail -n 30 "$LOGFILE" >&2; rm -f "$PIDFILE"; die "seaweedfs: weed mini exited (log: $LOGFILE)"; }
      sleep 0.5
    done
    if ! s3_ready || ! admin_ready; then
      tail -n 30 "$LOGFILE" >&2; stop
      die "seaweedfs: S3 ($S3_PORT) or admin UI ($ADMIN_PORT) did not answer within 120s (log: $LOGFILE)"
    fi
    log "seaweedfs: S3 answering after $((SECONDS - t0))s"
  fi
  log "seaweedfs: ready (S3 $S3_ENDPOINT, region $S3_REGION, key $S3_ACCESS_KEY, admin UI http://127.0.0.1:$ADMIN_PORT, settings in $STATE/s3.env)"
}

stop() {
  if ! weed_alive; then rm -f "$PIDFILE"; log "seaweedfs: not running"; return 0; fi
  # weed shuts its services down in order on SIGTERM (flushes volumes and filer metadata).
  terminate_pidfile seaweedfs "$PIDFILE" 30
  log "seaweedfs: stopped"
}

status() {
  if weed_alive && port_open "$S3_PORT"; then
    echo "seaweedfs   running  127.0.0.1:$S3_PORT"
  else
    echo "seaweedfs   stopped"; return 3
  fi
}

"${1:-status}"
