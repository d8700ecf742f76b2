#!/usr/bin/env bash
# Shared helpers of the local stack: paths, ports, package installation, and
# pid-file based process control (never by process name).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUN="$ROOT/.run"
LOGS="$RUN/logs"
PIDS="$RUN/pids"
PG_PORT="${PG_PORT:-55432}"
REDIS_PORT="${REDIS_PORT:-56379}"
GATEWAY_PORT="${GATEWAY_PORT:-8080}"
PG_USER_OS="${PG_USER_OS:-reelstack-pg}"
TMDB_SIM_PORT="${TMDB_SIM_PORT:-8090}"
CLERK_SIM_PORT="${CLERK_SIM_PORT:-8091}"
SERVICES=(auth media-catalog meeting-user-sync social commerce)
declare -A SERVICE_PORT=([auth]=8081 [media-catalog]=8082 [social]=8083 [meeting-user-sync]=8084 [commerce]=8085)
# The /internal listeners (PORT + 1000, the services' default), never behind the gateway.
declare -A INTERNAL_PORT=([auth]=9081 [meeting-user-sync]=9084)
declare -A SERVICE_DB=([auth]=auth [media-catalog]=catalog [social]=social [meeting-user-sync]=meetings [commerce]=commerce)

mkdir -p "$LOGS" "$PIDS"
export PGOPTIONS="${PGOPTIONS:--c client_min_messages=warning}"

log() { printf '\033[1;34m[stack]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[stack]\033[0m %s\n' "$*" >&2; exit 1; }

pg_bindir() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/pg_ctl" ] && { echo "$dir"; return 0; }
  done
  return 1
}

# Installs what is missing with apt-get when root; otherwise prints the command.
ensure_packages() {
  local missing=()
  [ -n "${DATABASE_URL:-}" ] || pg_bindir >/dev/null || missing+=(postgresql)
  [ -f /usr/include/postgresql/libpq-fe.h ] || missing+=(libpq-dev)
  command -v psql >/dev/null || missing+=(postgresql-client)
  command -v curl >/dev/null || missing+=(curl)
  # redis-server also for the tests that stop and restart a Redis of their own.
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
  # social processes uploads with ffprobe and ffmpeg (H.264 by libx264, AAC).
  { command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null; } || missing+=(ffmpeg)
  if [ "${NEED_WRK:-0}" = 1 ]; then command -v wrk >/dev/null || missing+=(wrk); fi
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    die "missing packages; run: sudo apt-get update && sudo apt-get install -y ${missing[*]}"
  fi
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >"$LOGS/apt.log" 2>&1 || die "apt-get update failed (see $LOGS/apt.log)"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$LOGS/apt.log" 2>&1 \
    || die "apt-get install failed (see $LOGS/apt.log)"
  # The Debian package starts system-wide servers we do not use; stop them.
  if command -v service >/dev/null; then
    service redis-server stop >/dev/null 2>&1 || true
    service nginx stop >/dev/null 2>&1 || true
  fi
}

# python_venv DIR REQUIREMENTS NAME: a virtualenv of pinned Python test tools
# (schemathesis, the tus client), (re)installed when the requirements changed.
python_venv() {
  local venv="$1" requirements="$2" name="$3" stamp="$1/.requirements.sha256" want
  want="$(sha256sum "$requirements" | cut -d' ' -f1)"
  if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  command -v python3 >/dev/null || die "python3 not found ($name needs Python 3.11 or newer)"
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "$name needs Python 3.11 or newer; python3 is $(python3 -V 2>&1)"
  if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    [ "$(id -u)" -eq 0 ] || die "python3 cannot create virtualenvs; run: sudo apt-get install -y python3-venv"
    log "installing python3-venv"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >>"$LOGS/apt.log" 2>&1 \
      || die "apt-get install python3-venv failed (see $LOGS/apt.log)"
  fi
  log "installing $name into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv" || die "could not create $venv"
  "$venv/bin/pip" install --disable-pip-version-check -q -r "$requirements" >"$LOGS/$name-install.log" 2>&1 \
    || die "pip install failed (see $LOGS/$name-install.log)"
  echo "$want" > "$stamp"
}

# The gateway's name for a service (nginx variable names take no hyphens).
upstream_name() { echo "${1//-/_}"; }

# True when real TMDB credentials are configured; otherwise the stack runs tmdb-sim.
tmdb_configured() { [ -n "${TMDB_API_KEY:-}${TMDB_READ_ACCESS_TOKEN:-}" ]; }

# True when an external issuer (Clerk) is configured; otherwise the stack runs clerk-sim.
clerk_configured() { [ -n "${CLERK_ISSUER:-}" ]; }

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop_pidfile() {
  local file="$1" name="$2" pid i
  pid_alive "$file" || { rm -f "$file"; return 0; }
  pid="$(cat "$file")"
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  rm -f "$file"
  log "stopped $name"
}

as_pg_user() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "$PG_USER_OS" -- "$@"
  else
    "$@"
  fi
}

admin_url() {
  if [ -n "${DATABASE_URL:-}" ]; then echo "$DATABASE_URL"; else echo "postgres://postgres@127.0.0.1:$PG_PORT/postgres"; fi
}

# The URL of one service's database on the same server as admin_url.
db_url() {
  local admin base
  admin="$(admin_url)"
  base="${admin%/*}"
  echo "$base/$1"
}

start_postgres() {
  [ -n "${DATABASE_URL:-}" ] && { log "using DATABASE_URL"; return 0; }
  local bin data="$RUN/pg"
  bin="$(pg_bindir)" || die "PostgreSQL server binaries not found"
  if [ "$(id -u)" -eq 0 ]; then
    id -u "$PG_USER_OS" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER_OS"
    # The unprivileged server must reach its data folder through the checkout.
    local d="$RUN"
    while [ "$d" != "/" ]; do chmod o+x "$d" 2>/dev/null || true; d="$(dirname "$d")"; done
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    log "initialising PostgreSQL cluster in $data"
    mkdir -p "$data"
    [ "$(id -u)" -eq 0 ] && chown "$PG_USER_OS" "$data"
    as_pg_user "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --no-locale >"$LOGS/initdb.log" 2>&1 \
      || die "initdb failed (see $LOGS/initdb.log)"
  fi
  if as_pg_user "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    log "PostgreSQL already running on $PG_PORT"
  else
    touch "$LOGS/postgres.log"; [ "$(id -u)" -eq 0 ] && chown "$PG_USER_OS" "$LOGS/postgres.log"
    as_pg_user "$bin/pg_ctl" -D "$data" -l "$LOGS/postgres.log" -w -t 30 \
      -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$data -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      start >/dev/null || die "PostgreSQL did not start (see $LOGS/postgres.log)"
    log "PostgreSQL on 127.0.0.1:$PG_PORT"
  fi
}

stop_postgres() {
  local bin data="$RUN/pg"
  [ -f "$data/postmaster.pid" ] || return 0
  bin="$(pg_bindir)" || return 0
  as_pg_user "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
  log "stopped PostgreSQL"
}

start_redis() {
  [ -n "${REDIS_URL+x}" ] && { log "using REDIS_URL${REDIS_URL:+ }${REDIS_URL:-(unset: in-process fallback)}"; return 0; }
  if pid_alive "$PIDS/redis.pid"; then log "Redis already running on $REDIS_PORT"; return 0; fi
  mkdir -p "$RUN/redis"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes \
    --pidfile "$PIDS/redis.pid" --dir "$RUN/redis" --logfile "$LOGS/redis.log" \
    --save "" --appendonly no >/dev/null
  local i
  for i in $(seq 1 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  log "Redis on 127.0.0.1:$REDIS_PORT"
}

redis_url() {
  if [ -n "${REDIS_URL+x}" ]; then echo "${REDIS_URL}"; else echo "redis://127.0.0.1:$REDIS_PORT"; fi
}

create_databases() {
  local svc db
  for svc in "${SERVICES[@]}"; do
    db="${SERVICE_DB[$svc]}"
    if ! psql "$(admin_url)" -tAc "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1; then
      psql "$(admin_url)" -qc "CREATE DATABASE \"$db\"" >/dev/null
      log "created database $db"
    fi
  done
}

wait_ready() {
  local url="$1" name="$2" i
  for i in $(seq 1 300); do
    curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
    sleep 0.1
  done
  die "$name did not become ready at $url (see $LOGS/$name.log)"
}
