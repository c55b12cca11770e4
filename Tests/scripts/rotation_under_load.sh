#!/usr/bin/env bash
# Issue 4 §4: keys rotated, revoked and corrupted while the service serves.
#
# 1. Two curl loops issue links and accept them (DURATION seconds, default 20) while
#    `invitelink keys rotate --alg ed25519` runs twice in the middle: the first rotation is left
#    to the server's periodic check (≤ 5 s), the second is followed by SIGHUP. Every issuance
#    and every acceptance must answer 201, and links signed by each new key must appear.
# 2. `keys revoke` of the first key: within 5 s (polled), a link it signed that is still
#    unaccepted is refused with code key_revoked by every instance (the servers check every
#    5 s; the script allows one more second for its own polling).
# 3. Garbage written to Keys/keyring.json: every server logs the error, /readyz stays 200 and
#    issuance still works, with the last good keyring.
#
# Database: the PostgreSQL of INVITELINK_TEST_POSTGRES_URL when set (in a fresh schema, with two
# instances sharing it and the keys dir, the load split across both), else SQLite and one
# instance. Uses $INVITELINK or .build/debug/invitelink, python3 and curl. Bounded by LIMIT
# seconds (default 150); kills every process it started, by pid.
set -euo pipefail

# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

DURATION=${DURATION:-20}
WORKERS=${WORKERS:-2}
LIMIT=${LIMIT:-150}

now_ms() { local t=$EPOCHREALTIME; echo $(( ${t%.*} * 1000 + 10#${t#*.} / 1000 )); }

command -v curl >/dev/null || fail "curl is required"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/invitelink-rotation.XXXXXX")
KEYS=$WORK/Keys
PIDS=()
LOADERS=()

start_watchdog "$LIMIT"

cleanup() {
    local status=$?
    trap - EXIT TERM INT
    stop_processes "${LOADERS[@]}" "${PIDS[@]}"
    kill "$WATCHDOG" 2>/dev/null || true
    finish_work "$status"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 1' TERM INT

if [ -n "${INVITELINK_TEST_POSTGRES_URL:-}" ]; then
    command -v psql >/dev/null || fail "psql is required"
    SCHEMA="rotation_$$_$RANDOM"
    psql -q -v ON_ERROR_STOP=1 "$INVITELINK_TEST_POSTGRES_URL" -c "CREATE SCHEMA $SCHEMA" || fail "cannot create schema $SCHEMA"
    case $INVITELINK_TEST_POSTGRES_URL in *\?*) DB="$INVITELINK_TEST_POSTGRES_URL&search_path=$SCHEMA" ;; *) DB="$INVITELINK_TEST_POSTGRES_URL?search_path=$SCHEMA" ;; esac
    INSTANCES=2
    BACKEND=PostgreSQL
else
    DB=sqlite:$WORK/db.sqlite
    INSTANCES=1
    BACKEND=SQLite
fi

# The kid in a token's header.
kid_of() { python3 -c 'import base64, json, sys; h = sys.argv[1].split(".")[0]; print(json.loads(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)))["kid"])' "$1"; }

# --- Seed ----------------------------------------------------------------------------------------------
started=$SECONDS
KID1=$(il keys rotate --alg ed25519) || fail "the first keys rotate failed"
il partners add --id r1 --kind reseller --name "Reseller One" >/dev/null || fail "partners add failed"
RESELLER=$(il credentials create --partner r1 --role global-admin --json | json_get secret) || fail "reseller credential failed"
CUSTOMERS=()
for i in 1 2 3 4 5; do
    il customers add --id "c$i" --name "Customer $i" --domain "c$i.example" --admin-email "admin@c$i.example" >/dev/null ||
        fail "customers add c$i failed"
    CUSTOMERS+=("$(il credentials create --customer "c$i" --role global-admin --json | json_get secret)") ||
        fail "customer credential c$i failed"
done

# --- Serve -------------------------------------------------------------------------------------------
BASES=()
for n in $(seq 1 "$INSTANCES"); do
    port=$(free_port)
    "$INVITELINK" serve --port "$port" --keys-dir "$KEYS" --database "$DB" --public-url "http://127.0.0.1:$port" \
        >"$WORK/serve$n.log" 2>&1 &
    PIDS+=($!)
    BASES+=("http://127.0.0.1:$port")
done
for n in "${!BASES[@]}"; do
    wait_ready "${BASES[$n]}" "${PIDS[$n]}" "$WORK/serve$((n + 1)).log"
done
note "$INSTANCES instance(s) on $BACKEND, first key $KID1, seeded in $((SECONDS - started)) s"

# issue BASE [BODY] → the token of a new link, or fails
issue() {
    local body data=${2:-'{}'}
    body=$(curl -s --max-time 10 -w '\n%{http_code}' -X POST -H "Authorization: Bearer $RESELLER" \
        -H 'Content-Type: application/json' --data-binary "$data" "$1/v1/invitations") || return 1
    [ "${body##*$'\n'}" = 201 ] || return 1
    [[ $body =~ token=([A-Za-z0-9._-]+) ]] || return 1
    echo "${BASH_REMATCH[1]}"
}
# accept BASE SECRET TOKEN → "STATUS BODY"
accept() {
    local body
    body=$(curl -s --max-time 10 -w '\n%{http_code}' -X POST -H "Authorization: Bearer $2" \
        -H 'Content-Type: application/json' --data-binary "{\"token\":\"$3\"}" "$1/v1/acceptances") || true
    echo "${body##*$'\n'} ${body%$'\n'*}"
}
code_of() { python3 -c 'import json, sys; print(json.loads(sys.argv[1].split(" ", 1)[1]).get("code"))' "$1" 2>/dev/null || echo "?"; }

# A link signed by the first key, kept unaccepted for step 2.
OLD_TOKEN=$(issue "${BASES[0]}") || fail "issuing the link kept for the revocation failed"
[ "$(kid_of "$OLD_TOKEN")" = "$KID1" ] || fail "the kept link is not signed by $KID1"

# --- 1. Load while rotating ----------------------------------------------------------------------------
# start_load MODE SECONDS: WORKERS loops until the deadline, one line per request ("issue 201
# HEADER" / "accept STATUS" / "failure …"). MODE same: each worker issues and accepts on its own
# instance, which is what `keys rotate` (add and promote at once) is for. MODE cross: a link
# issued on one instance is accepted on the next, as behind a load balancer.
start_load() {
    local mode=$1 deadline=$(( $(now_ms) + $2 * 1000 )) w
    : >"$WORK/load.log"
    for w in $(seq 1 "$WORKERS"); do
        (
            i=0
            while [ "$(now_ms)" -lt "$deadline" ]; do
                base=${BASES[$(( w % INSTANCES ))]}
                other=$base
                if [ "$mode" = cross ]; then
                    base=${BASES[$(( (w + i) % INSTANCES ))]}
                    other=${BASES[$(( (w + i + 1) % INSTANCES ))]}
                fi
                secret=${CUSTOMERS[$(( (w + i) % ${#CUSTOMERS[@]} ))]}
                if token=$(issue "$base"); then
                    echo "issue 201 ${token%%.*}"
                    result=$(accept "$other" "$secret" "$token")
                    echo "accept ${result%% *}"
                    [ "${result%% *}" = 201 ] || echo "failure accept $result"
                else
                    echo "failure issue"
                fi
                i=$((i + 1))
            done
        ) >"$WORK/load$w.log" 2>&1 &
        LOADERS+=($!)
    done
}
# finish_load KEYS_EXPECTED → waits for the loops, fails on any failed request, sets LOAD_COUNTS
finish_load() {
    local pid issued accepted failed kids
    for pid in "${LOADERS[@]}"; do wait "$pid" || true; done
    LOADERS=()
    cat "$WORK"/load[0-9]*.log >"$WORK/load.log"
    issued=$(grep -c '^issue 201' "$WORK/load.log" || true)
    accepted=$(grep -c '^accept 201' "$WORK/load.log" || true)
    failed=$(grep -c '^failure' "$WORK/load.log" || true)
    kids=$(awk '$1 == "issue" && $2 == 201 {print $3}' "$WORK/load.log" | sort -u | wc -l)
    [ "$failed" = 0 ] || fail "$failed failed requests: $(grep -m 3 '^failure' "$WORK/load.log" | cut -c1-200 | tr '\n' ';')"
    [ "$issued" -gt 0 ] && [ "$issued" = "$accepted" ] || fail "issued $issued links but accepted $accepted"
    [ "$kids" -ge "$1" ] || fail "the load saw links of $kids signing keys, expected $1"
    LOAD_COUNTS="$issued issuances and $accepted acceptances, all 201, links of $kids keys"
}

# The kids the instances sign with now, from a fresh link of each.
signing_kids() { local base; for base in "${BASES[@]}"; do kid_of "$(issue "$base")"; done | sort -u | tr '\n' ' '; }
# wait_for_kid KID SECONDS → how long (ms) until every instance signs with KID
wait_for_kid() {
    local kid=$1 start; start=$(now_ms)
    while [ $(( $(now_ms) - start )) -lt $(( $2 * 1000 )) ]; do
        [ "$(signing_kids)" = "$kid " ] && { echo $(( $(now_ms) - start )); return 0; }
        sleep 0.2
    done
    return 1
}

start_load same "$DURATION"
sleep $(( DURATION / 4 ))
KID2=$(il keys rotate --alg ed25519) || fail "the second keys rotate (under load) failed"
t=$(wait_for_kid "$KID2" 7) || fail "the instances did not sign with $KID2 within 7 s of the rotation (no SIGHUP sent)"
note "rotation 1 under load: every instance signs with $KID2 after $t ms (periodic check, no signal)"
sleep $(( DURATION / 4 ))
KID3=$(il keys rotate --alg ed25519) || fail "the third keys rotate (under load) failed"
for pid in "${PIDS[@]}"; do kill -HUP "$pid"; done
t=$(wait_for_kid "$KID3" 3) || fail "the instances did not sign with $KID3 within 3 s of SIGHUP"
note "rotation 2 under load: every instance signs with $KID3 after $t ms (SIGHUP)"
finish_load 3
note "keys rotate twice under ${DURATION} s of load ($WORKERS workers): $LOAD_COUNTS"

# Several instances: a link may be issued by one and accepted by another, so a new key must be
# known everywhere before anyone signs with it: `keys add`, wait until every instance publishes
# it, then `keys promote` (DESIGN.md §3, two-phase rotation). `keys rotate` does both at once
# and would fail the requests that cross to an instance that has not reloaded yet.
if [ "$INSTANCES" -gt 1 ]; then
    CROSS=$(( DURATION / 2 ))
    start_load cross "$CROSS"
    sleep $(( CROSS / 4 ))
    KID4=$(il keys add --alg ed25519) || fail "keys add (under load) failed"
    published=$(now_ms)
    for base in "${BASES[@]}"; do
        until curl -s --max-time 5 "$base/.well-known/jwks.json" | grep -q "\"$KID4\""; do
            [ $(( $(now_ms) - published )) -lt 7000 ] || fail "$base does not publish $KID4 within 7 s of keys add"
            sleep 0.2
        done
    done
    note "keys add $KID4 under cross-instance load: published by every instance after $(( $(now_ms) - published )) ms"
    il keys promote -- "$KID4" >/dev/null || fail "keys promote $KID4 failed"
    t=$(wait_for_kid "$KID4" 7) || fail "the instances did not sign with $KID4 within 7 s of keys promote"
    finish_load 2
    note "two-phase rotation under ${CROSS} s of cross-instance load: $LOAD_COUNTS"
    KID3=$KID4
fi

# --- 2. Revoke the first key --------------------------------------------------------------------------
# verify BASE TOKEN → the reason code of POST /v1/invitations/verify ("valid" when valid)
verify() {
    curl -s --max-time 5 -X POST -H "Authorization: Bearer $RESELLER" -H 'Content-Type: application/json' \
        --data-binary "{\"token\":\"$2\"}" "$1/v1/invitations/verify" |
        python3 -c 'import json, sys; r = json.load(sys.stdin); print("valid" if r["valid"] else r["reason"])'
}
for n in "${!BASES[@]}"; do
    [ "$(verify "${BASES[$n]}" "$OLD_TOKEN")" = valid ] || fail "before the revocation, instance $((n + 1)) does not take the link of $KID1"
done
il keys revoke -- "$KID1" >/dev/null || fail "keys revoke $KID1 failed"
revoked_at=$(now_ms)
for n in "${!BASES[@]}"; do
    until [ "$(verify "${BASES[$n]}" "$OLD_TOKEN")" = key_revoked ]; do
        # The servers check every 5 s; the second of slack is this loop's own latency.
        [ $(( $(now_ms) - revoked_at )) -lt 6000 ] || fail "instance $((n + 1)) still takes the link of $KID1 6 s after keys revoke"
        sleep 0.1
    done
done
revoked_ms=$(( $(now_ms) - revoked_at ))
for n in "${!BASES[@]}"; do
    result=$(accept "${BASES[$n]}" "${CUSTOMERS[3]}" "$OLD_TOKEN")
    [ "${result%% *}" != 201 ] && [ "$(code_of "$result")" = key_revoked ] ||
        fail "instance $((n + 1)) answered an acceptance of a link of the revoked key with $result"
done
note "keys revoke $KID1: every instance refuses its link with key_revoked after $revoked_ms ms (periodic check, no signal)"

# --- 3. A corrupt keyring.json -----------------------------------------------------------------------
printf 'this is not json {' >"$KEYS/keyring.json"
corrupted_at=$(now_ms)
for n in "${!BASES[@]}"; do
    until grep -q 'keyring manifest failed to load' "$WORK/serve$((n + 1)).log"; do
        [ $(( $(now_ms) - corrupted_at )) -lt 7000 ] || fail "instance $((n + 1)) logged nothing about the corrupt keyring within 7 s"
        sleep 0.2
    done
done
logged_ms=$(( $(now_ms) - corrupted_at ))
# The last good keyring keeps serving, and /readyz says it is stale once that has lasted longer
# than the check interval (2 s), so a load balancer can take the instance out while it is fixed.
for n in "${!BASES[@]}"; do
    token=$(issue "${BASES[$n]}") || fail "instance $((n + 1)) cannot issue with a corrupt keyring.json"
    [ "$(kid_of "$token")" = "$KID3" ] || fail "instance $((n + 1)) signs with $(kid_of "$token"), not the last good primary $KID3"
    result=$(accept "${BASES[$n]}" "${CUSTOMERS[0]}" "$token")
    [ "${result%% *}" = 201 ] || fail "instance $((n + 1)) cannot accept with a corrupt keyring.json: $result"
    stale=""
    for _ in $(seq 1 50); do
        ready=$(curl -s --max-time 5 -w ' %{http_code}' "${BASES[$n]}/readyz")
        if [ "${ready##* }" = 503 ] && [[ $ready == *keyring_stale* ]]; then stale=1; break; fi
        sleep 0.2
    done
    [ -n "$stale" ] || fail "/readyz of instance $((n + 1)) did not answer 503 keyring_stale with a corrupt keyring.json: $ready"
done
note "corrupt keyring.json: logged by every instance after $logged_ms ms; issuance and acceptance still work with $KID3; /readyz 503 keyring_stale"

note "OK in $((SECONDS - started)) s"
