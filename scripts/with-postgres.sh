#!/usr/bin/env bash
# Runs a command next to a throwaway PostgreSQL, then stops and deletes it.
#
#   scripts/with-postgres.sh COMMAND [ARGUMENT…]
#   scripts/with-postgres.sh swift test --skip-build --filter InviteStoreTests
#
# `initdb` makes a cluster in a new temporary directory; the server listens on 127.0.0.1 on a
# free port (its Unix socket stays inside that directory, so it never meets a system cluster),
# gets a database `invitelink` owned by the superuser `invitelink` (trust authentication, on
# loopback only), and the command runs with
#
#   INVITELINK_TEST_POSTGRES_URL=postgres://invitelink@127.0.0.1:PORT/invitelink
#
# exported, and INVITELINK_TEST_POSTGRES_CTL, a command taking `stop` or `start` for scripts that
# drill an outage. Whatever the command does (fails, is interrupted), the EXIT trap stops the server
# and deletes the directory; the script exits with the command's status.
#
# initdb and pg_ctl come from the newest /usr/lib/postgresql/*/bin, else from PATH (Debian:
# `apt-get install postgresql`; `make deps` does it). initdb refuses to run as root, so as root
# the cluster belongs to the `postgres` user (Debian's package makes it), else to a system user
# `invitelink-pg` created for it, and the server commands run as that user through runuser.
#
# Settings: PG_MAX_CONNECTIONS (default 500: each test and each instance opens its own pool, and
# `swift test` runs the tests at once: 300 ran out in one run of 362 tests),
# PG_EXTRA_OPTIONS (more `-c name=value` for the server, e.g. "-c fsync=off" for a faster run).
set -euo pipefail

SCRIPT=$(basename "$0")
fail() { echo "$SCRIPT: $*" >&2; exit 2; }

[ $# -gt 0 ] || fail "usage: $SCRIPT COMMAND [ARGUMENT…]"

# --- Find the server binaries --------------------------------------------------------------------
PGBIN=""
for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then PGBIN=$dir; break; fi
done
if [ -z "$PGBIN" ] && command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    PGBIN=$(dirname "$(command -v initdb)")
fi
[ -n "$PGBIN" ] || fail "no initdb/pg_ctl in /usr/lib/postgresql/*/bin or PATH (Debian: apt-get install postgresql)"

# --- Who runs the server ------------------------------------------------------------------------
as_owner=()
OWNER=$(id -un)
if [ "$(id -u)" = 0 ]; then
    if id -u postgres >/dev/null 2>&1; then
        OWNER=postgres
    else
        OWNER=invitelink-pg
        id -u "$OWNER" >/dev/null 2>&1 ||
            useradd --system --no-create-home --shell /usr/sbin/nologin "$OWNER" ||
            fail "cannot create the user $OWNER to run PostgreSQL as (initdb refuses root)"
    fi
    if command -v runuser >/dev/null; then
        as_owner=(runuser -u "$OWNER" --)
    else
        as_owner=(su -s /bin/sh "$OWNER" -c '"$0" "$@"')
    fi
fi

# The owner must reach the directory: a root-only TMPDIR (/root/tmp, say) would not do.
BASE=${TMPDIR:-/tmp}
if [ ${#as_owner[@]} -gt 0 ] && ! "${as_owner[@]}" test -x "$BASE" 2>/dev/null; then
    BASE=/tmp
fi
WORK=$(mktemp -d "$BASE/invitelink-pg.XXXXXX")
DATA=$WORK/data
mkdir -p "$WORK/socket"
[ ${#as_owner[@]} -gt 0 ] && chown -R "$OWNER" "$WORK"

STARTED=0
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    if [ "$STARTED" = 1 ]; then
        "${as_owner[@]}" "$PGBIN/pg_ctl" -D "$DATA" -m fast -w -t 30 stop >/dev/null 2>&1 ||
            "${as_owner[@]}" "$PGBIN/pg_ctl" -D "$DATA" -m immediate -w -t 10 stop >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --- Make and start the cluster ------------------------------------------------------------------
"${as_owner[@]}" "$PGBIN/initdb" -D "$DATA" -U invitelink --auth=trust --encoding=UTF8 --locale=C --no-sync \
    >"$WORK/initdb.log" 2>&1 || { cat "$WORK/initdb.log" >&2; fail "initdb failed"; }

# A port found free can be taken before the server binds it: try a few.
PORT=""
for _ in 1 2 3 4 5; do
    candidate=$(free_port)
    options="-c listen_addresses=127.0.0.1 -p $candidate -k $WORK/socket"
    options+=" -c max_connections=${PG_MAX_CONNECTIONS:-500} ${PG_EXTRA_OPTIONS:-}"
    if "${as_owner[@]}" "$PGBIN/pg_ctl" -D "$DATA" -l "$WORK/server.log" -w -t 60 -o "$options" start >/dev/null 2>&1; then
        PORT=$candidate
        STARTED=1
        break
    fi
    # pg_ctl may have left a half-started server behind.
    "${as_owner[@]}" "$PGBIN/pg_ctl" -D "$DATA" -m immediate -w stop >/dev/null 2>&1 || true
done
[ -n "$PORT" ] || { tail -n 20 "$WORK/server.log" >&2 || true; fail "PostgreSQL did not start"; }

"${as_owner[@]}" "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U invitelink invitelink ||
    fail "createdb failed"

# An outage drill for test scripts: "$INVITELINK_TEST_POSTGRES_CTL" stop|start takes this server
# down and brings it back on the same port (the EXIT trap stops it either way).
{
    echo '#!/usr/bin/env bash'
    echo 'case "${1:-}" in'
    printf '  stop) exec '; printf '%q ' "${as_owner[@]}" "$PGBIN/pg_ctl" -D "$DATA" -m fast -w -t 30 stop; echo ' >/dev/null ;;'
    printf '  start) exec '; printf '%q ' "${as_owner[@]}" "$PGBIN/pg_ctl" -D "$DATA" -l "$WORK/server.log" -w -t 60 -o "$options" start; echo ' >/dev/null ;;'
    echo '  *) echo "usage: $0 stop|start" >&2; exit 2 ;;'
    echo 'esac'
} >"$WORK/pgctl"
chmod 755 "$WORK/pgctl"

export INVITELINK_TEST_POSTGRES_URL="postgres://invitelink@127.0.0.1:$PORT/invitelink"
export INVITELINK_TEST_POSTGRES_CTL="$WORK/pgctl"
echo "$SCRIPT: PostgreSQL $("$PGBIN/pg_ctl" --version | awk '{print $3}') on 127.0.0.1:$PORT (INVITELINK_TEST_POSTGRES_URL set)" >&2

# --- Run the command -----------------------------------------------------------------------------
# In the background (keeping stdin), so that a TERM or INT sent to this script reaches the command
# at once and the cleanup follows as soon as it ends, instead of after it finished on its own.
set +e
"$@" <&0 &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM
trap 'kill -INT "$child" 2>/dev/null' INT
wait "$child"
status=$?
# A trapped signal ends `wait` early (status > 128): wait again for the command's own status.
while kill -0 "$child" 2>/dev/null; do
    wait "$child"
    status=$?
done
exit "$status"
