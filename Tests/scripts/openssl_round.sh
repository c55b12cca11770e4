#!/usr/bin/env bash
# Issue 11: the service works the same on every OpenSSL from 3.0 to 3.5. One server process
# answers ROUNDS issuances and ROUNDS acceptances (each a new link, so each a new signature and
# a new verification), all 2xx, with an Ed25519 primary key and then with an HS256 one; the
# server's start-up line names the libcrypto it loaded. `make test` runs it with the system's
# libcrypto and again under scripts/openssl-3.5.sh, where OpenSSL 3.2's finished-context rule
# (openssl/openssl#23075) once failed every second issuance.
#
# Uses $INVITELINK or .build/debug/invitelink, curl and python3. Bounded by LIMIT seconds.
set -euo pipefail

# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

LIMIT=${LIMIT:-120}
ROUNDS=${ROUNDS:-100}
begin_server_test openssl

il keys rotate --alg ed25519 >/dev/null
il partners add --id fabrikam --name Fabrikam --kind reseller >/dev/null
il partners add --id contoso --name Contoso --kind provider >/dev/null
il partners connect --reseller fabrikam --provider contoso >/dev/null
il customers add --id adatum --name Adatum --domain adatum.example --admin-email admin@adatum.example >/dev/null
RESELLER=$(il credentials create --partner fabrikam --role admin-agent --json | json_get secret)
CUSTOMER=$(il credentials create --customer adatum --role global-admin --json | json_get secret)

start_server
loaded=$(grep -o 'openssl=OpenSSL [0-9.]*' "$WORK/serve.log" | head -1)
[ -n "$loaded" ] || fail "the server did not log the OpenSSL version it loaded"
if [ -n "${INVITELINK_EXPECT_OPENSSL:-}" ] && [ "${loaded#openssl=}" != "$INVITELINK_EXPECT_OPENSSL" ]; then
    fail "expected $INVITELINK_EXPECT_OPENSSL, the server loaded ${loaded#openssl=}"
fi

# `round ALG`: ROUNDS issuances and as many acceptances; any status but 201 fails.
round() {
    python3 - "$BASE" "$RESELLER" "$CUSTOMER" "$ROUNDS" "$1" <<'PY' || fail "a request of the $1 round failed"
import json, sys, urllib.request, urllib.error
base, reseller, customer, rounds, alg = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
def post(path, secret, body):
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": "Bearer " + secret, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")
tokens = []
for i in range(rounds):
    status, body = post("/v1/invitations", reseller, {"provider_id": "contoso", "dap": i % 2 == 0})
    if status != 201:
        sys.exit(f"{alg}: issuance {i + 1} answered {status}: {body}")
    tokens.append(body["url"].split("token=", 1)[1])
for i, token in enumerate(tokens):
    status, body = post("/v1/acceptances", customer, {"token": token})
    if status != 201:
        sys.exit(f"{alg}: acceptance {i + 1} answered {status}: {body}")
print(f"{alg}: {rounds} issuances and {rounds} acceptances, all 201")
PY
}

round ed25519
il keys rotate --alg hs256 >/dev/null
kill -HUP "$SERVER_PID"
# The reload is asynchronous: wait until a new link is signed with the HS256 key.
for _ in $(seq 1 50); do
    header=$(curl -s -H "Authorization: Bearer $RESELLER" -H 'Content-Type: application/json' -d '{}' "$BASE/v1/invitations" \
        | python3 -c 'import base64, json, sys; t = json.load(sys.stdin)["url"].split("token=")[1].split(".")[0]; print(json.loads(base64.urlsafe_b64decode(t + "==="))["alg"])')
    [ "$header" = HS256 ] && break
    sleep 0.1
done
[ "$header" = HS256 ] || fail "the server still signs with $header after the HS256 rotation and SIGHUP"
round hs256
note "OK on ${loaded#openssl=}"
