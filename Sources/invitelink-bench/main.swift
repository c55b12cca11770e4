// Signing-core throughput on one core: HS256 and EdDSA sign and verify of a realistic
// invitation token, in operations per second. `make bench` prints these beside
// `openssl speed` measured in the same run.
import Foundation
import InviteCrypto
import InviteToken

let seconds = Double(CommandLine.arguments.dropFirst().first ?? "2") ?? 2
/// An optional second argument runs only the figures whose names start with it: `hs256`,
/// `eddsa`, `hs256_verify` … (for profiling).
let only = CommandLine.arguments.dropFirst(2).first

func measure(_ name: String, _ body: () throws -> Void) rethrows {
    if let only, !name.hasPrefix(only) { return }
    // Warm up (pools fill, caches settle), then count whole batches until time is up.
    for _ in 0..<2000 { try body() }
    let start = DispatchTime.now().uptimeNanoseconds
    var operations = 0
    var elapsed: Double = 0
    repeat {
        for _ in 0..<1000 { try body() }
        operations += 1000
        elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    } while elapsed < seconds
    print("\(name) \(Int(Double(operations) / elapsed))")
}

let now: Int64 = 1_800_000_000
let claims = InvitationClaims(
    issuer: "invitelink", invitationID: "GSbKxMVr1OQpaLeQ2PrMUQ", resellerID: "3f2b6c9e-6f1d-4a52-9d57-0c1a8f3e2b71",
    providerID: "b8e4d0a2-1c7f-4e39-8a65-5d2f9c0b7e14", delegatedAdmin: true, issuedAt: now, expiresAt: now + 14 * 86_400
)
let hmac = KeyMaterial.hmac(try HMACSHA256Key(secret: SecureBytes(randomCount: 32)))
let ed25519 = KeyMaterial.ed25519(try Ed25519PrivateKey())
for (label, material, kid) in [("hs256", hmac, "bench-hs"), ("eddsa", ed25519, "bench-ed")]
where only.map({ label.hasPrefix($0) || $0.hasPrefix(label) }) ?? true {
    var manifest = KeyManifest()
    try manifest.add(kid: kid, algorithm: material.algorithm, now: now)
    try manifest.promote(kid, now: now)
    let keyring = Keyring(manifest: manifest, material: [kid: material])
    let signer = try TokenSigner(kid: kid, material: material)
    // Every signature checked from scratch, as `openssl speed` does.
    var verifier = TokenVerifier(issuer: "invitelink")
    verifier.usesSignatureCache = false
    let token = try signer.sign(claims)
    try measure("\(label)_sign") { _ = try signer.sign(claims) }
    try measure("\(label)_verify") { _ = try verifier.verify(token, keyring: keyring, now: now + 60) }
    if material.algorithm == .ed25519 {
        // The same link checked again (acceptance page, then acceptance): the keyring remembers it.
        verifier.usesSignatureCache = true
        try measure("\(label)_verify_again") { _ = try verifier.verify(token, keyring: keyring, now: now + 60) }
    }
}
