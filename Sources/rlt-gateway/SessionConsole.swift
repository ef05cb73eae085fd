import Foundation
import Gateway
import GatewayCommandLine
import GatewayProtocol

/// Sends one command, prints the response, and with `watch` draws a live progress bar from the
/// panel's telemetry until the session ends.
struct SessionConsole {
    let client: GatewayClient
    let timeout: Double
    /// Prints the response (and for `get` the state document) as the contract's JSON instead of text.
    var json = false

    /// Returns the process exit code: 0 on success, 1 when the panel refused, 3 when it never answered.
    func command(_ name: String, arguments: JSONValue?, watch: Bool) async -> Int32 {
        if watch { Self.explainInterruptWhileWatching() }
        let updates = self.client.updates
        self.client.start()
        let deadline = ContinuousClock.now + .milliseconds(Int(self.timeout * 1000))
        let timer = Task {
            try? await Task.sleep(until: deadline)
            if !Task.isCancelled { await self.client.stop() }
        }
        defer { timer.cancel() }

        var id: String?
        var sessionID: String?
        var renderer = ProgressRenderer()
        for await update in updates {
            switch update {
            case .connected:
                if id == nil {
                    id = self.client.send(name, arguments: arguments)
                }
            case .disconnected:
                continue
            case .response(let value):
                guard let id, let response = try? ResponseDocument(json: value), response.id == id else { continue }
                timer.cancel()
                if self.json {
                    print((name == "get" ? response.data?.json : nil)?.text ?? response.json.text)
                    if !response.ok { return 1 }
                } else if !response.ok {
                    printError("refused: \(response.code?.rawValue ?? "?"): \(response.message)")
                    return 1
                } else if name == "get", let data = response.data {
                    print(ProgressRenderer.summary(data))
                } else {
                    print("ok: \(response.message)")
                }
                if !watch { return 0 }
                // Watching is live output: the answer goes out now, to a pipe or a file too.
                fflush(nil)
                if let data = response.data, data.state != .running, data.state != .paused {
                    return 0
                }
            case .state(let value), .telemetry(let value):
                guard watch, id != nil, let state = try? StateDocument(json: value) else { continue }
                if sessionID == nil, let current = state.sessionID { sessionID = current }
                renderer.draw(state)
            case .event(let value):
                guard watch, let event = try? EventDocument(json: value) else { continue }
                if let end = event.end, sessionID == nil || end.sessionID == sessionID {
                    renderer.finish()
                    print(
                        "session \(event.kind.rawValue) (\(end.reason.rawValue)): "
                            + "\(ProgressRenderer.clock(end.elapsedSeconds)) emitting, dose \(String(format: "%.2f", end.dose.total)) J/cm²")
                    return event.kind == .completed ? 0 : 1
                }
                if case .faultRaised(let fault) = event.event {
                    renderer.finish()
                    print("fault: \(fault.code.rawValue): \(fault.detail)")
                }
            case .status(let value):
                if watch, id != nil, case .offline(let reason)? = try? StatusDocument(json: value) {
                    renderer.finish()
                    print("panel went offline (\(reason))")
                }
            }
        }
        renderer.finish()
        if id == nil || !watch {
            print("no response from the panel within \(Int(self.timeout)) s (is the gateway running and the broker reachable?)")
        }
        return 3
    }
}

/// Draws `[██████░░░░]  42%  04:12 / 10:00  dose 12.30 J/cm²  31.2 °C  running` in place.
struct ProgressRenderer {
    private var drew = false
    private let isTerminal = isatty(STDOUT_FILENO) == 1
    private var lastLine = ""

    mutating func draw(_ state: StateDocument) {
        guard let planned = state.plannedSeconds, planned > 0 else { return }
        let elapsed = state.elapsedSeconds
        let fraction = min(1, max(0, elapsed / planned))
        let width = 30
        let filled = Int((fraction * Double(width)).rounded())
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let dose = state.dose.total
        let temperature = state.temperatureC.map { String(format: "%.1f °C", $0) } ?? "-- °C"
        let line =
            "[\(bar)] \(String(format: "%3d", Int(fraction * 100)))%  \(Self.clock(elapsed)) / \(Self.clock(planned))"
            + "  dose \(String(format: "%.2f", dose)) J/cm²  \(temperature)  \(state.state.rawValue)"
        guard line != self.lastLine else { return }
        self.lastLine = line
        if self.isTerminal {
            print("\r\u{1B}[2K" + line, terminator: "")
            fflush(nil)
        } else {
            print(line)
        }
        self.drew = true
    }

    mutating func finish() {
        if self.drew, self.isTerminal { print("") }
        self.drew = false
    }

    /// `mm:ss` for any number a state or event carries: they come off the broker, and anyone who may
    /// publish there could send `elapsed_s: 1e300`, which trapped the integer conversion.
    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "--:--" }
        let s = Int(min(max(0, seconds), 99 * 60 + 59).rounded(.down))
        return String(format: "%02d:%02d", s / 60, s % 60)
    }

    static func summary(_ state: StateDocument) -> String {
        let faults = state.faults.isEmpty ? "none" : state.faults.map(\.rawValue).joined(separator: ",")
        return "state \(state.state.rawValue), temperature "
            + "\(state.temperatureC.map { String(format: "%.1f °C", $0) } ?? "--"), "
            + "24 h dose \(state.dose24h) J/cm² in \(state.sessions24h) sessions, "
            + "interlock \(state.interlock.rawValue), faults \(faults)"
    }
}

extension SessionConsole {
    /// Ctrl-C while watching ends the watching, not the session: the panel goes on by itself, so say
    /// so, and how to stop it. Exits 130, as an interrupted command does.
    ///
    /// A plain signal handler that only writes a fixed text and exits (both safe in a handler): a
    /// dispatch signal source can miss the signal when another thread of the process takes it.
    static func explainInterruptWhileWatching() {
        signal(SIGINT) { _ in
            let text: StaticString =
                "\nstopped watching; the session goes on on the panel. Stop it with: rlt-gateway session stop\n"
            _ = write(STDERR_FILENO, text.utf8Start, text.utf8CodeUnitCount)
            _exit(130)
        }
    }
}
