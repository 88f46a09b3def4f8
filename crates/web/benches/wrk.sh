#!/bin/sh
# Load figures with wrk against the real `sashiko serve` binary:
# 100,000 bugs and 5,000 series in a fresh PostgreSQL database, 50
# connections. Usage: crates/web/benches/wrk.sh [path/to/sashiko]
#
# For each cache setting in CACHE_TTLS (default "0 1000": the response
# cache off, then on with a 1 s lifetime) it starts serve, then runs wrk on
# each single URL below and on the mix (mix.lua: requests spread over
# thousands of distinct subsystem pages, filters, sorts, deep pages and
# API queries, which a cache of single URLs cannot answer). Besides wrk's
# latency figures it prints the CPU time the server process and the
# database backends spent per request (from /proc before and after; less
# affected by how busy the machine is than latency) and the load average
# at the start and end of each run (the machine may be shared).
#
# Needs wrk (apt-get install -y wrk) and psql. PGURL defaults to
# postgres://postgres@127.0.0.1:5432; POOL sets serve's --db-connections;
# DURATION (10s) and CONNECTIONS (50) the wrk runs; ONLY=mix runs only
# the mix, ONLY=single only the single URLs. The database is dropped at
# the end.
set -eu
SASHIKO=${1:-target/release/sashiko}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
DB=sashiko_web_wrk_$$
PORT=${PORT:-18181}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-50}
CACHE_TTLS=${CACHE_TTLS:-0 1000}
ONLY=${ONLY:-}
TICKS=$(getconf CLK_TCK)
BENCHES=$(cd "$(dirname "$0")" && pwd)
psql -q "$PGURL/postgres" -c "CREATE DATABASE $DB"
SERVER=
stop_server() {
    if [ -n "$SERVER" ]; then
        kill "$SERVER" 2>/dev/null || true
        wait "$SERVER" 2>/dev/null || true
        SERVER=
    fi
}
cleanup() {
    stop_server
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
load_average() {
    cut -d' ' -f1-3 /proc/loadavg
}
# run NAME WRK-ARGUMENTS...: one measured wrk run after a warm-up.
run() {
    name=$1
    shift
    wrk -t2 -c"$CONNECTIONS" -d2s "$@" >/dev/null # warm up, fill the pool
    pids=$(backends)
    server_before=$(ticks "$SERVER")
    snapshot=$(for pid in $pids; do printf '%s ' "$pid:$(ticks "$pid")"; done)
    load_start=$(load_average)
    out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "$@")
    server_after=$(ticks "$SERVER")
    load_end=$(load_average)
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
    echo "== $name (cache ttl ${ttl} ms; load average $load_start at start, $load_end at end)"
    echo "$out" | grep -E 'Latency  |50%|90%|99%|Requests/sec|Non-2xx|Socket errors' || true
    awk -v s=$((server_after - server_before)) -v d=$((db_after - db_before)) -v n="$requests" -v t="$TICKS" \
        'BEGIN {printf "  CPU per request: server %.3f ms, database %.3f ms (%d requests)\n", s * 1000 / t / n, d * 1000 / t / n, n}'
}
"$SASHIKO" db migrate --db "$PGURL/$DB" >/dev/null
psql -q "$PGURL/$DB" -f "$BENCHES/load_data.sql"
# The planner cost of random reads when everything is cached (see deploy/README.md).
psql -q "$PGURL/$DB" -c "ALTER DATABASE $DB SET random_page_cost = 1.1"
settled=
for ttl in $CACHE_TTLS; do
    "$SASHIKO" serve --db "$PGURL/$DB" --listen 127.0.0.1:$PORT --cache-ttl-ms "$ttl" \
        --db-connections "${POOL:-8}" 2>/dev/null &
    SERVER=$!
    for _ in 1 2 3 4 5 6 7 8 9 10; do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 1; done
    if [ -z "$settled" ]; then
        # serve folded the bulk load's bug_counts rows when it started;
        # settle the tables as autovacuum would.
        sleep 2
        psql -q "$PGURL/$DB" -c "VACUUM (ANALYZE)"
        settled=yes
    fi
    if [ "$ONLY" != mix ]; then
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
            run "$path" "http://127.0.0.1:$PORT$path"
        done
    fi
    if [ "$ONLY" != single ]; then
        run "mix of distinct URLs (mix.lua)" -s "$BENCHES/mix.lua" "http://127.0.0.1:$PORT"
    fi
    stop_server
done
