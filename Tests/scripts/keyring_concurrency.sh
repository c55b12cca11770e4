#!/usr/bin/env bash
# Twenty `keys add --alg ed25519` processes started at once must all succeed and lose no key:
# afterwards `keys list --json` shows exactly those 20 kids, and there are 20 .pem files, each
# mode 600. (DESIGN.md §3: every change under an exclusive lock, atomic rename.)
. "$(dirname "$0")/lib.sh"
N=20

# The directory exists first so that the racers contend on the lock, not on mkdir.
il keys list >/dev/null || fail "keys list on an empty keys dir failed"

pids=()
for i in $(seq 1 $N); do
    il keys add --alg ed25519 >"$WORK/kid.$i" 2>"$WORK/err.$i" &
    pids+=($!)
done
failed=0
for i in $(seq 1 $N); do
    if ! wait "${pids[$((i - 1))]}"; then
        failed=$((failed + 1))
        echo "$SCRIPT: keys add #$i failed: $(head -1 "$WORK/err.$i")" >&2
    fi
done
[ $failed = 0 ] || fail "$failed of $N concurrent keys add runs failed"

printed=$(cat "$WORK"/kid.* | sort)
[ "$(wc -l <<<"$printed")" = $N ] || fail "expected $N printed kids, got: $printed"
[ "$(sort -u <<<"$printed" | wc -l)" = $N ] || fail "the printed kids are not distinct: $printed"

il keys list --json >"$WORK/list.json" 2>"$WORK/list.err" || fail "keys list --json failed: $(cat "$WORK/list.err")"
listed=$(python3 -c '
import json, sys
document = json.load(open(sys.argv[1]))
assert document["version"] == 1, document
for key in document["keys"]:
    assert key["alg"] == "EdDSA" and key["state"] == "next", key
print("\n".join(sorted(key["kid"] for key in document["keys"])))' "$WORK/list.json") \
    || fail "keys list --json is not the expected document: $(head -c 400 "$WORK/list.json")"
[ "$listed" = "$printed" ] || fail "keys list shows $(wc -l <<<"$listed") keys; lost: $(comm -13 <(echo "$listed") <(echo "$printed") | tr '\n' ' ')"

pems=$(find "$KEYS" -maxdepth 1 -name '*.pem' | wc -l)
[ "$pems" = $N ] || fail "$pems .pem files, expected $N"
lax=$(find "$KEYS" -maxdepth 1 -name '*.pem' ! -perm 600)
[ -z "$lax" ] || fail "secret files not mode 600: $lax"
leftovers=$(find "$KEYS" -maxdepth 1 -name '*.tmp-*')
[ -z "$leftovers" ] || fail "temporary files left behind: $leftovers"

note "$N concurrent keys add: $N keys listed, $N .pem files mode 600"
