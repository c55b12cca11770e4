#!/usr/bin/env bash
# Issue 11 / DESIGN.md §11: a keyring whose key material partly fails to load still applies
# every state its manifest gives. With a server running on keys K1 (active) and K2 (primary):
# `keys revoke K1`, then within a second `chmod 640` on K2's file. K1's links must be refused
# (key_revoked) within 5 s, K2 is unusable, /readyz answers 503 keyring_stale, and the failed
# reloads are counted in /metrics; once the file is mode 600 again, /readyz is 200 and K2's
# links verify again, with no restart and no manifest change.
#
# Uses $INVITELINK or .build/debug/invitelink, curl and python3. Bounded by LIMIT seconds.
set -euo pipefail

# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

LIMIT=${LIMIT:-90}
begin_server_test failclosed

k1=$(il keys rotate --alg ed25519)
il partners add --id fabrikam --name Fabrikam --kind reseller >/dev/null
RESELLER=$(il credentials create --partner fabrikam --role admin-agent --json | json_get secret)
start_server

# `issue`: a new link's token, signed by the primary key the server holds.
issue() {
    curl -sf -H "Authorization: Bearer $RESELLER" -H 'Content-Type: application/json' -d '{}' "$BASE/v1/invitations" \
        | python3 -c 'import json, sys; print(json.load(sys.stdin)["url"].split("token=")[1])'
}
# `reason TOKEN`: the verification answer's reason, "valid" when it verifies.
reason() {
    curl -s -H "Authorization: Bearer $RESELLER" -H 'Content-Type: application/json' -d "{\"token\":\"$1\"}" "$BASE/v1/invitations/verify" \
        | python3 -c 'import json, sys; d = json.load(sys.stdin); print("valid" if d.get("valid") else d.get("reason"))'
}
ready_status() { curl -s -o "$WORK/ready.json" -w '%{http_code}' "$BASE/readyz"; }

token1=$(issue)
k2=$(il keys rotate --alg ed25519)
kill -HUP "$SERVER_PID"
for _ in $(seq 1 50); do [ "$(reason "$(issue)" )" = valid ] && break; sleep 0.1; done
token2=$(issue)
[ "$(reason "$token1")" = valid ] || fail "K1's link does not verify before the revocation"
[ "$(reason "$token2")" = valid ] || fail "K2's link does not verify before the revocation"

il keys revoke -- "$k1" >/dev/null
chmod 640 "$KEYS/$k2.pem"
started=$SECONDS
refused=""
while [ $((SECONDS - started)) -lt 5 ]; do
    r=$(reason "$token1")
    if [ "$r" = key_revoked ]; then refused=$r; break; fi
    sleep 0.1
done
[ -n "$refused" ] || fail "K1's link still answers '$(reason "$token1")' 5 s after keys revoke (another key's file was made mode 640)"
note "K1's link refused as key_revoked $((SECONDS - started)) s after the revocation, with K2's file mode 640"
r2=$(reason "$token2")
[ "$r2" != valid ] || fail "K2's link still verifies although its file is mode 640"

# Stale once the keyring has differed from the disk for longer than the check interval (2 s).
stale=""
for _ in $(seq 1 60); do
    if [ "$(ready_status)" = 503 ] && grep -q keyring_stale "$WORK/ready.json"; then stale=1; break; fi
    sleep 0.1
done
[ -n "$stale" ] || fail "/readyz did not answer 503 keyring_stale: $(cat "$WORK/ready.json")"
failures=$(curl -s "$BASE/metrics" | awk '/^invitelink_keyring_reload_failures_total/ {print $2}')
[ -n "$failures" ] && [ "${failures%.*}" -ge 1 ] || fail "invitelink_keyring_reload_failures_total is '$failures'"
note "/readyz 503 keyring_stale; $failures failed reloads counted"

chmod 600 "$KEYS/$k2.pem"
recovered=""
for _ in $(seq 1 60); do
    if [ "$(ready_status)" = 200 ] && [ "$(reason "$token2")" = valid ]; then recovered=1; break; fi
    sleep 0.1
done
[ -n "$recovered" ] || fail "after chmod 600: /readyz $(ready_status), K2's link '$(reason "$token2")'"
[ "$(reason "$token1")" = key_revoked ] || fail "K1's link verifies again after the recovery"
note "OK: recovered after chmod 600 without a restart; K1 stays revoked"
