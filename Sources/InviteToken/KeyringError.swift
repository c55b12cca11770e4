/// Why a keyring operation or load failed. The CLI prints `description` on one line.
public struct KeyringError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case unknownKey = "unknown_key"
        case invalidKid = "invalid_kid"
        case duplicateKid = "duplicate_kid"
        /// A state change the lifecycle does not allow (e.g. promoting a revoked key).
        case invalidTransition = "invalid_transition"
        /// `retire` while links signed by the key may still be unexpired.
        case linksMayBeUnexpired = "links_may_be_unexpired"
        /// A secret file readable by group or others.
        case laxPermissions = "lax_permissions"
        /// The manifest or a key file cannot be read as what it should be.
        case corrupt
        case shortSecret = "short_secret"
        case smallOrderKey = "small_order_key"
        case noPrimaryKey = "no_primary_key"
        case io
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
