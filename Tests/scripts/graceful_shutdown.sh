#!/usr/bin/env bash
# DESIGN.md and issue 3: `invitelink serve` shuts down gracefully on SIGTERM. Starts a server,
# waits until it answers, sends SIGTERM and checks that the process exits by itself, with
# status 0, within STOP_LIMIT seconds (default 10) and that the port no longer answers. Every
# service the server runs (the HTTP server, the keyring reloader) has to stop for that.
#
# Uses $INVITELINK or .build/debug/invitelink, curl and python3. Bounded by LIMIT seconds
# (default 60). Kills the server it started if it is still there at the end.
set -euo pipefail

# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

LIMIT=${LIMIT:-60}
STOP_LIMIT=${STOP_LIMIT:-10}
command -v curl >/dev/null || fail "curl is required"

begin_server_test shutdown

il keys rotate --alg ed25519 >/dev/null
start_server

kill -TERM "$SERVER_PID"
stopped=""
for _ in $(seq $((STOP_LIMIT * 10))); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then stopped=1; break; fi
    sleep 0.1
done
[ -n "$stopped" ] || fail "still running ${STOP_LIMIT}s after SIGTERM"
status=0
wait "$SERVER_PID" || status=$?
SERVER_PID=""
[ "$status" = 0 ] || fail "exit status $status after SIGTERM, expected 0"
if curl -fsS "$BASE/healthz" >/dev/null 2>&1; then fail "the port still answers after the exit"; fi
note "OK: exited with status 0 after SIGTERM"
