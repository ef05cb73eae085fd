import Foundation

/// A fresh directory under the system temp dir, unique per instance, removed on ``remove()`` or deinit.
///
/// Tests run in parallel in one process, so every path carries a UUID and nothing is shared.
public final class TemporaryDirectory: Sendable {
    public let path: String

    /// - Parameter prefix: a readable prefix for the directory name, to spot leftovers.
    public init(prefix: String = "rlt-test") throws {
        let path = NSTemporaryDirectory() + "/\(prefix)-\(UUID().uuidString.lowercased())"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        self.path = (path as NSString).standardizingPath
    }

    deinit {
        self.remove()
    }

    /// The absolute path of `name` inside this directory.
    public func file(_ name: String) -> String {
        self.path + "/" + name
    }

    /// Writes `text` to `name` inside this directory (creating the folders of a path such as
    /// `thermal_zone0/temp`) and returns its path. The file is private to this user (mode 0600) unless
    /// told otherwise, as the secrets tests write must be for the daemon to accept them.
    @discardableResult
    public func write(_ name: String, _ text: String, mode: Int = 0o600) throws -> String {
        let path = self.file(name)
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: self.path)
    }
}

/// Runs `body` with a fresh directory's path and removes the directory (with anything left in it)
/// when `body` returns.
public func withTemporaryDirectory<T>(prefix: String = "rlt-test", _ body: (String) throws -> T) throws -> T {
    let directory = try TemporaryDirectory(prefix: prefix)
    defer { directory.remove() }
    return try body(directory.path)
}
