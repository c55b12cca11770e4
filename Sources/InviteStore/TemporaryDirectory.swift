internal import Foundation

/// A fresh directory under the system's temporary directory, removed with its last owner.
///
/// Every ``SQLiteStore`` opened in it holds a reference, so the files cannot disappear while a
/// store (or a second store on the same file, as after a simulated restart) still uses them.
final class TemporaryDirectory: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("invitestore-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }
}
