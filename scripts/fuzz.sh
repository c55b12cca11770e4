#!/usr/bin/env bash
# Fuzzes token verification with libFuzzer for SECONDS (default 60): builds the
# `invitelink-fuzz` harness (Fuzz/TokenVerification, declared only when INVITELINK_FUZZ is set),
# seeds it from the compact JWS strings and their claims payloads found in ../shared/vectors
# (read where they are, never copied into the repository) and from the committed Fuzz/corpus/,
# runs it with the dictionary Fuzz/token.dict, prints libFuzzer's final stats, and merges the
# new inputs that add coverage into Fuzz/corpus/ (smallest first, a few hundred at most).
#
# Usage: scripts/fuzz.sh [SECONDS]        (make fuzz FUZZ_SECONDS=N)
#
# Exits non-zero when the harness crashes (a trap, a sanitizer report, a leak, an input slower
# than 10 s): the crashing input is kept as crash-<sha1> under $FUZZ_ARTIFACTS (default
# /tmp/invitelink-fuzz) with the whole log, and the report is printed. Replay one with
# `.build-fuzz/release/invitelink-fuzz /tmp/invitelink-fuzz/crash-…`.
#
# The build is optimized (-c release: Swift keeps its overflow and bounds traps there, and the
# debug build in the same .build-fuzz keeps its own flags) and never touches .build;
# FUZZ_SANITIZE (default fuzzer,address) chooses the sanitizers.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
vectors=${VECTORS:-../shared/vectors}
artifacts=${FUZZ_ARTIFACTS:-/tmp/invitelink-fuzz}
sanitize=${FUZZ_SANITIZE:-fuzzer,address}
corpus=Fuzz/corpus
max_len=4200          # tokens are at most 4096 bytes; the harness also reads 8 bytes of clock
corpus_cap=300        # files; past it the corpus is minimized

build=(swift build --scratch-path .build-fuzz -c release --product invitelink-fuzz -Xswiftc "-sanitize=$sanitize")
INVITELINK_FUZZ=1 "${build[@]}"
fuzzer="$(INVITELINK_FUZZ=1 "${build[@]}" --show-bin-path)/invitelink-fuzz"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/seeds" "$work/new" "$artifacts" "$corpus"

# Every string in the vectors' JSON that is a compact JWS (three dot-separated parts), and the
# payload of each that decodes to a JSON object: the claims the harness signs itself.
python3 - "$vectors" "$work/seeds" "$max_len" <<'PY'
import base64, hashlib, json, os, re, sys
root, out, max_len = sys.argv[1], sys.argv[2], int(sys.argv[3])
jws = re.compile(r'^[A-Za-z0-9_\-+/=?]+\.[A-Za-z0-9_\-+/=?]*\.[A-Za-z0-9_\-+/=?]*$')
seeds = set()

def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)

for directory, _, names in os.walk(root):
    for name in names:
        if not name.endswith('.json'):
            continue
        try:
            document = json.load(open(os.path.join(directory, name), encoding='utf-8'))
        except (ValueError, UnicodeDecodeError):
            continue
        for text in strings(document):
            if not jws.match(text) or len(text) > max_len:
                continue
            seeds.add(text.encode())
            payload = text.split('.')[1].rstrip('=')
            try:
                decoded = base64.urlsafe_b64decode(payload + '=' * (-len(payload) % 4))
            except ValueError:
                continue
            if decoded.lstrip(b' \t\r\n').startswith(b'{'):
                seeds.add(decoded)
for seed in seeds:
    with open(os.path.join(out, hashlib.sha1(seed).hexdigest()), 'wb') as file:
        file.write(seed)
print(f"fuzz: {len(seeds)} seeds from {root}, {len(os.listdir('Fuzz/corpus'))} from Fuzz/corpus")
PY

# libFuzzer's own report of a trap (its stack, symbolized, the input saved); Swift's runtime
# backtracer would read the crashed process's memory under ASan and muddle it.
export SWIFT_BACKTRACE=${SWIFT_BACKTRACE:-enable=no}
log="$artifacts/fuzz.log"
echo "fuzz: running for $seconds s (log: $log)"
status=0
"$fuzzer" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -dict=Fuzz/token.dict -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$work/new" "$work/seeds" "$corpus" >"$log" 2>&1 || status=$?

runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
done_line=$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$log" || true)
if [ "$status" -ne 0 ]; then
    echo "fuzz: the harness crashed (libFuzzer exit $status) after ${runs:-?} runs; the report:" >&2
    # From the harness's own message or the sanitizer's first line to the input's base64,
    # with Swift symbols demangled.
    sed -n '/Fatal error\|==[0-9]*== *ERROR\|==[0-9]*==WARNING/,/^Base64:/p' "$log" | grep -v '^0x' | head -60 |
        { swift demangle --simplified 2>/dev/null || cat; } >&2
    echo "fuzz: inputs under $artifacts (crash-*, leak-*, timeout-*), full log $log" >&2
    exit "$status"
fi
echo "fuzz: ${done_line:-done}: ${runs:-?} runs, ${rate:-?} exec/s"

# Fuzz/corpus/ keeps only the new inputs that reach code the seeds and itself do not: merged
# into a copy of both (libFuzzer's -merge=1 adds, smallest first, just the inputs that bring
# new features to its first directory; -use_counters=0 counts an edge once, not per hit
# count), what the merge added is what gets committed.
mkdir "$work/known"
cp "$work/seeds"/* "$work/known/" 2>/dev/null || true
cp "$corpus"/* "$work/known/" 2>/dev/null || true
ls "$work/known" >"$work/known.list"
"$fuzzer" -merge=1 -use_counters=0 -max_len="$max_len" -timeout=10 "$work/known" "$work/new" >>"$log" 2>&1
added=0
for input in $(ls "$work/known" | grep -vxFf "$work/known.list"); do
    cp "$work/known/$input" "$corpus/"
    added=$((added + 1))
done
total=$(find "$corpus" -type f | wc -l)
echo "fuzz: Fuzz/corpus: $added inputs added, $total in all"

# Past the cap, the corpus is cut to the inputs that still add coverage beyond the seeds.
if [ "$total" -gt "$corpus_cap" ]; then
    mkdir "$work/minimal"
    cp "$work/seeds"/* "$work/minimal/" 2>/dev/null || true
    ls "$work/minimal" >"$work/seeds.list"
    "$fuzzer" -merge=1 -use_counters=0 -max_len="$max_len" -timeout=10 "$work/minimal" "$corpus" >>"$log" 2>&1
    find "$corpus" -type f -delete
    for input in $(ls "$work/minimal" | grep -vxFf "$work/seeds.list"); do cp "$work/minimal/$input" "$corpus/"; done
    echo "fuzz: Fuzz/corpus over $corpus_cap inputs, minimized to $(find "$corpus" -type f | wc -l)"
fi
