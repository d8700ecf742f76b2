#!/usr/bin/env bash
# The local stack.
#   stack.sh run     build (release), start everything, print the URLs; Ctrl-C stops all
#   stack.sh start   start everything in the background with the binaries in $PROFILE
#   stack.sh stop    stop what start/run left running (pid files, never process names)
#   stack.sh start-services | stop-services   only the services and the gateway
# Settings: PROFILE (release|debug), DATABASE_URL / REDIS_URL (use existing servers),
# and every service setting, passed through from the environment.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PROFILE="${PROFILE:-release}"
BIN="$ROOT/target/$PROFILE"
SECRETS="$RUN/secrets"

# Dev-only secrets, generated once per checkout under .run/ (never committed).
dev_secret() {
  local name="$1" file="$SECRETS/$1"
  mkdir -p "$SECRETS"; chmod 700 "$SECRETS"
  [ -s "$file" ] || head -c 32 /dev/urandom | base64 | tr -d '=+/\n' > "$file"
  cat "$file"
}

# A Svix-style secret: whsec_ + base64 of 24 random bytes (no padding to lose).
clerk_webhook_secret() {
  local file="$SECRETS/clerk_webhook"
  mkdir -p "$SECRETS"; chmod 700 "$SECRETS"
  [ -s "$file" ] || echo "whsec_$(head -c 24 /dev/urandom | base64 | tr -d '\n')" > "$file"
  cat "$file"
}

# Clerk for every service: the configured one, or clerk-sim with dev-only secrets.
clerk_env() {
  if clerk_configured; then
    for name in CLERK_ISSUER CLERK_JWKS_URL CLERK_AUTHORIZED_PARTIES CLERK_API_URL CLERK_SECRET_KEY CLERK_WEBHOOK_SECRET; do
      [ -n "${!name:-}" ] && echo "$name=${!name}"
    done
    return 0
  fi
  echo "CLERK_ISSUER=http://127.0.0.1:$CLERK_SIM_PORT"
  echo "CLERK_JWKS_URL=http://127.0.0.1:$CLERK_SIM_PORT/.well-known/jwks.json"
  echo "CLERK_AUTHORIZED_PARTIES=http://localhost:3000"
  echo "CLERK_API_URL=http://127.0.0.1:$CLERK_SIM_PORT"
  echo "CLERK_SECRET_KEY=sk_test_clerksim"
  echo "CLERK_WEBHOOK_SECRET=$(clerk_webhook_secret)"
}

# MEDIA_ACCEL_REDIRECT as one word for both social and the gateway (on unless
# turned off).
media_accel() {
  case "${MEDIA_ACCEL_REDIRECT:-true}" in
    false|False|FALSE|0|no|off) echo false ;;
    *) echo true ;;
  esac
}

service_env() {
  local svc="$1"
  clerk_env
  case "$svc" in
    auth)
      # User changes go to the directory through the outbox.
      echo "AUTH_DIRECTORY_URL=http://127.0.0.1:${INTERNAL_PORT[meeting-user-sync]}"
      ;;
    meeting-user-sync)
      echo "AUTH_INTERNAL_URL=http://127.0.0.1:${INTERNAL_PORT[auth]}"
      echo "SERVICE_CLIENT_ID=local-services"
      echo "SERVICE_CLIENT_SECRET=$(dev_secret internal_client)"
      ;;
    social)
      # Names and avatars from the directory, with a service token from auth.
      echo "DIRECTORY_URL=http://127.0.0.1:${INTERNAL_PORT[meeting-user-sync]}"
      echo "AUTH_INTERNAL_URL=http://127.0.0.1:${INTERNAL_PORT[auth]}"
      echo "SERVICE_CLIENT_ID=local-services"
      echo "SERVICE_CLIENT_SECRET=$(dev_secret internal_client)"
      echo "STORAGE_DIR=${STORAGE_DIR:-$RUN/storage}"
      # The gateway shares the disk: it sends media bytes from the folder itself.
      echo "MEDIA_ACCEL_REDIRECT=$(media_accel)"
      ;;
    commerce)
      # The shop's one currency (ISO 4217); every price is in its minor units.
      echo "SHOP_CURRENCY=${SHOP_CURRENCY:-EUR}"
      # Product images, beside the other services' uploads.
      echo "STORAGE_DIR=${STORAGE_DIR:-$RUN/storage}"
      ;;
    media-catalog)
      echo "STORAGE_DIR=${STORAGE_DIR:-$RUN/storage}"
      # Without TMDB credentials, tmdb-sim stands in for TMDB (and its images).
      if ! tmdb_configured; then
        echo "TMDB_BASE_URL=http://127.0.0.1:$TMDB_SIM_PORT/3"
        echo "TMDB_API_KEY=tmdb-sim-key"
        echo "TMDB_IMAGE_BASE_URL=${TMDB_IMAGE_BASE_URL:-http://127.0.0.1:$TMDB_SIM_PORT/t/p}"
      fi
      ;;
  esac
  echo "PORT=${SERVICE_PORT[$svc]}"
  echo "DATABASE_URL=$(db_url "${SERVICE_DB[$svc]}")"
  echo "REDIS_URL=$(redis_url)"
  echo "APP_ENV=${APP_ENV:-local}"
  echo "LOG_FORMAT=${LOG_FORMAT:-pretty}"
  echo "AUTH_ISSUER=${AUTH_ISSUER:-http://127.0.0.1:$GATEWAY_PORT}"
  echo "AUTH_JWKS_URL=${AUTH_JWKS_URL:-http://127.0.0.1:${SERVICE_PORT[auth]}/.well-known/jwks.json}"
  echo "MAIL_DIR=${MAIL_DIR:-$RUN/mail}"
  echo "SHUTDOWN_DELAY_SECS=${SHUTDOWN_DELAY_SECS:-0}"
  echo "AUTH_INTERNAL_CLIENTS=${AUTH_INTERNAL_CLIENTS:-local-services:$(dev_secret internal_client)}"
}

start_tmdb_sim() {
  tmdb_configured && { log "using TMDB (credentials given)"; return 0; }
  if pid_alive "$PIDS/tmdb-sim.pid"; then log "tmdb-sim already running"; return 0; fi
  [ -x "$BIN/tmdb-sim" ] || die "$BIN/tmdb-sim not built (cargo build --profile $PROFILE --bins -p testkit)"
  setsid env TMDB_SIM_ADDR="127.0.0.1:$TMDB_SIM_PORT" "$BIN/tmdb-sim" >>"$LOGS/tmdb-sim.log" 2>&1 </dev/null &
  echo $! > "$PIDS/tmdb-sim.pid"
  wait_ready "http://127.0.0.1:$TMDB_SIM_PORT/health" tmdb-sim
  log "tmdb-sim (fake TMDB) on 127.0.0.1:$TMDB_SIM_PORT"
}

start_clerk_sim() {
  clerk_configured && { log "using Clerk at $CLERK_ISSUER"; return 0; }
  if pid_alive "$PIDS/clerk-sim.pid"; then log "clerk-sim already running"; return 0; fi
  [ -x "$BIN/clerk-sim" ] || die "$BIN/clerk-sim not built (cargo build --profile $PROFILE --bins -p testkit)"
  setsid env CLERK_SIM_ADDR="127.0.0.1:$CLERK_SIM_PORT" CLERK_SIM_SECRET_KEY=sk_test_clerksim \
    CLERK_SIM_WEBHOOK_SECRET="$(clerk_webhook_secret)" \
    "$BIN/clerk-sim" >>"$LOGS/clerk-sim.log" 2>&1 </dev/null &
  echo $! > "$PIDS/clerk-sim.pid"
  wait_ready "http://127.0.0.1:$CLERK_SIM_PORT/health" clerk-sim
  log "clerk-sim (fake Clerk) on 127.0.0.1:$CLERK_SIM_PORT"
}

start_services() {
  local svc pid
  start_tmdb_sim
  start_clerk_sim
  for svc in "${SERVICES[@]}"; do
    [ -x "$BIN/$svc" ] || die "$BIN/$svc not built (cargo build --profile $PROFILE)"
    if pid_alive "$PIDS/$svc.pid"; then log "$svc already running"; continue; fi
    env $(service_env "$svc") "$BIN/$svc" migrate >>"$LOGS/$svc.log" 2>&1 || die "$svc migrations failed (see $LOGS/$svc.log)"
    # Settings given in the environment (AUTH_BOOTSTRAP_ADMIN_EMAILS, SMTP_URL, ...) pass through.
    # A session of its own: Ctrl-C reaches this script, which stops services in order.
    setsid env $(service_env "$svc") "$BIN/$svc" serve >>"$LOGS/$svc.log" 2>&1 </dev/null &
    echo $! > "$PIDS/$svc.pid"
  done
  for svc in "${SERVICES[@]}"; do
    wait_ready "http://127.0.0.1:${SERVICE_PORT[$svc]}/health/ready" "$svc"
    log "$svc ready on 127.0.0.1:${SERVICE_PORT[$svc]}"
  done
}

start_gateway() {
  local nginx_bin ups="" svc
  nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
  for svc in "${SERVICES[@]}"; do ups+="$(upstream_name "$svc")=127.0.0.1:${SERVICE_PORT[$svc]} "; done
  if pid_alive "$PIDS/nginx.pid"; then log "gateway already running"; return 0; fi
  # social's media files, when it hands them to the gateway (MEDIA_ACCEL_REDIRECT).
  local media_dir=""
  [ "$(media_accel)" = true ] && media_dir="$(cd "$ROOT" && realpath -m "${STORAGE_DIR:-$RUN/storage}")"
  GATEWAY_UPSTREAMS="${GATEWAY_UPSTREAMS:-$ups}" GATEWAY_LISTEN="127.0.0.1:$GATEWAY_PORT" \
    GATEWAY_MEDIA_DIR="${GATEWAY_MEDIA_DIR-$media_dir}" \
    GATEWAY_PID_FILE="$PIDS/nginx.pid" bash "$ROOT/deploy/nginx/render.sh" "$RUN/nginx" >/dev/null
  "$nginx_bin" -t -q -c "$RUN/nginx/nginx.conf" -p "$RUN/nginx" 2>>"$LOGS/gateway.log" || die "gateway configuration invalid (see $LOGS/gateway.log)"
  "$nginx_bin" -c "$RUN/nginx/nginx.conf" -p "$RUN/nginx" 2>>"$LOGS/gateway.log" || die "gateway did not start (see $LOGS/gateway.log)"
  wait_ready "http://127.0.0.1:$GATEWAY_PORT/health/live" gateway
  log "gateway on http://127.0.0.1:$GATEWAY_PORT"
}

# One more instance of a service on another port (benchmarks, replica tests),
# on the service's own database or on DATABASE (migrated first); stopped with
# the services.
start_replica() {
  local svc="$1" port="$2" db="${3:-}" extra=()
  [ -x "$BIN/$svc" ] || die "$BIN/$svc not built"
  if [ -n "$db" ]; then
    extra=(DATABASE_URL="$(db_url "$db")")
    env $(service_env "$svc") "${extra[@]}" "$BIN/$svc" migrate >>"$LOGS/$svc-$port.log" 2>&1 \
      || die "$svc migrations on $db failed (see $LOGS/$svc-$port.log)"
  fi
  setsid env $(service_env "$svc") PORT="$port" "${extra[@]}" "$BIN/$svc" serve >>"$LOGS/$svc-$port.log" 2>&1 </dev/null &
  echo $! > "$PIDS/replica-$svc-$port.pid"
  wait_ready "http://127.0.0.1:$port/health/ready" "$svc-$port"
  log "$svc replica ready on 127.0.0.1:$port${db:+ (database $db)}"
}

stop_services() {
  local svc file
  stop_pidfile "$PIDS/nginx.pid" gateway
  for file in "$PIDS"/replica-*.pid; do [ -e "$file" ] && stop_pidfile "$file" "$(basename "$file" .pid)"; done
  for svc in "${SERVICES[@]}"; do stop_pidfile "$PIDS/$svc.pid" "$svc"; done
  stop_pidfile "$PIDS/tmdb-sim.pid" tmdb-sim
  stop_pidfile "$PIDS/clerk-sim.pid" clerk-sim
}

stop_all() {
  stop_services
  stop_pidfile "$PIDS/redis.pid" redis
  stop_postgres
}

start_all() {
  ensure_packages
  start_postgres
  start_redis
  create_databases
  start_services
  start_gateway
}

print_urls() {
  cat <<MSG

  Reelstack is running.
    Gateway        http://127.0.0.1:$GATEWAY_PORT          (GET /health for every upstream)
    Auth API       http://127.0.0.1:$GATEWAY_PORT/api/auth/
    JWKS           http://127.0.0.1:$GATEWAY_PORT/.well-known/jwks.json
    Catalog        http://127.0.0.1:$GATEWAY_PORT/api/movies/popular   (TMDB: $(tmdb_configured && echo "real API" || echo "tmdb-sim on :$TMDB_SIM_PORT"))
    Lists          http://127.0.0.1:$GATEWAY_PORT/api/watchlist, /api/favorites, /api/library/movies
    Directory      http://127.0.0.1:$GATEWAY_PORT/api/user/profile, POST /api/user/sync
    Social         http://127.0.0.1:$GATEWAY_PORT/api/tags/trending, /api/feed/following, POST /api/videos
    Shop           http://127.0.0.1:$GATEWAY_PORT/api/categories, /api/products/{id|slug}, /api/inventory/{sku} (admin)
    Clerk          $(clerk_configured && echo "$CLERK_ISSUER" || echo "clerk-sim: POST http://127.0.0.1:$CLERK_SIM_PORT/__sim/users, then /__sim/sessions for a token")
    OpenAPI        http://127.0.0.1:<8081|8082|8083|8084|8085>/openapi.json
    Mail (files)   $RUN/mail/
    Posters        $RUN/storage/
    Logs           $LOGS/
  Ctrl-C stops everything.

MSG
}

case "${1:-run}" in
  run)
    ensure_packages
    log "building ($PROFILE)"
    (cd "$ROOT" && cargo build --profile "$PROFILE" --bins -p auth -p media-catalog -p meeting-user-sync -p social -p commerce -p testkit) || die "build failed"
    tail_pid=""
    trap 'echo; log "stopping"; [ -z "$tail_pid" ] || kill "$tail_pid" 2>/dev/null; stop_all; exit 0' INT TERM
    start_all
    print_urls
    # Follow the service logs until Ctrl-C; stop if a service dies.
    logs=(); for svc in "${SERVICES[@]}"; do logs+=("$LOGS/$svc.log"); done
    tail -n 0 -F "${logs[@]}" &
    tail_pid=$!
    while true; do
      for svc in "${SERVICES[@]}"; do
        pid_alive "$PIDS/$svc.pid" || { kill "$tail_pid" 2>/dev/null; log "$svc exited (see $LOGS/$svc.log)"; stop_all; exit 1; }
      done
      sleep 2
    done
    ;;
  start) start_all ;;
  stop) stop_all ;;
  # PostgreSQL and Redis already up (tests): only the services and the gateway.
  start-services) start_services; start_gateway ;;
  stop-services) stop_services ;;
  replica) start_replica "$2" "$3" "${4:-}" ;;
  # A service's subcommand with the settings the stack gives it: exec social recount.
  exec) svc="$2"; shift 2; [ -x "$BIN/$svc" ] || die "$BIN/$svc not built"; exec env $(service_env "$svc") "$BIN/$svc" "$@" ;;
  *) die "usage: stack.sh run|start|stop|start-services|stop-services|replica <service> <port> [database]|exec <service> <args>" ;;
esac
