#!/usr/bin/env bash
# Runs a command with a second libcrypto, OpenSSL 3.5, in place of the system's (Debian 12: 3.0).
#
#   scripts/openssl-3.5.sh COMMAND [ARGUMENT…]
#   scripts/openssl-3.5.sh swift test --skip-build --filter InviteCryptoTests
#
# Debian 13 ships OpenSSL 3.5, and 3.2 changed how one-shot EVP_DigestSign/Verify leave their
# context (openssl/openssl#23075); this machine builds against 3.0. Rather than build OpenSSL,
# the script takes the libcrypto that the psycopg-binary wheel on PyPI bundles (a manylinux
# build of upstream OpenSSL, ABI-compatible with the system's libcrypto.so.3: same soname
# version, same OPENSSL_3.0.0 symbol versions). The wheel is pinned by version and by the
# SHA-256 of the libcrypto inside it, so the OpenSSL under test cannot change under us. It is
# unpacked once into .build/openssl-3.5/ and the command runs with LD_LIBRARY_PATH pointing
# there and INVITELINK_EXPECT_OPENSSL set, which the crypto suite checks against the version
# that actually loaded (so a loader that silently picked the system's library fails the run).
set -euo pipefail

WHEEL_VERSION=3.3.9                 # psycopg-binary 3.3.9 bundles OpenSSL 3.5.9
EXPECT="OpenSSL 3.5.9"
LIBCRYPTO_SHA256=e1a48391f48cb5f8392140b43ef9f2fa52f58321f8eadd8a83dc20f7fe398b9e

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=$ROOT/.build/openssl-3.5
fail() { echo "openssl-3.5.sh: $*" >&2; exit 2; }
[ $# -gt 0 ] || fail "usage: openssl-3.5.sh COMMAND [ARGUMENT…]"

if [ ! -e "$DIR/libcrypto.so.3" ]; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    python3 -m pip download -q --no-deps --only-binary=:all: --dest "$work" \
        --platform manylinux2014_x86_64 --python-version 3.11 "psycopg-binary==$WHEEL_VERSION" \
        || fail "could not download psycopg-binary $WHEEL_VERSION from PyPI"
    python3 - "$work" <<'PY'
import glob, sys, zipfile
wheel, = glob.glob(sys.argv[1] + "/psycopg_binary-*.whl")
with zipfile.ZipFile(wheel) as z:
    name, = [n for n in z.namelist() if n.startswith("psycopg_binary.libs/libcrypto-")]
    open(sys.argv[1] + "/libcrypto.so.3", "wb").write(z.read(name))
PY
    echo "$LIBCRYPTO_SHA256  $work/libcrypto.so.3" | sha256sum -c --quiet - \
        || fail "the libcrypto in psycopg-binary $WHEEL_VERSION is not the one pinned here"
    mkdir -p "$DIR"
    mv "$work/libcrypto.so.3" "$DIR/libcrypto.so.3.tmp"
    mv "$DIR/libcrypto.so.3.tmp" "$DIR/libcrypto.so.3"
fi

export LD_LIBRARY_PATH=$DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export INVITELINK_EXPECT_OPENSSL=$EXPECT
exec "$@"
