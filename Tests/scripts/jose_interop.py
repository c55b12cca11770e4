#!/usr/bin/env python3
"""Interop with joserfc, an independent JOSE implementation.

- The JWK Set from `keys export-jwks` verifies an EdDSA link's token with joserfc, and the
  claims joserfc reads are the ones the link was made with.
- The JWK Set holds the Ed25519 keys that verify and no HMAC secret.
- A token joserfc signs (its own header member order, `EdDSA` or RFC 9864 `Ed25519`) with a
  key from the keys dir verifies with `links verify --offline`.
- A tampered token is refused by joserfc (a control: the checks above can fail).

Uses the CLI at $INVITELINK (default .build/debug/invitelink), a fresh temporary keys dir, and
ends within LIMIT seconds (default 120).
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings

SCRIPT = os.path.basename(__file__)


def fail(message):
    print(f"{SCRIPT}: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def note(message):
    print(f"{SCRIPT}: {message}")


try:
    from joserfc import jws, jwt
    from joserfc.errors import BadSignatureError
    from joserfc.jwk import KeySet, OKPKey
except ImportError:
    fail("joserfc is not installed (pip install joserfc)")

# joserfc warns that RFC 9864 deprecates "EdDSA"; the design accepts both names on purpose.
warnings.filterwarnings("ignore", message=".*EdDSA is deprecated.*")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INVITELINK = os.path.abspath(os.environ.get("INVITELINK") or os.path.join(ROOT, ".build/debug/invitelink"))
LIMIT = int(os.environ.get("LIMIT", "120"))


def on_alarm(signum, frame):
    fail(f"still running after {LIMIT}s")


def main(work):
    keys = os.path.join(work, "Keys")
    database = "sqlite:" + os.path.join(work, "db.sqlite")

    def cli(*args, check=True):
        command = [INVITELINK, *args, "--keys-dir", keys, "--database", database]
        result = subprocess.run(command, capture_output=True, text=True, timeout=30)
        if check and result.returncode != 0:
            fail(f"`invitelink {' '.join(args)}` exited {result.returncode}: {result.stderr.strip()}")
        return result

    ed_kid = cli("keys", "rotate", "--alg", "ed25519").stdout.strip()
    hs_kid = cli("keys", "add", "--alg", "hs256").stdout.strip()
    next_kid = cli("keys", "add", "--alg", "ed25519").stdout.strip()

    made = json.loads(cli("links", "create", "--reseller", "reseller-7", "--provider", "provider-3",
                          "--dap", "--ttl", "2d", "--offline", "--json").stdout)
    if made["kid"] != ed_kid:
        fail(f"the link was signed by {made['kid']}, not the primary {ed_kid}")

    jwks = json.loads(cli("keys", "export-jwks").stdout)
    published = sorted(key.get("kid") for key in jwks["keys"])
    if published != sorted([ed_kid, next_kid]):
        fail(f"JWKS kids {published}, expected the Ed25519 keys {sorted([ed_kid, next_kid])}")
    for key in jwks["keys"]:
        if key.get("kty") != "OKP" or key.get("crv") != "Ed25519" or "d" in key or "k" in key:
            fail(f"JWKS entry is not a public Ed25519 key: {key}")
    if hs_kid in json.dumps(jwks):
        fail("the HMAC key's kid appears in the JWK Set")
    key_set = KeySet.import_key_set(jwks)

    token = jwt.decode(made["token"], key_set, algorithms=["EdDSA"])
    if token.header != {"alg": "EdDSA", "kid": ed_kid, "typ": "invitation+jwt"}:
        fail(f"unexpected header {token.header}")
    claims = token.claims
    expected = {"iss": "invitelink", "aud": "reseller-relationship", "jti": made["id"],
                "rid": "reseller-7", "pid": "provider-3", "dap": True}
    for name, value in expected.items():
        if claims.get(name) != value:
            fail(f"claim {name} is {claims.get(name)!r}, expected {value!r}")
    if not all(isinstance(claims.get(name), int) for name in ("iat", "exp")):
        fail(f"iat/exp are not integers: {claims}")
    if claims["exp"] - claims["iat"] != 2 * 86400:
        fail(f"lifetime {claims['exp'] - claims['iat']} s, expected 2 days")
    expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(claims["exp"]))
    if expires != made["expires_at"]:
        fail(f"exp {expires} differs from the CLI's expires_at {made['expires_at']}")
    registry = jwt.JWTClaimsRegistry(iss={"essential": True, "value": "invitelink"},
                                     aud={"essential": True, "value": "reseller-relationship"})
    registry.validate(claims)
    note(f"joserfc verified the EdDSA link of {ed_kid} with the exported JWKS; claims match")

    # Control: a changed payload must not verify, or the check above proved nothing.
    header, payload, signature = made["token"].split(".")
    flipped = payload[:5] + ("A" if payload[5] != "A" else "B") + payload[6:]
    try:
        jws.deserialize_compact(f"{header}.{flipped}.{signature}", key_set, algorithms=["EdDSA"])
        fail("joserfc accepted a tampered token")
    except BadSignatureError:
        pass

    # The other direction: joserfc signs with the primary's private key; our verifier accepts
    # its header (members in joserfc's order) under both Ed25519 names.
    with open(os.path.join(keys, ed_kid + ".pem")) as pem:
        private = OKPKey.import_key(pem.read())
    now = int(time.time())
    foreign_claims = {"iss": "invitelink", "aud": "reseller-relationship", "jti": "AAAAAAAAAAAAAAAAAAAAAA",
                      "rid": "reseller-9", "dap": False, "iat": now, "exp": now + 3600}
    for alg in ("EdDSA", "Ed25519"):
        foreign = jwt.encode({"alg": alg, "kid": ed_kid, "typ": "invitation+jwt"}, foreign_claims, private,
                             algorithms=[alg])
        result = cli("links", "verify", foreign, "--offline", "--json", check=False)
        outcome = json.loads(result.stdout or "{}")
        if result.returncode != 0 or outcome.get("valid") is not True:
            fail(f"links verify refused a joserfc {alg} token (exit {result.returncode}): {result.stdout.strip()} {result.stderr.strip()}")
        if outcome.get("reseller_id") != "reseller-9":
            fail(f"links verify read reseller {outcome.get('reseller_id')!r} from the joserfc token")
    note("links verify accepts tokens signed by joserfc (EdDSA and Ed25519)")


if __name__ == "__main__":
    if not os.access(INVITELINK, os.X_OK):
        fail(f"no CLI binary at {INVITELINK} (build it, or set INVITELINK)")
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(LIMIT)
    work = tempfile.mkdtemp(prefix="invitelink-jose_interop.")
    try:
        main(work)
    except subprocess.TimeoutExpired as error:
        fail(f"`{' '.join(error.cmd[:4])}` did not finish in {error.timeout}s")
    finally:
        shutil.rmtree(work, ignore_errors=True)
