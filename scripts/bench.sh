#!/usr/bin/env bash
# Signing-core benchmark: our HS256/EdDSA sign and verify rates beside `openssl speed`
# measured in the same run, on one core. Usage: scripts/bench.sh [seconds-per-figure]
set -euo pipefail
secs=${1:-3}
bench=${BENCH:-.build/release/invitelink-bench}

hmac_bytes=$(openssl speed -elapsed -seconds "$secs" -bytes 256 -hmac sha256 -mr 2>/dev/null | awk -F: '/^\+F:/ {print $4}')
read -r ed_sign ed_verify < <(openssl speed -elapsed -seconds "$secs" -mr ed25519 2>/dev/null | awk -F: '/^\+F6:/ {print $5, $6}')
hmac_ops=$(python3 -c "print(int(float('$hmac_bytes') / 256))")

declare -A ours
while read -r name rate; do ours[$name]=$rate; done < <("$bench" "$secs")

python3 - "$hmac_ops" "$ed_sign" "$ed_verify" "${ours[hs256_sign]}" "${ours[hs256_verify]}" "${ours[eddsa_sign]}" "${ours[eddsa_verify]}" <<'PY'
import sys
hmac, ed_sign, ed_verify, hs_s, hs_v, ed_s, ed_v = (float(x) for x in sys.argv[1:])
rows = [
    ("HS256 sign",   hs_s, hmac,      "HMAC-SHA256 256 B", "target >= 400k/s"),
    ("HS256 verify", hs_v, hmac,      "HMAC-SHA256 256 B", "target >= 400k/s"),
    ("EdDSA sign",   ed_s, ed_sign,   "Ed25519 sign",      "target >= 0.90x"),
    ("EdDSA verify", ed_v, ed_verify, "Ed25519 verify",    "target >= 0.90x"),
]
print(f"{'operation':<14}{'ours/s':>12}{'openssl/s':>12}{'ratio':>8}  reference / target")
for name, ours, ref, refname, target in rows:
    print(f"{name:<14}{ours:>12,.0f}{ref:>12,.0f}{ours/ref:>8.2f}  {refname} / {target}")
PY
