#!/usr/bin/env bash
# Starts (up) or stops (down) the project-local PostgreSQL and Redis.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
case "${1:-up}" in
  up) ensure_packages; start_postgres; start_redis; create_databases ;;
  down) stop_pidfile "$PIDS/redis.pid" redis; stop_postgres ;;
  *) die "usage: infra.sh up|down" ;;
esac
