import Foundation
import Synchronization
import TestKit

/// A child process started with `posix_spawn` and a clean signal state.
///
/// Foundation's `Process` passes on the caller's signal mask, and the threads that run Swift
/// concurrency (libdispatch workers) block SIGTERM, SIGINT, SIGHUP, SIGUSR1 and SIGUSR2. A broker or
/// daemon spawned from an async test would then never see SIGTERM. This type resets the mask and
/// those signals' dispositions, so graceful-shutdown tests test the real thing.
public final class ChildProcess: Sendable {
    public let pid: pid_t
    public let executable: String
    private let exitStatus = Mutex<Int32?>(nil)

    /// Starts `executable` with `arguments`, standard input from /dev/null and standard output and
    /// error appended to the given files (or /dev/null).
    ///
    /// - Parameter environment: the child's environment; `nil` passes this process's environment.
    public init(
        executable: String,
        arguments: [String],
        standardOutput: String? = nil,
        standardError: String? = nil,
        environment: [String: String]? = nil
    ) throws {
        self.executable = executable
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(
            &actions, 1, standardOutput ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_addopen(
            &actions, 2, standardError ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o644)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGPIPE, SIGCHLD] {
            sigaddset(&defaults, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) }
        defer { argv.forEach { free($0) } }
        let environmentPairs = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let envp = environmentPairs.map { strdup($0) }
        defer { envp.forEach { free($0) } }

        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv + [nil], envp + [nil])
        guard rc == 0 else {
            throw ToolError(description: "could not start \(executable): \(String(cString: strerror(rc)))")
        }
        self.pid = pid
    }

    deinit {
        if self.isRunning {
            Glibc.kill(self.pid, SIGKILL)
            var status: Int32 = 0
            waitpid(self.pid, &status, 0)
        }
    }

    /// Whether the child has not exited yet (reaps it once it has).
    public var isRunning: Bool {
        self.exitStatus.withLock { exitStatus in
            guard exitStatus == nil else { return false }
            var status: Int32 = 0
            let result = waitpid(self.pid, &status, WNOHANG)
            if result == self.pid || (result < 0 && errno == ECHILD) {
                exitStatus = status
                return false
            }
            return true
        }
    }

    /// The raw wait status once the child has exited.
    public var waitStatus: Int32? {
        _ = self.isRunning
        return self.exitStatus.withLock { $0 }
    }

    /// The exit code when the child exited normally (not by a signal).
    public var exitCode: Int32? {
        guard let status = self.waitStatus, status & 0x7F == 0 else { return nil }
        return (status >> 8) & 0xFF
    }

    /// The signal that ended the child, if one did.
    public var terminatingSignal: Int32? {
        guard let status = self.waitStatus, status & 0x7F != 0, status & 0x7F != 0x7F else { return nil }
        return status & 0x7F
    }

    public func send(signal: Int32) {
        if self.isRunning {
            Glibc.kill(self.pid, signal)
        }
    }

    /// Waits until the child exits or `timeout` passes; returns whether it exited.
    public func waitForExit(timeout: Duration) async -> Bool {
        await eventually(timeout: timeout) { !self.isRunning }
    }

    /// SIGTERM, then SIGKILL if it has not exited after `grace`; waits until it is gone.
    public func terminate(grace: Duration = .seconds(5)) async {
        self.send(signal: SIGTERM)
        if await self.waitForExit(timeout: grace) { return }
        self.send(signal: SIGKILL)
        _ = await self.waitForExit(timeout: .seconds(30))
    }
}
