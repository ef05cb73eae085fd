import Foundation

/// A failed helper process, with what it printed.
public struct ToolError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// Runs command-line tools (openssl, mosquitto_passwd) to completion without blocking a thread of the
/// concurrency pool while they run.
public enum ProcessRunner {
    /// Runs `executable` with `arguments`; returns its standard output.
    ///
    /// - Throws: ``ToolError`` with the exit status and standard error when it exits non-zero.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String]) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            process.terminationHandler = { _ in continuation.resume() }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        // Small outputs only (certificate tools): the pipes cannot fill before the process exits.
        let out = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let err = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw ToolError(
                description: "\(executable) \(arguments.joined(separator: " ")) exited with "
                    + "\(process.terminationStatus): \(err)")
        }
        return out
    }
}
