#!/usr/bin/env bash
# `kill -9` of `keys add` / `keys rotate` at a random instant of its run, 30 times:
# after every kill the keyring must still load (`keys list` succeeds) and every key the
# manifest names must have its secret file. A run where no kill landed mid-write proves
# nothing, so the kills go on (up to four times as many) until one has, and the script fails
# if none ever does. (DESIGN.md §3: secrets before the manifest,
# write-to-temp + fsync + rename, the lock released by the kernel when its holder dies.)
. "$(dirname "$0")/lib.sh"
ITERATIONS=${ITERATIONS:-30}

il keys rotate --alg ed25519 >/dev/null || fail "initial keys rotate failed"

# How long one run takes here (a debug build may need over 50 ms just to start): the kills
# are spread over 0 to that many milliseconds (at least 50), so that some land while it writes.
start=$(date +%s%N)
il keys add --alg hs256 >/dev/null || fail "keys add failed"
span=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$span" -ge 50 ] || span=50

# The first half of the kills land at random; then each next delay is drawn between the latest
# kill that landed before any write (lo) and the earliest that landed after the manifest was
# replaced or after the run finished (hi), in microseconds: a bisection towards the instant the
# writes happen, which is a few milliseconds wide and would otherwise be hit by chance alone.
lo=0 hi=$((span * 1000))
killed=0 finished=0 midwrite=0 after=0
i=0
while [ $i -lt "$ITERATIONS" ] || { [ $midwrite = 0 ] && [ $i -lt $((ITERATIONS * 4)) ]; }; do
    i=$((i + 1))
    if [ $((i % 2)) = 0 ]; then op=(keys rotate --alg ed25519); else op=(keys add --alg hs256); fi
    temps_before=$(find "$KEYS" -maxdepth 1 -name '*.tmp-*' | wc -l)
    secrets_before=$(find "$KEYS" -maxdepth 1 \( -name '*.pem' -o -name '*.hmac' \) | wc -l)
    manifest_before=$(sha256sum <"$KEYS/keyring.json")

    "$INVITELINK" "${op[@]}" --keys-dir "$KEYS" --database "$DB" >/dev/null 2>&1 &
    pid=$!
    if [ $i -le $((ITERATIONS / 2)) ]; then
        delay=$(( (RANDOM * 32768 + RANDOM) % (span * 1000 + 1) ))
    else
        # Process start-up jitter can leave lo above hi: reopen a window below hi.
        [ $lo -lt $hi ] || lo=$(( hi > 5000 ? hi - 5000 : 0 ))
        delay=$(( lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1) ))
    fi
    sleep "$(printf '%d.%06d' $((delay / 1000000)) $((delay % 1000000)))"
    kill -9 "$pid" 2>/dev/null || true
    status=0
    { wait "$pid"; } 2>/dev/null || status=$?

    # Where the kill landed: the manifest replaced means the change was complete; a temporary
    # file or a secret the manifest does not name means it landed between the writes.
    temps_after=$(find "$KEYS" -maxdepth 1 -name '*.tmp-*' | wc -l)
    secrets_after=$(find "$KEYS" -maxdepth 1 \( -name '*.pem' -o -name '*.hmac' \) | wc -l)
    if [ $status != 137 ]; then
        finished=$((finished + 1))
        [ $delay -ge $hi ] || hi=$delay
    else
        killed=$((killed + 1))
        if [ "$(sha256sum <"$KEYS/keyring.json")" != "$manifest_before" ]; then
            after=$((after + 1))
            [ $delay -ge $hi ] || hi=$delay
        elif [ "$temps_after" -gt "$temps_before" ] || [ "$secrets_after" -gt "$secrets_before" ]; then
            midwrite=$((midwrite + 1))
        else
            [ $delay -le $lo ] || lo=$delay
        fi
    fi

    il keys list --json >"$WORK/list.json" 2>"$WORK/list.err" \
        || fail "iteration $i (${op[*]}, exit $status): keys list failed: $(head -1 "$WORK/list.err")"
    python3 - "$WORK/list.json" "$KEYS" <<'PY' || fail "iteration $i (${op[*]}, exit $status): the manifest names a key without its secret file"
import json, os, sys
document = json.load(open(sys.argv[1]))
missing = [k["kid"] for k in document["keys"]
           if not os.path.exists(os.path.join(sys.argv[2], k["kid"] + (".hmac" if k["alg"] == "HS256" else ".pem")))]
if missing:
    print("missing secret files for", missing, file=sys.stderr)
    sys.exit(1)
PY
done

# The keyring still works, not just loads: a new key can be made primary and sign a valid link.
il keys rotate --alg ed25519 >/dev/null || fail "keys rotate after the kills failed"
token=$(il links create --reseller reseller-1 --offline --json | json_get token) || fail "links create after the kills failed"
il links verify "$token" --offline >/dev/null || fail "a link made after the kills does not verify"

[ $midwrite -gt 0 ] || fail "no kill of $i landed mid-write (between the secret file and the manifest): the run proved nothing"
note "$i runs killed within 0-${span} ms: $killed killed ($midwrite mid-write, $after after the manifest was replaced), $finished finished first; the keyring loaded every time"
