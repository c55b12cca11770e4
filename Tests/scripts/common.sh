# Sourced by every test script: the names, the CLI binary, failure reporting, a watchdog and the
# helpers the scripts share. Sets SCRIPT, ROOT and INVITELINK ($INVITELINK, else
# .build/debug/invitelink, made absolute).

SCRIPT=$(basename "$0")
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
INVITELINK=${INVITELINK:-$ROOT/.build/debug/invitelink}
case $INVITELINK in /*) ;; *) INVITELINK=$PWD/$INVITELINK ;; esac

fail() {
    echo "$SCRIPT: FAIL: $*" >&2
    exit 1
}

note() {
    echo "$SCRIPT: $*"
}

[ -x "$INVITELINK" ] || fail "no CLI binary at $INVITELINK (build it, or set INVITELINK)"
command -v python3 >/dev/null || fail "python3 is required"

# `start_watchdog SECONDS` ends the calling script after SECONDS (TERM to its children, then to
# the script, whose EXIT trap cleans up), so that nothing here can hang a build. Sets WATCHDOG
# to the watchdog's pid: kill it in the cleanup. The sleeper's output goes nowhere, so that a
# caller reading the script's output through a pipe is not kept waiting by it.
start_watchdog() {
    local limit=$1
    (
        trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
        sleep "$limit" </dev/null >/dev/null 2>&1 &
        sleeper=$!
        wait "$sleeper"
        echo "$SCRIPT: FAIL: still running after ${limit}s" >&2
        # End the script's own children first (by parent id), so none outlives it holding a
        # pipe; this watchdog is one of them and ignores the signal.
        trap '' TERM
        pkill -TERM -P $$ 2>/dev/null || true
        kill -TERM $$
    ) &
    WATCHDOG=$!
}

# `stop_processes PID…`: SIGTERM to each, up to 5 s each to exit, then SIGKILL; reaps them.
stop_processes() {
    local pid
    for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "$@"; do
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
        { wait "$pid"; } 2>/dev/null || true
    done
}

# `finish_work STATUS`: after a failure (STATUS not 0), the tail of every $WORK/serve*.log on
# stderr; then $WORK is removed, or kept and named when KEEP_WORK is set.
finish_work() {
    local log
    if [ "$1" != 0 ]; then
        for log in "$WORK"/serve*.log; do [ -f "$log" ] && { echo "--- $log (tail)"; tail -n 20 "$log"; } >&2; done
    fi
    if [ -n "${KEEP_WORK:-}" ]; then note "kept $WORK"; else rm -rf "$WORK"; fi
}

# The CLI with the script's KEYS and DB, each run bounded to 30 s. Arguments after a `--` stay
# after it, so a kid that begins with "-" is not read as an option: `il keys promote -- "$kid"`.
il() {
    local options=() positional=() after=0 argument
    for argument in "$@"; do
        if [ $after = 0 ] && [ "$argument" = -- ]; then after=1; continue; fi
        if [ $after = 0 ]; then options+=("$argument"); else positional+=("$argument"); fi
    done
    timeout 30 "$INVITELINK" "${options[@]}" --keys-dir "$KEYS" --database "$DB" -- "${positional[@]}"
}

# Reads one member of a JSON object on stdin: json_get NAME.
json_get() {
    python3 -c 'import json, sys; v = json.load(sys.stdin)[sys.argv[1]]; print("null" if v is None else (str(v).lower() if isinstance(v, bool) else v))' "$1"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# `wait_ready BASE PID LOG`: waits up to 20 s for BASE/readyz to answer 200; fails at once,
# with the tail of LOG, if the server PID exits first.
wait_ready() {
    local base=$1 pid=$2 log=$3
    for _ in $(seq 1 200); do
        if curl -sf --max-time 1 "$base/readyz" >/dev/null 2>&1; then return 0; fi
        kill -0 "$pid" 2>/dev/null || fail "the server at $base exited at start: $(tail -n 5 "$log")"
        sleep 0.1
    done
    fail "the server at $base was not ready within 20 s"
}

# `seed_customers N JOBS`: customers c1…cN with a global admin and a global-admin credential
# each, JOBS CLI runs at a time; credential I's secret goes to $WORK/secrets/cI.
seed_customers() {
    local count=$1 jobs=$2
    mkdir -p "$WORK/secrets"
    export INVITELINK KEYS DB WORK
    # shellcheck disable=SC2016 # expanded by the inner bash
    seq 1 "$count" | xargs -P "$jobs" -I{} bash -c '
        i=$1
        timeout 30 "$INVITELINK" customers add --id "c$i" --name "Customer $i" --domain "c$i.example" \
            --admin-email "admin@c$i.example" --keys-dir "$KEYS" --database "$DB" >/dev/null || exit 1
        timeout 30 "$INVITELINK" credentials create --customer "c$i" --role global-admin --json \
            --keys-dir "$KEYS" --database "$DB" \
            | python3 -c "import json, sys; print(json.load(sys.stdin)[\"secret\"])" >"$WORK/secrets/c$i" || exit 1
    ' _ {} || fail "seeding customers failed"
}

# `begin_server_test NAME`: what a script that starts servers begins with. Sets WORK (a new
# temporary directory), KEYS and DB (a keyring and a SQLite file in it) and SERVER_PID (empty;
# set it to the server you start, or use start_server), starts the watchdog (LIMIT seconds,
# default 120) and traps EXIT to stop the server, the watchdog and remove WORK.
begin_server_test() {
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/invitelink-$1.XXXXXX")
    KEYS=$WORK/Keys
    DB=sqlite:$WORK/db.sqlite
    SERVER_PID=""
    start_watchdog "${LIMIT:-120}"
    trap end_server_test EXIT
}

end_server_test() {
    local status=$?
    trap - EXIT
    [ -n "$SERVER_PID" ] && stop_processes $SERVER_PID
    kill "$WATCHDOG" 2>/dev/null || true
    finish_work "$status"
    exit "$status"
}

# `start_server [ARGUMENT…]`: `invitelink serve` on a free port with $KEYS and $DB, logging to
# $WORK/serve.log; waits until it is ready. Sets PORT, BASE and SERVER_PID.
start_server() {
    PORT=$(free_port)
    BASE=http://127.0.0.1:$PORT
    "$INVITELINK" serve --port "$PORT" --keys-dir "$KEYS" --database "$DB" --public-url "$BASE" "$@" >"$WORK/serve.log" 2>&1 &
    SERVER_PID=$!
    wait_ready "$BASE" "$SERVER_PID" "$WORK/serve.log"
}
