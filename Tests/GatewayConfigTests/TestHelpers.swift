import Foundation
import GatewayConfig

/// The problems `parse` reports for `yaml` (empty when it loads).
func problems(_ yaml: String, overrides: [String] = []) -> [ConfigProblem] {
    do {
        _ = try ConfigLoader.parse(yaml: yaml, overrides: overrides)
        return []
    } catch let error as ConfigError {
        return error.problems
    } catch {
        return [ConfigProblem(keyPath: "unexpected", message: "\(error)")]
    }
}

/// The messages reported under exactly `keyPath`.
func messages(_ problems: [ConfigProblem], at keyPath: String) -> [String] {
    problems.filter { $0.keyPath == keyPath }.map(\.message)
}

/// The repository root, found from this file's path so tests read the shipped config files.
func repositoryRoot(filePath: String = #filePath) -> URL {
    URL(fileURLWithPath: filePath)
        .deletingLastPathComponent()  // GatewayConfigTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()
}

/// A fresh temporary directory, removed by `body`'s end.
func withTemporaryDirectory<T>(_ body: (URL) throws -> T) throws -> T {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("rlt-config-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url)
}
