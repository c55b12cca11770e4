# Shared by the interop and keyring scripts; sourced, not run.
#
# Sets ROOT (the package), INVITELINK (the CLI binary: $INVITELINK, else .build/debug/invitelink),
# WORK (a fresh `mktemp -d`, removed on exit), KEYS and DB inside it, and a watchdog that ends
# the script after LIMIT seconds so that nothing here can hang a build.

set -euo pipefail

SCRIPT=$(basename "$0")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
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

WORK=$(mktemp -d "${TMPDIR:-/tmp}/invitelink-${SCRIPT%.*}.XXXXXX")
KEYS=$WORK/Keys
DB=sqlite:$WORK/db.sqlite

LIMIT=${LIMIT:-120}
# shellcheck source=watchdog.sh
. "$ROOT/Tests/scripts/watchdog.sh"
start_watchdog "$LIMIT"

cleanup() {
    kill "$WATCHDOG" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# The CLI with this script's keys dir and database; each run bounded to 30 s. Arguments after
# a `--` stay after it, so a kid that begins with "-" is not read as an option:
# `il keys promote -- "$kid"`.
il() {
    local options=() positional=() after=0 argument
    for argument in "$@"; do
        if [ $after = 0 ] && [ "$argument" = -- ]; then after=1; continue; fi
        if [ $after = 0 ]; then options+=("$argument"); else positional+=("$argument"); fi
    done
    if [ $after = 1 ]; then
        timeout 30 "$INVITELINK" "${options[@]}" --keys-dir "$KEYS" --database "$DB" -- "${positional[@]}"
    else
        timeout 30 "$INVITELINK" "${options[@]}" --keys-dir "$KEYS" --database "$DB"
    fi
}

# Decodes unpadded base64url (argument) to raw bytes on stdout.
b64u_decode() {
    python3 -c 'import base64, sys; s = sys.argv[1]; sys.stdout.buffer.write(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))' "$1"
}

# Reads one member of a JSON object on stdin: json_get NAME.
json_get() {
    python3 -c 'import json, sys; v = json.load(sys.stdin)[sys.argv[1]]; print("null" if v is None else (str(v).lower() if isinstance(v, bool) else v))' "$1"
}

# The bytes and modes of every file of the keys dir but the lock: "unchanged" means equal output.
keys_snapshot() {
    ( cd "$KEYS" && find . -type f ! -name .lock -printf '%p %m ' -exec sha256sum {} \; | sort )
}
