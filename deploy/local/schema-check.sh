#!/usr/bin/env bash
# For every service: apply its migrations to a scratch database, revert and
# re-apply them all (each down.sql must undo its up.sql), then fail if
# `diesel print-schema` differs from the committed src/db/schema.rs.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

DIESEL="$RUN/tools/bin/diesel"
if [ ! -x "$DIESEL" ]; then
  log "installing diesel_cli into .run/tools (once)"
  cargo install diesel_cli --version '^2.2' --no-default-features --features postgres --locked \
    --root "$RUN/tools" >"$LOGS/diesel-install.log" 2>&1 || die "diesel_cli install failed (see $LOGS/diesel-install.log)"
fi

for svc in "${SERVICES[@]}"; do
  db="schema_check_${svc//-/_}"
  url="$(db_url "$db")"
  psql "$(admin_url)" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
  "$DIESEL" migration run --migration-dir "migrations/$svc" --database-url "$url" >/dev/null
  "$DIESEL" migration redo --all --migration-dir "migrations/$svc" --database-url "$url" >/dev/null \
    || die "$svc: a down.sql does not revert its up.sql"
  "$DIESEL" print-schema --database-url "$url" --config-file "services/$svc/diesel.toml" > "$RUN/schema-$svc.rs"
  psql "$(admin_url)" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
  if ! diff -u "services/$svc/src/db/schema.rs" "$RUN/schema-$svc.rs"; then
    die "$svc: src/db/schema.rs differs from the migrations (diesel print-schema above)"
  fi
  log "$svc: schema.rs matches the migrations; migrations revert cleanly"
done
