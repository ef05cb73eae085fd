#if canImport(Glibc)
import Glibc
#endif
import Clocks
import Foundation
import Synchronization

/// Talks to systemd's notify socket (`sd_notify` without libsystemd): `READY=1`, `WATCHDOG=1`,
/// `STOPPING=1`. Does nothing when not started by systemd (`NOTIFY_SOCKET` unset).
///
/// `WATCHDOG=1` is only sent from the event loop's tick, so a wedged loop stops petting the
/// watchdog and systemd restarts the daemon (S17). Pets are spaced to half of `WATCHDOG_USEC`.
public final class SystemdNotifier: Sendable {
    private let socketPath: String?
    private let watchdogIntervalNs: Int64?
    private let lastPet = Mutex<Int64>(0)

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.socketPath = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        self.watchdogIntervalNs = environment["WATCHDOG_USEC"].flatMap { Int64($0) }.map { $0 * 1000 / 2 }
    }

    /// Sends `WATCHDOG=1` if half the watchdog period has passed since the last one.
    public func watchdog() {
        guard let interval = self.watchdogIntervalNs else { return }
        let now = MonotonicClock.nanoseconds()
        let due = self.lastPet.withLock { last in
            guard now - last >= interval else { return false }
            last = now
            return true
        }
        if due { self.notify("WATCHDOG=1") }
    }

    public func notify(_ message: String) {
        guard var path = self.socketPath else { return }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        // An abstract socket is given with a leading '@' and addressed with a leading NUL.
        let abstract = path.hasPrefix("@")
        if abstract { path.removeFirst() }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        let bytes = Array(path.utf8)
        let offset = abstract ? 1 : 0
        guard bytes.count + offset < capacity else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in bytes.enumerated() { raw[i + offset] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + offset + bytes.count)
        _ = message.withCString { text in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, text, strlen(text), Int32(MSG_NOSIGNAL), $0, length)
                }
            }
        }
    }
}
