// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "invitelink",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "invitelink", targets: ["invitelink"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // Already in the graph through Hummingbird and postgres-nio; declared because
        // InviteServer imports NIOCore, InviteStore NIOSSL and the server tests HTTPTypes.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        // Webhook deliveries (DESIGN.md §9): the Swift server ecosystem's HTTP client.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        // libcrypto from the system (Debian: libssl-dev). Only InviteCrypto imports it.
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        .target(
            name: "InviteCrypto",
            dependencies: ["COpenSSL"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "InviteToken",
            dependencies: ["InviteCrypto"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "InviteStore",
            dependencies: [
                "InviteToken",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The domain's operations over a store and a keyring: issuing, checking and accepting
        // links, the draft email, credentials, passwords. No HTTP: the CLI uses it as the
        // server does.
        .target(
            name: "InviteService",
            dependencies: ["InviteCrypto", "InviteToken", "InviteStore"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "InviteServer",
            dependencies: [
                "InviteCrypto",
                "InviteToken",
                "InviteStore",
                "InviteService",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            resources: [.copy("Resources")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "InviteCLI",
            dependencies: [
                "InviteCrypto",
                "InviteToken",
                "InviteStore",
                "InviteService",
                // For `serve` alone.
                "InviteServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "invitelink",
            dependencies: ["InviteCLI"],
            swiftSettings: swiftSettings
        ),
        // `make bench`'s ceiling: a bare Hummingbird route (scripts/bench_http.py).
        .executableTarget(
            name: "invitelink-bare",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "invitelink-bench",
            dependencies: ["InviteCrypto", "InviteToken"],
            swiftSettings: swiftSettings
        ),
        // Reads ../shared/vectors for the crypto and token suites.
        .target(
            name: "TestVectors",
            path: "Tests/TestVectors",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "InviteCryptoTests",
            dependencies: ["InviteCrypto", "TestVectors"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "InviteTokenTests",
            dependencies: ["InviteCrypto", "InviteToken", "TestVectors"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "InviteStoreTests",
            dependencies: ["InviteStore", "InviteToken", "InviteCrypto", "InviteService"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "InviteServiceTests",
            dependencies: ["InviteService", "InviteToken"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "InviteServerTests",
            dependencies: [
                "InviteServer", "InviteService", "InviteStore", "InviteToken", "InviteCrypto",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "InviteCLITests",
            dependencies: ["InviteCLI", "InviteToken", "InviteCrypto"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "InvitePropertyTests",
            dependencies: ["InviteToken", "InviteCrypto", .product(name: "PropertyBased", package: "swift-property-based")],
            swiftSettings: swiftSettings
        ),
    ]
)

// ---- libFuzzer target over token verification (Fuzz/, scripts/fuzz.sh, `make fuzz`) --------
// Declared only when INVITELINK_FUZZ is set: it must be built with -sanitize=fuzzer (libFuzzer
// supplies `main`), so the normal build and `swift test` never see it.
if Context.environment["INVITELINK_FUZZ"] != nil {
    package.targets.append(
        .executableTarget(
            name: "invitelink-fuzz",
            dependencies: ["InviteCrypto", "InviteToken"],
            path: "Fuzz/TokenVerification",
            swiftSettings: swiftSettings + [.enableExperimentalFeature("Extern"), .unsafeFlags(["-parse-as-library"])]
        )
    )
}
// ---- end of the libFuzzer target ------------------------------------------------------------
