import Foundation
import GatewayConfig
import TestKit

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

/// A fresh temporary directory as a URL, removed by `body`'s end.
func withTemporaryDirectoryURL<T>(_ body: (URL) throws -> T) throws -> T {
    try withTemporaryDirectory(prefix: "rlt-config") { try body(URL(fileURLWithPath: $0, isDirectory: true)) }
}
