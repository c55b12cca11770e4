#!/usr/bin/env bash
# DESIGN.md §6: "An acceptance acknowledged to the client survives kill -9 of the server and a
# restart." Seeds a reseller and N customers (default 200) with the CLI, starts
# `invitelink serve`, fires N acceptances of one unlimited one-tier link at once with curl,
# kills the server with SIGKILL while they run, restarts it, and checks:
#
# - every acceptance answered 201 before the kill is there: the customer is in the reseller's
#   GET /v1/customers, in the invitation's acceptances, and re-POSTing it answers 201 with a
#   byte-identical body (so `created` values are unchanged);
# - nothing is half-written: the reseller's customer list and the invitation's acceptances are
#   the same set, `uses` is their number, and every customer accepted without an answer (the
#   kill came first) gets its stored first answer (`created: true`) on a re-POST.
#
# Requests that got no answer before the kill may or may not have been committed; both are fine.
#
# When to kill: as soon as KILL_AT acceptances (default N/4) have been answered 201, or
# KILL_AFTER seconds (default 3) after the first request, whichever comes first. A fixed delay
# alone kills too early on a loaded machine (spawning 200 curls takes longer than 0.3 s there)
# and too late on an idle one; counting answers always leaves some answered and some in flight.
#
# Uses $INVITELINK or .build/debug/invitelink; python3 and curl. Bounded by LIMIT seconds
# (default 150: seeding is 400 CLI runs, ~25 s on an idle 2-core machine, ~95 s while other
# builds run; the rest takes a few seconds). Kills every process it started, by pid.
set -euo pipefail

# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

N=${N:-200}
KILL_AT=${KILL_AT:-$((N / 4))}
KILL_AFTER=${KILL_AFTER:-3}
# At most this many requests at once: all N at once finish within one group commit, before
# the killer (which polls every 5 ms) can act, and the run proves nothing; even 8 at once
# sometimes finished all 200 first. Two keep the stream going for a few hundred milliseconds.
PARALLEL=${PARALLEL:-2}
LIMIT=${LIMIT:-150}
SEED_JOBS=${SEED_JOBS:-4}

command -v curl >/dev/null || fail "curl is required"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/invitelink-sigkill.XXXXXX")
KEYS=$WORK/Keys
DB=sqlite:$WORK/db.sqlite
SERVER_PID=""
SERVER_WRAPPER=""
KILLER_PID=""

start_watchdog "$LIMIT"

cleanup() {
    local status=$?
    trap - EXIT TERM INT
    [ -n "$KILLER_PID" ] && kill "$KILLER_PID" 2>/dev/null || true
    # The server pid is only signalled while its wrapper (our child, so its pid is not reused) lives.
    [ -n "$SERVER_WRAPPER" ] && kill -0 "$SERVER_WRAPPER" 2>/dev/null && kill -9 "$SERVER_PID" 2>/dev/null || true
    kill "$WATCHDOG" 2>/dev/null || true
    [ -n "$SERVER_WRAPPER" ] && wait "$SERVER_WRAPPER" 2>/dev/null || true
    finish_work "$status"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 1' TERM INT

# The CLI with this script's keys dir and database; each run bounded to 30 s.

# --- Seed --------------------------------------------------------------------------------------
started=$SECONDS
il keys rotate --alg ed25519 >/dev/null || fail "keys rotate failed"
il partners add --id r1 --kind reseller --name "Reseller One" >/dev/null || fail "partners add failed"
RESELLER_SECRET=$(il credentials create --partner r1 --role admin-agent --json | json_get secret) || fail "reseller credential failed"
link=$(il links create --reseller r1 --json) || fail "links create failed"
TOKEN=$(json_get token <<<"$link")
INVITATION=$(json_get id <<<"$link")

mkdir -p "$WORK/out" "$WORK/after"
seed_customers "$N" "$SEED_JOBS"
note "seeded 1 reseller, $N customers and their credentials in $((SECONDS - started)) s"

# --- Serve ---------------------------------------------------------------------------------------
PORT=$(free_port)
BASE=http://127.0.0.1:$PORT

# The server runs under a wrapper subshell whose stderr is discarded: the wrapper reaps it, so
# bash's "Killed" job notice after the SIGKILL goes nowhere instead of into this output.
start_server() {
    local log=$1
    rm -f "$WORK/server.pid"
    (
        "$INVITELINK" serve --port "$PORT" --keys-dir "$KEYS" --database "$DB" >"$log" 2>&1 &
        echo $! >"$WORK/server.pid"
        wait
    ) 2>/dev/null &
    SERVER_WRAPPER=$!
    for _ in $(seq 1 100); do [ -s "$WORK/server.pid" ] && break; sleep 0.01; done
    SERVER_PID=$(<"$WORK/server.pid")
    for _ in $(seq 1 100); do
        if curl -sf --max-time 1 "$BASE/healthz" >/dev/null 2>&1; then return 0; fi
        kill -0 "$SERVER_PID" 2>/dev/null || fail "the server exited at start: $(tail -n 5 "$log")"
        sleep 0.1
    done
    fail "the server did not answer /healthz within 10 s"
}
start_server "$WORK/serve1.log"
note "server pid $SERVER_PID on port $PORT"

# --- Fire N acceptances at once, SIGKILL the server mid-way ----------------------------------------
# One curl with N parallel transfers opens every connection at once (200 curl processes would
# be spawned one after another, slower than the server answers them). Each transfer writes its
# body to out/cN.body and a line "cN STATUS" to codes (000: no answer), line-buffered so that
# the killer below sees answers as they come.
BODY="{\"token\":\"$TOKEN\"}"
printf '%s' "$BODY" >"$WORK/body.json"
for i in $(seq 1 "$N"); do
    [ "$i" = 1 ] || echo next
    cat <<EOF
url = "$BASE/v1/acceptances"
header = "Authorization: Bearer $(<"$WORK/secrets/c$i")"
header = "Content-Type: application/json"
data-binary = "@$WORK/body.json"
output = "$WORK/out/c$i.body"
write-out = "c$i %{http_code}\\n"
max-time = 10
EOF
done >"$WORK/curl.config"
: >"$WORK/codes"
# Computed before the killer starts, so that it starts polling at once.
KILL_AFTER_US=$(python3 -c "print(int($KILL_AFTER * 1e6))")
victim=$SERVER_PID
(
    deadline=$(( ${EPOCHREALTIME/./} + KILL_AFTER_US ))
    while :; do
        answered=$(grep -c ' 201$' "$WORK/codes" || true)
        [ "$answered" -ge "$KILL_AT" ] && break
        [ "${EPOCHREALTIME/./}" -ge "$deadline" ] && break
        sleep 0.005
    done
    kill -9 "$victim" 2>/dev/null && echo "$answered" >"$WORK/answered_at_kill"
) &
KILLER_PID=$!
timeout 30 stdbuf -oL curl -s --parallel --parallel-immediate --parallel-max "$PARALLEL" -K "$WORK/curl.config" >>"$WORK/codes" 2>/dev/null || true
wait "$KILLER_PID" 2>/dev/null || true
KILLER_PID=""
[ "$(wc -l <"$WORK/codes")" = "$N" ] || fail "curl reported $(wc -l <"$WORK/codes") of $N transfers"
if [ -f "$WORK/answered_at_kill" ]; then
    note "SIGKILL sent when $(<"$WORK/answered_at_kill") acceptances had been answered"
else
    kill -9 "$SERVER_PID" 2>/dev/null || true
    note "all $N requests finished before the kill; killed it now"
fi
wait "$SERVER_WRAPPER" 2>/dev/null || true
SERVER_PID=""
SERVER_WRAPPER=""

# --- Restart and check ---------------------------------------------------------------------------
start_server "$WORK/serve2.log"

python3 - "$BASE" "$RESELLER_SECRET" "$INVITATION" "$BODY" "$WORK" "$N" <<'PY' || fail "the check above failed"
import json, os, sys, urllib.request, urllib.error

base, reseller, invitation, body, work, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].encode(), sys.argv[5], int(sys.argv[6])

def call(method, path, secret, data=None):
    request = urllib.request.Request(base + path, data=data, method=method, headers={"Authorization": "Bearer " + secret})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()

customers = [f"c{i}" for i in range(1, n + 1)]
codes, bodies = {}, {}
for line in open(f"{work}/codes"):
    c, code = line.split()
    codes[c] = code
for c in customers:
    codes.setdefault(c, "000")
    path = f"{work}/out/{c}.body"
    bodies[c] = open(path, "rb").read() if os.path.exists(path) else b""
answered = {c for c in customers if codes[c] == "201"}
others = {codes[c] for c in customers if codes[c] not in ("201", "000")}
errors = []
if others:
    errors.append(f"answers other than 201 or no answer before the kill: {sorted(others)}")

def every(path):
    """The items of every page of a paginated list."""
    items, cursor = [], None
    while True:
        status, text = call("GET", f"{path}?limit=200" + (f"&cursor={cursor}" if cursor else ""), reseller)
        if status != 200:
            sys.exit(f"GET {path} answered {status}: {text[:200]!r}")
        page = json.loads(text)
        items += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return items

listed = {item["id"] for item in every("/v1/customers")}
status, text = call("GET", f"/v1/invitations/{invitation}", reseller)
if status != 200:
    sys.exit(f"GET /v1/invitations/{invitation} answered {status}: {text[:200]!r}")
record = json.loads(text)
# The invitation carries its first few acceptances; all of them come page by page.
accepted = {item["customer_id"] for item in every(f"/v1/invitations/{invitation}/acceptances")}

lost = answered - listed
if lost:
    errors.append(f"{len(lost)} customers answered 201 are missing from the reseller's list: {sorted(lost)[:10]}")
lost = answered - accepted
if lost:
    errors.append(f"{len(lost)} customers answered 201 have no stored acceptance: {sorted(lost)[:10]}")
if listed != accepted:
    errors.append(f"half-written: listed without acceptance {sorted(listed - accepted)[:10]}, "
                  f"acceptance without relationship {sorted(accepted - listed)[:10]}")
if record["uses"] != len(accepted):
    errors.append(f"uses is {record['uses']} but {len(accepted)} acceptances are stored")

verified = 0
for c in sorted(answered):
    secret = open(f"{work}/secrets/{c}").read().strip()
    status, text = call("POST", "/v1/acceptances", secret, body)
    if status != 201 or text != bodies[c]:
        errors.append(f"{c}: re-POST answered {status} {text[:160]!r}, before the kill {bodies[c][:160]!r}")
    else:
        verified += 1
unanswered_committed = sorted((listed | accepted) - answered)
for c in unanswered_committed:
    secret = open(f"{work}/secrets/{c}").read().strip()
    status, text = call("POST", "/v1/acceptances", secret, body)
    outcome = json.loads(text) if status == 201 else {}
    if status != 201 or [r.get("created") for r in outcome.get("relationships", [])] != [True]:
        errors.append(f"{c} (committed, unanswered): re-POST answered {status} {text[:160]!r}, not its first answer")

print(f"server_sigkill.sh: {len(answered)} of {n} acceptances answered 201 before the kill; "
      f"{verified} verified after the restart (list, acceptance, identical re-POST); "
      f"{len(unanswered_committed)} committed without an answer; {len(listed)} customers listed")
# A run proves something only when the kill landed mid-stream: some acceptances answered
# before it (they must survive) and some still in flight (they must be all or nothing).
if not answered:
    errors.append("no acceptance was answered before the kill: the run proved nothing (raise KILL_AT/KILL_AFTER)")
if len(answered) == n:
    errors.append("every acceptance was answered before the kill: none was in flight (lower KILL_AT)")
for error in errors:
    print("server_sigkill.sh: " + error, file=sys.stderr)
sys.exit(1 if errors else 0)
PY
note "OK in $((SECONDS - started)) s"
