#!/usr/bin/env bash
# Schemathesis against each service of a running stack: test cases generated from
# the service's own GET /openapi.json, every check (`--checks all`), a fixed seed.
# Meant for deploy/local/test.sh once the stack is up; exits non-zero when any
# service has a finding, after printing one summary line per run.
#
# Settings:
#   SCHEMATHESIS_SEED          seed of every run (default 20261201)
#   SCHEMATHESIS_MAX_EXAMPLES  test cases per operation in the fuzzing phase, and scenarios
#                              in the stateful one (default 100). The coverage phase tries
#                              every boundary and type of the schema whatever this says;
#                              100 found every kind of finding that 200 did (50 missed one),
#                              and all runs take about a minute on 2 cores, leaving room for
#                              them to get slower once more generated requests pass validation.
#   SCHEMATHESIS_AUTH_PORT, SCHEMATHESIS_MEDIA_CATALOG_PORT, SCHEMATHESIS_SOCIAL_PORT,
#   SCHEMATHESIS_MEETING_USER_SYNC_PORT, SCHEMATHESIS_COMMERCE_PORT
#                              where the services listen (default 8081, 8082, 8083, 8084, 8085)
#   SCHEMATHESIS_ADMIN_EMAIL   an address in the stack's AUTH_BOOTSTRAP_ADMIN_EMAILS (default
#                              schemathesis-admin@example.com; test.sh's stack lists it)
#   SCHEMATHESIS_MAIL_DIR      where the stack's auth writes mail (default .run/mail), for
#                              the admin's verification code
#   SCHEMATHESIS_HOST          their address (default 127.0.0.1)
#   SCHEMATHESIS_REPORT_DIR    where reports go (default .run/schemathesis)
#   SCHEMATHESIS_RUNS          the runs to make, by name, space-separated (default all:
#                              auth media-catalog meeting-user-sync social commerce
#                              auth-logout auth-revoke-session auth-logout-all)
#
# A fresh user is signed up at auth; every run gets its own session of that user
# (a login), since some auth operations end the session they are called with.
# Those (POST /api/auth/logout, DELETE /api/auth/sessions/{id}, POST
# /api/auth/logout-all) are tested in runs of their own, logout-all last because it
# ends every session of the user. /internal is excluded everywhere: the gateway
# never routes it and it takes service tokens, not user tokens.
#
# commerce's writes are the admin role's only, so its run has an admin's token:
# with a user's, every generated write would stop at 403 and the handlers behind
# it would never be reached. The admin is a bootstrap admin of the stack
# (SCHEMATHESIS_ADMIN_EMAIL): signed up the first time, with a password kept in
# .run/secrets (the account outlives runs in .run/pg), and promoted when its
# address is verified by the mailed code, as auth promotes bootstrap admins.
#
# Signing up counts against AUTH_RL_SIGNUP_PER_IP_PER_HOUR (20 by default, 1000 in
# test.sh's stack), and the auth run itself sends many signups and logins; a stack
# with the default limits may answer 429 to this script's own signup for an hour.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SEED="${SCHEMATHESIS_SEED:-20261201}"
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-100}"
HOST="${SCHEMATHESIS_HOST:-127.0.0.1}"
AUTH_PORT="${SCHEMATHESIS_AUTH_PORT:-${SERVICE_PORT[auth]}}"
MEDIA_CATALOG_PORT="${SCHEMATHESIS_MEDIA_CATALOG_PORT:-${SERVICE_PORT[media-catalog]}}"
MEETING_USER_SYNC_PORT="${SCHEMATHESIS_MEETING_USER_SYNC_PORT:-${SERVICE_PORT[meeting-user-sync]}}"
SOCIAL_PORT="${SCHEMATHESIS_SOCIAL_PORT:-${SERVICE_PORT[social]}}"
COMMERCE_PORT="${SCHEMATHESIS_COMMERCE_PORT:-${SERVICE_PORT[commerce]}}"
ADMIN_EMAIL="${SCHEMATHESIS_ADMIN_EMAIL:-schemathesis-admin@example.com}"
MAIL_DIR="${SCHEMATHESIS_MAIL_DIR:-$RUN/mail}"
REPORTS="${SCHEMATHESIS_REPORT_DIR:-$RUN/schemathesis}"
VENV="$RUN/schemathesis-venv"
REQUIREMENTS="$ROOT/deploy/local/schemathesis-requirements.txt"
# The per-operation exceptions (statuses only the server can decide), each explained there.
CONFIG="$ROOT/deploy/local/schemathesis.toml"
AUTH_URL="http://$HOST:$AUTH_PORT"

[[ "$SEED" =~ ^[0-9]+$ ]] || die "SCHEMATHESIS_SEED must be a non-negative integer, not '$SEED'"
[[ "$MAX_EXAMPLES" =~ ^[1-9][0-9]*$ ]] || die "SCHEMATHESIS_MAX_EXAMPLES must be a positive integer, not '$MAX_EXAMPLES'"


# Reads one field of the JSON on stdin: json_field accessToken
json_field() {
  "$VENV/bin/python" -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

# POSTs JSON to auth; answers with the body on success. Waits once for a 429's
# Retry-After (at most a minute): the auth run of a previous call may have used
# up the per-minute login limit.
auth_post() {
  local path="$1" body="$2" out="$RUN/schemathesis-auth-response.json" code attempt retry
  for attempt in 1 2; do
    code="$(curl -sS -o "$out" -D "$out.headers" -w '%{http_code}' -X POST "$AUTH_URL$path" \
      -H 'content-type: application/json' -d "$body")" || die "auth is not reachable at $AUTH_URL"
    case "$code" in
      200|201) cat "$out"; rm -f "$out" "$out.headers"; return 0 ;;
      429)
        retry="$(tr -d '\r' < "$out.headers" | awk -F': *' 'tolower($1)=="retry-after" {print $2}')"
        if [ "$attempt" = 1 ] && [[ "$retry" =~ ^[0-9]+$ ]] && [ "$retry" -le 60 ]; then
          log "auth rate-limited POST $path; waiting ${retry}s"
          sleep "$((retry + 1))"
          continue
        fi
        die "auth answered 429 to POST $path ($(cat "$out")); raise the AUTH_RL_* limits of the stack or wait" ;;
      *) die "auth answered $code to POST $path: $(cat "$out")" ;;
    esac
  done
}

# A bootstrap admin's access token (see the header); prints it.
admin_token() {
  local secret="$RUN/secrets/schemathesis_admin" password code login role access since
  mkdir -p "$RUN/secrets"; chmod 700 "$RUN/secrets"
  [ -s "$secret" ] || { head -c 18 /dev/urandom | base64 | tr -d '/+=\n' > "$secret"; chmod 600 "$secret"; }
  password="st-admin-$(cat "$secret")"
  code="$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$AUTH_URL/api/auth/signup" -H 'content-type: application/json' \
    -d "{\"name\":\"Schemathesis Admin\",\"email\":\"$ADMIN_EMAIL\",\"password\":\"$password\"}")" \
    || die "auth is not reachable at $AUTH_URL"
  case "$code" in
    201|409) ;;
    *) die "auth answered $code to the signup of $ADMIN_EMAIL" ;;
  esac
  login="$(auth_post /api/auth/login "{\"email\":\"$ADMIN_EMAIL\",\"password\":\"$password\"}")"
  role="$("$VENV/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["user"]["role"])' <<<"$login")"
  if [ "$role" != admin ]; then
    access="$(json_field accessToken <<<"$login")"
    since="$(date +%s)"
    code="$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$AUTH_URL/api/auth/email/verify/request" \
      -H "Authorization: Bearer $access")" || die "auth is not reachable at $AUTH_URL"
    [ "$code" = 202 ] || die "auth answered $code to the verification request of $ADMIN_EMAIL"
    # The mail is written after the answer: wait for it (at most 10 s).
    code="$("$VENV/bin/python" - "$MAIL_DIR" "$ADMIN_EMAIL" "$since" <<'PY'
import pathlib, re, sys, time
folder, to, since = pathlib.Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]) - 1
for _ in range(100):
    mails = sorted((p for p in folder.glob("*.eml") if p.stat().st_mtime >= since), key=lambda p: p.stat().st_mtime)
    for mail in reversed(mails):
        text = mail.read_text(errors="replace")
        found = re.search(r"verification code is\D*?(\d{6})(?!\d)", text)
        if to in text and found:
            print(found.group(1))
            sys.exit()
    time.sleep(0.1)
sys.exit(f"no verification mail to {to} in {folder}")
PY
)" || die "no verification code for $ADMIN_EMAIL (is SCHEMATHESIS_MAIL_DIR the stack's MAIL_DIR?)"
    code="$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$AUTH_URL/api/auth/email/verify" \
      -H "Authorization: Bearer $access" -H 'content-type: application/json' -d "{\"code\":\"$code\"}")" \
      || die "auth is not reachable at $AUTH_URL"
    [ "$code" = 200 ] || die "auth answered $code to the verification code of $ADMIN_EMAIL"
    login="$(auth_post /api/auth/login "{\"email\":\"$ADMIN_EMAIL\",\"password\":\"$password\"}")"
    role="$("$VENV/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["user"]["role"])' <<<"$login")"
    [ "$role" = admin ] || die "$ADMIN_EMAIL is not an admin: start the stack with AUTH_BOOTSTRAP_ADMIN_EMAILS=$ADMIN_EMAIL"
  fi
  json_field accessToken <<<"$login"
}

python_venv "$VENV" "$REQUIREMENTS" schemathesis
for port in "$AUTH_PORT" "$MEDIA_CATALOG_PORT" "$MEETING_USER_SYNC_PORT" "$SOCIAL_PORT" "$COMMERCE_PORT"; do
  curl -fsS -o /dev/null "http://$HOST:$port/health/ready" \
    || die "no service ready at http://$HOST:$port (start the stack first)"
done

# One user, one session per run, all opened before the first run: the auth run
# sends enough logins to hit the per-IP login limit for a minute.
email="schemathesis-$(date +%s)-$$-$RANDOM@example.com"
password="st-$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
signup="$(auth_post /api/auth/signup "{\"name\":\"Schemathesis\",\"email\":\"$email\",\"password\":\"$password\"}")"
declare -A TOKEN
TOKEN[auth]="$(json_field accessToken <<<"$signup")"
for run in media-catalog meeting-user-sync social auth-logout auth-revoke-session auth-logout-all; do
  TOKEN[$run]="$(auth_post /api/auth/login "{\"email\":\"$email\",\"password\":\"$password\"}" | json_field accessToken)"
done
TOKEN[commerce]="$(admin_token)"
log "signed up $email, admin $ADMIN_EMAIL; seed $SEED, max examples $MAX_EXAMPLES; reports in $REPORTS"

# The operations that end the session they are called with; see the header.
SESSION_ENDERS=("POST /api/auth/logout" "DELETE /api/auth/sessions/{id}" "POST /api/auth/logout-all")
auth_main_filters=()
for op in "${SESSION_ENDERS[@]}"; do auth_main_filters+=(--exclude-name "$op"); done

ALL_RUNS="auth media-catalog meeting-user-sync social commerce auth-logout auth-revoke-session auth-logout-all"
RUNS="${SCHEMATHESIS_RUNS:-$ALL_RUNS}"
for run in $RUNS; do
  [[ " $ALL_RUNS " == *" $run "* ]] || die "SCHEMATHESIS_RUNS: no run named '$run' (runs: $ALL_RUNS)"
done

summaries=()
failed=0
# run_schemathesis RUN PORT [filter options...]; skips runs SCHEMATHESIS_RUNS leaves out.
run_schemathesis() {
  local run="$1" port="$2" dir="$REPORTS/$1" rc=0 started elapsed
  shift 2
  [[ " $RUNS " == *" $run "* ]] || return 0
  rm -rf "$dir"; mkdir -p "$dir"
  local cmd=("$VENV/bin/schemathesis" --config-file "$CONFIG" run "http://$HOST:$port/openapi.json"
    --url "http://$HOST:$port"
    --checks all
    --seed "$SEED"
    --generation-database none
    --max-examples "$MAX_EXAMPLES"
    --continue-on-failure
    --workers 1
    -H "Authorization: Bearer ${TOKEN[$run]}"
    --exclude-path-regex '^/internal'
    "$@"
    --no-color
    --report-json-path "$dir/report.json"
    --report-junit-path "$dir/junit.xml"
    --report-ndjson-path "$dir/events.ndjson")
  log "schemathesis: $run (http://$HOST:$port)"
  started="$(date +%s.%N)"
  # Run from the report folder: no schemathesis.toml of a parent folder applies by accident.
  (cd "$dir" && PYTHONPATH="$ROOT/deploy/local" SCHEMATHESIS_HOOKS=schemathesis_hooks "${cmd[@]}") >"$dir/output.txt" 2>&1 || rc=$?
  elapsed="$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')"
  [ "$rc" -eq 0 ] || failed=1
  summaries+=("$("$VENV/bin/python" - "$run" "$rc" "$elapsed" "$dir" <<'PY'
import json, sys
run, rc, elapsed, folder = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
try:
    report = json.load(open(f"{folder}/report.json"))
except (OSError, ValueError):
    print(f"{run:20} exit {rc}: no report (see {folder}/output.txt)")
    sys.exit()
cases = report["test_cases"]
kinds = ", ".join(f"{f['code']} {f['title']} x{f['count']}" for f in report["failures"])
errors = sum(e["count"] for e in report["errors"])
status = "ok" if rc == 0 else ("findings" if rc == 1 else "error")
line = f"{run:20} {status:8} {cases['unique_failures']:3} unique failures, {errors} errors, {cases['generated']} cases, {elapsed}s"
print(line + (f"\n{'':29}{kinds}" if kinds else ""))
PY
)")
}

# Revoking runs last (see the header); each run has a session of its own.
run_schemathesis auth "$AUTH_PORT" "${auth_main_filters[@]}"
run_schemathesis media-catalog "$MEDIA_CATALOG_PORT"
run_schemathesis meeting-user-sync "$MEETING_USER_SYNC_PORT"
# The notification stream stays open for the life of the token: a fuzzer waiting
# for its end would wait 15 minutes per case. Its tests are social's own.
run_schemathesis social "$SOCIAL_PORT" --exclude-name "GET /api/notifications/stream"
# As an admin (see the header): every route, drafts and writes included.
run_schemathesis commerce "$COMMERCE_PORT"
run_schemathesis auth-logout "$AUTH_PORT" --include-name "POST /api/auth/logout"
run_schemathesis auth-revoke-session "$AUTH_PORT" --include-name "DELETE /api/auth/sessions/{id}"
run_schemathesis auth-logout-all "$AUTH_PORT" --include-name "POST /api/auth/logout-all"

echo
echo "schemathesis $("$VENV/bin/schemathesis" --version | awk '{print $NF}'), seed $SEED, max examples $MAX_EXAMPLES (reports: $REPORTS/<run>/output.txt)"
printf '  %s\n' "${summaries[@]}"
[ "$failed" -eq 0 ] || die "schemathesis found problems (details in $REPORTS/<run>/output.txt)"
log "schemathesis: no findings"
