#if canImport(Glibc)
import Glibc
#endif
import GPIO
import Logging
import SafetyCore
import TestKit

/// Drives the real ``SafetyMachine`` against real lines: start → lines on; interlock pull change →
/// edge → emission off; close → OFF. Line numbers follow docs/DESIGN.md's default panel (17, 27, 22, 23).
struct SafetyPathCheck {
    let backend: GPIOBackendSelection
    let sysfs: String
    let logger: Logger

    static let red = 17, nir = 27, master = 22, interlock = 23

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The first error a set of the outputs raised, kept for the check to report.
    final class SetFailure {
        var message: String?
    }

    func value(_ line: Int) -> String {
        SysfsFile.read("\(self.sysfs)/sim_gpio\(line)/value") ?? "?"
    }

    func pull(_ line: Int, up: Bool) {
        SysfsFile.write("\(self.sysfs)/sim_gpio\(line)/pull", up ? "pull-up" : "pull-down")
    }

    func levels() -> String {
        "red=\(self.value(Self.red)) nir=\(self.value(Self.nir)) master=\(self.value(Self.master))"
    }

    func run(report: (Bool, String) -> Void) async throws {
        // A fail-safe board holds each output at its OFF level with an external resistor, so a line
        // released (or a process that died) leaves the LEDs off: pull-down for active-high lines,
        // pull-up for the active-low one. gpio-sim models those resistors with the pull files and
        // returns a released line to its pull, exactly as the board would.
        self.pull(Self.red, up: false)
        self.pull(Self.master, up: false)
        self.pull(Self.nir, up: true)
        self.pull(Self.interlock, up: true)
        let controller = try GPIOController.open(
            backend: self.backend,
            outputs: [
                GPIOOutputSpec(name: "red", line: Self.red),
                GPIOOutputSpec(name: "nir", line: Self.nir, activeLow: true),
                GPIOOutputSpec(name: "master", line: Self.master),
            ],
            inputs: [GPIOInputSpec(name: "interlock", line: Self.interlock, bias: .pullUp, debounceMs: 5)],
            consumer: "rlt-gateway", logger: self.logger)
        report(
            self.levels() == "red=0 nir=1 master=0",
            "outputs requested OFF first, nir active-low is physically high (\(self.levels()))")

        // The lines are the bench's output hardware: each set drives them and answers with what
        // they read back; a failed set reads back as all on, which the core takes for a stuck line.
        let setFailure = SetFailure()
        var bench = MachineBench(SafetyMachine(settings: SafetySettings(), bootID: "qemu")) { command in
            do {
                let readback = try controller.set([
                    "red": command.duty.red > 0, "nir": command.duty.nir > 0, "master": command.master,
                ])
                return OutputReadback(
                    red: readback["red"] ?? true, nir: readback["nir"] ?? true, master: readback["master"] ?? true)
            } catch {
                setFailure.message = setFailure.message ?? "\(error)"
                return OutputReadback(red: true, nir: true, master: true)
            }
        }
        func feed(_ event: SafetyEvent) throws {
            bench.advance(seconds: 0.01)
            bench.send(event)
            if let message = setFailure.message { throw Failure(description: "setting the outputs failed: \(message)") }
        }
        try feed(.boot(BootContext()))
        for (name, active) in try controller.readInputs() where name == "interlock" {
            try feed(.input(.interlock, active: active))
        }
        try feed(.temperature(.valid(Celsius(30))))
        try feed(
            .command(
                CommandEnvelope(
                    id: "qemu-1", commandName: "start", body: .decoded(.start(StartArguments(durationSeconds: 60))))))
        report(
            bench.machine.snapshot(now: bench.now).state == .running && self.levels() == "red=1 nir=0 master=1",
            "start drives red, nir (active-low: physical 0) and master on (\(self.levels()))")

        self.pull(Self.interlock, up: false)
        var edge: GPIOInputEdge?
        let waiter = Task { () -> GPIOInputEdge? in
            for await event in controller.inputEdges where event.name == "interlock" { return event }
            return nil
        }
        let timeout = Task {
            try await Task.sleep(for: .seconds(3))
            waiter.cancel()
        }
        edge = await waiter.value
        timeout.cancel()
        if let edge {
            try feed(.input(.interlock, active: edge.active))
        }
        report(
            edge?.active == false && self.levels() == "red=0 nir=1 master=0"
                && bench.machine.snapshot(now: bench.now).state == .paused,
            "interlock pull-down arrives as an edge and turns emission off, session paused (\(self.levels()))")

        controller.close()
        report(
            self.levels() == "red=0 nir=1 master=0",
            "close drives OFF and releases; the board's OFF-level pulls keep it OFF (\(self.levels()))")
    }
}

/// Small sysfs-style file access without Foundation (the guest binary stays small).
enum SysfsFile {
    static func read(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 64)
        guard fgets(&buffer, 64, file) != nil else { return nil }
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func write(_ path: String, _ text: String) {
        if let slash = path.lastIndex(of: "/") { mkdir(String(path[..<slash]), 0o755) }
        guard let file = fopen(path, "w") else { return }
        fputs(text, file)
        fclose(file)
    }
}

enum ProcessEnvironment {
    static var current: [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let eq = text.firstIndex(of: "=") {
                result[String(text[..<eq])] = String(text[text.index(after: eq)...])
            }
            pointer += 1
        }
        return result
    }
}

extension String {
    func trimmingCharacters(in set: WhitespaceSet) -> String {
        var text = Substring(self)
        while let last = text.last, last.isWhitespace { text.removeLast() }
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        return String(text)
    }
}

enum WhitespaceSet { case whitespacesAndNewlines }
