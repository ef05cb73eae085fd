import Foundation

/// The built `rlt-gateway` executable running as a separate process, for end-to-end tests.
///
/// The tests drive it only through what users have: its config file, `--set` overrides, MQTT,
/// the simulated chip's directory and signals.
public final class GatewayProcess: @unchecked Sendable {
    // `@unchecked Sendable` is safe here: `process` and the pipes are only touched through
    // Foundation's thread-safe `Process` API, and `output` is guarded by `lock`.
    private let process = Process()
    private let lock = NSLock()
    private var output = Data()
    public let configPath: String

    /// Where `swift build` put the executable: next to the test bundle, or `RLT_GATEWAY_BIN`.
    public static var executablePath: String {
        if let path = ProcessInfo.processInfo.environment["RLT_GATEWAY_BIN"] { return path }
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = bundle.deletingLastPathComponent()
        // `swift test` runs `<bin>/rlt-gatewayPackageTests.xctest`; walk up until the binary is found.
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("rlt-gateway").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return bundle.deletingLastPathComponent().appendingPathComponent("rlt-gateway").path
    }

    /// Starts `rlt-gateway run --config configPath --set …`.
    public init(configPath: String, overrides: [String] = [], environment: [String: String] = [:]) throws {
        self.configPath = configPath
        self.process.executableURL = URL(fileURLWithPath: Self.executablePath)
        self.process.arguments = ["run", "--config", configPath] + overrides.flatMap { ["--set", $0] }
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "NOTIFY_SOCKET")
        for (key, value) in environment { env[key] = value }
        self.process.environment = env
        let pipe = Pipe()
        self.process.standardOutput = pipe
        self.process.standardError = pipe
        pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            self.lock.withLock { self.output.append(data) }
        }
        try self.process.run()
    }

    /// Everything the daemon printed so far (its log goes to stderr).
    public var log: String { self.lock.withLock { String(decoding: self.output, as: UTF8.self) } }

    public var pid: Int32 { self.process.processIdentifier }
    public var isRunning: Bool { self.process.isRunning }

    /// Sends a signal (SIGTERM for a graceful stop, SIGKILL for a crash).
    public func signal(_ number: Int32) { kill(self.process.processIdentifier, number) }

    /// Waits for the process to exit and returns its status, or `nil` after `timeout`.
    public func waitForExit(timeout: Duration = .seconds(15)) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while self.process.isRunning {
            if ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return self.process.terminationStatus
    }

    /// Terminates (SIGTERM, then SIGKILL) if still running; tests call this in every path.
    public func terminate() async {
        guard self.process.isRunning else { return }
        self.signal(SIGTERM)
        if await self.waitForExit(timeout: .seconds(10)) == nil {
            self.signal(SIGKILL)
            _ = await self.waitForExit(timeout: .seconds(5))
        }
    }

    deinit {
        if self.process.isRunning { kill(self.process.processIdentifier, SIGKILL) }
    }
}

/// Reads and drives the simulated GPIO chip's directory exactly as a test script would.
public struct SimulatedChipDirectory: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// The physical level of line `line` (`nil` while the file does not exist yet).
    public func value(line: Int) -> Int? {
        guard let text = try? String(contentsOfFile: "\(self.path)/sim_gpio\(line)/value", encoding: .utf8) else {
            return nil
        }
        return Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Drives input line `line` by writing `pull-up` or `pull-down`.
    public func pull(line: Int, up: Bool) throws {
        let directory = "\(self.path)/sim_gpio\(line)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try (up ? "pull-up" : "pull-down").write(toFile: "\(directory)/pull", atomically: true, encoding: .utf8)
    }

    /// Waits until line `line` reads `level`.
    public func waitForValue(line: Int, _ level: Int, timeout: Duration = .seconds(10)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if self.value(line: line) == level { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return self.value(line: line) == level
    }
}
