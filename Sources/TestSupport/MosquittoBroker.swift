import Foundation
import Synchronization
import TestKit

/// A real `/usr/sbin/mosquitto` on a loopback port of its own, with a generated configuration in a
/// temporary directory; killed on ``stop()`` or deinit.
///
/// The port stays the same across ``stop()`` / ``start()`` so restart tests can take the broker
/// away and bring it back under a connected client.
public final class MosquittoBroker: Sendable {
    /// TLS files for the broker's listener.
    public struct TLS: Sendable {
        public var caFile: String
        public var certFile: String
        public var keyFile: String
        /// Ask every client for a certificate signed by `caFile`.
        public var requireCertificate: Bool

        public init(caFile: String, certFile: String, keyFile: String, requireCertificate: Bool = false) {
            self.caFile = caFile
            self.certFile = certFile
            self.keyFile = keyFile
            self.requireCertificate = requireCertificate
        }
    }

    /// What to put into the generated configuration besides the listener.
    public struct Options: Sendable {
        /// Whether clients without a username may connect.
        public var allowAnonymous: Bool
        /// Users and passwords written into a password file with `mosquitto_passwd -b`.
        public var users: [String: String]
        /// Lines of an ACL file (`user alice`, `topic readwrite rlt/#`, …); `nil` means no ACL file.
        public var aclLines: [String]?
        public var tls: TLS?
        /// Any further `mosquitto.conf` lines, appended last.
        public var extraConfig: [String]

        public init(
            allowAnonymous: Bool = true,
            users: [String: String] = [:],
            aclLines: [String]? = nil,
            tls: TLS? = nil,
            extraConfig: [String] = []
        ) {
            self.allowAnonymous = allowAnonymous
            self.users = users
            self.aclLines = aclLines
            self.tls = tls
            self.extraConfig = extraConfig
        }
    }

    public static let executable = "/usr/sbin/mosquitto"

    public let port: Int
    public let host = "127.0.0.1"
    /// The directory holding the configuration, password/ACL files and `mosquitto.log`.
    public let directory: TemporaryDirectory
    private let configPath: String
    private let process = Mutex<ChildProcess?>(nil)

    /// Writes the configuration and starts the broker.
    ///
    /// - Parameter port: a fixed port, or `nil` for ``freePort()``.
    public init(options: Options = Options(), port: Int? = nil) async throws {
        self.port = port ?? Self.freePort()
        self.directory = try TemporaryDirectory(prefix: "mosquitto")
        self.configPath = self.directory.file("mosquitto.conf")
        try await self.writeConfiguration(options)
        try await self.start()
    }

    deinit {
        self.kill()
        self.directory.remove()
    }

    /// The broker's log so far (connections, refusals, TLS errors), for failure messages.
    public var log: String {
        (try? String(contentsOfFile: self.directory.file("mosquitto.log"), encoding: .utf8)) ?? ""
    }

    public var isRunning: Bool {
        self.process.withLock { $0?.isRunning ?? false }
    }

    /// How long a broker may take to listen: seconds on an idle machine, far less than this on a
    /// loaded one; only a broker that never listens waits this long.
    public static let startTimeout: Duration = .seconds(60)

    /// Starts the broker (again) on the same port and waits until it accepts TCP connections.
    ///
    /// - Throws: ``ToolError`` with the broker's log when it exits or does not listen within
    ///   ``startTimeout``.
    public func start() async throws {
        if self.isRunning { return }
        let process = try ChildProcess(
            executable: Self.executable, arguments: ["-c", self.configPath],
            standardError: self.directory.file("mosquitto.stderr"))
        self.process.withLock { $0 = process }
        // Checked once more at the deadline (`eventually`): on a machine loaded enough that this task
        // sleeps past the deadline, a broker listening all along must not count as one that never did.
        var exited = false
        let listening = await eventually(timeout: Self.startTimeout, every: .milliseconds(20)) {
            exited = !process.isRunning
            return exited || Self.acceptsConnections(port: self.port)
        }
        if exited {
            throw ToolError(description: "mosquitto on port \(self.port) exited at start-up:\n\(self.log)")
        }
        guard listening else {
            self.kill()
            throw ToolError(
                description: "mosquitto on port \(self.port) did not listen within \(Self.startTimeout):\n\(self.log)")
        }
    }

    /// Stops the broker with SIGTERM (SIGKILL after 5 s) and waits until it has exited.
    public func stop() async {
        guard let process = self.process.withLock({ $0 }) else { return }
        await process.terminate()
        self.process.withLock { $0 = nil }
    }

    /// Stops and starts the broker on the same port; connected clients lose their connection.
    public func restart() async throws {
        await self.stop()
        try await self.start()
    }

    /// Kills the broker at once (deinit, and simulating a crash).
    public func kill() {
        self.process.withLock { $0?.send(signal: SIGKILL) }
    }

    private func writeConfiguration(_ options: Options) async throws {
        var lines = [
            "per_listener_settings false",
            "listener \(self.port) \(self.host)",
        ]
        if let tls = options.tls {
            lines += [
                "cafile \(tls.caFile)",
                "certfile \(tls.certFile)",
                "keyfile \(tls.keyFile)",
                "require_certificate \(tls.requireCertificate)",
            ]
        }
        lines += [
            "allow_anonymous \(options.allowAnonymous)",
            "set_tcp_nodelay true",
            "persistence false",
            "log_dest file \(self.directory.file("mosquitto.log"))",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "connection_messages true",
        ]
        // Run as root, mosquitto would switch to the "mosquitto" user, which cannot read this directory.
        if let user = Self.currentUserName() {
            lines.append("user \(user)")
        }
        if !options.users.isEmpty {
            let passwords = self.directory.file("passwd")
            try self.directory.write("passwd", "")
            for (user, password) in options.users.sorted(by: { $0.key < $1.key }) {
                try await ProcessRunner.run("/usr/bin/mosquitto_passwd", ["-b", passwords, user, password])
            }
            lines.append("password_file \(passwords)")
        }
        if let aclLines = options.aclLines {
            let acl = try self.directory.write("acl", aclLines.joined(separator: "\n") + "\n")
            lines.append("acl_file \(acl)")
        }
        lines += options.extraConfig
        try self.directory.write("mosquitto.conf", lines.joined(separator: "\n") + "\n")
    }

    private static func currentUserName() -> String? {
        guard let entry = getpwuid(getuid()), let name = entry.pointee.pw_name else { return nil }
        return String(cString: name)
    }

    // MARK: Ports

    private static let handedOut = Mutex<Set<Int>>([])

    /// A loopback TCP port that is free now and was never handed out before in this process.
    ///
    /// Ports come from below the kernel's ephemeral range, so a client's outgoing connection can
    /// never occupy a stopped broker's port before it restarts.
    public static func freePort() -> Int {
        let ceiling = min(ephemeralRangeStart(), 32768)
        let floor = 20000
        while true {
            let candidate = Int.random(in: floor..<ceiling)
            let fresh = self.handedOut.withLock { ports in ports.insert(candidate).inserted }
            if fresh && canBind(port: candidate) { return candidate }
        }
    }

    private static func ephemeralRangeStart() -> Int {
        let text = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)
        let first = text?.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).first
        return first.flatMap { Int($0) } ?? 32768
    }

    private static func canBind(port: Int) -> Bool {
        withLoopbackSocket(port: port) { socket, address in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
        }
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    public static func acceptsConnections(port: Int) -> Bool {
        withLoopbackSocket(port: port) { socket, address in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
        }
    }

    private static func withLoopbackSocket(port: Int, _ body: (Int32, inout sockaddr_in) -> Bool) -> Bool {
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return body(fd, &address)
    }
}
