#!/usr/bin/env bash
# Install and run a local Jaeger v2 (in-memory storage, 127.0.0.1 only) for
# Tracelet's end-to-end test.
#
# Usage: scripts/jaeger.sh install|path|start|stop|status
#   install  build Jaeger from the Go module proxy (unless cached); print the binary path
#   path     print the binary path, installing first if needed
#   start    install if needed, start Jaeger in the background, wait until it is ready,
#            print the query API and OTLP endpoints
#   stop     stop the Jaeger started by `start` (by its PID file)
#   status   say whether that Jaeger is running
#
# Environment:
#   JAEGER_QUERY_PORT (16686), JAEGER_OTLP_GRPC_PORT (4317), JAEGER_OTLP_HTTP_PORT (4318),
#   JAEGER_QUERY_GRPC_PORT (16685)        ports, all bound to 127.0.0.1
#   JAEGER_START_TIMEOUT (120)            seconds `start` waits for readiness
#   TRACELET_JAEGER_RUN_DIR               PID file and log (default: <cache>/run)
#   XDG_CACHE_HOME                        cache root (default: ~/.cache)
#
# Pinned release: Jaeger v2.12.0 (2025-11-18).
#   Jaeger's Go module path has no /v2 suffix, so its v2.x tags are not Go module
#   versions. Each v2 release up to v2.13.0 was tagged together with a v1.x tag on
#   the same commit; v1.75.0 is the v1 tag of v2.12.0 (Jaeger's CHANGELOG.md heading
#   reads "v1.75.0 / v2.12.0 (2025-11-18)"; the heading is in the CHANGELOG of the
#   next release, v1.76.0, as the v1.75.0 tag's own file ends at v1.74.0 / v2.11.0).
#   v1.75.0 is the newest approved release the project's Go module proxy serves:
#   v1.76.0 (v2.13.0) is served too but is not an approved release, and newer
#   releases (v2.14.0+) carry only v2 tags, which the proxy cannot serve.
#   The module zip is pinned by its go.sum hash below (also checked against
#   sum.golang.org by the go command), which fixes the exact source like a commit would.
#   v1.75.0's go.mod has a `replace` directive, which `go install pkg@version` rejects,
#   so the module is downloaded with `go mod download` and built inside its own module
#   directory, where its go.mod/go.sum (and the replace) apply.
#   The binary is cached per module version (<cache>/v1.75.0), so a binary built
#   from another pin is never reused for this one.
set -euo pipefail

readonly JAEGER_RELEASE="v2.12.0"
readonly JAEGER_MODULE="github.com/jaegertracing/jaeger"
readonly JAEGER_MODULE_VERSION="v1.75.0"
readonly JAEGER_MODULE_SUM="h1:OWj6uKRJ8QaH+AVypRwqINGi3Q/WOchbEfp53FJK0Xk="
readonly JAEGER_GO_MIN="1.24.6" # the `go` line of Jaeger v1.75.0's go.mod

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
readonly SCRIPT_DIR
readonly CONFIG_FILE="$SCRIPT_DIR/jaeger-config.yaml"

readonly CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/tracelet/jaeger"
readonly INSTALL_DIR="$CACHE_ROOT/$JAEGER_MODULE_VERSION"
readonly JAEGER_BIN="$INSTALL_DIR/bin/jaeger"
readonly RUN_DIR="${TRACELET_JAEGER_RUN_DIR:-$CACHE_ROOT/run}"
readonly PID_FILE="$RUN_DIR/jaeger.pid"
readonly LOG_FILE="$RUN_DIR/jaeger.log"

export JAEGER_QUERY_PORT="${JAEGER_QUERY_PORT:-16686}"
export JAEGER_QUERY_GRPC_PORT="${JAEGER_QUERY_GRPC_PORT:-16685}"
export JAEGER_OTLP_GRPC_PORT="${JAEGER_OTLP_GRPC_PORT:-4317}"
export JAEGER_OTLP_HTTP_PORT="${JAEGER_OTLP_HTTP_PORT:-4318}"
START_TIMEOUT="${JAEGER_START_TIMEOUT:-120}"

die() {
  echo "jaeger.sh: error: $*" >&2
  exit 1
}

log() {
  echo "jaeger.sh: $*" >&2
}

usage() {
  # The header comment up to the "Pinned release" paragraph.
  sed -n '2,/^# Pinned release/{/^# Pinned release/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
}

check_port() {
  local name="$1" value="$2"
  if ! [[ "$value" =~ ^[0-9]+$ ]] || ((10#$value < 1 || 10#$value > 65535)); then
    die "$name must be a TCP port number (1-65535), got '$value'"
  fi
  printf -v "$name" '%d' "$((10#$value))" # normalise, e.g. "08" -> "8"
  export "${name?}"
}

# True if version $1 >= version $2 (dotted numbers; "go1.25rc1" style suffixes ignored).
version_ge() {
  local IFS=.
  local -a a b
  read -r -a a <<<"${1%%[!0-9.]*}"
  read -r -a b <<<"${2%%[!0-9.]*}"
  local i
  for ((i = 0; i < 3; i++)); do
    local x="${a[i]:-0}" y="${b[i]:-0}"
    ((10#$x > 10#$y)) && return 0
    ((10#$x < 10#$y)) && return 1
  done
  return 0
}

require_go() {
  command -v go >/dev/null 2>&1 ||
    die "'go' was not found on PATH; Go >= $JAEGER_GO_MIN is needed to build Jaeger (https://go.dev/doc/install)"
  local v toolchain
  v="$(go env GOVERSION)"
  toolchain="$(go env GOTOOLCHAIN)"
  if ! version_ge "${v#go}" "$JAEGER_GO_MIN" && [[ "$toolchain" == local* ]]; then
    die "Jaeger $JAEGER_RELEASE needs Go >= $JAEGER_GO_MIN, found $v (GOTOOLCHAIN=$toolchain); upgrade Go or set GOTOOLCHAIN=auto"
  fi
}

do_install() {
  if [[ -x "$JAEGER_BIN" ]]; then
    return 0
  fi
  require_go
  mkdir -p "$INSTALL_DIR"

  # Serialise concurrent installs (e.g. two test runs starting at once).
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$INSTALL_DIR/.install.lock"
    flock 9
    if [[ -x "$JAEGER_BIN" ]]; then
      exec 9>&-
      return 0
    fi
  fi

  log "installing Jaeger $JAEGER_RELEASE ($JAEGER_MODULE@$JAEGER_MODULE_VERSION); this takes several minutes..."
  local started=$SECONDS json dir sum
  json="$(go mod download -json "$JAEGER_MODULE@$JAEGER_MODULE_VERSION")" ||
    die "could not download $JAEGER_MODULE@$JAEGER_MODULE_VERSION from the Go module proxy"
  dir="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")"
  sum="$(sed -n 's/^[[:space:]]*"Sum": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")"
  [[ -n "$dir" && -d "$dir" ]] || die "unexpected 'go mod download' output: $json"
  [[ "$sum" == "$JAEGER_MODULE_SUM" ]] ||
    die "checksum mismatch for $JAEGER_MODULE@$JAEGER_MODULE_VERSION: got '$sum', want '$JAEGER_MODULE_SUM'"

  # Build into a scratch GOBIN and move the binary into place at the end, so an
  # interrupted build never leaves a binary that later runs would take as cached.
  local tmp_bin="$INSTALL_DIR/.bin.tmp.$$"
  rm -rf "$tmp_bin"
  mkdir -p "$tmp_bin" "$INSTALL_DIR/bin"
  local ldflags="-s -w"
  ldflags+=" -X $JAEGER_MODULE/internal/version.latestVersion=$JAEGER_RELEASE"
  ldflags+=" -X $JAEGER_MODULE/internal/version.commitSHA=$JAEGER_MODULE_VERSION"
  if ! (cd "$dir" && GOBIN="$tmp_bin" GOFLAGS="-mod=readonly -buildvcs=false" \
    go install -trimpath -ldflags "$ldflags" ./cmd/jaeger); then
    rm -rf "$tmp_bin"
    die "building Jaeger failed"
  fi
  mv -f "$tmp_bin/jaeger" "$JAEGER_BIN"
  rm -rf "$tmp_bin"
  exec 9>&- # release the install lock (not to be inherited by Jaeger)
  log "installed $JAEGER_BIN in $((SECONDS - started))s"
}

running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(<"$PID_FILE")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # Guard against a recycled PID: the process must be our Jaeger binary.
  if [[ -r "/proc/$pid/cmdline" ]]; then
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$JAEGER_BIN" || return 1
  fi
  echo "$pid"
}

# True once a TCP connection to 127.0.0.1:$1 succeeds.
port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

query_ready() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$JAEGER_QUERY_PORT/api/services" 2>/dev/null
  else
    port_open "$JAEGER_QUERY_PORT"
  fi
}

print_endpoints() {
  local pid="$1"
  cat <<EOF
Jaeger $JAEGER_RELEASE running (pid $pid), in-memory storage, 127.0.0.1 only
  query API:  http://127.0.0.1:$JAEGER_QUERY_PORT/api/services  (UI: http://127.0.0.1:$JAEGER_QUERY_PORT/)
  OTLP gRPC:  127.0.0.1:$JAEGER_OTLP_GRPC_PORT
  OTLP HTTP:  http://127.0.0.1:$JAEGER_OTLP_HTTP_PORT/v1/traces
  pid file:   $PID_FILE
  log:        $LOG_FILE
EOF
}

do_start() {
  check_port JAEGER_QUERY_PORT "$JAEGER_QUERY_PORT"
  check_port JAEGER_QUERY_GRPC_PORT "$JAEGER_QUERY_GRPC_PORT"
  check_port JAEGER_OTLP_GRPC_PORT "$JAEGER_OTLP_GRPC_PORT"
  check_port JAEGER_OTLP_HTTP_PORT "$JAEGER_OTLP_HTTP_PORT"
  [[ "$START_TIMEOUT" =~ ^[0-9]+$ ]] || die "JAEGER_START_TIMEOUT must be a number of seconds"
  [[ -f "$CONFIG_FILE" ]] || die "config file not found: $CONFIG_FILE"

  local pid
  if pid="$(running_pid)"; then
    log "Jaeger is already running (pid $pid); run '$0 stop' first to restart it"
    print_endpoints "$pid"
    return 0
  fi
  rm -f "$PID_FILE"

  do_install

  local port
  for port in "$JAEGER_QUERY_PORT" "$JAEGER_QUERY_GRPC_PORT" "$JAEGER_OTLP_GRPC_PORT" "$JAEGER_OTLP_HTTP_PORT"; do
    if port_open "$port"; then
      die "port 127.0.0.1:$port is already in use (set JAEGER_QUERY_PORT, JAEGER_QUERY_GRPC_PORT, JAEGER_OTLP_GRPC_PORT, JAEGER_OTLP_HTTP_PORT to use other ports)"
    fi
  done

  mkdir -p "$RUN_DIR"
  # Detached from our stdin/stdout so a caller reading this script's output is not
  # kept waiting for Jaeger to exit.
  nohup "$JAEGER_BIN" --config "file:$CONFIG_FILE" </dev/null >"$LOG_FILE" 2>&1 &
  pid=$!
  echo "$pid" >"$PID_FILE"

  local deadline=$((SECONDS + START_TIMEOUT))
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PID_FILE"
      echo "----- last lines of $LOG_FILE -----" >&2
      tail -n 30 "$LOG_FILE" >&2 || true
      die "Jaeger exited during startup"
    fi
    # The query extension starts before the pipelines, so wait for the OTLP
    # receivers as well as for the query API.
    if query_ready && port_open "$JAEGER_OTLP_HTTP_PORT" && port_open "$JAEGER_OTLP_GRPC_PORT"; then
      break
    fi
    if ((SECONDS >= deadline)); then
      kill "$pid" 2>/dev/null || true
      rm -f "$PID_FILE"
      echo "----- last lines of $LOG_FILE -----" >&2
      tail -n 30 "$LOG_FILE" >&2 || true
      die "Jaeger did not become ready within ${START_TIMEOUT}s"
    fi
    sleep 0.2
  done
  print_endpoints "$pid"
}

do_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    log "Jaeger is not running"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 100; i++)); do # up to 10 s for a clean shutdown
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "Jaeger (pid $pid) did not stop after SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE"
  log "stopped Jaeger (pid $pid)"
}

do_status() {
  local pid
  if pid="$(running_pid)"; then
    print_endpoints "$pid"
  else
    echo "Jaeger is not running"
    return 1
  fi
}

main() {
  local cmd="${1:-}"
  case "$cmd" in
  install | path)
    do_install
    echo "$JAEGER_BIN"
    ;;
  start) do_start ;;
  stop) do_stop ;;
  status) do_status ;;
  -h | --help | help)
    usage
    ;;
  *)
    usage
    die "unknown command '${cmd}'; expected install, path, start, stop or status"
    ;;
  esac
}

main "$@"
