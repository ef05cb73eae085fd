import Foundation
import TestKit

/// The built `rlt-gateway` executable running as a separate process, for end-to-end tests.
///
/// The tests drive it only through what users have: its config file, `--set` overrides, MQTT,
/// the simulated chip's directory and signals.
public final class GatewayProcess: Sendable {
    private let child: ChildProcess
    public let configPath: String
    /// The daemon's stdout and stderr (its log), appended to a file next to the config.
    public let logPath: String

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

    /// Starts `rlt-gateway run --config configPath --set …` with a clean signal mask (see
    /// ``ChildProcess``), so SIGTERM tests the real graceful shutdown.
    public init(configPath: String, overrides: [String] = [], environment: [String: String] = [:]) throws {
        self.configPath = configPath
        self.logPath = configPath + ".log"
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "NOTIFY_SOCKET")
        for (key, value) in environment { env[key] = value }
        self.child = try ChildProcess(
            executable: Self.executablePath,
            arguments: ["run", "--config", configPath] + overrides.flatMap { ["--set", $0] },
            standardOutput: self.logPath, standardError: self.logPath, environment: env)
    }

    /// Everything the daemon printed so far (its log goes to stderr).
    public var log: String { (try? String(contentsOfFile: self.logPath, encoding: .utf8)) ?? "" }

    public var pid: Int32 { self.child.pid }
    public var isRunning: Bool { self.child.isRunning }

    /// Sends a signal (SIGTERM for a graceful stop, SIGKILL for a crash).
    public func signal(_ number: Int32) { self.child.send(signal: number) }

    /// Freezes the daemon with SIGSTOP (a hung process, as a watchdog sees it) and waits until the
    /// kernel reports it stopped, so nothing it does can land after this returns.
    ///
    /// - Returns: false when it was not seen stopped within `timeout`.
    public func suspend(timeout: Duration = .seconds(30)) async -> Bool {
        self.signal(SIGSTOP)
        return await eventually(timeout: timeout) { self.schedulerState == "T" }
    }

    /// Lets a ``suspend(timeout:)``ed daemon run on.
    public func resume() { self.signal(SIGCONT) }

    /// The state letter of `/proc/<pid>/stat` (`R`, `S`, `T` for stopped, …), `nil` once gone.
    private var schedulerState: String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(self.pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ").first.map(String.init)
    }

    /// Waits for the process to exit and returns its exit code (`nil` after `timeout` or when it
    /// was killed by a signal).
    public func waitForExit(timeout: Duration = .seconds(15)) async -> Int32? {
        guard await self.child.waitForExit(timeout: timeout) else { return nil }
        return self.child.exitCode
    }

    /// Terminates (SIGTERM, then SIGKILL) if still running; tests call this in every path.
    public func terminate() async {
        await self.child.terminate(grace: .seconds(10))
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
        await eventually(timeout: timeout) { self.value(line: line) == level }
    }

    // MARK: - The board's dead-man (docs/DESIGN.md, "Dark when the daemon dies")

    /// How long the reference circuit's retriggerable monostable holds the master relay's enable after
    /// the heartbeat line last changed.
    public static let deadManTimeout: Duration = .milliseconds(500)

    /// When line `line` last changed level, as the file the daemon wrote it to says (wall clock).
    public func lastChange(line: Int) -> ContinuousClock.Instant? {
        var info = stat()
        guard stat("\(self.path)/sim_gpio\(line)/value", &info) == 0 else { return nil }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let ageNanoseconds =
            (Int64(now.tv_sec) - Int64(info.st_mtim.tv_sec)) * 1_000_000_000
            + (Int64(now.tv_nsec) - Int64(info.st_mtim.tv_nsec))
        return ContinuousClock.now - .nanoseconds(ageNanoseconds)
    }

    /// Whether the master relay is energised on the board: its GPIO line is on **and** the dead-man
    /// still holds (the heartbeat line changed within ``deadManTimeout``). A daemon that dies or
    /// hangs stops the heartbeat, and the relay drops within the timeout whatever its lines show.
    public func relayEnergised(master: Int, heartbeat: Int) -> Bool {
        guard self.value(line: master) == 1, let changed = self.lastChange(line: heartbeat) else { return false }
        return ContinuousClock.now - changed < Self.deadManTimeout
    }

    /// The instant the dead-man drops (or dropped) the relay if the heartbeat does not change again.
    public func deadManDrop(heartbeat: Int) -> ContinuousClock.Instant? {
        self.lastChange(line: heartbeat).map { $0 + Self.deadManTimeout }
    }
}
