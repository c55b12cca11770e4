# Shared by the interop and keyring scripts; sourced, not run.
#
# On top of common.sh: WORK (a fresh `mktemp -d`, removed on exit), KEYS and DB inside it, and a
# watchdog that ends the script after LIMIT seconds so that nothing here can hang a build.

set -euo pipefail

# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/invitelink-${SCRIPT%.*}.XXXXXX")
KEYS=$WORK/Keys
DB=sqlite:$WORK/db.sqlite

LIMIT=${LIMIT:-120}
start_watchdog "$LIMIT"

cleanup() {
    kill "$WATCHDOG" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# Decodes unpadded base64url (argument) to raw bytes on stdout.
b64u_decode() {
    python3 -c 'import base64, sys; s = sys.argv[1]; sys.stdout.buffer.write(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))' "$1"
}

# The bytes and modes of every file of the keys dir but the lock: "unchanged" means equal output.
keys_snapshot() {
    ( cd "$KEYS" && find . -type f ! -name .lock -printf '%p %m ' -exec sha256sum {} \; | sort )
}
