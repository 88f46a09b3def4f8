#!/bin/sh
# Load figures with wrk against the real `sashiko serve` binary:
# 100,000 bugs and 5,000 series in a fresh PostgreSQL database, 50
# connections per URL. Usage: crates/web/benches/wrk.sh [path/to/sashiko]
# Needs wrk (apt-get install -y wrk) and psql; PGURL defaults to
# postgres://postgres@127.0.0.1:5432; CACHE_TTL_MS=0 turns the response
# cache off. The database is dropped at the end.
set -eu
SASHIKO=${1:-target/release/sashiko}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
DB=sashiko_web_wrk_$$
PORT=${PORT:-18181}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-50}
psql -q "$PGURL/postgres" -c "CREATE DATABASE $DB"
cleanup() {
    [ -n "${SERVER:-}" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null || true
    psql -q "$PGURL/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
}
trap cleanup EXIT
"$SASHIKO" db migrate --db "$PGURL/$DB" >/dev/null
psql -q "$PGURL/$DB" -f "$(dirname "$0")/load_data.sql"
# What autovacuum does to a settled table, and the planner cost of random
# reads when everything is cached (see deploy/README.md).
psql -q "$PGURL/$DB" -c "ALTER DATABASE $DB SET random_page_cost = 1.1"
"$SASHIKO" serve --db "$PGURL/$DB" --listen 127.0.0.1:$PORT --cache-ttl-ms "${CACHE_TTL_MS:-1000}" 2>/dev/null &
SERVER=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 1; done
# serve folded the bulk load's bug_counts rows when it started; settle the
# tables as autovacuum would.
sleep 2
psql -q "$PGURL/$DB" -c "VACUUM (ANALYZE)"
for path in \
    "/subsystem/mm" \
    "/subsystem/mm?view=all&sort=severity&preexisting=yes" \
    "/subsystem/mm?view=needs-action&severity=high&sort=file" \
    "/subsystem/mm?view=all&age=30&sort=updated" \
    "/api/patchset?id=reviewed-2@bench" \
    "/api/bugs?subsystem=mm&state=open&limit=100" \
    "/api/bugs?limit=100" \
    "/api/subsystems" \
    "/"; do
    echo "== $path (load average before: $(cut -d' ' -f1-3 /proc/loadavg))"
    wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "http://127.0.0.1:$PORT$path" | grep -E 'Latency|50%|90%|99%|Requests/sec|requests in|Non-2xx'
done
