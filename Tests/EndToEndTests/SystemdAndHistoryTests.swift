import Foundation
import GatewayProtocol
import TestKit
import TestSupport
import Testing

/// A datagram socket standing in for systemd's notify socket.
final class NotifySocket {
    let path: String
    private let fd: Int32

    init(directory: TemporaryDirectory) throws {
        self.path = directory.file("notify.sock")
        self.fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in self.path.utf8.enumerated() { raw[i] = byte }
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(self.fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard rc == 0 else { throw HarnessError("cannot bind \(self.path)") }
        _ = fcntl(self.fd, F_SETFL, fcntl(self.fd, F_GETFL) | O_NONBLOCK)
    }

    deinit { close(self.fd) }

    /// Every datagram received so far.
    func drain() -> [String] {
        var messages: [String] = []
        var buffer = [UInt8](repeating: 0, count: 512)
        while true {
            let count = recv(self.fd, &buffer, buffer.count, 0)
            guard count > 0 else { return messages }
            messages.append(String(decoding: buffer[0..<count], as: UTF8.self))
        }
    }
}

@Suite(.timeLimit(.minutes(10)))
struct SystemdAndHistoryTests {
    @Test func notifySocket_getsReadyWatchdogAndStopping() async throws {
        let directory = try TemporaryDirectory(prefix: "rlt-notify")
        defer { directory.remove() }
        let notify = try NotifySocket(directory: directory)
        try await GatewayHarness.with(environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "400000"]) {
            harness in
            var received: [String] = []
            // Status online was seen, so READY=1 has been sent; pets come every 200 ms.
            _ = await TestClient.poll(timeout: .seconds(30)) {
                received += notify.drain()
                return received.contains("READY=1") && received.filter { $0 == "WATCHDOG=1" }.count >= 3
            }
            #expect(received.first == "READY=1", "\(received)")
            #expect(received.filter { $0 == "WATCHDOG=1" }.count >= 3, "\(received)")

            // A stopped loop stops petting the watchdog, so systemd would restart it.
            #expect(await harness.gateway.suspend())
            _ = notify.drain()
            // Kept sleep: the claim is that nothing arrives over a span of time; the process is
            // provably stopped, so a slow machine cannot make this fail.
            try await Task.sleep(for: .seconds(1))
            #expect(notify.drain().isEmpty)
            harness.gateway.resume()

            harness.gateway.signal(SIGTERM)
            #expect(await harness.gateway.waitForExit() == 0)
            #expect(notify.drain().contains("STOPPING=1"))
        }
    }

    @Test func history_listsTheSessionFromTheLedger() async throws {
        try await GatewayHarness.with { harness in
            let started = try await harness.command(CommandRequest(id: "h1", command: "start", args: ["duration_s": 1]))
            #expect(started.ok, "\(started)")
            #expect(try await harness.waitForEvent(.completed) != nil)
            let output = try await ProcessRunner.run(
                GatewayProcess.executablePath, ["history", "--config", harness.configPath])
            let rows = output.split(separator: "\n").filter { $0.contains("duration") }
            #expect(rows.count == 1, "\(output)")
            #expect(rows.first?.contains("both") == true, "\(output)")
        }
    }
}
