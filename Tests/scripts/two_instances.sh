#!/usr/bin/env bash
# Issue 4 §3 and §5: two `invitelink serve` processes on two ports share one PostgreSQL database
# and one keys dir, as two instances behind a load balancer would.
#
# - A `max_uses: 1` link issued through A; 100 customers accept it at once, the requests
#   alternating between A and B: exactly one 201, the 99 others 409 with code used_up.
# - The winner's relationship removed through A is gone from GET /v1/customers through B at once.
# - A link accepted through B, then revoked through A, is refused by B with code revoked.
# - With one --session-secret-file, a portal session opened on A works on B, and after signing
#   out on B the same cookie is refused on A.
# - When INVITELINK_TEST_POSTGRES_CTL is set (scripts/with-postgres.sh sets it): PostgreSQL is
#   stopped, both instances' /readyz answer 503, PostgreSQL is started again, and both answer
#   200 and accept again without a restart.
#
# Runs inside scripts/with-postgres.sh (needs INVITELINK_TEST_POSTGRES_URL; uses a fresh schema of
# that database through search_path, so it can share it with other runs). Uses $INVITELINK or
# .build/debug/invitelink, python3 and curl. Bounded by LIMIT seconds (default 240: seeding is
# ~200 CLI runs); kills every process it started, by pid.
set -euo pipefail

# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

N=${N:-100}
LIMIT=${LIMIT:-240}
SEED_JOBS=${SEED_JOBS:-4}


[ -n "${INVITELINK_TEST_POSTGRES_URL:-}" ] || fail "INVITELINK_TEST_POSTGRES_URL is not set (run me under scripts/with-postgres.sh)"
command -v curl >/dev/null || fail "curl is required"
command -v psql >/dev/null || fail "psql is required"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/invitelink-two.XXXXXX")
KEYS=$WORK/Keys
PIDS=()
PG_STOPPED=0

start_watchdog "$LIMIT"

cleanup() {
    local status=$?
    trap - EXIT TERM INT
    stop_processes "${PIDS[@]}"
    # Never leave the shared server down for whoever runs next under the same cluster.
    [ "$PG_STOPPED" = 1 ] && "$INVITELINK_TEST_POSTGRES_CTL" start >/dev/null 2>&1 || true
    kill "$WATCHDOG" 2>/dev/null || true
    finish_work "$status"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 1' TERM INT

# A schema of its own in the test database, so that this run starts empty.
SCHEMA="two_instances_$$_$RANDOM"
psql -q -v ON_ERROR_STOP=1 "$INVITELINK_TEST_POSTGRES_URL" -c "CREATE SCHEMA $SCHEMA" || fail "cannot create schema $SCHEMA"
case $INVITELINK_TEST_POSTGRES_URL in *\?*) DB="$INVITELINK_TEST_POSTGRES_URL&search_path=$SCHEMA" ;; *) DB="$INVITELINK_TEST_POSTGRES_URL?search_path=$SCHEMA" ;; esac


# --- Seed through the CLI, against the same database ------------------------------------------
started=$SECONDS
il keys rotate --alg ed25519 >/dev/null || fail "keys rotate failed"
il partners add --id r1 --kind reseller --name "Reseller One" >/dev/null || fail "partners add reseller failed"
il partners add --id p1 --kind provider --name "Provider One" >/dev/null || fail "partners add provider failed"
il partners connect --reseller r1 --provider p1 >/dev/null || fail "partners connect failed"
RESELLER=$(il credentials create --partner r1 --role global-admin --json | json_get secret) || fail "reseller credential failed"

mkdir -p "$WORK/out"
seed_customers "$N" "$SEED_JOBS"
note "seeded 1 reseller, 1 provider and $N customers with credentials in $((SECONDS - started)) s"

# --- Two instances ---------------------------------------------------------------------------------
PORT_A=$(free_port)
PORT_B=$(free_port)
[ "$PORT_A" != "$PORT_B" ] || PORT_B=$(free_port)
A=http://127.0.0.1:$PORT_A
B=http://127.0.0.1:$PORT_B

start_server() {
    local name=$1 port=$2
    "$INVITELINK" serve --port "$port" --keys-dir "$KEYS" --database "$DB" --public-url "http://127.0.0.1:$port" \
        --session-secret-file "$WORK/session.secret" >"$WORK/serve_$name.log" 2>&1 &
    PIDS+=($!)
}
# Both share a session secret, so a browser may land on either (README "Running several instances").
install -m 600 /dev/null "$WORK/session.secret"
openssl rand -hex 32 >"$WORK/session.secret"
start_server a "$PORT_A"
start_server b "$PORT_B"
wait_ready "$A" "${PIDS[0]}" "$WORK/serve_a.log"
wait_ready "$B" "${PIDS[1]}" "$WORK/serve_b.log"
note "instances A ($PORT_A, pid ${PIDS[0]}) and B ($PORT_B, pid ${PIDS[1]}) ready on one database"

# call METHOD URL SECRET [BODY] → prints "STATUS BODY"
call() {
    local method=$1 url=$2 secret=$3 body=${4:-} out status
    out=$(mktemp "$WORK/call.XXXXXX")
    if [ -n "$body" ]; then
        status=$(curl -s --max-time 10 -o "$out" -w '%{http_code}' -X "$method" -H "Authorization: Bearer $secret" \
            -H 'Content-Type: application/json' --data-binary "$body" "$url")
    else
        status=$(curl -s --max-time 10 -o "$out" -w '%{http_code}' -X "$method" -H "Authorization: Bearer $secret" "$url")
    fi
    echo "$status $(cat "$out")"
    rm -f "$out"
}
token_of() { python3 -c 'import json, sys, urllib.parse as u; print(u.parse_qs(u.urlparse(json.load(sys.stdin)["url"]).query)["token"][0])'; }
code_of() { python3 -c 'import json, sys; print(json.loads(sys.stdin.read().split(" ", 1)[1]).get("code"))'; }

# --- 100 acceptances of a single-use link across both instances -----------------------------------
issued=$(call POST "$A/v1/invitations" "$RESELLER" '{"provider_id":"p1","max_uses":1}')
[ "${issued%% *}" = 201 ] || fail "issuing through A answered $issued"
TOKEN=$(token_of <<<"${issued#* }")
printf '{"token":"%s"}' "$TOKEN" >"$WORK/body.json"
for i in $(seq 1 "$N"); do
    [ "$i" = 1 ] || echo next
    if [ $((i % 2)) = 1 ]; then base=$A; else base=$B; fi
    cat <<EOF
url = "$base/v1/acceptances"
header = "Authorization: Bearer $(<"$WORK/secrets/c$i")"
header = "Content-Type: application/json"
data-binary = "@$WORK/body.json"
output = "$WORK/out/c$i.body"
write-out = "c$i %{http_code}\\n"
max-time = 20
EOF
done >"$WORK/curl.config"
race_started=$EPOCHREALTIME
timeout 60 curl -s --parallel --parallel-immediate --parallel-max "$N" -K "$WORK/curl.config" >"$WORK/codes" 2>/dev/null || true
race_ms=$(python3 -c "print(round(($EPOCHREALTIME - $race_started) * 1000))")

WINNER=$(python3 - "$WORK" "$N" <<'PY'
import json, sys
work, n = sys.argv[1], int(sys.argv[2])
codes = dict(line.split() for line in open(f"{work}/codes"))
winners, used_up, other = [], 0, []
for i in range(1, n + 1):
    c = f"c{i}"
    status = codes.get(c, "000")
    try:
        body = json.load(open(f"{work}/out/{c}.body"))
    except Exception:
        body = {}
    if status == "201":
        winners.append(c)
    elif status == "409" and body.get("code") == "used_up":
        used_up += 1
    else:
        other.append(f"{c}:{status}:{body.get('code')}")
if len(winners) != 1 or used_up != n - 1 or other:
    sys.exit(f"expected exactly one 201 and {n - 1} used_up; got 201 for {winners}, {used_up} used_up, others {other[:10]}")
print(winners[0])
PY
) || fail "the single-use race went wrong (above)"
note "$N acceptances of a max_uses=1 link split across A and B: exactly one 201 ($WINNER), $((N - 1)) used_up, in $race_ms ms"

# The loser's view through either instance agrees: one use, one acceptance.
record=$(call GET "$B/v1/invitations/$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <<<"${issued#* }")" "$RESELLER")
python3 -c '
import json, sys
status, body = sys.argv[1].split(" ", 1)
r = json.loads(body)
assert status == "200", status
assert r["uses"] == 1 and [a["customer_id"] for a in r["acceptances"]] == [sys.argv[2]], r
' "$record" "$WINNER" || fail "B does not show the invitation with its one acceptance: $record"

# --- A removal through A is seen through B at once ---------------------------------------------------
listed() {  # listed BASE CUSTOMER → exit 0 when the reseller's customer list through BASE holds it
    python3 - "$1" "$RESELLER" "$2" <<'PY'
import json, sys, urllib.request
base, secret, wanted = sys.argv[1:4]
cursor, seen = None, set()
while True:
    url = base + "/v1/customers?limit=200" + (f"&cursor={cursor}" if cursor else "")
    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + secret})
    page = json.load(urllib.request.urlopen(req, timeout=10))
    seen |= {item["id"] for item in page["items"]}
    cursor = page.get("next_cursor")
    if not cursor:
        break
sys.exit(0 if wanted in seen else 1)
PY
}
listed "$B" "$WINNER" || fail "B does not list $WINNER before the removal"
removed=$(call DELETE "$A/v1/customers/$WINNER/relationship" "$RESELLER")
[ "${removed%% *}" = 200 ] || fail "removing through A answered $removed"
if listed "$B" "$WINNER"; then fail "B still lists $WINNER right after A removed the relationship"; fi
listed "$A" "$WINNER" && fail "A still lists $WINNER after removing it"
note "relationship of $WINNER removed through A: gone from GET /v1/customers through B at once"

# --- A revocation through A is refused by B -------------------------------------------------------------
issued=$(call POST "$A/v1/invitations" "$RESELLER" '{}')
[ "${issued%% *}" = 201 ] || fail "issuing the second link through A answered $issued"
INVITATION=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <<<"${issued#* }")
TOKEN2=$(token_of <<<"${issued#* }")
before=$(call POST "$B/v1/acceptances" "$(<"$WORK/secrets/c2")" "{\"token\":\"$TOKEN2\"}")
[ "${before%% *}" = 201 ] || fail "accepting the second link through B before the revocation answered $before"
revoked=$(call DELETE "$A/v1/invitations/$INVITATION" "$RESELLER")
[ "${revoked%% *}" = 200 ] || fail "revoking through A answered $revoked"
after=$(call POST "$B/v1/acceptances" "$(<"$WORK/secrets/c3")" "{\"token\":\"$TOKEN2\"}")
[ "${after%% *}" != 201 ] && [ "$(code_of <<<"$after")" = revoked ] || fail "B accepted or misnamed a link revoked through A: $after"
note "link accepted through B, revoked through A, then refused by B with code revoked (${after%% *})"

# --- A portal session opened on A works on B; signing out on B ends it on A ---------------------
AGENT_PASSWORD=$(il users add --partner r1 --email agent@r1.example --role admin-agent --one-time-password) || fail "users add failed"
# portal_location BASE COOKIEJAR: where GET /portal sends this browser. A signed-in agent who has
# not yet changed the one-time password goes to /portal/password; no session, to /portal/sign-in.
portal_location() {
    curl -s --max-time 10 -o /dev/null -b "$2" -w '%{http_code} %{redirect_url}' "$1/portal"
}
JAR=$WORK/portal.cookies
: >"$JAR"
# csrf_field URL COOKIEJAR: the CSRF token of the page's form (bound to the jar's session, or to
# its pre-session cookie before sign-in), keeping the cookies the page sets.
csrf_field() {
    curl -s --max-time 10 -b "$2" -c "$2" "$1" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1
}
CSRF=$(csrf_field "$A/portal/sign-in" "$JAR")
[ -n "$CSRF" ] || fail "the portal sign-in page has no CSRF field"
signed_in=$(curl -s --max-time 10 -o /dev/null -b "$JAR" -c "$JAR" -w '%{http_code}' \
    --data-urlencode "email=agent@r1.example" --data-urlencode "password=$AGENT_PASSWORD" --data-urlencode "csrf=$CSRF" "$A/portal/sign-in")
[ "$signed_in" = 303 ] || fail "signing in to the portal on A answered $signed_in"
for base in "$A" "$B"; do
    where=$(portal_location "$base" "$JAR")
    [ "$where" = "303 $base/portal/password" ] || fail "a session opened on A, on $base: GET /portal answered '$where', not the signed-in redirect"
done
CSRF=$(csrf_field "$B/portal/password" "$JAR")
[ -n "$CSRF" ] || fail "the signed-in password page on B has no CSRF field"
signed_out=$(curl -s --max-time 10 -o /dev/null -b "$JAR" -w '%{http_code}' --data-urlencode "csrf=$CSRF" "$B/portal/sign-out")
[ "$signed_out" = 303 ] || fail "signing out on B answered $signed_out"
where=$(portal_location "$A" "$JAR")
[ "$where" = "303 $A/portal/sign-in" ] || fail "after signing out on B, the same cookie on A: GET /portal answered '$where'"
note "portal session opened on A works on B; after sign-out on B the same cookie is refused on A"

# --- PostgreSQL goes away and comes back --------------------------------------------------------------
if [ -n "${INVITELINK_TEST_POSTGRES_CTL:-}" ]; then
    readyz() { curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$1/readyz"; }
    PG_STOPPED=1
    "$INVITELINK_TEST_POSTGRES_CTL" stop || fail "could not stop PostgreSQL"
    down_started=$SECONDS
    for base in "$A" "$B"; do
        status=$(readyz "$base")
        [ "$status" = 503 ] || fail "/readyz of $base answered $status while PostgreSQL is down"
    done
    note "PostgreSQL stopped: /readyz of A and B answer 503 (in $((SECONDS - down_started)) s)"
    "$INVITELINK_TEST_POSTGRES_CTL" start || fail "could not start PostgreSQL again"
    PG_STOPPED=0
    up_started=$EPOCHREALTIME
    for base in "$A" "$B"; do
        for _ in $(seq 1 300); do
            [ "$(readyz "$base")" = 200 ] && break
            sleep 0.1
        done
        [ "$(readyz "$base")" = 200 ] || fail "/readyz of $base did not recover within 30 s of PostgreSQL's return"
    done
    up_ms=$(python3 -c "print(round(($EPOCHREALTIME - $up_started) * 1000))")
    issued=$(call POST "$B/v1/invitations" "$RESELLER" '{}')
    [ "${issued%% *}" = 201 ] || fail "issuing through B after the outage answered $issued"
    accepted=$(call POST "$A/v1/acceptances" "$(<"$WORK/secrets/c4")" "{\"token\":\"$(token_of <<<"${issued#* }")\"}")
    [ "${accepted%% *}" = 201 ] || fail "accepting through A after the outage answered $accepted"
    note "PostgreSQL back: both /readyz 200 within $up_ms ms, issuance and acceptance work again, no restart"
fi

note "OK in $((SECONDS - started)) s"
