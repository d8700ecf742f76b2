#!/usr/bin/env bash
# `make test`: lint, unit and integration tests against the project-local
# PostgreSQL and Redis, then end-to-end tests through the real nginx gateway.
# Everything this script starts, it stops (pid files).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

started_infra=0
cleanup() {
  local code=$?
  PROFILE=debug bash "$ROOT/deploy/local/stack.sh" stop-services >/dev/null 2>&1 || true
  [ -f "$PIDS/slow-upstream.pid" ] && stop_pidfile "$PIDS/slow-upstream.pid" slow-upstream
  [ -f "$PIDS/own-502-upstream.pid" ] && stop_pidfile "$PIDS/own-502-upstream.pid" own-502-upstream
  if [ "$started_infra" = 1 ] && [ "${KEEP_INFRA:-0}" != 1 ]; then
    stop_pidfile "$PIDS/redis.pid" redis
    stop_postgres
  fi
  exit $code
}
trap cleanup EXIT

ensure_packages
pid_alive "$PIDS/redis.pid" || started_infra=1
[ -f "$RUN/pg/postmaster.pid" ] || started_infra=1
start_postgres
start_redis
create_databases

log "lint"
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings

log "gateway configuration from its defaults (as compose and Kubernetes render it)"
(
  for v in $(compgen -e | grep '^GATEWAY_'); do unset "$v"; done
  out="$(mktemp -d)"
  GATEWAY_PID_FILE="$out/nginx.pid" bash "$ROOT/deploy/nginx/render.sh" "$out" >/dev/null
  "$(command -v nginx || echo /usr/sbin/nginx)" -t -q -c "$out/nginx.conf" -p "$out"
  rm -rf "$out"
)

log "schema drift"
bash "$ROOT/deploy/local/schema-check.sh"

log "unit and integration tests"
TEST_DATABASE_URL="$(admin_url)" TEST_REDIS_URL="$(redis_url)" \
  cargo test --workspace --exclude e2e

log "end-to-end tests through the gateway"
cargo build --bins -p auth -p media-catalog -p meeting-user-sync -p social -p commerce -p testkit
# The end-to-end stack always talks to tmdb-sim and clerk-sim, whatever the developer exported.
unset TMDB_API_KEY TMDB_READ_ACCESS_TOKEN TMDB_BASE_URL TMDB_IMAGE_BASE_URL
unset CLERK_ISSUER CLERK_JWKS_URL CLERK_AUTHORIZED_PARTIES CLERK_API_URL CLERK_SECRET_KEY CLERK_WEBHOOK_SECRET
# A listener that accepts connections and never answers, for the gateway's 504.
python3 -c 'import socket,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 18099)); s.listen(64); time.sleep(3600)' &
echo $! > "$PIDS/slow-upstream.pid"
# An upstream that answers every request with a 502 of its own (and GET /count
# with how many it saw), behind an upstream group that lists it twice: the
# gateway must neither retry its 502 nor count it against the replica.
python3 -c 'import http.server, json
seen = 0
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        global seen
        seen += 1
        if self.path.endswith("/count"):
            body, status = str(seen).encode(), 200
        else:
            rid = self.headers.get("X-Request-Id", "")
            body = json.dumps({"error": {"code": "BAD_GATEWAY", "message": "the upstream'"'"'s own 502", "details": {}, "requestId": rid}}).encode()
            status = 502
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", 18097), H).serve_forever()' &
echo $! > "$PIDS/own-502-upstream.pid"
cat > "$RUN/e2e-gateway.conf" <<CONF
        location /__e2e/dead/ { proxy_pass http://127.0.0.1:1/; }
        location /__e2e/slow/ { proxy_pass http://127.0.0.1:18099/; proxy_read_timeout 1s; proxy_next_upstream off; }
        location /__e2e/limited/ { limit_req zone=per_ip; proxy_pass http://auth/; }
        location /__e2e/pair/ { proxy_pass http://e2e_pair/; }
CONF
cat > "$RUN/e2e-gateway-http.conf" <<CONF
    upstream e2e_pair {
        server 127.0.0.1:18097 max_fails=2 fail_timeout=30s;
        server 127.0.0.1:18097 max_fails=2 fail_timeout=30s;
    }
CONF
# Rate-limit counts of earlier local runs (Redis outlives them) would refuse
# this run's signups and resets from loopback.
if [ -z "${REDIS_URL+x}" ]; then
  redis-cli -p "$REDIS_PORT" --scan --pattern 'rl:*' | xargs -r redis-cli -p "$REDIS_PORT" del >/dev/null
fi
E2E_ADMIN_EMAIL="e2e-admin@example.com"
# schemathesis.sh fuzzes commerce's admin routes as an admin of its own.
SCHEMATHESIS_ADMIN_EMAIL="schemathesis-admin@example.com"
# Repeated local runs share Redis counts: the e2e stack allows more signups per
# hour, more catalog misses per address, and more videos and comments per account
# (schemathesis sends thousands from one address and one account).
# The gateway takes the client address from X-Forwarded-For of loopback peers,
# as it would from a load balancer's.
AUTH_RL_SIGNUP_PER_IP_PER_HOUR=1000 CATALOG_MISSES_PER_IP_PER_MIN=100000 \
  VIDEOS_PER_USER_PER_HOUR=100000 COMMENTS_PER_USER_PER_MIN=100000 UPLOADS_PER_USER_PER_HOUR=100000 \
  AUTH_BOOTSTRAP_ADMIN_EMAILS="$E2E_ADMIN_EMAIL,$SCHEMATHESIS_ADMIN_EMAIL" PROFILE=debug \
  GATEWAY_EXTRA_CONF="$RUN/e2e-gateway.conf" GATEWAY_EXTRA_HTTP_CONF="$RUN/e2e-gateway-http.conf" \
  GATEWAY_REAL_IP_FROM=127.0.0.1 \
  bash "$ROOT/deploy/local/stack.sh" start-services
python_venv "$RUN/tus-venv" "$ROOT/deploy/local/tus-requirements.txt" tuspy
E2E_ADMIN_EMAIL="$E2E_ADMIN_EMAIL" E2E_GATEWAY_URL="http://127.0.0.1:$GATEWAY_PORT" E2E_MAIL_DIR="$RUN/mail" \
  E2E_TUS_PYTHON="$RUN/tus-venv/bin/python" \
  cargo test -p e2e --tests

log "contract: schemathesis against every service's OpenAPI document"
SCHEMATHESIS_ADMIN_EMAIL="$SCHEMATHESIS_ADMIN_EMAIL" SCHEMATHESIS_MAIL_DIR="$RUN/mail" \
  bash "$ROOT/deploy/local/schemathesis.sh"
