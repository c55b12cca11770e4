// libFuzzer harness over token verification (issue 11: "Fuzz it"). Built only when
// INVITELINK_FUZZ is set (see the end of Package.swift); run with `make fuzz` or
// `scripts/fuzz.sh [SECONDS]`.
//
// Random bytes almost never carry a valid signature, so a fuzzer feeding tokens alone stops at
// `bad_signature` and never reaches the claims and their time arithmetic. This harness also
// signs each input as a claims payload with a fixed Ed25519 key and a fixed HS256 key, so that
// a hostile `iat`/`exp` written by a key holder gets through to every check after the
// signature. Any thrown error is a correct answer; a trap or a sanitizer report is a finding.
import InviteCrypto
import InviteToken

/// The issuer the verifier expects; the committed corpus's claims use it.
let issuer = "invitelink"
/// A realistic clock (2027-01-15) that the corpus's claims are valid at.
let fixedClock: Int64 = 1_800_000_000
let ed25519Kid = "fuzz-ed25519"
let hs256Kid = "fuzz-hs256"

/// The two keys, from fixed bytes so that every input is reproducible from the bytes alone.
/// They are globals of their own, not only inside the keyring: the keyring keeps them in an
/// enum whose case is packed into the pointer's spare bits, which LeakSanitizer cannot follow,
/// so without these plain references it reports the keys as leaked.
let ed25519Key = built { try Ed25519PrivateKey(seed: [UInt8](0..<32)) }
let hs256Key = built { try HMACSHA256Key(secret: SecureBytes((0..<32).map { UInt8(0xa0 ^ $0) })) }

/// A keyring with the Ed25519 key as primary and the HS256 key active: both verify.
let keyring = built {
    var manifest = KeyManifest()
    try manifest.add(kid: ed25519Kid, algorithm: .ed25519, now: 0)
    try manifest.add(kid: hs256Kid, algorithm: .hs256, now: 0)
    try manifest.promote(hs256Kid, now: 0)
    try manifest.promote(ed25519Kid, now: 0)
    return Keyring(manifest: manifest, material: [ed25519Kid: .ed25519(ed25519Key), hs256Kid: .hmac(hs256Key)])
}

/// What `make` returns, or a stop saying why the fixtures could not be built.
func built<T>(_ make: () throws -> T) -> T {
    do { return try make() } catch { fatalError("the fuzzing keyring could not be built: \(error)") }
}

let verifier = TokenVerifier(issuer: issuer)

/// The base64url header for each key. The Ed25519 one is byte for byte what TokenSigner
/// writes (the verifier's known-header fast path); the HS256 one lists the same members in
/// another order, which DESIGN.md §2 allows, so the strict header parser runs too.
let ed25519Header = Base64URL.encode(Array(#"{"alg":"EdDSA","kid":"fuzz-ed25519","typ":"invitation+jwt"}"#.utf8))
let hs256Header = Base64URL.encode(Array(#"{"typ":"invitation+jwt","kid":"fuzz-hs256","alg":"HS256"}"#.utf8))

/// A compact JWS over `payload`, validly signed with the keyring's key `kid`.
func signedToken(payload: UnsafeRawBufferPointer, kid: String) -> String {
    var token = Array((kid == ed25519Kid ? ed25519Header : hs256Header).utf8)
    token.append(UInt8(ascii: "."))
    Base64URL.encode(payload, appendingTo: &token)
    var signature = [UInt8](repeating: 0, count: 64)
    let length: Int
    do {
        if kid == ed25519Kid {
            try token.withUnsafeBytes { input in try signature.withUnsafeMutableBytes { try ed25519Key.sign(input, into: $0) } }
            length = Ed25519PublicKey.signatureByteCount
        } else {
            try token.withUnsafeBytes { input in try signature.withUnsafeMutableBytes { try hs256Key.authenticate(input, into: $0) } }
            length = HMACSHA256Key.tagLength
        }
    } catch {
        fatalError("signing failed: \(error)")
    }
    token.append(UInt8(ascii: "."))
    signature.withUnsafeBytes { Base64URL.encode(UnsafeRawBufferPointer(rebasing: $0[..<length]), appendingTo: &token) }
    return String(decoding: token, as: UTF8.self)
}

/// The verifier's answer, reduced to what two keys must agree on.
enum Outcome: Equatable {
    case verified(InvitationClaims)
    case refused(TokenError.Code)

    init(_ body: () throws(TokenError) -> VerifiedInvitation) {
        do throws(TokenError) {
            self = .verified(try body().claims)
        } catch {
            self = .refused(error.code)
        }
    }
}

/// Verifies `bytes` as a token string at `now`. Only the checks before the signature can
/// fail differently here: no mutation finds a valid signature.
func verifyAsToken(_ bytes: UnsafeRawBufferPointer, now: Int64) {
    let text = String(decoding: bytes, as: UTF8.self)
    _ = Outcome { () throws(TokenError) in try verifier.verify(text, keyring: keyring, now: now) }
}

/// Signs `payload` with each key and verifies both tokens at `now`. Both signatures are
/// valid, so everything after the signature check sees the same claims and the same clock
/// and must answer the same; a difference is a finding (reported as a trap, like any other).
func verifySigned(_ payload: UnsafeRawBufferPointer, now: Int64) {
    let ed25519Token = signedToken(payload: payload, kid: ed25519Kid)
    let hs256Token = signedToken(payload: payload, kid: hs256Kid)
    let byEd25519 = Outcome { () throws(TokenError) in try verifier.verify(ed25519Token, keyring: keyring, now: now) }
    let byHS256 = Outcome { () throws(TokenError) in try verifier.verify(hs256Token, keyring: keyring, now: now) }
    // The tokens differ in length (an Ed25519 signature is 64 bytes, a MAC 32), so near the
    // 4096-byte limit one can be `malformed` and the other not: only compare below it.
    let bothFit = max(ed25519Token.utf8.count, hs256Token.utf8.count) <= TokenVerifier.maximumTokenLength
    if bothFit, byEd25519 != byHS256 {
        fatalError("the same claims at the same clock: \(byEd25519) under Ed25519, \(byHS256) under HS256")
    }
}

/// Well-formed claims from our issuer with the given `iat` and `exp`, a provider or not and
/// either `dap`: the shape the signer writes, with any 64-bit times.
func claimsPayload(issuedAt: Int64, expiresAt: Int64, flags: UInt8) -> [UInt8] {
    var json: [UInt8] = []
    json.append(contentsOf: #"{"iss":"invitelink","aud":"reseller-relationship","jti":"GSbKxMVr1OQpaLeQ2PrMUQ","rid":"fabrikam""#.utf8)
    if flags & 1 != 0 { json.append(contentsOf: #","pid":"contoso""#.utf8) }
    json.append(contentsOf: #","dap":"#.utf8)
    JSONWriter.appendBool(flags & 2 != 0, to: &json)
    json.append(contentsOf: #","iat":"#.utf8)
    JSONWriter.appendInteger(issuedAt, to: &json)
    json.append(contentsOf: #","exp":"#.utf8)
    JSONWriter.appendInteger(expiresAt, to: &json)
    json.append(UInt8(ascii: "}"))
    return json
}

/// The little-endian Int64 at `offset`.
func int64(_ input: UnsafeRawBufferPointer, at offset: Int) -> Int64 {
    Int64(littleEndian: input.loadUnaligned(fromByteOffset: offset, as: Int64.self))
}

/// The libFuzzer entry point. Each input is read three ways:
///
/// 1. whole, as a token and as a claims payload, at a realistic clock;
/// 2. when longer than 8 bytes, with its first 8 bytes as the clock (little-endian Int64
///    seconds, so `Int64.min` and `Int64.max` are one mutation away) and the rest as a token
///    and as a claims payload;
/// 3. when at least 24 bytes long, with that clock and the next 16 bytes as `iat` and `exp`
///    of well-formed claims (byte 24, if any, chooses `pid` and `dap`). Digits in JSON give the
///    fuzzer no coverage gradient towards 64-bit extremes; binary fields are one mutation from
///    them, so this reading is what takes the time arithmetic to its edges quickly.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    verifyAsToken(input, now: fixedClock)
    verifySigned(input, now: fixedClock)
    guard size > 8 else { return 0 }
    let clock = int64(input, at: 0)
    let rest = UnsafeRawBufferPointer(rebasing: input[8...])
    verifyAsToken(rest, now: clock)
    verifySigned(rest, now: clock)
    guard size >= 24 else { return 0 }
    let claims = claimsPayload(issuedAt: int64(input, at: 8), expiresAt: int64(input, at: 16), flags: size > 24 ? input[24] : 0)
    claims.withUnsafeBytes { verifySigned($0, now: clock) }
    return 0
}

/// libFuzzer's own driver (compiler-rt's FuzzerInterface.h), called from `main` below.
@_extern(c, "LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

/// The executable's entry point. SwiftPM links an executable target with `main` renamed to
/// `<module>_main`, which keeps libFuzzer's `main` out; this hands the arguments to libFuzzer's
/// driver instead, so the binary takes the usual libFuzzer flags.
@_cdecl("invitelink_fuzz_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    // The fixtures are built before the first input, so libFuzzer's per-input leak check
    // never counts their allocations against one.
    _ = (keyring, verifier, ed25519Header, hs256Header)
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzz(data, size) }
}
