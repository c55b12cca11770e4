#!/usr/bin/env bash
# The CLI's failures (DESIGN.md §4): wrong arguments exit non-zero with a reason on stderr and
# leave the keys dir byte-identical; unsafe key files are named; the key lifecycle shows in
# `links verify --offline` as key_retired / key_revoked, and rotation keeps old links valid.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
# Commands run without --keys-dir (usage errors) still point here, never at a real keyring.
export INVITELINK_KEYS_DIR=$KEYS INVITELINK_DATABASE=$DB

primary=$(il keys rotate --alg ed25519) || fail "keys rotate failed"

# expect_error LABEL COMMAND...: non-zero exit, a reason on stderr, keys dir unchanged.
# Exit 1 (a failure) must give exactly one stderr line "invitelink: …"; exit 64 (usage) is
# argument-parser's report, whose first line is "Error: …".
expect_error() {
    local label=$1; shift
    local before status=0
    before=$(keys_snapshot)
    "$@" >"$WORK/out" 2>"$WORK/err" || status=$?
    [ $status != 0 ] || fail "$label: exit 0 (stdout: $(head -c 200 "$WORK/out"))"
    [ $status != 124 ] || fail "$label: did not finish in 30 s"
    [ -z "${EXPECT_STATUS:-}" ] || [ "$status" = "$EXPECT_STATUS" ] || fail "$label: exit $status, expected $EXPECT_STATUS"
    local first
    first=$(head -1 "$WORK/err")
    case $status in
        1)
            [ "$(wc -l <"$WORK/err")" = 1 ] || fail "$label: stderr is not one line: $(cat "$WORK/err")"
            [[ $first == "invitelink: "?* ]] || fail "$label: stderr does not start with 'invitelink: ': $first"
            ;;
        64)
            [[ $first == "Error: "?* ]] || fail "$label: usage error without 'Error: ' reason: $first"
            ;;
        *)
            fail "$label: exit $status, expected 1 or 64 (stderr: $first)"
            ;;
    esac
    [ "$(keys_snapshot)" = "$before" ] || fail "$label: the keys dir changed"
    note "$label → exit $status: $first"
}

# The CLI without --keys-dir and --database (both come from the environment above).
bare() {
    timeout 30 "$INVITELINK" "$@"
}

expect_error "unknown subcommand" bare frobnicate
expect_error "unknown keys subcommand" bare keys frobnicate
expect_error "keys add --alg rsa" il keys add --alg rsa
expect_error "keys add without --alg" il keys add
expect_error "keys promote nosuchkid" il keys promote nosuchkid
expect_error "keys retire nosuchkid" il keys retire nosuchkid
expect_error "keys revoke with an invalid kid" il keys revoke ../escape
expect_error "keys import of a missing file" il keys import --pem "$WORK/missing.pem"
expect_error "keys retire of the primary without --force" il keys retire -- "$primary"
expect_error "links verify --at nonsense" il links verify x.y.z --offline --at yesterday
expect_error "links create --ttl 91d" il links create --reseller r1 --ttl 91d --offline
# Issue 11: numbers that overflow are usage errors (64), never a crash.
EXPECT_STATUS=64 expect_error "links verify --at Int64.max" il links verify x.y.z --offline --at 9223372036854775807
EXPECT_STATUS=64 expect_error "links verify --at Int64.min" il links verify x.y.z --offline --at=-9223372036854775808
EXPECT_STATUS=64 expect_error "links create --ttl 10^30 seconds" il links create --reseller r1 --ttl 1000000000000000000000000000000 --offline
EXPECT_STATUS=64 expect_error "links create --ttl that overflows in days" il links create --reseller r1 --ttl 106751991167301d --offline
# A bad session secret stops serve before it opens the database or a port.
printf 'too short\n' >"$WORK/short.secret"
chmod 600 "$WORK/short.secret"
expect_error "serve with a session secret under 32 bytes" il serve --port 1 --session-secret-file "$WORK/short.secret"
openssl rand -hex 32 >"$WORK/open.secret"
chmod 644 "$WORK/open.secret"
expect_error "serve with a session secret readable by others" il serve --port 1 --session-secret-file "$WORK/open.secret"
grep -q "open.secret is readable by group or others" "$WORK/err" || fail "the 0644 session secret is not named: $(cat "$WORK/err")"
expect_error "serve with a missing session secret file" il serve --port 1 --session-secret-file "$WORK/missing.secret"

# links verify of garbage: the reason code on stdout, exit 10 + its index (malformed = 10).
before=$(keys_snapshot)
status=0
il links verify garbage --offline >"$WORK/out" 2>"$WORK/err" || status=$?
[ $status = 10 ] || fail "links verify garbage: exit $status, expected 10 (malformed)"
[ "$(cat "$WORK/out")" = malformed ] || fail "links verify garbage printed '$(cat "$WORK/out")', expected 'malformed'"
[ "$(wc -l <"$WORK/err")" -le 1 ] || fail "links verify garbage: stderr is more than one line"
[ "$(keys_snapshot)" = "$before" ] || fail "links verify garbage: the keys dir changed"
note "links verify garbage → exit 10, malformed"

# A secret file readable by others: keys list fails and names the file.
chmod 644 "$KEYS/$primary.pem"
status=0
il keys list >"$WORK/out" 2>"$WORK/err" || status=$?
[ $status = 1 ] || fail "keys list with a 0644 secret file: exit $status, expected 1"
grep -q "$primary.pem" "$WORK/err" || fail "keys list with a 0644 secret file does not name it: $(cat "$WORK/err")"
chmod 600 "$KEYS/$primary.pem"
note "0644 secret file → keys list exit 1: $(head -1 "$WORK/err")"

# A key file the manifest does not name (a command killed between the two writes): keys list
# still succeeds and names it on stderr.
install -m 600 /dev/null "$KEYS/orphan-kid.pem"
status=0
il keys list >"$WORK/out" 2>"$WORK/err" || status=$?
[ $status = 0 ] || fail "keys list with a stray key file: exit $status"
grep -q "orphan-kid.pem is not a key of keyring.json" "$WORK/err" || fail "keys list does not name the stray file: $(cat "$WORK/err")"
rm "$KEYS/orphan-kid.pem"
note "stray key file → keys list exit 0 and: $(head -1 "$WORK/err")"

# verify_reason TOKEN EXPECTED: links verify --offline gives the reason (or "valid") and its exit.
verify_reason() {
    local token=$1 expected=$2 status=0 reason
    il links verify "$token" --offline --json >"$WORK/out" 2>"$WORK/err" || status=$?
    reason=$(python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print("valid" if d["valid"] else d["reason"])' "$WORK/out") \
        || fail "links verify --json printed no JSON: $(cat "$WORK/out") $(cat "$WORK/err")"
    [ "$reason" = "$expected" ] || fail "links verify: $reason, expected $expected"
    local codes=(malformed unknown_key key_retired key_revoked algorithm_mismatch bad_signature invalid_claims
        wrong_issuer wrong_audience not_yet_valid expired revoked used_up unknown_invitation)
    local want=0 i
    if [ "$expected" != valid ]; then
        for i in "${!codes[@]}"; do [ "${codes[$i]}" = "$expected" ] && want=$((10 + i)); done
    fi
    [ $status = $want ] || fail "links verify ($expected): exit $status, expected $want"
}

link_of_primary() {
    il links create --reseller reseller-1 --offline --json | json_get token
}

old_link=$(link_of_primary)
verify_reason "$old_link" valid

# After rotate, a link from the old primary still verifies.
new_primary=$(il keys rotate --alg ed25519) || fail "second keys rotate failed"
[ "$new_primary" != "$primary" ] || fail "keys rotate printed the old kid"
verify_reason "$old_link" valid
note "after keys rotate, the old primary's link still verifies"

# retire --force: the old key's links stop verifying, as key_retired.
il keys retire -- "$primary" >/dev/null 2>&1 && fail "keys retire of a key demoted just now succeeded without --force"
il keys retire --force -- "$primary" >/dev/null || fail "keys retire --force failed"
verify_reason "$old_link" key_retired
note "after keys retire --force, its link → key_retired (exit 12)"

# revoke: at once, key_revoked.
new_link=$(link_of_primary)
verify_reason "$new_link" valid
il keys revoke -- "$new_primary" >/dev/null || fail "keys revoke failed"
verify_reason "$new_link" key_revoked
note "after keys revoke, its link → key_revoked (exit 13)"

# A kid may begin with "-" ([A-Za-z0-9_-]{1,64}); after `--` the commands take it as a kid.
openssl genpkey -algorithm ed25519 -out dash.pem 2>/dev/null || fail "openssl genpkey failed"
[ "$(il keys import --pem dash.pem --kid=-dash)" = -dash ] || fail "keys import --kid=-dash did not print -dash"
il keys promote -- -dash >/dev/null || fail "keys promote -- -dash failed"
dash_link=$(link_of_primary)
il keys revoke -- -dash >/dev/null || fail "keys revoke -- -dash failed"
verify_reason "$dash_link" key_revoked
note "a kid beginning with '-' is promoted and revoked after '--'"

# The clock is a parameter: a one-hour link is expired two hours from now, valid now.
il keys rotate --alg hs256 >/dev/null || fail "keys rotate --alg hs256 failed"
short=$(il links create --reseller reseller-1 --ttl 1h --offline --json | json_get token)
verify_reason "$short" valid
status=0
il links verify "$short" --offline --at $(( $(date +%s) + 7200 )) >"$WORK/out" 2>/dev/null || status=$?
[ $status = 20 ] && [ "$(cat "$WORK/out")" = expired ] || fail "links verify --at +2h: exit $status '$(cat "$WORK/out")', expected 20 expired"
note "links verify --at two hours ahead → expired (exit 20)"
