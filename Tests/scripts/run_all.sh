#!/usr/bin/env bash
# Runs the CLI interop and keyring scripts in order, one PASS/FAIL line each, stopping at the
# first failure (whose output follows its FAIL line).
#
#   Tests/scripts/run_all.sh [PATH_TO_INVITELINK]     (default $INVITELINK, else .build/debug/invitelink)
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
INVITELINK=${1:-${INVITELINK:-$ROOT/.build/debug/invitelink}}
case $INVITELINK in /*) ;; *) INVITELINK=$PWD/$INVITELINK ;; esac
export INVITELINK

if [ ! -x "$INVITELINK" ]; then
    echo "FAIL run_all.sh: no CLI binary at $INVITELINK (build it first: swift build)" >&2
    exit 1
fi

log=$(mktemp "${TMPDIR:-/tmp}/invitelink-scripts.XXXXXX")
trap 'rm -f "$log"' EXIT

for script in openssl_interop.sh openssl_round.sh jose_interop.py keyring_concurrency.sh keyring_sigkill.sh keyring_fail_closed.sh hostile_numbers.sh cli_errors.sh audit_cli.sh graceful_shutdown.sh api_fuzz.sh server_sigkill.sh two_instances.sh rotation_under_load.sh; do
    start=$SECONDS
    if "$HERE/$script" >"$log" 2>&1; then
        echo "PASS $script ($((SECONDS - start))s)"
    else
        status=$?
        reason=$(grep -m1 'FAIL' "$log" || tail -1 "$log")
        echo "FAIL $script (exit $status): ${reason#*FAIL: }"
        sed 's/^/    /' "$log"
        exit 1
    fi
done
