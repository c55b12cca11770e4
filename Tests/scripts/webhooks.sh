#!/usr/bin/env bash
# Webhooks end to end (DESIGN.md §9, Standard Webhooks 1.0): the real `invitelink serve` sends to
# Tests/scripts/webhook_receiver.py, which verifies every delivery with the off-the-shelf
# `standardwebhooks` library (PyPI) and records it. On SQLite, then on PostgreSQL:
#
#  1. Events. A reseller and its provider each register an endpoint; a DAP link naming the
#     provider is accepted, the reseller removes its relationship, the customer removes DAP and
#     ends the provider's relationship, the reseller revokes another link. The reseller's
#     receiver gets exactly relationship.created, delegated_admin.granted, relationship.removed,
#     delegated_admin.removed and invitation.revoked, the provider's relationship.created and
#     relationship.removed, with the right data; each verifies with its partner's secret only.
#  2. Rotation. rotate-secret answers a new secret; a delivery after it carries two signatures and
#     verifies with the new secret and, separately, with the old one.
#  3. Retries (`--webhook-retry-schedule 1,2,3`). An endpoint answering 500, 500, 500, 200 gets
#     each of FLAKY_EVENTS events (default 4, made 0.3 s apart so that their first attempts fall
#     at different fractions of a second) 4 times under one webhook-id, 1 s, 2 s and 3 s apart
#     (never earlier than the schedule by more than 0.25 s, at most 1 s later: the 0.5 s poll and
#     a busy machine), and GET …/deliveries shows each `delivered` with attempts 4; with
#     `--webhook-retry-window 6` an endpoint answering 500 always ends `failed` once its next
#     attempt would fall past the window, and is not attempted again.
#  4. kill -9. Acceptances (one customer each) one after another, faster than the endpoint takes
#     deliveries (it answers in 300 ms, at most 4 at once), so that a backlog builds; a killer
#     polling every 2 ms sends SIGKILL just after the dispatcher sent a batch, with acceptances
#     still coming; the server is restarted on the same database: every acceptance answered 201
#     (and every relationship committed) has its relationship.created at the receiver within
#     RECOVERY seconds (default 20) of the restart; duplicates are allowed.
#  5. SSRF. Without --webhooks-allow-insecure, http://127.0.0.1, https://10.0.0.1,
#     https://169.254.169.254, https://[::1] and https://localhost are refused with 422
#     webhook_url_refused; https://example.com is not, when DNS resolves it here (skipped
#     otherwise); an endpoint registered while loopback was allowed is refused at delivery time.
#  6. Two instances on one PostgreSQL: events made through both are each delivered exactly once
#     (every webhook-id arrives, none twice, though the receiver answers in 200 ms and both
#     instances claim), and the two instances' delivered counters add up to the events.
#  7. /metrics: invitelink_webhook_attempts_total{outcome="delivered"} > 0 (and retry, failed
#     where those happened), invitelink_webhook_oldest_pending_seconds present.
#
# Part 6 runs against $INVITELINK_TEST_POSTGRES_URL (a schema of its own) when it is set (as under
# scripts/with-postgres.sh), else this script starts a throwaway PostgreSQL for it with
# scripts/with-postgres.sh. WEBHOOKS_PARTS=sqlite or postgres runs one half only.
#
# Uses $INVITELINK or .build/debug/invitelink, python3 with standardwebhooks (`make deps`), curl.
# Bounded by LIMIT seconds (default 150; 75–95 s on a busy 2-core machine, of which 15–20 s seed
# customers with the CLI and 15 s start PostgreSQL); kills every process it started, by pid.
# The parts go on after a timing check (3, 4) fails, and the script fails at the end.
set -euo pipefail
# A failure inside $(…) (a helper that calls fail) ends the subshell, and so the script.
shopt -s inherit_errexit

# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

LIMIT=${LIMIT:-150}
PARTS=${WEBHOOKS_PARTS:-all}
N=${N:-40}                  # customers in the kill -9 burst
KILL_AT=${KILL_AT:-$((N / 3))}
RECOVERY=${RECOVERY:-20}    # seconds after the restart by which every event must have arrived
EVENTS=${EVENTS:-30}        # events made through the two PostgreSQL instances
FLAKY_EVENTS=${FLAKY_EVENTS:-4}  # events to the endpoint that fails 3 times
HERE=$(cd "$(dirname "$0")" && pwd)
RECEIVER=$HERE/webhook_receiver.py
unset INVITELINK_PUBLIC_URL INVITELINK_ISSUER

command -v curl >/dev/null || fail "curl is required"
python3 -c 'import standardwebhooks' 2>/dev/null ||
    fail "the Python package standardwebhooks is missing (make deps, or: python3 -m pip install standardwebhooks)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/invitelink-webhooks.XXXXXX")
KEYS=$WORK/Keys
DB=sqlite:$WORK/db.sqlite
SERVER_PID=""        # the SQLite server (run under SERVER_WRAPPER, so that kill -9 stays quiet)
SERVER_WRAPPER=""
KILLER_PID=""
PIDS=()              # receivers and the PostgreSQL instances
started=$SECONDS

start_watchdog "$LIMIT"

cleanup() {
    local status=$?
    trap - EXIT TERM INT
    [ -n "$KILLER_PID" ] && kill "$KILLER_PID" 2>/dev/null || true
    stop_server
    [ ${#PIDS[@]} = 0 ] || stop_processes "${PIDS[@]}"
    kill "$WATCHDOG" 2>/dev/null || true
    if [ "$status" != 0 ]; then
        for log in "$WORK"/recv_*.jsonl; do [ -s "$log" ] && { echo "--- $log (tail)"; tail -n 3 "$log" | cut -c1-400; } >&2; done
    fi
    finish_work "$status"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 1' TERM INT

# --- Helpers -------------------------------------------------------------------------------------

# `call METHOD URL SECRET [BODY]` → "STATUS BODY".
call() {
    local method=$1 url=$2 secret=$3 body=${4:-} out status
    out=$(mktemp "$WORK/call.XXXXXX")
    if [ -n "$body" ]; then
        status=$(curl -s --max-time 10 -o "$out" -w '%{http_code}' -X "$method" -H "Authorization: Bearer $secret" \
            -H 'Content-Type: application/json' --data-binary "$body" "$url") || true
    else
        status=$(curl -s --max-time 10 -o "$out" -w '%{http_code}' -X "$method" -H "Authorization: Bearer $secret" "$url") || true
    fi
    echo "$status $(cat "$out")"
    rm -f "$out"
}
# `expect STATUS LABEL RESULT`: fails unless the "STATUS BODY" RESULT has that status; prints the body.
expect() {
    [ "${3%% *}" = "$1" ] || fail "$2: expected $1, got ${3:0:300}"
    printf '%s' "${3#* }"
}
token_of() { python3 -c 'import json, sys, urllib.parse as u; print(u.parse_qs(u.urlparse(json.load(sys.stdin)["url"]).query)["token"][0])'; }

# `start_receiver NAME`: a webhook_receiver.py logging to $WORK/recv_NAME.jsonl, verifying with
# the secrets in $WORK/recv_NAME.secrets; sets RECV to its base URL.
start_receiver() {
    local name=$1
    : >"$WORK/recv_$name.secrets"
    python3 "$RECEIVER" --log "$WORK/recv_$name.jsonl" --port-file "$WORK/recv_$name.port" \
        --secrets-file "$WORK/recv_$name.secrets" 2>"$WORK/recv_$name.err" &
    PIDS+=($!)
    for _ in $(seq 1 100); do [ -s "$WORK/recv_$name.port" ] && break; sleep 0.05; done
    [ -s "$WORK/recv_$name.port" ] || fail "the receiver $name did not start: $(cat "$WORK/recv_$name.err")"
    RECV=http://127.0.0.1:$(<"$WORK/recv_$name.port")
    # Verifying with a secret nobody has must always fail: the verification is not vacuous.
    python3 -c 'import base64, os; print("stranger whsec_" + base64.b64encode(os.urandom(32)).decode())' >>"$WORK/recv_$name.secrets"
}

# `defer MESSAGE`: a failure reported at once, the script going on with the other parts; it
# exits 1 at the end.
DEFERRED=()
defer() {
    echo "$SCRIPT: FAIL: $*" >&2
    DEFERRED+=("$*")
}

# Python helpers the checks share: records of a receiver log, and waiting for a condition.
cat >"$WORK/wh.py" <<'PY'
import json, sys, time

def records(log):
    """Every complete line of a receiver's log (one being written may be cut short)."""
    out = []
    try:
        with open(log) as f:
            for line in f:
                if line.endswith("\n"):
                    out.append(json.loads(line))
    except FileNotFoundError:
        pass
    return out

def wait(log, condition, timeout):
    """The records once condition(records) holds, or None after timeout seconds."""
    deadline = time.time() + timeout
    while True:
        got = records(log)
        if condition(got):
            return got
        if time.time() > deadline:
            return None
        time.sleep(0.1)

def by_id(recs):
    out = {}
    for r in recs:
        out.setdefault(r["webhook_id"], []).append(r)
    return out

def fail(message):
    sys.exit(message)
PY
# `check PYTHON ARG…`: runs PYTHON (from a heredoc on stdin) with wh.py importable and ARGs in sys.argv.
check() { PYTHONPATH=$WORK python3 - "$@"; }

# `serve LOG ARGUMENT…`: `invitelink serve` on $PORT with $KEYS and $DB under a quiet wrapper;
# sets SERVER_PID and SERVER_WRAPPER, waits until it is ready.
serve() {
    local log=$1
    shift
    rm -f "$WORK/server.pid"
    (
        "$INVITELINK" serve --port "$PORT" --keys-dir "$KEYS" --database "$DB" --public-url "$BASE" "$@" >"$log" 2>&1 &
        echo $! >"$WORK/server.pid"
        wait
    ) 2>/dev/null &
    SERVER_WRAPPER=$!
    for _ in $(seq 1 100); do [ -s "$WORK/server.pid" ] && break; sleep 0.01; done
    SERVER_PID=$(<"$WORK/server.pid")
    wait_ready "$BASE" "$SERVER_PID" "$log"
}
stop_server() {
    # The server pid is only signalled while its wrapper (our child, so the pid is not reused) lives.
    if [ -n "$SERVER_WRAPPER" ] && kill -0 "$SERVER_WRAPPER" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$SERVER_WRAPPER" 2>/dev/null && kill -9 "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_WRAPPER" 2>/dev/null || true
    fi
    SERVER_PID=""
    SERVER_WRAPPER=""
}

# `metric BASE NAME{LABELS} [DEFAULT]` → its value (a whole number), DEFAULT (0) when /metrics
# has no such line (a counter not yet incremented).
metric() {
    local text
    text=$(curl -s --max-time 10 "$1/metrics") || fail "GET $1/metrics failed"
    python3 -c '
import sys
want, text = sys.argv[1], sys.argv[2]
for line in text.splitlines():
    if line.startswith(want + " "):
        print(int(float(line.split()[1]))); break
else:
    print(sys.argv[3])' "$2" "$text" "${3:-0}"
}

# `deliveries BASE SECRET WEBHOOK` → JSON list of every delivery of that endpoint (all pages).
deliveries() {
    python3 - "$1" "$2" "$3" <<'PY'
import json, sys, urllib.request
base, secret, webhook = sys.argv[1:4]
items, cursor = [], None
while True:
    url = f"{base}/v1/webhooks/{webhook}/deliveries?limit=200" + (f"&cursor={cursor}" if cursor else "")
    page = json.load(urllib.request.urlopen(urllib.request.Request(url, headers={"Authorization": "Bearer " + secret}), timeout=10))
    items += page["items"]
    cursor = page.get("next_cursor")
    if not cursor:
        break
print(json.dumps(items))
PY
}

# `register BASE SECRET URL` → the 201 body of POST /v1/webhooks (fails otherwise).
register() {
    local result
    result=$(call POST "$1/v1/webhooks" "$2" "{\"url\":\"$3\"}")
    expect 201 "POST /v1/webhooks $3" "$result"
}
# `revoke_one BASE SECRET` → the id of a new invitation, revoked at once (one invitation.revoked).
revoke_one() {
    local issued id
    issued=$(expect 201 "POST /v1/invitations" "$(call POST "$1/v1/invitations" "$2" '{}')")
    id=$(json_get id <<<"$issued")
    expect 200 "DELETE /v1/invitations/$id" "$(call DELETE "$1/v1/invitations/$id" "$2")" >/dev/null
    echo "$id"
}

# =================================================================================================
sqlite_part() {
    # --- Seed --------------------------------------------------------------------------------------
    il keys rotate --alg ed25519 >/dev/null || fail "keys rotate failed"
    for r in r1 r2 r3 r4; do il partners add --id "$r" --kind reseller --name "Reseller $r" >/dev/null || fail "partners add $r failed"; done
    il partners add --id p1 --kind provider --name "Provider One" >/dev/null || fail "partners add p1 failed"
    il partners connect --reseller r1 --provider p1 >/dev/null || fail "partners connect failed"
    local name value
    for name in r1 r2 r3 r4 p1; do
        value=$(il credentials create --partner "$name" --role global-admin --json | json_get secret) ||
            fail "credentials create --partner $name failed"
        declare -g "SECRET_$name=$value"
    done
    il customers add --id k1 --name "Customer K" --domain k1.example --admin-email admin@k1.example >/dev/null || fail "customers add k1 failed"
    K1=$(il credentials create --customer k1 --role global-admin --json | json_get secret) || fail "customer credential failed"
    link=$(il links create --reseller r4 --json) || fail "links create failed"
    BURST_TOKEN=$(json_get token <<<"$link")
    seed_customers "$N" 4
    note "seeded 4 resellers, a provider and $((N + 1)) customers in $((SECONDS - started)) s"

    start_receiver r1; RECV_R1=$RECV
    start_receiver p1; RECV_P1=$RECV
    start_receiver x; RECV_X=$RECV
    PORT=$(free_port)
    BASE=http://127.0.0.1:$PORT
    serve "$WORK/serve1.log" --webhooks-allow-insecure --webhook-retry-schedule 1,2,3 --webhook-retry-window 30

    # --- 3a. Retries: started first, so that they run while parts 1 and 2 do ----------------------
    # FLAKY events, 0.3 s apart: their first attempts fall on different polls of the dispatcher
    # (every 0.5 s), so at different fractions of a second.
    local hook k
    hook=$(register "$BASE" "$SECRET_r2" "$RECV_X/flaky/r2")
    FLAKY=$(json_get id <<<"$hook")
    echo "r2 $(json_get secret <<<"$hook")" >>"$WORK/recv_x.secrets"
    FLAKY_INVITATIONS=""
    for k in $(seq 1 "$FLAKY_EVENTS"); do
        FLAKY_INVITATIONS+=" $(revoke_one "$BASE" "$SECRET_r2")"
        sleep 0.3
    done

    # --- 1. Events of one customer's life, to the reseller's and the provider's endpoints ----------
    hook=$(register "$BASE" "$SECRET_r1" "$RECV_R1/ok/r1")
    check "$hook" "$RECV_R1/ok/r1" <<'PY' || fail "POST /v1/webhooks answered an unexpected body (above)"
import json, sys
hook, url = json.loads(sys.argv[1]), sys.argv[2]
events = ["relationship.created", "relationship.removed", "delegated_admin.granted", "delegated_admin.removed", "invitation.revoked"]
problems = []
if not hook.get("id") or hook.get("url") != url or sorted(hook.get("events", [])) != sorted(events):
    problems.append(f"id, url or events wrong: {hook}")
if not str(hook.get("secret", "")).startswith("whsec_"):
    problems.append(f"secret is not whsec_…: {hook.get('secret')!r}")
if problems:
    sys.exit("; ".join(problems))
PY
    R1_HOOK=$(json_get id <<<"$hook")
    OLD_SECRET=$(json_get secret <<<"$hook")
    hook=$(register "$BASE" "$SECRET_p1" "$RECV_P1/ok/p1")
    P1_SECRET=$(json_get secret <<<"$hook")
    # Each receiver knows both partners' secrets: a delivery must verify with its own only.
    printf 'r1 %s\np1 %s\n' "$OLD_SECRET" "$P1_SECRET" >>"$WORK/recv_r1.secrets"
    printf 'r1 %s\np1 %s\n' "$OLD_SECRET" "$P1_SECRET" >>"$WORK/recv_p1.secrets"
    listed=$(expect 200 "GET /v1/webhooks" "$(call GET "$BASE/v1/webhooks" "$SECRET_r1")")
    case $listed in *"$R1_HOOK"*) ;; *) fail "GET /v1/webhooks does not list $R1_HOOK: $listed" ;; esac
    case $listed in *whsec_*) fail "GET /v1/webhooks shows a secret: $listed" ;; esac

    issued=$(expect 201 "issuing a DAP link naming p1" "$(call POST "$BASE/v1/invitations" "$SECRET_r1" '{"provider_id":"p1","dap":true}')")
    INV1=$(json_get id <<<"$issued")
    expect 201 "k1 accepting" "$(call POST "$BASE/v1/acceptances" "$K1" "{\"token\":\"$(token_of <<<"$issued")\"}")" >/dev/null
    expect 200 "r1 removing its relationship with k1" "$(call DELETE "$BASE/v1/customers/k1/relationship" "$SECRET_r1")" >/dev/null
    expect 200 "k1 removing r1's DAP" "$(call DELETE "$BASE/v1/partners/r1/delegated-admin" "$K1")" >/dev/null
    expect 200 "k1 ending p1's relationship" "$(call DELETE "$BASE/v1/partners/p1/relationship" "$K1")" >/dev/null
    INV2=$(revoke_one "$BASE" "$SECRET_r1")

    check "$WORK/recv_r1.jsonl" "$WORK/recv_p1.jsonl" "$INV1" "$INV2" <<'PY' || fail "part 1 (events to the reseller and the provider) failed (above)"
import sys, time
from wh import *
r1_log, p1_log, inv1, inv2 = sys.argv[1:5]
if wait(r1_log, lambda rs: len(by_id(rs)) >= 5, 15) is None or wait(p1_log, lambda rs: len(by_id(rs)) >= 2, 5) is None:
    fail(f"within 15 s the reseller's receiver got {len(by_id(records(r1_log)))} of 5 events, the provider's "
         f"{len(by_id(records(p1_log)))} of 2: {[(r['type'], r['data']) for r in records(r1_log) + records(p1_log)]}")
time.sleep(1.5)  # anything extra would come now
expected = {
    "r1": {
        "relationship.created": {"partner_id": "r1", "customer_id": "k1", "role": "reseller", "invitation_id": inv1},
        "delegated_admin.granted": {"partner_id": "r1", "customer_id": "k1"},
        "relationship.removed": {"partner_id": "r1", "customer_id": "k1", "removed_by": "partner", "delegated_admin_retained": True},
        "delegated_admin.removed": {"partner_id": "r1", "customer_id": "k1", "removed_by": "customer"},
        "invitation.revoked": {"invitation_id": inv2, "reseller_id": "r1"},
    },
    "p1": {
        "relationship.created": {"partner_id": "p1", "customer_id": "k1", "role": "provider", "invitation_id": inv1},
        "relationship.removed": {"partner_id": "p1", "customer_id": "k1", "removed_by": "customer", "delegated_admin_retained": False},
    },
}
problems = []
for partner, log in (("r1", r1_log), ("p1", p1_log)):
    other = "p1" if partner == "r1" else "r1"
    recs = records(log)
    events = by_id(recs)
    types = sorted(rs[0]["type"] for rs in events.values())
    if types != sorted(expected[partner]):
        problems.append(f"{partner}'s receiver got {types}, expected {sorted(expected[partner])}")
    for r in recs:
        what = f"{partner}: {r['type']} {r['webhook_id']}"
        if not str(r["webhook_id"]).startswith("msg_"):
            problems.append(f"{what}: webhook-id is not msg_N")
        if r["verified"] != {partner: True, other: False, "stranger": False}:
            problems.append(f"{what}: verified {r['verified']} (errors {r['errors']}), expected with {partner}'s secret only")
        if r["signatures"] != 1:
            problems.append(f"{what}: {r['signatures']} signatures before any rotation")
        want = expected[partner].get(r["type"])
        if want is not None and {k: r["data"].get(k) for k in want} != want:
            problems.append(f"{what}: data {r['data']}, expected {want}")
        if not r.get("timestamp") or not r["timestamp"].endswith("Z"):
            problems.append(f"{what}: body timestamp {r.get('timestamp')!r}")
    if len(recs) != len(events):
        problems.append(f"{partner}: {len(recs)} requests for {len(events)} events although every answer was 200")
if problems:
    fail("\n".join(problems))
print("webhooks.sh: part 1: the reseller got " + ", ".join(sorted(expected["r1"])) + "; the provider "
      + ", ".join(sorted(expected["p1"])) + "; each verified by standardwebhooks with its own partner's secret only")
PY

    # --- 2. Rotation ----------------------------------------------------------------------------------
    rotated=$(expect 200 "POST /v1/webhooks/$R1_HOOK/rotate-secret" "$(call POST "$BASE/v1/webhooks/$R1_HOOK/rotate-secret" "$SECRET_r1")")
    NEW_SECRET=$(json_get secret <<<"$rotated")
    case $NEW_SECRET in whsec_*) ;; *) fail "rotate-secret answered no whsec_ secret: $rotated" ;; esac
    [ "$NEW_SECRET" != "$OLD_SECRET" ] || fail "rotate-secret answered the old secret"
    expires=$(json_get previous_secret_expires_at <<<"$rotated")
    python3 -c '
import sys, time
from datetime import datetime
left = datetime.fromisoformat(sys.argv[1].replace("Z", "+00:00")).timestamp() - time.time()
sys.exit(0 if 24 * 3600 - 120 < left <= 24 * 3600 + 5 else 1)' "$expires" || fail "previous_secret_expires_at is $expires, not 24 h from now"
    echo "r1new $NEW_SECRET" >>"$WORK/recv_r1.secrets"
    INV3=$(revoke_one "$BASE" "$SECRET_r1")
    check "$WORK/recv_r1.jsonl" "$INV3" <<'PY' || fail "part 2 (rotation) failed (above)"
import sys
from wh import *
log, inv = sys.argv[1:3]
recs = wait(log, lambda rs: any(r["data"].get("invitation_id") == inv for r in rs), 10)
if recs is None:
    fail(f"no invitation.revoked for {inv} within 10 s of the rotation")
for r in recs:
    if r["data"].get("invitation_id") != inv:
        continue
    v = r["verified"]
    if r["signatures"] != 2 or not v.get("r1new") or not v.get("r1") or v.get("p1") or v.get("stranger"):
        fail(f"after the rotation: {r['signatures']} signatures, verified {v} (errors {r['errors']}); "
             "expected two signatures, verifying with the new secret and with the old one")
print("webhooks.sh: part 2: after rotate-secret a delivery carries 2 signatures and verifies with the new secret "
      "and, separately, with the old one (previous_secret_expires_at in 24 h)")
PY

    # --- 3a. Retries: the flaky endpoint --------------------------------------------------------------
    local rc=0
    check "$WORK/recv_x.jsonl" "$FLAKY_INVITATIONS" <<'PY' || rc=$?
import sys, time
from wh import *
log, wanted = sys.argv[1], sys.argv[2].split()
flaky = lambda rs: [r for r in rs if r["path"].startswith("/flaky/")]
def attempts(rs, inv):
    return [r for r in flaky(rs) if r["data"].get("invitation_id") == inv]
recs = wait(log, lambda rs: all(len(attempts(rs, inv)) >= 4 for inv in wanted), 25)
if recs is None:
    fail("within 25 s /flaky did not get 4 attempts of each event: " + "; ".join(
        f"{inv}: {[(r['answered'], round(r['arrived'] % 100, 2)) for r in attempts(records(log), inv)]}" for inv in wanted))
time.sleep(1.5)  # a fifth attempt would come now
recs = records(log)
problems, all_gaps = [], []
for inv in wanted:
    mine = attempts(recs, inv)
    ids = {r["webhook_id"] for r in mine}
    answers = [r["answered"] for r in mine]
    times = [r["arrived"] for r in mine]
    gaps = [round(b - a, 2) for a, b in zip(times, times[1:])]
    all_gaps.append(gaps)
    what = f"{sorted(ids)} (first attempt at .{int(times[0] % 1 * 100):02d} s)"
    if len(ids) != 1:
        problems.append(f"one event's attempts carry several webhook-ids: {sorted(ids)}")
    if answers != [500, 500, 500, 200]:
        problems.append(f"{what}: the receiver answered {answers}: expected 4 attempts (500, 500, 500, 200) and no more")
    if not all(r["verified"].get("r2") for r in mine):
        problems.append(f"{what}: an attempt did not verify: {[r['errors'] for r in mine]}")
    if len({(r["timestamp"], str(r["data"])) for r in mine}) != 1:
        problems.append(f"{what}: the attempts carry different bodies")
    # The schedule is 1, 2, 3 s. A retry may come later by the dispatcher's poll (0.5 s) and a
    # busy machine; it must not come earlier than its delay (a quarter second for clocks).
    for gap, want in zip(gaps, [1, 2, 3]):
        if gap < want - 0.25:
            problems.append(f"{what}: a retry came {gap} s after the failed attempt where the schedule says {want} s")
        elif gap > want + 1.0:
            problems.append(f"{what}: a retry came {gap} s after the failed attempt where the schedule says {want} s (+0.5 s poll)")
timing = [p for p in problems if "a retry came" in p]
if problems:
    print("\n".join(problems) + f"\n(gaps per event: {all_gaps})", file=sys.stderr)
    sys.exit(3 if timing == problems else 1)
print(f"webhooks.sh: part 3: /flaky got each of {len(wanted)} events 4 times (500, 500, 500, 200) under one webhook-id; "
      f"gaps per event {all_gaps} s for schedule 1,2,3")
PY
    case $rc in
        0) ;;
        3) defer "part 3: retries do not keep to the schedule (above)" ;;
        *) fail "part 3 (retries of /flaky) failed (above)" ;;
    esac
    items=$(deliveries "$BASE" "$SECRET_r2" "$FLAKY")
    python3 -c '
import json, sys
items, n = json.loads(sys.argv[1]), int(sys.argv[2])
assert len(items) == n, items
for d in items:
    assert (d["status"], d["attempts"], d["http_status"], d["event"], d["next_attempt_at"]) == ("delivered", 4, 200, "invitation.revoked", None), d
' "$items" "$FLAKY_EVENTS" || fail "GET /v1/webhooks/$FLAKY/deliveries does not show $FLAKY_EVENTS deliveries delivered in 4 attempts: $items"
    note "part 3: GET …/deliveries shows each delivered, attempts 4, http_status 200"

    # --- 7. Metrics -----------------------------------------------------------------------------------
    delivered=$(metric "$BASE" 'invitelink_webhook_attempts_total{outcome="delivered"}')
    retried=$(metric "$BASE" 'invitelink_webhook_attempts_total{outcome="retry"}')
    [ "$delivered" -gt 0 ] || fail "/metrics: invitelink_webhook_attempts_total{outcome=\"delivered\"} is $delivered"
    [ "$retried" -ge $((3 * FLAKY_EVENTS)) ] ||
        fail "/metrics: invitelink_webhook_attempts_total{outcome=\"retry\"} is $retried after $((3 * FLAKY_EVENTS)) failed attempts"
    [ "$(metric "$BASE" invitelink_webhook_oldest_pending_seconds absent)" != absent ] || fail "/metrics has no invitelink_webhook_oldest_pending_seconds"
    note "part 7: /metrics: attempts delivered $delivered, retry $retried; invitelink_webhook_oldest_pending_seconds present"
    stop_server

    # --- 3b. A dead endpoint fails after the window ----------------------------------------------------
    serve "$WORK/serve2.log" --webhooks-allow-insecure --webhook-retry-schedule 1,2,3 --webhook-retry-window 6
    hook=$(register "$BASE" "$SECRET_r3" "$RECV_X/dead/r3")
    DEAD=$(json_get id <<<"$hook")
    echo "r3 $(json_get secret <<<"$hook")" >>"$WORK/recv_x.secrets"
    # The burst's endpoint too, now, so that its registration is long committed at the kill.
    hook=$(register "$BASE" "$SECRET_r4" "$RECV_X/slow/r4?ms=300")
    BURST=$(json_get id <<<"$hook")
    echo "r4 $(json_get secret <<<"$hook")" >>"$WORK/recv_x.secrets"
    dead_started=$EPOCHREALTIME
    revoke_one "$BASE" "$SECRET_r3" >/dev/null
    local status=pending items=""
    for _ in $(seq 1 200); do
        items=$(deliveries "$BASE" "$SECRET_r3" "$DEAD")
        status=$(python3 -c 'import json, sys; i = json.loads(sys.argv[1]); print(i[0]["status"] if i else "none")' "$items")
        [ "$status" = pending ] || [ "$status" = none ] || break
        sleep 0.1
    done
    dead_seconds=$(python3 -c "print(round($EPOCHREALTIME - $dead_started, 1))")
    [ "$status" = failed ] || fail "the delivery to /dead is $status after $dead_seconds s (window 6 s): $items"
    sleep 1.5  # an attempt after the failure would come now
    check "$WORK/recv_x.jsonl" "$items" "$dead_seconds" "$dead_started" <<'PY' || fail "part 3 (the dead endpoint) failed (above)"
import json, sys
from wh import *
log, items, seconds, started = sys.argv[1], json.loads(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
d = items[0]
recs = [r for r in records(log) if r["path"].startswith("/dead/")]
times = [r["arrived"] for r in recs]
at = [round(t - times[0], 2) for t in times]
described = (f"attempts at {at} s after the first ({times[0] - started:.1f} s after the revocation), "
             f"failed seen {seconds} s after the revocation")
problems = []
if len({r["webhook_id"] for r in recs}) != 1 or len(recs) != d["attempts"] or {r["answered"] for r in recs} != {500}:
    problems.append(f"the receiver got {len(recs)} requests ({sorted({r['webhook_id'] for r in recs})}), the delivery says {d['attempts']} attempts")
if d["http_status"] != 500 or d["next_attempt_at"] is not None:
    problems.append(f"expected last status 500 and no next attempt: {d}")
# Schedule 1, 2, 3 s and a 6 s window from the event: attempts at about 0, 1, 3 and 6 s, the
# fourth only when the first came at once; the delivery fails at the attempt whose next one
# would fall past the window. A second of slack either way for the poll and whole seconds.
delays = [1, 2, 3, 3]
if not 3 <= len(at) <= 4:
    problems.append(f"{len(at)} attempts: expected 3 or 4 (at 0, 1, 3 and perhaps 6 s)")
elif at[-1] > 6 + 1 or at[-1] + delays[len(at) - 1] < 6 - 1:
    problems.append("the delivery failed before its window was over, or was attempted after it")
if problems:
    fail("; ".join(problems) + f" ({described})")
print(f"webhooks.sh: part 3: /dead (500 always, window 6 s): {d['attempts']} attempts, {described}; "
      f"GET …/deliveries: failed, http_status {d['http_status']}, no next attempt")
PY
    failed=$(metric "$BASE" 'invitelink_webhook_attempts_total{outcome="failed"}')
    [ "$failed" -ge 1 ] || fail "/metrics: invitelink_webhook_attempts_total{outcome=\"failed\"} is $failed after a failed delivery"

    # --- 4. kill -9 during a burst of acceptances --------------------------------------------------------
    # Acceptances one after another, faster than the endpoint takes deliveries (at most 4 at once
    # per endpoint, each answered in 300 ms), so that a backlog builds up. The kill comes once
    # KILL_AT acceptances are answered, 6 or more answered ones have not reached the receiver and
    # a delivery arrived less than 100 ms ago (the dispatcher has just claimed and sent a batch),
    # or 8 s after the start whatever happened.
    mkdir -p "$WORK/out"
    printf '{"token":"%s"}' "$BURST_TOKEN" >"$WORK/body.json"
    : >"$WORK/codes"
    local victim=$SERVER_PID i
    # The killer reads the new lines of both files every 2 ms (a shell loop of greps takes tens
    # of milliseconds here, and the dispatcher claims, sends and releases a batch within them).
    python3 - "$victim" "$WORK/codes" "$WORK/recv_x.jsonl" "$WORK/at_kill" "$KILL_AT" "$N" <<'PY' &
import json, os, signal, sys, time
victim, codes_file, log_file, out, kill_at, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
deadline = time.time() + 8
codes, log = open(codes_file), open(log_file)
log.seek(0, os.SEEK_END)
answered = lines = arrived = 0
last = 0.0
pending = ""
while time.time() < deadline:
    for line in codes.readlines():
        lines += 1
        answered += line.rstrip().endswith(" 201")
    pending += log.read()
    *complete, pending = pending.split("\n")
    for line in complete:
        record = json.loads(line)
        if record["path"].startswith("/slow/r4"):
            arrived += 1
            last = record["arrived"]
    if answered >= kill_at and answered - arrived >= 6 and time.time() - last < 0.1:
        break
    if lines >= n:
        sys.exit(0)  # the burst ended first
    time.sleep(0.002)
os.kill(victim, signal.SIGKILL)
open(out, "w").write(f"{answered} {time.time()}\n")
PY
    KILLER_PID=$!
    for i in $(seq 1 "$N"); do
        kill -0 "$victim" 2>/dev/null || { echo "c$i 000"; continue; }
        curl -s --max-time 10 -o "$WORK/out/c$i.body" -w "c$i %{http_code}\n" -H "Authorization: Bearer $(<"$WORK/secrets/c$i")" \
            -H 'Content-Type: application/json' --data-binary "@$WORK/body.json" "$BASE/v1/acceptances" 2>/dev/null || true
        # Paced, so that the burst lasts past the dispatcher's first polls on a fast machine too
        # (unpaced, 40 acceptances could all be answered before any delivery went out).
        sleep 0.03
    done >>"$WORK/codes"
    wait "$KILLER_PID" 2>/dev/null || true
    KILLER_PID=""
    [ -f "$WORK/at_kill" ] || fail "the burst of $N acceptances ended before the moment to kill came (raise N): $(grep -c ' 201$' "$WORK/codes") answered 201, $(grep -c '"/slow/r4' "$WORK/recv_x.jsonl") delivered"
    wait "$SERVER_WRAPPER" 2>/dev/null || true
    SERVER_PID=""
    SERVER_WRAPPER=""
    cp "$WORK/recv_x.jsonl" "$WORK/recv_x.at_kill"
    restarted=$EPOCHREALTIME
    serve "$WORK/serve3.log" --webhooks-allow-insecure --webhook-retry-schedule 1,2,3 --webhook-retry-window 60
    committed=$(python3 - "$BASE" "$SECRET_r4" <<'PY'
import json, sys, urllib.request
base, secret = sys.argv[1:3]
seen, cursor = [], None
while True:
    url = base + "/v1/customers?limit=200" + (f"&cursor={cursor}" if cursor else "")
    page = json.load(urllib.request.urlopen(urllib.request.Request(url, headers={"Authorization": "Bearer " + secret}), timeout=10))
    seen += [item["id"] for item in page["items"]]
    cursor = page.get("next_cursor")
    if not cursor:
        break
print(" ".join(seen))
PY
    ) || fail "listing r4's customers after the restart failed"
    rc=0
    check "$WORK/recv_x.jsonl" "$WORK/codes" "$committed" "$N" "$RECOVERY" "$restarted" "$WORK/recv_x.at_kill" "$WORK/at_kill" \
        "$BASE" "$SECRET_r4" "$BURST" <<'PY' || rc=$?
import json, sys, time, urllib.request
from wh import *
log, codes_file, committed, n, recovery, restarted, at_kill, kill_file, base, secret, webhook = sys.argv[1:12]
committed, n, recovery, restarted = set(committed.split()), int(n), float(recovery), float(restarted)
killed_at = float(open(kill_file).read().split()[1])
codes = dict(line.split() for line in open(codes_file) if line.strip())
answered = {c for c, code in codes.items() if code == "201"}
odd = {c: code for c, code in codes.items() if code not in ("201", "000")}
if odd:
    fail(f"acceptances answered neither 201 nor nothing: {odd}")
if answered - committed:
    fail(f"acceptances answered 201 but not committed: {sorted(answered - committed)}")
burst = lambda rs: [r for r in rs if r["path"].startswith("/slow/r4")]
delivered = lambda rs: {r["data"].get("customer_id") for r in burst(rs) if r["type"] == "relationship.created"}
before = burst(records(at_kill))
in_flight = [r for r in before if r["arrived"] > killed_at - 0.3]
summary = (f"{len(answered)} of {n} acceptances answered 201 before kill -9 ({len(committed)} committed); "
           f"{len(before)} deliveries had arrived by the kill, {len(in_flight)} of them still waiting for their answer")
recs = wait(log, lambda rs: committed <= delivered(rs), recovery - (time.time() - restarted))
if recs is None:
    got = delivered(records(log))
    missing = committed - got
    request = urllib.request.Request(f"{base}/v1/webhooks/{webhook}/deliveries?limit=200", headers={"Authorization": "Bearer " + secret})
    rows = json.load(urllib.request.urlopen(request, timeout=10))["items"]
    # Which delivery is whose: the events that did arrive name their webhook-id.
    arrived_ids = {r["webhook_id"] for r in burst(records(log))}
    stuck = [d for d in rows if d["webhook_id"] not in arrived_ids]
    print(f"{summary}.\nWithin {recovery:.0f} s of the restart, relationship.created arrived for {len(got & committed)} of "
          f"{len(committed)} committed relationships; missing {sorted(missing)} (answered 201: {sorted(missing & answered)}). "
          f"Their deliveries, through GET …/deliveries {time.time() - killed_at:.0f} s after the kill (pending, attempted, "
          f"due, yet not attempted again: still claimed by the killed process?):\n"
          + "\n".join(f"  {d['webhook_id']}: status {d['status']}, attempts {d['attempts']}, next_attempt_at {d['next_attempt_at']}, "
                      f"updated_at {d['updated_at']}, error {d['error']}" for d in stuck), file=sys.stderr)
    sys.exit(3)
took = round(time.time() - restarted, 1)
# A request the kill cut off mid-body is not a delivery (its bytes cannot verify); it is sent again.
unverified = [r["webhook_id"] for r in burst(recs) if not r["verified"].get("r4") and not r.get("cut_short")]
if unverified:
    fail(f"deliveries that do not verify: {unverified}")
per_id = by_id(burst(recs))
print(f"webhooks.sh: part 4: {summary}; after the restart every committed relationship's relationship.created arrived "
      f"within {took} s ({len(burst(recs))} requests for {len(per_id)} events, {sum(len(v) - 1 for v in per_id.values())} repeated)")
PY
    case $rc in
        0) ;;
        3) defer "part 4: after kill -9 and a restart, acknowledged events were not delivered within $RECOVERY s (above)" ;;
        *) fail "part 4 (kill -9) failed (above)" ;;
    esac
    stop_server

    # --- 5. SSRF: without --webhooks-allow-insecure ------------------------------------------------------
    serve "$WORK/serve4.log" --webhook-retry-schedule 1,2,3
    local url result code
    for url in "http://127.0.0.1:$PORT/x" "https://10.0.0.1/x" "https://169.254.169.254/x" "https://[::1]/x" "https://localhost/x"; do
        result=$(call POST "$BASE/v1/webhooks" "$SECRET_r1" "{\"url\":\"$url\"}")
        code=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1].split(" ", 1)[1]).get("code"))' "$result" 2>/dev/null || echo "?")
        [ "${result%% *}" = 422 ] && [ "$code" = webhook_url_refused ] || fail "POST /v1/webhooks $url answered ${result:0:300}, not 422 webhook_url_refused"
    done
    note "part 5: http://127.0.0.1, https://10.0.0.1, https://169.254.169.254, https://[::1], https://localhost → 422 webhook_url_refused"
    if python3 -c '
import ipaddress, socket, sys
addresses = {info[4][0] for info in socket.getaddrinfo("example.com", 443, proto=socket.IPPROTO_TCP)}
sys.exit(0 if addresses and all(ipaddress.ip_address(a.split("%")[0]).is_global for a in addresses) else 1)' 2>/dev/null; then
        result=$(call POST "$BASE/v1/webhooks" "$SECRET_r1" '{"url":"https://example.com/x"}')
        [ "${result%% *}" = 201 ] || fail "POST /v1/webhooks https://example.com/x (resolves to public addresses here) answered ${result:0:300}"
        expect 200 "DELETE the example.com endpoint" "$(call DELETE "$BASE/v1/webhooks/$(json_get id <<<"${result#* }")" "$SECRET_r1")" >/dev/null
        note "part 5: https://example.com/x → 201 (it resolves to public addresses here)"
    else
        note "part 5: skipped https://example.com/x: no DNS (or no public address for it) here"
    fi
    # The endpoint registered while loopback was allowed is refused when a delivery is due.
    local before known
    before=$(wc -l <"$WORK/recv_r1.jsonl")
    known=$(deliveries "$BASE" "$SECRET_r1" "$R1_HOOK" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')
    revoke_one "$BASE" "$SECRET_r1" >/dev/null
    for _ in $(seq 1 50); do
        items=$(deliveries "$BASE" "$SECRET_r1" "$R1_HOOK")
        python3 -c '
import json, sys
items = json.loads(sys.argv[1])
sys.exit(0 if len(items) > int(sys.argv[2]) and items[0]["attempts"] >= 1 else 1)' "$items" "$known" && break
        sleep 0.1
    done
    python3 -c '
import json, sys
items = json.loads(sys.argv[1])
assert len(items) == int(sys.argv[2]) + 1, "no new delivery"
d = items[0]
assert d["attempts"] >= 1 and d["status"] != "delivered" and (d["error"] or "").startswith("refused"), d
' "$items" "$known" || fail "an event to http://127.0.0.1 on a server without --webhooks-allow-insecure was not refused at delivery: ${items:0:400}"
    sleep 0.5
    [ "$(wc -l <"$WORK/recv_r1.jsonl")" = "$before" ] || fail "the receiver got a request from a server that should refuse its address"
    note "part 5: an endpoint registered as http://127.0.0.1 under --webhooks-allow-insecure is refused at delivery time without it"
    stop_server
}

# =================================================================================================
postgres_part() {
    command -v psql >/dev/null || fail "psql is required"
    local schema="webhooks_$$_$RANDOM"
    psql -q -v ON_ERROR_STOP=1 "$INVITELINK_TEST_POSTGRES_URL" -c "CREATE SCHEMA $schema" || fail "cannot create schema $schema"
    local db
    case $INVITELINK_TEST_POSTGRES_URL in *\?*) db="$INVITELINK_TEST_POSTGRES_URL&search_path=$schema" ;; *) db="$INVITELINK_TEST_POSTGRES_URL?search_path=$schema" ;; esac
    local KEYS=$WORK/KeysPG DB=$db
    il keys rotate --alg ed25519 >/dev/null || fail "keys rotate failed (PostgreSQL)"
    il partners add --id r1 --kind reseller --name "Reseller One" >/dev/null || fail "partners add failed (PostgreSQL)"
    local secret
    secret=$(il credentials create --partner r1 --role global-admin --json | json_get secret) || fail "credential failed (PostgreSQL)"

    start_receiver pg
    local port_a port_b a b pid_a pid_b
    port_a=$(free_port)
    port_b=$(free_port)
    [ "$port_a" != "$port_b" ] || port_b=$(free_port)
    a=http://127.0.0.1:$port_a
    b=http://127.0.0.1:$port_b
    "$INVITELINK" serve --port "$port_a" --keys-dir "$KEYS" --database "$DB" --public-url "$a" --webhooks-allow-insecure \
        --webhook-retry-schedule 1,2,3 >"$WORK/serve_pg_a.log" 2>&1 &
    pid_a=$!
    PIDS+=("$pid_a")
    "$INVITELINK" serve --port "$port_b" --keys-dir "$KEYS" --database "$DB" --public-url "$b" --webhooks-allow-insecure \
        --webhook-retry-schedule 1,2,3 >"$WORK/serve_pg_b.log" 2>&1 &
    pid_b=$!
    PIDS+=("$pid_b")
    wait_ready "$a" "$pid_a" "$WORK/serve_pg_a.log"
    wait_ready "$b" "$pid_b" "$WORK/serve_pg_b.log"

    local hook webhook
    hook=$(register "$a" "$secret" "$RECV/slow/pg?ms=200")
    webhook=$(json_get id <<<"$hook")
    echo "r1 $(json_get secret <<<"$hook")" >>"$WORK/recv_pg.secrets"
    # Events through both instances, in a few batches, so that both dispatchers find some due.
    local i ids=() issued id one other
    for i in $(seq 1 "$EVENTS"); do
        if [ $((i % 2)) = 1 ]; then one=$a other=$b; else one=$b other=$a; fi
        issued=$(expect 201 "POST /v1/invitations through $one" "$(call POST "$one/v1/invitations" "$secret" '{}')")
        id=$(json_get id <<<"$issued")
        expect 200 "DELETE /v1/invitations/$id through $other" "$(call DELETE "$other/v1/invitations/$id" "$secret")" >/dev/null
        ids+=("$id")
        if [ $((i % 6)) = 0 ]; then sleep 0.3; fi
    done
    check "$WORK/recv_pg.jsonl" "${ids[*]}" <<'PY' || fail "part 6 (two instances on PostgreSQL) failed (above)"
import sys, time
from wh import *
log, wanted = sys.argv[1], set(sys.argv[2].split())
got = lambda rs: {r["data"].get("invitation_id") for r in rs}
recs = wait(log, lambda rs: wanted <= got(rs), 30)
if recs is None:
    fail(f"within 30 s {len(wanted & got(records(log)))} of {len(wanted)} events arrived; missing {sorted(wanted - got(records(log)))[:10]}")
time.sleep(2)  # a second claimer's copy would arrive now
recs = records(log)
ids = by_id(recs)
twice = {i: len(rs) for i, rs in ids.items() if len(rs) > 1}
problems = []
if twice:
    problems.append(f"webhook-ids delivered more than once although every answer was 200 within 200 ms: {twice}")
if len(ids) != len(wanted) or got(recs) != wanted:
    problems.append(f"{len(ids)} webhook-ids for {len(wanted)} events; unexpected {sorted(got(recs) - wanted)}")
if not all(r["verified"].get("r1") and not r["verified"].get("stranger") for r in recs):
    problems.append("some deliveries do not verify")
if problems:
    fail("; ".join(problems))
PY
    local items delivered_a delivered_b
    items=$(deliveries "$b" "$secret" "$webhook")
    python3 -c '
import json, sys
items, n = json.loads(sys.argv[1]), int(sys.argv[2])
bad = [d for d in items if (d["status"], d["attempts"]) != ("delivered", 1)]
assert len(items) == n and not bad, (len(items), bad[:5])
' "$items" "$EVENTS" || fail "GET …/deliveries through B does not show $EVENTS deliveries each delivered in 1 attempt: ${items:0:400}"
    delivered_a=$(metric "$a" 'invitelink_webhook_attempts_total{outcome="delivered"}')
    delivered_b=$(metric "$b" 'invitelink_webhook_attempts_total{outcome="delivered"}')
    [ $((delivered_a + delivered_b)) = "$EVENTS" ] ||
        fail "the instances count $delivered_a + $delivered_b delivered attempts for $EVENTS events (each should be made by exactly one)"
    local shared="both instances delivered"
    [ "$delivered_a" -gt 0 ] && [ "$delivered_b" -gt 0 ] || shared="NOTE: one instance delivered all of them this time"
    note "part 6: two instances on PostgreSQL: $EVENTS events made through both, each webhook-id arrived exactly once, all verified; attempts delivered by A $delivered_a, by B $delivered_b ($shared)"
}

# =================================================================================================
case $PARTS in
    all | sqlite) sqlite_part ;;
esac
case $PARTS in
    all | postgres)
        if [ -n "${INVITELINK_TEST_POSTGRES_URL:-}" ]; then
            postgres_part
        else
            # A throwaway PostgreSQL for this part only; the child has its own watchdog and work dir.
            note "starting a throwaway PostgreSQL (scripts/with-postgres.sh) for part 6"
            WEBHOOKS_PARTS=postgres LIMIT=$((LIMIT - (SECONDS - started) - 5)) "$ROOT/scripts/with-postgres.sh" "$0" ||
                fail "part 6 (two instances on PostgreSQL) failed (above)"
        fi
        ;;
esac
[ ${#DEFERRED[@]} = 0 ] || fail "${#DEFERRED[@]} check(s) failed: $(printf '%s; ' "${DEFERRED[@]}")"
note "OK (parts: $PARTS) in $((SECONDS - started)) s"
