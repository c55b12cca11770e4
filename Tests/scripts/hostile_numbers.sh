#!/usr/bin/env bash
# Issue 11: numbers never crash. With an HS256 key whose secret the script knows, it signs
# tokens whose claims overflow any sum (iat at Int64.min, exp at Int64.max, both) and sends
# them to a running server: the acceptance page and POST /v1/invitations/verify must refuse
# each with its code (never a 5xx, never a dead process), and the server must keep serving.
#
# Uses $INVITELINK or .build/debug/invitelink, curl and python3. Bounded by LIMIT seconds.
set -euo pipefail

# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

begin_server_test hostile
SECRET=$(python3 -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("="))')
( umask 077; echo "$SECRET" >"$WORK/hs.secret" )
il keys import --hmac "$WORK/hs.secret" --kid hostile >/dev/null
il keys promote hostile >/dev/null
il partners add --id fabrikam --name Fabrikam --kind reseller >/dev/null
RESELLER=$(il credentials create --partner fabrikam --role admin-agent --json | json_get secret)
start_server

python3 - "$BASE" "$RESELLER" "$SECRET" <<'PY' || fail "a hostile token was not refused as it should be"
import base64, hashlib, hmac, json, sys, time, urllib.error, urllib.request
base, reseller, secret = sys.argv[1], sys.argv[2], sys.argv[3]
key = base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))
b64 = lambda data: base64.urlsafe_b64encode(data).decode().rstrip("=")
MIN, MAX, NOW = -2**63, 2**63 - 1, int(time.time())

def token(iat, exp):
    header = b64(json.dumps({"alg": "HS256", "kid": "hostile", "typ": "invitation+jwt"}, separators=(",", ":")).encode())
    claims = {"iss": "invitelink", "aud": "reseller-relationship", "jti": "AAECAwQFBgcICQoLDA0ODw",
              "rid": "fabrikam", "dap": False, "iat": iat, "exp": exp}
    payload = b64(json.dumps(claims, separators=(",", ":")).encode())
    mac = hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(mac)}"

def get(path, **kwargs):
    request = urllib.request.Request(base + path, **kwargs)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()

cases = [(MIN, NOW + 3600, "invalid_claims"), (MIN, MAX, "invalid_claims"), (NOW, MAX, "invalid_claims"),
         (MAX, MAX, "not_yet_valid"), (MIN, MIN, "expired")]
for iat, exp, reason in cases:
    t = token(iat, exp)
    status, page = get(f"/invitations/accept?token={t}")
    if status >= 500 or reason not in page:
        sys.exit(f"iat {iat}, exp {exp}: the page answered {status} without {reason}")
    status, text = get("/v1/invitations/verify", data=json.dumps({"token": t}).encode(), method="POST",
                       headers={"Authorization": "Bearer " + reseller, "Content-Type": "application/json"})
    if status != 200 or json.loads(text).get("reason") != reason:
        sys.exit(f"iat {iat}, exp {exp}: verify answered {status} {text[:200]}")
    print(f"iat {iat}, exp {exp}: {reason} on the page and from verify")
PY
kill -0 "$SERVER_PID" 2>/dev/null || fail "the server died"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/healthz")" = 200 ] || fail "the server stopped answering"
note "OK: 5 overflowing claim sets refused with their codes; the server keeps serving"
