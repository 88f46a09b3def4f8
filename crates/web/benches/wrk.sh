#!/bin/sh
# Load figures with wrk against the real `sashiko serve` binary:
# 100,000 bugs and 5,000 series in a fresh PostgreSQL database, 50
# connections per URL. Usage: crates/web/benches/wrk.sh [path/to/sashiko]
# Needs wrk (apt-get install -y wrk) and psql; PGURL defaults to
# postgres://postgres@127.0.0.1:5432; CACHE_TTL_MS=0 turns the response
# cache off; POOL sets serve's --db-connections. Besides wrk's latency
# figures it prints the CPU time the server process and the database
# backends spent per request (independent of how busy the machine is)
# and the load average. The database is dropped at the end.
set -eu
SASHIKO=${1:-target/release/sashiko}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
DB=sashiko_web_wrk_$$
PORT=${PORT:-18181}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-50}
TICKS=$(getconf CLK_TCK)
psql -q "$PGURL/postgres" -c "CREATE DATABASE $DB"
cleanup() {
    [ -n "${SERVER:-}" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null || true
    psql -q "$PGURL/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
}
trap cleanup EXIT
# CPU clock ticks (user + system) of the given processes.
ticks() {
    for pid in "$@"; do awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || true; done | awk '{s += $1} END {print s + 0}'
}
backends() {
    psql -Atq "$PGURL/postgres" -c "SELECT pid FROM pg_stat_activity WHERE datname = '$DB'"
}
"$SASHIKO" db migrate --db "$PGURL/$DB" >/dev/null
psql -q "$PGURL/$DB" -f "$(dirname "$0")/load_data.sql"
# The planner cost of random reads when everything is cached (see deploy/README.md).
psql -q "$PGURL/$DB" -c "ALTER DATABASE $DB SET random_page_cost = 1.1"
"$SASHIKO" serve --db "$PGURL/$DB" --listen 127.0.0.1:$PORT --cache-ttl-ms "${CACHE_TTL_MS:-1000}" \
    --db-connections "${POOL:-8}" 2>/dev/null &
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
    wrk -t2 -c"$CONNECTIONS" -d2s "http://127.0.0.1:$PORT$path" >/dev/null # warm up, fill the pool
    pids=$(backends)
    server_before=$(ticks "$SERVER")
    snapshot=$(for pid in $pids; do printf '%s ' "$pid:$(ticks "$pid")"; done)
    load=$(cut -d' ' -f1 /proc/loadavg)
    out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "http://127.0.0.1:$PORT$path")
    server_after=$(ticks "$SERVER")
    # Backends that went away during the run are left out on both sides.
    kept=""
    for pid in $pids; do [ -e "/proc/$pid/stat" ] && kept="$kept $pid"; done
    # shellcheck disable=SC2086
    db_after=$(ticks $kept)
    db_before=0
    for pair in $snapshot; do
        case " $kept " in *" ${pair%%:*} "*) db_before=$((db_before + ${pair#*:}));; esac
    done
    requests=$(echo "$out" | awk '/requests in/ {print $1}')
    echo "== $path (load average at start: $load)"
    echo "$out" | grep -E 'Latency|50%|90%|99%|Requests/sec|Non-2xx' || true
    awk -v s=$((server_after - server_before)) -v d=$((db_after - db_before)) -v n="$requests" -v t="$TICKS" \
        'BEGIN {printf "  CPU per request: server %.3f ms, database %.3f ms (%d requests)\n", s * 1000 / t / n, d * 1000 / t / n, n}'
done
