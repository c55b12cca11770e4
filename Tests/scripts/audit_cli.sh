#!/usr/bin/env bash
# People and the audit trail from the CLI (DESIGN.md §4, §7, §8), from outside:
#
#  1. `customers add` prints the id, then a setup link (PUBLIC_URL/setup?token=…, a setup+jwt
#     for the new admin), or a one-time password; a taken domain is refused; `users add|list|
#     disable|enable|reset-password` do what they say, and unknown ids fail on stderr.
#  2. `audit list --json` is JSON Lines of {seq, at, actor{kind,id}, action, subject, details,
#     partner_id, customer_id}; each key change appears once (actor cli); --action, --partner,
#     --customer and --since filter; no secret, key file content, token or link is in the log.
#  3. A key change against an unreachable database still happens, warns on stderr and exits 0.
#  4. `audit seal`, `audit verify`, `audit export` and `audit verify --file`; an entry altered,
#     deleted or swapped in the database (triggers dropped) or in an export is found, by seq.
#  5. `serve --audit-seal-interval 1` seals new entries by itself within seconds.
#
# Uses $INVITELINK or .build/debug/invitelink, python3 (its sqlite3 module for the tampering)
# and curl. Bounded by LIMIT seconds (default 90).
set -euo pipefail

# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

LIMIT=${LIMIT:-90}
# The defaults these checks expect, whatever the caller's environment says.
unset INVITELINK_PUBLIC_URL INVITELINK_ISSUER
begin_server_test audit
cd "$WORK"

# Background CLI runs (part 3) are stopped too when the script ends early.
BACKGROUND=()
cleanup() {
    local status=$?
    set +e
    [ ${#BACKGROUND[@]} = 0 ] || stop_processes "${BACKGROUND[@]}"
    (exit "$status")   # end_server_test reads the script's status from $?
    end_server_test
}
trap cleanup EXIT

DB_FILE=$WORK/db.sqlite
SECRETS=$WORK/secrets.txt   # every secret, token and link the commands print, one a line
KEY_CHANGES=$WORK/key_changes.txt   # "ACTION KID" for every key change made on $DB
: >"$SECRETS"
: >"$KEY_CHANGES"

# `secret VALUE…`: remember values that must never appear in the audit log. A token, or a
# link holding one, also adds the token and its signature alone.
secret() {
    local value token
    for value in "$@"; do
        [ -n "$value" ] || continue
        printf '%s\n' "$value" >>"$SECRETS"
        case $value in *token=*) token=${value#*token=}; printf '%s\n' "$token" >>"$SECRETS"; value=$token ;; esac
        case $value in *.*.*) printf '%s\n' "${value##*.}" >>"$SECRETS" ;; esac
    done
}
key_change() { echo "$1 $2" >>"$KEY_CHANGES"; }

# `run LABEL COMMAND…`: runs it with stdout in $WORK/out and stderr in $WORK/err; fails the
# script unless it exits 0.
run() {
    local label=$1 status=0; shift
    "$@" >"$WORK/out" 2>"$WORK/err" || status=$?
    [ $status = 0 ] || fail "$label: exit $status: $(head -c 300 "$WORK/err")"
}

# The audit log as JSON Lines, into FILE.
audit_json() { il audit list --json "${@:2}" >"$1" || fail "audit list --json ${*:2} failed"; }
audit_count() { il audit list --json | wc -l; }

# `expect_failure LABEL COMMAND…`: a non-zero exit (not a timeout), nothing on stdout, an
# "invitelink: …" or "Error: …" reason on stderr, and no new audit entry.
expect_failure() {
    local label=$1 status=0 before; shift
    before=$(audit_count)
    "$@" >"$WORK/out" 2>"$WORK/err" || status=$?
    [ $status != 0 ] || fail "$label: exit 0 (stdout: $(head -c 200 "$WORK/out"))"
    [ $status != 124 ] || fail "$label: did not finish in 30 s"
    [ ! -s "$WORK/out" ] || fail "$label: printed on stdout: $(head -c 200 "$WORK/out")"
    grep -Eq '^(invitelink: |Error: ).' "$WORK/err" || fail "$label: exit $status without a reason on stderr: $(head -c 200 "$WORK/err")"
    [ "$(audit_count)" = "$before" ] || fail "$label: the failed command wrote an audit entry"
    note "$label → exit $status: $(head -1 "$WORK/err")"
}

# `check_setup_link LINK PUBLIC_URL USER_ID KID`: LINK is PUBLIC_URL/setup?token=T and T a setup
# token (§7: typ setup+jwt, aud account-setup, sub the user, 72 h, signed by KID).
check_setup_link() {
    python3 - "$@" <<'EOF' || fail "setup link check failed for $1"
import base64, json, re, sys
link, public_url, user_id, kid = sys.argv[1:5]
def die(message):
    sys.exit(f"audit_cli.sh: FAIL: setup link {link[:80]}…: {message}")
prefix = public_url + "/setup?token="
if not link.startswith(prefix):
    die(f"does not begin with {prefix}")
token = link[len(prefix):]
if not re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", token):
    die("the token is not a JWS compact serialization")
def part(s):
    return json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
header, payload = part(token.split(".")[0]), part(token.split(".")[1])
if header != {"alg": "EdDSA", "kid": kid, "typ": "setup+jwt"}:
    die(f"header {header}, expected EdDSA, kid {kid}, typ setup+jwt")
for name in ("iss", "aud", "jti", "sub", "iat", "exp"):
    if name not in payload:
        die(f"no {name} claim: {payload}")
if payload["aud"] != "account-setup":
    die(f"aud {payload['aud']}")
if payload["sub"] != user_id:
    die(f"sub {payload['sub']}, expected the user {user_id}")
if payload["exp"] - payload["iat"] != 72 * 3600:
    die(f"lifetime {payload['exp'] - payload['iat']} s, expected 72 h")
EOF
}

# `user_field TENANT_OPTION TENANT EMAIL FIELD`: a member of that user's `users list --json` line.
user_field() {
    il users list "$1" "$2" --json | python3 -c '
import json, sys
email, field = sys.argv[1:3]
for line in sys.stdin:
    user = json.loads(line)
    if user["email"] == email:
        print(user[field]); break
else:
    sys.exit(f"no user {email} in users list")' "$3" "$4" || fail "users list $1 $2 does not show $3"
}

# --- 3 (started first: the PostgreSQL client takes ~10 s to give up) -------------------------
# A key change made while the database cannot be reached still happens: `keys add` in one keys
# dir and `keys revoke` in another, both against a PostgreSQL server that is not there.
UNREACHABLE=postgres://nobody@127.0.0.1:1/none
OFF_ADD=$WORK/KeysOfflineAdd
OFF_REVOKE=$WORK/KeysOfflineRevoke
off_kid=$(timeout 30 "$INVITELINK" keys rotate --alg ed25519 --keys-dir "$OFF_REVOKE" --database "sqlite:$WORK/offline.sqlite") \
    || fail "keys rotate in $OFF_REVOKE failed"
timeout 60 "$INVITELINK" keys add --alg ed25519 --keys-dir "$OFF_ADD" --database "$UNREACHABLE" \
    >"$WORK/offline_add.out" 2>"$WORK/offline_add.err" &
OFF_ADD_PID=$!
timeout 60 "$INVITELINK" keys revoke --keys-dir "$OFF_REVOKE" --database "$UNREACHABLE" -- "$off_kid" \
    >"$WORK/offline_revoke.out" 2>"$WORK/offline_revoke.err" &
OFF_REVOKE_PID=$!
BACKGROUND=("$OFF_ADD_PID" "$OFF_REVOKE_PID")

# --- 1. People -------------------------------------------------------------------------------
run "keys rotate --alg ed25519" il keys rotate --alg ed25519
k1=$(cat "$WORK/out"); key_change key.rotated "$k1"
run "partners add P" il partners add --id P --name "Partner P" --kind reseller
run "partners add Q" il partners add --id Q --name "Provider Q" --kind provider
run "partners connect" il partners connect --reseller P --provider Q

PUBLIC=https://portal.example.test
run "customers add c1" il customers add --id c1 --name C --domain c1.example --admin-email admin@c1.example --public-url "$PUBLIC"
[ "$(wc -l <"$WORK/out")" = 2 ] || fail "customers add printed $(wc -l <"$WORK/out") lines, expected the id and a setup link: $(cat "$WORK/out")"
[ "$(sed -n 1p "$WORK/out")" = c1 ] || fail "customers add printed '$(sed -n 1p "$WORK/out")' first, expected the id c1"
c1_link=$(sed -n 2p "$WORK/out"); secret "$c1_link"
c1_admin=$(user_field --customer c1 admin@c1.example id)
check_setup_link "$c1_link" "$PUBLIC" "$c1_admin" "$k1"
[ "$(user_field --customer c1 admin@c1.example status)" = setup_pending ] || fail "c1's admin is not setup_pending before setup"
[ "$(user_field --customer c1 admin@c1.example role)" = global-admin ] || fail "c1's admin is not a global-admin"
note "customers add → c1 and $PUBLIC/setup?token=… (setup+jwt for the admin, 72 h)"

ENV_PUBLIC=https://env.example.test
INVITELINK_PUBLIC_URL=$ENV_PUBLIC run "customers add c2 (INVITELINK_PUBLIC_URL)" \
    il customers add --id c2 --name C2 --domain c2.example --admin-email admin@c2.example
[ "$(sed -n 1p "$WORK/out")" = c2 ] || fail "customers add c2 printed '$(sed -n 1p "$WORK/out")' first"
c2_link=$(sed -n 2p "$WORK/out"); secret "$c2_link"
check_setup_link "$c2_link" "$ENV_PUBLIC" "$(user_field --customer c2 admin@c2.example id)" "$k1"
note "INVITELINK_PUBLIC_URL is honoured: $ENV_PUBLIC/setup?token=…"

run "customers add --one-time-password" \
    il customers add --id c3 --name C3 --domain c3.example --admin-email admin@c3.example --one-time-password
[ "$(wc -l <"$WORK/out")" = 2 ] && [ "$(sed -n 1p "$WORK/out")" = c3 ] \
    || fail "customers add --one-time-password printed: $(cat "$WORK/out")"
c3_password=$(sed -n 2p "$WORK/out"); secret "$c3_password"
[[ $c3_password =~ ^[^[:space:]/?]{12,}$ ]] || fail "customers add --one-time-password printed '$c3_password', not a password"
c3_status=$(user_field --customer c3 admin@c3.example status)
case $c3_status in setup_pending | active) ;; *) fail "c3's admin (one-time password) has status $c3_status" ;; esac
note "customers add --one-time-password → c3 and a password (admin $c3_status)"

expect_failure "customers add with a taken domain" \
    il customers add --id c9 --name Dup --domain c1.example --admin-email admin@c9.example
expect_failure "customers add with a taken domain in capitals" \
    il customers add --id c9 --name Dup --domain C1.Example --admin-email admin@c9.example
expect_failure "users list of the refused customer" il users list --customer c9

run "users add admin-agent" il users add --partner P --email agent@p.example --role admin-agent
[ "$(wc -l <"$WORK/out")" = 1 ] || fail "users add printed $(wc -l <"$WORK/out") lines, expected one setup link"
agent_link=$(cat "$WORK/out"); secret "$agent_link"
agent=$(user_field --partner P agent@p.example id)
check_setup_link "$agent_link" "http://127.0.0.1:8080" "$agent" "$k1"
run "users add sales-agent --one-time-password" il users add --partner P --email sales@p.example --role sales-agent --one-time-password
sales_password=$(cat "$WORK/out"); secret "$sales_password"
[[ $sales_password =~ ^[^[:space:]/?]{12,}$ ]] || fail "users add --one-time-password printed '$sales_password'"
sales=$(user_field --partner P sales@p.example id)
note "users add → a setup link (admin-agent), a password (sales-agent, --one-time-password)"

run "users list --partner P" il users list --partner P
grep -q "agent@p.example" "$WORK/out" && grep -q "sales@p.example" "$WORK/out" || fail "users list --partner P: $(cat "$WORK/out")"
run "users list --partner P --json" il users list --partner P --json
python3 - "$WORK/out" "$agent" "$sales" <<'EOF' || fail "users list --json is wrong"
import json, re, sys
path, agent, sales = sys.argv[1:4]
users = {}
for line in open(path):
    user = json.loads(line)
    if set(user) != {"id", "email", "role", "status", "created_at"}:
        sys.exit(f"users list --json: members {sorted(user)}, expected id, email, role, status, created_at")
    if user["status"] not in ("setup_pending", "active", "disabled"):
        sys.exit(f"users list --json: status {user['status']}")
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", user["created_at"]):
        sys.exit(f"users list --json: created_at {user['created_at']} is not RFC 3339")
    users[user["id"]] = user
if len(users) != 2:
    sys.exit(f"users list --partner P --json: {len(users)} users, expected 2")
a, s = users[agent], users[sales]
if (a["email"], a["role"], a["status"]) != ("agent@p.example", "admin-agent", "setup_pending"):
    sys.exit(f"the admin agent is listed as {a}")
if (s["email"], s["role"]) != ("sales@p.example", "sales-agent"):
    sys.exit(f"the sales agent is listed as {s}")
EOF
note "users list --partner P [--json] lists both (id, email, role, status, created_at)"

run "users disable" il users disable -- "$agent"
[ "$(user_field --partner P agent@p.example status)" = disabled ] || fail "users disable: the status is $(user_field --partner P agent@p.example status)"
run "users enable" il users enable -- "$agent"
status_after=$(user_field --partner P agent@p.example status)
[ "$status_after" != disabled ] || fail "users enable: the user is still disabled"
run "users reset-password" il users reset-password -- "$agent"
[ "$(wc -l <"$WORK/out")" = 1 ] || fail "users reset-password printed: $(cat "$WORK/out")"
reset_link=$(cat "$WORK/out"); secret "$reset_link"
[ "$reset_link" != "$agent_link" ] || fail "users reset-password printed the first setup link again"
check_setup_link "$reset_link" "http://127.0.0.1:8080" "$agent" "$k1"
[ "$(user_field --partner P agent@p.example status)" = setup_pending ] || fail "after reset-password the status is not setup_pending"
run "users reset-password of the sales agent" il users reset-password -- "$sales"
secret "$(cat "$WORK/out")"
[ "$(user_field --partner P sales@p.example status)" = setup_pending ] \
    || fail "reset-password of a user with a password: status $(user_field --partner P sales@p.example status), expected setup_pending"
note "users disable → disabled, enable → $status_after, reset-password → a new setup link and setup_pending"

for command in disable enable reset-password; do
    expect_failure "users $command of an unknown id" il users "$command" -- no-such-user
    grep -q no-such-user "$WORK/err" || fail "users $command of an unknown id does not name it: $(cat "$WORK/err")"
done
expect_failure "users list of an unknown partner" il users list --partner no-such-partner
expect_failure "users add to an unknown partner" il users add --partner no-such-partner --email x@y.example --role admin-agent
expect_failure "users add with a taken email" il users add --partner P --email Agent@P.example --role admin-agent
expect_failure "credentials revoke of an unknown id" il credentials revoke -- cred_nosuchcredential

# --- 2. Changes, then the audit log --------------------------------------------------------------
sleep 1   # so that the entries span more than one second, for --since
run "credentials create admin-agent" il credentials create --partner P --role admin-agent --json
agent_secret=$(json_get secret <"$WORK/out"); agent_cred=$(json_get id <"$WORK/out")
secret "$agent_secret" "${agent_secret#*.}"
run "credentials create sales-agent" il credentials create --partner P --role sales-agent --json
revoked_secret=$(json_get secret <"$WORK/out"); revoked_cred=$(json_get id <"$WORK/out")
secret "$revoked_secret" "${revoked_secret#*.}"
run "credentials revoke" il credentials revoke -- "$revoked_cred"
run "credentials create for c1" il credentials create --customer c1 --role global-admin
customer_secret=$(cat "$WORK/out"); secret "$customer_secret" "${customer_secret#*.}"

run "keys add --alg hs256" il keys add --alg hs256
k2=$(cat "$WORK/out"); key_change key.added "$k2"
secret "$(tr -d '\n' <"$KEYS/$k2.hmac")"
run "keys promote" il keys promote -- "$k2"; key_change key.promoted "$k2"
run "links create (HS256)" il links create --reseller P --provider Q --dap --json
link1_id=$(json_get id <"$WORK/out"); secret "$(json_get url <"$WORK/out")" "$(json_get token <"$WORK/out")"
run "keys rotate --alg ed25519" il keys rotate --alg ed25519
k3=$(cat "$WORK/out"); key_change key.rotated "$k3"
run "links create (Ed25519)" il links create --reseller P
secret "$(cat "$WORK/out")"
expect_failure "keys retire of a recent primary without --force" il keys retire -- "$k2"
run "keys retire --force" il keys retire --force -- "$k2"; key_change key.retired "$k2"
run "keys revoke" il keys revoke -- "$k1"; key_change key.revoked "$k1"
openssl genpkey -algorithm ed25519 -out "$WORK/import.pem" 2>/dev/null || fail "openssl genpkey failed"
run "keys import --pem" il keys import --pem "$WORK/import.pem" --kid imported-1; key_change key.imported imported-1
run "keys add --alg ed25519" il keys add --alg ed25519
k4=$(cat "$WORK/out"); key_change key.added "$k4"
for kid in "$k1" "$k3" "$k4" imported-1; do secret "$(grep -v -- '-----' "$KEYS/$kid.pem" | tr -d '\n')"; done
secret "$(grep -v -- '-----' "$WORK/import.pem" | tr -d '\n')"
note "made: credentials create/revoke, links create, keys rotate/add/promote/retire --force/revoke/import"

audit_json "$WORK/audit.jsonl"
il audit list >"$WORK/audit.txt" || fail "audit list failed"
# `check_audit FILE`: the members of every line, one entry per key change (actor cli), the
# expected entries present, and no secret anywhere.
check_audit() {
    python3 - "$1" "$KEY_CHANGES" "$SECRETS" "$agent_cred" "$revoked_cred" "$link1_id" <<'EOF'
import json, re, sys
path, changes_path, secrets_path, agent_cred, revoked_cred, link_id = sys.argv[1:7]
text = open(path).read()
entries = [json.loads(line) for line in text.splitlines()]
members = {"seq", "at", "actor", "action", "subject", "details", "partner_id", "customer_id"}
last = 0
for e in entries:
    if set(e) != members:
        sys.exit(f"entry {e.get('seq')}: members {sorted(e)}, expected {sorted(members)}")
    if not isinstance(e["seq"], int) or e["seq"] <= last:
        sys.exit(f"seq {e['seq']} after {last}: not increasing")
    last = e["seq"]
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", e["at"]):
        sys.exit(f"entry {e['seq']}: at {e['at']} is not RFC 3339 UTC")
    if not isinstance(e["actor"], dict) or set(e["actor"]) != {"kind", "id"} or not isinstance(e["actor"]["kind"], str):
        sys.exit(f"entry {e['seq']}: actor {e['actor']}, expected {{kind, id}}")
    if not isinstance(e["details"], dict):
        sys.exit(f"entry {e['seq']}: details {e['details']!r} is not an object")
    for name in ("action", "subject"):
        if not isinstance(e[name], str) or not e[name]:
            sys.exit(f"entry {e['seq']}: {name} {e[name]!r}")
    for name in ("partner_id", "customer_id"):
        if e[name] is not None and not isinstance(e[name], str):
            sys.exit(f"entry {e['seq']}: {name} {e[name]!r}")
changes = [line.split() for line in open(changes_path) if line.strip()]
for action, kid in changes:
    found = [e for e in entries if e["action"] == action and e["subject"] == kid]
    if len(found) != 1:
        sys.exit(f"{action} {kid}: {len(found)} entries, expected exactly one")
    if found[0]["actor"]["kind"] != "cli":
        sys.exit(f"{action} {kid}: actor {found[0]['actor']}, expected kind cli")
key_entries = [e for e in entries if e["action"].startswith("key.")]
if len(key_entries) != len(changes):
    sys.exit(f"{len(key_entries)} key.* entries for {len(changes)} key changes: "
             + ", ".join(f"{e['action']} {e['subject']}" for e in key_entries))
def expect(what, predicate):
    if not any(predicate(e) for e in entries):
        sys.exit(f"no audit entry for {what}")
expect("partner P added", lambda e: e["subject"] == "P" and e["partner_id"] == "P" and e["action"].startswith("partner."))
expect("P connected to Q", lambda e: e["partner_id"] == "P" and "connect" in e["action"])
expect("customer c1 added", lambda e: e["subject"] == "c1" and e["customer_id"] == "c1" and e["action"].startswith("customer."))
expect("credential created", lambda e: e["subject"] == agent_cred and e["partner_id"] == "P")
expect("credential revoked", lambda e: e["subject"] == revoked_cred and e["action"].endswith(".revoked"))
expect("invitation issued", lambda e: e["subject"] == link_id and e["partner_id"] == "P")
expect("user disabled", lambda e: e["action"] == "user.disabled")
expect("user enabled", lambda e: e["action"] == "user.enabled")
EOF
}
check_secrets() {
    python3 - "$SECRETS" "$@" <<'EOF'
import sys
secrets = [line.strip() for line in open(sys.argv[1]) if len(line.strip()) >= 8]
for path in sys.argv[2:]:
    text = open(path).read()
    for s in secrets:
        if s in text:
            sys.exit(f"{path} contains a secret the commands printed: {s[:24]}…")
EOF
}
check_audit "$WORK/audit.jsonl" || fail "audit list --json is wrong"
check_secrets "$WORK/audit.jsonl" "$WORK/audit.txt" || fail "the audit log holds a secret"
note "audit list --json: $(wc -l <"$WORK/audit.jsonl") entries, all members; $(wc -l <"$KEY_CHANGES") key changes once each (actor cli); none of $(wc -l <"$SECRETS") secrets in it"

# Filters: each gives exactly the entries of the full list that match.
# `check_filter LABEL PYTHON_PREDICATE OPTION…`
check_filter() {
    local label=$1 predicate=$2; shift 2
    audit_json "$WORK/filtered.jsonl" "$@"
    python3 - "$WORK/audit.jsonl" "$WORK/filtered.jsonl" "$predicate" <<'EOF' || fail "audit list $label"
import json, sys
full = [json.loads(l) for l in open(sys.argv[1])]
got = [json.loads(l) for l in open(sys.argv[2])]
keep = eval("lambda e: " + sys.argv[3])
want = [e for e in full if keep(e)]
if not want or len(want) == len(full):
    sys.exit(f"the filter test is void: {len(want)} of {len(full)} entries match")
if got != want:
    sys.exit(f"printed seqs {[e['seq'] for e in got]}, expected {[e['seq'] for e in want]}")
EOF
    note "audit list $label → $(wc -l <"$WORK/filtered.jsonl") entries, as expected"
}
check_filter "--action key.revoked" 'e["action"] == "key.revoked"' --action key.revoked
check_filter "--partner P" 'e["partner_id"] == "P"' --partner P
check_filter "--customer c1" 'e["customer_id"] == "c1"' --customer c1
check_filter "--partner P --action credential.revoked" 'e["partner_id"] == "P" and e["action"] == "credential.revoked"' \
    --partner P --action credential.revoked
since=$(python3 -c 'import json, sys; print(max(json.loads(l)["at"] for l in open(sys.argv[1])))' "$WORK/audit.jsonl")
since_unix=$(python3 -c 'import calendar, sys, time; print(calendar.timegm(time.strptime(sys.argv[1][:19], "%Y-%m-%dT%H:%M:%S")))' "$since")
check_filter "--since $since" "e[\"at\"] >= \"$since\"" --since "$since"
check_filter "--since $since_unix (Unix seconds)" "e[\"at\"] >= \"$since\"" --since "$since_unix"
audit_json "$WORK/filtered.jsonl" --since "$((since_unix + 3600))"
[ ! -s "$WORK/filtered.jsonl" ] || fail "audit list --since an hour ahead printed entries"
expect_failure "audit list --since yesterday" il audit list --since yesterday

# --- 4. Seal, verify, export, tamper ---------------------------------------------------------------
total=$(audit_count)
run "audit seal" il audit seal
[[ $(cat "$WORK/out") =~ ^sealed\ ([0-9]+)\ entries\ in\ ([0-9]+)\ checkpoint ]] || fail "audit seal printed: $(cat "$WORK/out")"
[ "${BASH_REMATCH[1]}" = "$total" ] || fail "audit seal sealed ${BASH_REMATCH[1]} entries, the log has $total"
note "audit seal → $(cat "$WORK/out")"
run "audit seal again" il audit seal
grep -Eq '^(nothing to seal|sealed 0 )' "$WORK/out" || fail "a second audit seal printed: $(cat "$WORK/out")"
first_last=$total
run "partners add R" il partners add --id R --name "Partner R" --kind reseller
run "audit seal of one entry" il audit seal
[[ $(cat "$WORK/out") =~ ^sealed\ 1\ entries ]] || fail "audit seal of one new entry printed: $(cat "$WORK/out")"
total=$(audit_count)
last_seq=$(il audit list --json | tail -1 | json_get seq)

# `verify_counts OUTPUT_FILE`: "ENTRIES CHECKPOINTS UNSEALED" from `audit verify`'s line.
verify_counts() {
    sed -nE 's/^audit log verified: ([0-9]+) entries in ([0-9]+) checkpoints?; ([0-9]+) entr(y|ies) not sealed.*/\1 \2 \3/p' "$1"
}
run "audit verify" il audit verify
counts=$(verify_counts "$WORK/out")
[ "$counts" = "$total 2 0" ] || fail "audit verify printed '$(cat "$WORK/out")', expected $total entries in 2 checkpoints, 0 not sealed"
note "audit verify → $(cat "$WORK/out")"

il audit export --until 1 >"$WORK/early.jsonl" || fail "audit export --until 1 failed"
[ ! -s "$WORK/early.jsonl" ] || fail "audit export --until 1 (1970) printed entries"
il audit export --until "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$WORK/export.jsonl" || fail "audit export failed"
python3 - "$WORK/export.jsonl" "$WORK/audit.jsonl" "$first_last" "$total" <<'EOF' || fail "the export is wrong"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
listed = {e["seq"]: e for e in map(json.loads, open(sys.argv[2]))}
first_last, total = int(sys.argv[3]), int(sys.argv[4])
kinds = [l.get("type") for l in lines]
if kinds.count("checkpoint") != 2 or kinds.count("entry") != total or kinds[-1] != "checkpoint":
    sys.exit(f"{kinds.count('entry')} entries and {kinds.count('checkpoint')} checkpoints, expected {total} and 2, a checkpoint last")
if kinds[first_last] != "checkpoint":
    sys.exit(f"the first checkpoint is line {kinds.index('checkpoint') + 1}, expected {first_last + 1}")
for l in lines:
    if l["type"] == "entry" and l["seq"] in listed:
        e = {k: v for k, v in l.items() if k not in ("type", "link", "prev")}
        if e != listed[l["seq"]]:
            sys.exit(f"entry {l['seq']} differs from audit list: {e} vs {listed[l['seq']]}")
EOF
check_secrets "$WORK/export.jsonl" || fail "the export holds a secret"
run "audit verify --file" il audit verify --file "$WORK/export.jsonl"
[ "$(verify_counts "$WORK/out")" = "$total 2 0" ] || fail "audit verify --file printed: $(cat "$WORK/out")"
note "audit export → $(wc -l <"$WORK/export.jsonl") lines; audit verify --file → $(cat "$WORK/out")"

# `il_on DATABASE_URL ARGUMENT…`: the CLI with $KEYS and another database (il's --database
# comes last and would win).
il_on() {
    local url=$1; shift
    timeout 30 "$INVITELINK" "$@" --keys-dir "$KEYS" --database "$url"
}

# `expect_bad_seq LABEL SEQ COMMAND…`: exit 1 and "first bad seq: SEQ" on stdout.
expect_bad_seq() {
    local label=$1 seq=$2 status=0; shift 2
    "$@" >"$WORK/out" 2>"$WORK/err" || status=$?
    [ $status = 1 ] || fail "$label: audit verify exit $status, expected 1 (stdout: $(cat "$WORK/out"); stderr: $(cat "$WORK/err"))"
    grep -Eq "^first bad seq: $seq( |\$)" "$WORK/out" \
        || fail "$label: audit verify printed '$(cat "$WORK/out")', expected 'first bad seq: $seq'"
    note "$label → exit 1, $(cat "$WORK/out")"
}

# `tampered NAME SQL`: a copy of the database, its append-only triggers dropped, SQL applied;
# prints its URL.
tampered() {
    local copy=$WORK/$1.sqlite suffix
    for suffix in "" -wal -shm; do [ ! -f "$DB_FILE$suffix" ] || cp "$DB_FILE$suffix" "$copy$suffix"; done
    python3 - "$copy" "$2" <<'EOF' || fail "tampering with $copy failed"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executescript("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; " + sys.argv[2])
db.commit()
db.close()
EOF
    echo "sqlite:$copy"
}
# Entries to touch: two in the first checkpoint whose action/subject differ, one in the second.
read -r swap_a swap_b < <(python3 - "$WORK/audit.jsonl" <<'EOF'
import json, sys
e = [json.loads(l) for l in open(sys.argv[1])][2:]
a = e[0]
b = next(x for x in e[3:] if (x["action"], x["subject"]) != (a["action"], a["subject"]))
print(a["seq"], b["seq"])
EOF
)
middle=$(sed -n "$((first_last / 2))p" "$WORK/audit.jsonl" | json_get seq)
deleted=$(sed -n "$((first_last / 2 + 2))p" "$WORK/audit.jsonl" | json_get seq)

url=$(tampered altered "UPDATE audit_log SET subject = subject || '-x' WHERE id = $middle")
expect_bad_seq "subject of sealed entry $middle altered in the database" "$middle" il_on "$url" audit verify
url=$(tampered altered2 "UPDATE audit_log SET subject = 'Partner-Z' WHERE id = $last_seq")
expect_bad_seq "subject of entry $last_seq (second checkpoint) altered" "$last_seq" il_on "$url" audit verify
url=$(tampered deleted "DELETE FROM audit_log WHERE id = $deleted")
expect_bad_seq "sealed entry $deleted deleted from the database" "$deleted" il_on "$url" audit verify
url=$(tampered deleted_last "DELETE FROM audit_log WHERE id = $last_seq")
expect_bad_seq "the last sealed entry $last_seq deleted" "$last_seq" il_on "$url" audit verify
url=$(tampered swapped "
    CREATE TEMP TABLE t AS SELECT id, action, subject FROM audit_log WHERE id IN ($swap_a, $swap_b);
    UPDATE audit_log SET action = (SELECT action FROM t WHERE id = $swap_b), subject = (SELECT subject FROM t WHERE id = $swap_b) WHERE id = $swap_a;
    UPDATE audit_log SET action = (SELECT action FROM t WHERE id = $swap_a), subject = (SELECT subject FROM t WHERE id = $swap_a) WHERE id = $swap_b;")
expect_bad_seq "action/subject of entries $swap_a and $swap_b swapped" "$swap_a" il_on "$url" audit verify
run "audit verify of the untouched database" il audit verify
[ "$(verify_counts "$WORK/out")" = "$total 2 0" ] || fail "the original no longer verifies: $(cat "$WORK/out")"

# A checkpoint signed by a key revoked since cannot be trusted (a copy of keys and database).
cp -r "$KEYS" "$WORK/KeysRevoked"
revoked_db=$(tampered revoked_key "SELECT 1")
timeout 30 "$INVITELINK" keys revoke --keys-dir "$WORK/KeysRevoked" --database "$revoked_db" -- "$k3" >/dev/null \
    || fail "keys revoke of the sealing key (in a copy) failed"
status=0
timeout 30 "$INVITELINK" audit verify --keys-dir "$WORK/KeysRevoked" --database "$revoked_db" >"$WORK/out" 2>"$WORK/err" || status=$?
[ $status = 1 ] || fail "audit verify with the sealing key revoked: exit $status, expected 1"
note "sealing key revoked → audit verify exit 1: $(head -1 "$WORK/err")"

# The export file, altered.
entry_line() { grep -n "\"type\":\"entry\",\"seq\":$1," "$WORK/export.jsonl" | cut -d: -f1; }
line=$(entry_line "$middle")
[ -n "$line" ] || fail "entry $middle is not in the export"
python3 - "$WORK/export.jsonl" "$line" >"$WORK/export_altered.jsonl" <<'EOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
n = int(sys.argv[2]) - 1
e = json.loads(lines[n])
e["subject"] += "-x"
lines[n] = json.dumps(e, separators=(",", ":"))
print("\n".join(lines))
EOF
expect_bad_seq "export: subject of entry $middle altered" "$middle" il audit verify --file "$WORK/export_altered.jsonl"
sed "$(entry_line "$deleted")d" "$WORK/export.jsonl" >"$WORK/export_deleted.jsonl"
status=0
il audit verify --file "$WORK/export_deleted.jsonl" >"$WORK/out" 2>"$WORK/err" || status=$?
[ $status = 1 ] || fail "export with entry $deleted's line removed: audit verify --file exit $status, expected 1"
if grep -Eq "^first bad seq: $deleted( |\$)" "$WORK/out"; then
    note "export: entry $deleted's line removed → exit 1, $(cat "$WORK/out")"
else
    fail "export with entry $deleted's line removed → exit 1 but '$(cat "$WORK/out")', expected 'first bad seq: $deleted'"
fi
python3 - "$WORK/export.jsonl" >"$WORK/export_forged.jsonl" <<'EOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
n = next(i for i, l in enumerate(lines) if json.loads(l)["type"] == "checkpoint")
c = json.loads(lines[n])
signature = c["token"].rsplit(".", 1)[1]
c["token"] = c["token"][: -len(signature)] + ("A" if signature[0] != "A" else "B") + signature[1:]
lines[n] = json.dumps(c, separators=(",", ":"))
print("\n".join(lines))
EOF
status=0
il audit verify --file "$WORK/export_forged.jsonl" >"$WORK/out" 2>"$WORK/err" || status=$?
[ $status = 1 ] || fail "export with a forged checkpoint signature: audit verify --file exit $status, expected 1"
note "export with a checkpoint's signature changed → exit 1: $(head -1 "$WORK/err")"

# --- 5. The running service seals by itself ---------------------------------------------------------
checkpoints_before=$(verify_counts <(il audit verify) | cut -d' ' -f2)
start_server --audit-seal-interval 1
status=$(curl -s -o "$WORK/invitation.json" -w '%{http_code}' -H "Authorization: Bearer $agent_secret" \
    -H 'Content-Type: application/json' -d '{"dap":true}' "$BASE/v1/invitations")
[ "$status" = 201 ] || fail "POST /v1/invitations: HTTP $status: $(head -c 300 "$WORK/invitation.json")"
api_invitation=$(json_get id <"$WORK/invitation.json")
secret "$(json_get url <"$WORK/invitation.json")"
run "partners add S (while serving)" il partners add --id S --name "Partner S" --kind reseller
waited=$SECONDS
sealed=""
while [ $((SECONDS - waited)) -lt 10 ]; do
    il audit verify >"$WORK/out" 2>"$WORK/err" || fail "audit verify while serving: $(cat "$WORK/out" "$WORK/err")"
    read -r entries checkpoints unsealed < <(verify_counts "$WORK/out") || fail "audit verify printed: $(cat "$WORK/out")"
    if [ "$unsealed" = 0 ] && [ "$checkpoints" -gt "$checkpoints_before" ] && [ "$entries" -ge $((total + 2)) ]; then sealed=1; break; fi
    sleep 0.2
done
[ -n "$sealed" ] || fail "serve --audit-seal-interval 1 did not seal within 10 s: $(cat "$WORK/out")"
note "serve --audit-seal-interval 1 sealed the new entries within $((SECONDS - waited)) s: $(cat "$WORK/out")"
audit_json "$WORK/audit_final.jsonl"
python3 - "$WORK/audit_final.jsonl" "$api_invitation" "$agent_cred" <<'EOF' || fail "the API's invitation is not audited as the credential's"
import json, sys
entries = [json.loads(l) for l in open(sys.argv[1])]
mine = [e for e in entries if e["subject"] == sys.argv[2]]
if len(mine) != 1 or mine[0]["actor"] != {"kind": "credential", "id": sys.argv[3]} or mine[0]["partner_id"] != "P":
    sys.exit(f"entries for the API's invitation: {mine}")
EOF
check_audit "$WORK/audit_final.jsonl" || fail "audit list --json is wrong after serving"
check_secrets "$WORK/audit_final.jsonl" || fail "the audit log holds a secret after serving"
stop_processes "$SERVER_PID"; SERVER_PID=""

# --- 3 (results) --------------------------------------------------------------------------------------
status=0; wait "$OFF_ADD_PID" || status=$?
[ $status = 0 ] || fail "keys add against an unreachable database: exit $status: $(cat "$WORK/offline_add.err")"
grep -q "not in the audit log" "$WORK/offline_add.err" || fail "keys add against an unreachable database gave no warning: $(cat "$WORK/offline_add.err")"
off_added=$(cat "$WORK/offline_add.out")
timeout 30 "$INVITELINK" keys list --json --keys-dir "$OFF_ADD" --database "sqlite:$WORK/offline.sqlite" >"$WORK/out" || fail "keys list of $OFF_ADD failed"
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit(0 if any(k["kid"] == sys.argv[2] and k["state"] == "next" for k in d["keys"]) else "no")' \
    "$WORK/out" "$off_added" || fail "keys add against an unreachable database: $off_added is not in keys list as next"
status=0; wait "$OFF_REVOKE_PID" || status=$?
[ $status = 0 ] || fail "keys revoke against an unreachable database: exit $status: $(cat "$WORK/offline_revoke.err")"
grep -q "not in the audit log" "$WORK/offline_revoke.err" || fail "keys revoke against an unreachable database gave no warning"
timeout 30 "$INVITELINK" keys list --json --keys-dir "$OFF_REVOKE" --database "sqlite:$WORK/offline.sqlite" >"$WORK/out" || fail "keys list of $OFF_REVOKE failed"
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit(0 if any(k["kid"] == sys.argv[2] and k["state"] == "revoked" for k in d["keys"]) else "no")' \
    "$WORK/out" "$off_kid" || fail "keys revoke against an unreachable database: $off_kid is not revoked"
BACKGROUND=()
note "against an unreachable database: keys add and keys revoke exit 0, warn '$(head -1 "$WORK/offline_revoke.err" | cut -c1-90)…', and the change stands"
note "OK"
