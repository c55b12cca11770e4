#!/usr/bin/env bash
# Interop with the system's OpenSSL command line, the same library the service links:
# - an EdDSA token's signature verifies with `openssl pkeyutl -verify -rawin` under the public
#   key that `openssl pkey -pubout` derives from Keys/KID.pem;
# - an HS256 token's signature equals `openssl dgst -sha256 -mac HMAC` of the signing input;
# - a key made by `openssl genpkey -algorithm ed25519` imports, is promoted, and signs valid links;
# - an HMAC secret of 31 bytes and a small-order public key are refused, keys dir unchanged.
. "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || fail "openssl is required"
cd "$WORK"

# Splits a token into signing_input (no newline) and sig.bin.
split_token() {
    local token=$1
    printf '%s' "${token%.*}" > signing_input
    b64u_decode "${token##*.}" > sig.bin
}

# --- EdDSA ----------------------------------------------------------------------------------
ed_kid=$(il keys rotate --alg ed25519) || fail "keys rotate --alg ed25519 failed"
[ -f "$KEYS/$ed_kid.pem" ] || fail "no $KEYS/$ed_kid.pem after rotate (kid printed: '$ed_kid')"
token=$(il links create --reseller reseller-1 --offline --json | json_get token) || fail "links create failed"
split_token "$token"
[ "$(stat -c %s sig.bin)" = 64 ] || fail "EdDSA signature is $(stat -c %s sig.bin) bytes, not 64"

openssl pkey -in "$KEYS/$ed_kid.pem" -pubout -out pub.pem 2>openssl.err || fail "openssl pkey cannot read $ed_kid.pem: $(cat openssl.err)"
openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in signing_input -sigfile sig.bin >verify.out 2>&1 \
    || fail "openssl does not verify the EdDSA token: $(cat verify.out)"
note "EdDSA token verified by openssl pkeyutl"

# Control: the same check fails for a changed signing input, so the success above means something.
printf 'x' >> signing_input
if openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in signing_input -sigfile sig.bin >/dev/null 2>&1; then
    fail "openssl verified a changed signing input: the check proves nothing"
fi

il keys export-public -- "$ed_kid" > exported.pem || fail "keys export-public $ed_kid failed"
cmp -s exported.pem pub.pem || fail "keys export-public differs from openssl pkey -pubout: $(diff exported.pem pub.pem | head -5)"

# --- HS256 ----------------------------------------------------------------------------------
hs_kid=$(il keys rotate --alg hs256) || fail "keys rotate --alg hs256 failed"
[ -f "$KEYS/$hs_kid.hmac" ] || fail "no $KEYS/$hs_kid.hmac after rotate"
token=$(il links create --reseller reseller-1 --offline --json | json_get token) || fail "links create (HS256) failed"
split_token "$token"
[ "$(stat -c %s sig.bin)" = 32 ] || fail "HS256 signature is $(stat -c %s sig.bin) bytes, not 32"
hexkey=$(python3 -c 'import base64, sys; s = open(sys.argv[1]).read().strip(); print(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)).hex())' "$KEYS/$hs_kid.hmac")
[ ${#hexkey} -ge 64 ] || fail "the HMAC secret is shorter than 32 bytes"
tohex() { python3 -c 'import sys; print(sys.stdin.buffer.read().hex())'; }
expected=$(openssl dgst -sha256 -mac HMAC -macopt "hexkey:$hexkey" -binary signing_input | tohex)
actual=$(tohex <sig.bin)
[ "$expected" = "$actual" ] || fail "HS256 signature $actual differs from openssl's HMAC $expected"
note "HS256 token equals openssl dgst -mac HMAC"

# --- a key from openssl genpkey --------------------------------------------------------------
openssl genpkey -algorithm ed25519 -out k.pem 2>/dev/null || fail "openssl genpkey failed"
imported=$(il keys import --pem k.pem) || fail "keys import --pem of an openssl genpkey key failed"
[ -n "$imported" ] || fail "keys import printed no kid"
il keys promote -- "$imported" >/dev/null || fail "keys promote $imported failed"
json=$(il links create --reseller reseller-2 --offline --json) || fail "links create with the imported key failed"
[ "$(json_get kid <<<"$json")" = "$imported" ] || fail "the link was not signed by the imported key $imported"
token=$(json_get token <<<"$json")
il links verify "$token" --offline >verify.out 2>&1 || fail "a link signed by the imported key does not verify: $(cat verify.out)"
split_token "$token"
openssl pkey -in k.pem -pubout -out genpub.pem 2>/dev/null
openssl pkeyutl -verify -pubin -inkey genpub.pem -rawin -in signing_input -sigfile sig.bin >/dev/null 2>&1 \
    || fail "openssl does not verify the imported key's token with the original key file"
note "openssl genpkey key imported, promoted, its links verify"

# --- refused imports leave the keys dir as it was --------------------------------------------
python3 -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(31)).decode().rstrip("="))' > short.hmac
before=$(keys_snapshot); manifest_before=$(sha256sum < "$KEYS/keyring.json")
if il keys import --hmac short.hmac >out.txt 2>err.txt; then
    fail "keys import --hmac of a 31-byte secret succeeded: $(cat out.txt)"
fi
[ -s err.txt ] || fail "keys import --hmac of a 31-byte secret failed without a message"
[ "$(sha256sum < "$KEYS/keyring.json")" = "$manifest_before" ] || fail "keyring.json changed after a refused HMAC import"
[ "$(keys_snapshot)" = "$before" ] || fail "the keys dir changed after a refused HMAC import"
note "31-byte HMAC secret refused: $(head -1 err.txt)"

# An encrypted PKCS#8 key is refused at once: OpenSSL's default would ask for a passphrase on
# the terminal and block. `script` gives the command a terminal to ask on.
openssl genpkey -algorithm ed25519 -aes256 -pass pass:not-used -out encrypted.pem 2>/dev/null || fail "openssl genpkey -aes256 failed"
command -v script >/dev/null || fail "script (util-linux) is required to give the CLI a terminal"
status=0
timeout 15 script -qec "$(printf '%q ' "$INVITELINK" keys import --pem encrypted.pem --keys-dir "$KEYS" --database "$DB")" /dev/null \
    </dev/null >out.txt 2>&1 || status=$?
[ $status != 124 ] || fail "keys import of an encrypted key waited for a passphrase: $(tr -d '\r' <out.txt | head -2)"
[ $status != 0 ] || fail "keys import of an encrypted key succeeded"
grep -qi "pass phrase" out.txt && fail "keys import of an encrypted key asked for a passphrase"
[ "$(keys_snapshot)" = "$before" ] || fail "the keys dir changed after a refused encrypted import"
note "encrypted PKCS#8 key refused without a passphrase prompt: $(tr -d '\r' <out.txt | head -1)"

# The identity point (y = 1), a small-order key, as a SubjectPublicKeyInfo.
python3 -c '
import base64
der = bytes.fromhex("302a300506032b6570032100" + "01" + "00" * 31)
print("-----BEGIN PUBLIC KEY-----\n" + base64.b64encode(der).decode() + "\n-----END PUBLIC KEY-----")' > small.pem
openssl pkey -pubin -in small.pem -noout 2>/dev/null || fail "openssl cannot read the small-order test key (test setup)"
if il keys import --pem small.pem >out.txt 2>err.txt; then
    fail "keys import --pem of a small-order public key succeeded: $(cat out.txt)"
fi
[ "$(keys_snapshot)" = "$before" ] || fail "the keys dir changed after a refused small-order import"
note "small-order public key refused: $(head -1 err.txt)"
