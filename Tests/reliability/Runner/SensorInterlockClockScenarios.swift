import Foundation
import GatewayProtocol
import SafetyCore
import TestKit
import TestSupport

enum SensorFault: String, CaseIterable {
    case missing, garbage, nan
    case outOfRange = "out-of-range"
    case stuck
    case fastRise = "fast-rise"
    /// The file becomes a FIFO nobody writes: a read that never returns, so no sample at all (S7).
    case hangingRead = "hanging-read"

    /// The codes that may latch, and the rule's bound in seconds from the injection (S6: 3 samples
    /// at 100 ms; S7: 3 s; S8: the heating watch, 2 s runaway window), each plus 1–1.5 s of slack.
    var expectation: (codes: [FaultCode], bound: Double) {
        switch self {
        case .missing: ([.sensorInvalid, .sensorStale], 4.0)
        case .garbage, .nan: ([.sensorInvalid], 1.3)
        case .outOfRange: ([.sensorInvalid, .overTemperature], 1.3)
        case .stuck: ([.thermalImplausible], SensorScenarios.heatingWatchSeconds + 1.5)
        case .fastRise: ([.thermalImplausible], 4.0)
        case .hangingRead: ([.sensorStale], 4.0)
        }
    }
}

/// Sensor faults played through `sensor.type: file` during a session.
enum SensorScenarios {
    /// `safety.heating_watch_s` for the stuck-value case (default 120 s; the config allows 10…600).
    static let heatingWatchSeconds = 10.0

    static func run(_ fault: SensorFault) async throws -> String? {
        try await withPanel(extraYAML: "safety: { heating_watch_s: \(Int(Self.heatingWatchSeconds)) }") { panel in
            try await panel.startGateway()
            let response = try await panel.start(duration: 60)
            try require(response?.ok == true, "start refused: \(String(describing: response))")
            if fault != .stuck { await sleep(1) }
            let injected = ContinuousClock.now
            var rising: Task<Void, Never>?
            switch fault {
            case .missing: try? FileManager.default.removeItem(atPath: panel.temperatureFile)
            case .garbage: panel.setTemperature("abc\u{7}\n")
            case .nan: panel.setTemperature("nan\n")
            case .outOfRange: panel.setTemperature("200000\n")
            case .stuck: break  // 30 °C from before the start, for ever
            case .hangingRead:
                try? FileManager.default.removeItem(atPath: panel.temperatureFile)
                _ = await shell("mkfifo '\(panel.temperatureFile)'")
            case .fastRise:
                let file = panel.temperatureFile
                rising = Task {
                    var millidegrees = 30000
                    while !Task.isCancelled, millidegrees < 54000 {
                        millidegrees += 1500
                        try? "\(millidegrees)\n".write(toFile: file, atomically: true, encoding: .utf8)
                        try? await Task.sleep(for: .milliseconds(250))
                    }
                }
            }
            let (codes, bound) = fault.expectation
            let off = await panel.secondsUntilLinesOff(timeout: bound + 2)
            rising?.cancel()
            let elapsed = Panel.seconds(ContinuousClock.now - injected)
            try require(off != nil, "lines still on \(bound + 2) s after the \(fault.rawValue) fault")
            let snapshot = try await panel.snapshot()
            let latched = (snapshot?.faults ?? [])
            try require(latched.contains(where: codes.contains), "expected one of \(codes), got \(latched)")
            try require(elapsed <= bound, String(format: "lines off after %.2f s, bound %.1f s", elapsed, bound))
            // Healthy again: the fault stays latched and the lines stay off until acknowledged.
            if fault == .hangingRead {
                _ = await shell("timeout 2 sh -c \"echo 30000 > '\(panel.temperatureFile)'\"")
            }
            panel.setTemperature("30000\n")
            await sleep(1)
            let later = try await panel.snapshot()
            try require(
                (later?.faults ?? []).contains(where: codes.contains),
                "fault did not stay latched: \((later?.faults ?? []))")
            try require(panel.linesOff, "lines came back on after the sensor recovered")
            return String(
                format: "%@ latched, lines off after %.2f s (bound %.1f s)",
                latched.map(\.rawValue).joined(separator: ","), elapsed, bound)
        }
    }
}

/// The interlock flaps through the simulated chip while a session runs: bursts of random 3–40 ms
/// toggles, each followed by one long open interval (``longOpenMilliseconds``) started while the
/// session emits. A line must never be on once the interlock has been open for longer than
/// ``openBound`` (the simulator's 50 ms poll plus the input debounce and a loop pass): every open
/// interval longer than the bound is counted, and one with a line on past the bound is a violation.
/// Each long open must pause the session; the session is resumed (interlock closed) before each long
/// open, so every one of them starts with the lines on.
/// At the end the interlock settles open, the session must end paused, and never resume by itself
/// when the interlock settles closed.
enum InterlockScenarios {
    static let openBound: Duration = .milliseconds(150)
    static let longOpenMilliseconds = 300

    /// Open intervals longer than ``openBound`` and those with a line on after the bound.
    struct OpenIntervals {
        var long = 0
        var violating = 0
        /// Slowest time from opening to all lines off, over the long intervals.
        var slowestOff: Duration = .zero
        private var openSince: ContinuousClock.Instant?
        private var offSeen = false
        private var countedLong = false
        private var countedViolation = false

        /// One sample: whether the interlock is open now and whether a line is on.
        mutating func sample(open: Bool, lineOn: Bool, now: ContinuousClock.Instant) {
            guard open else {
                self.openSince = nil
                return
            }
            guard let since = self.openSince else {
                self.openSince = now
                self.offSeen = !lineOn
                self.countedLong = false
                self.countedViolation = false
                return
            }
            if !lineOn, !self.offSeen {
                self.offSeen = true
                self.slowestOff = max(self.slowestOff, now - since)
            }
            guard now - since > InterlockScenarios.openBound else { return }
            if !self.countedLong {
                self.countedLong = true
                self.long += 1
            }
            if lineOn, !self.countedViolation {
                self.countedViolation = true
                self.violating += 1
            }
        }
    }

    static func flapping(seconds: Double) async throws -> String? {
        try await withPanel { panel in
            try await panel.startGateway()
            let response = try await panel.start(duration: 120)
            try require(response?.ok == true, "start refused: \(String(describing: response))")
            var intervals = OpenIntervals()
            var toggles = 0
            var longOpensWhileEmitting = 0
            var closed = true
            let cycles = max(3, Int(seconds))
            for cycle in 1...cycles {
                let burstEnd = ContinuousClock.now + .milliseconds(900)
                var nextToggle = ContinuousClock.now
                while ContinuousClock.now < burstEnd {
                    let now = ContinuousClock.now
                    if now >= nextToggle {
                        closed.toggle()
                        panel.setInterlock(closed: closed)
                        toggles += 1
                        nextToggle = now + .milliseconds(Int.random(in: 3...40))
                    }
                    intervals.sample(open: !closed, lineOn: panel.anyLineOn, now: now)
                    try? await Task.sleep(for: .milliseconds(1))
                }
                // One long open interval, started from closed while the session emits (resumed if the
                // burst paused it).
                panel.setInterlock(closed: true)
                closed = true
                intervals.sample(open: false, lineOn: panel.anyLineOn, now: ContinuousClock.now)
                if !panel.anyLineOn {
                    let resumed = try await eventually(timeout: .seconds(10), every: .milliseconds(200)) {
                        if try await panel.command("resume", timeout: .seconds(5))?.ok != true { return false }
                        return await panel.chip.waitForValue(line: Panel.red, 1, timeout: .seconds(1))
                    }
                    try require(resumed, "cycle \(cycle): the session did not resume with the interlock closed")
                }
                if panel.anyLineOn { longOpensWhileEmitting += 1 }
                panel.setInterlock(closed: false)
                closed = false
                toggles += 1
                let longEnd = ContinuousClock.now + .milliseconds(Self.longOpenMilliseconds)
                while ContinuousClock.now < longEnd {
                    intervals.sample(open: true, lineOn: panel.anyLineOn, now: ContinuousClock.now)
                    try? await Task.sleep(for: .milliseconds(1))
                }
                intervals.sample(open: false, lineOn: panel.anyLineOn, now: ContinuousClock.now)
                try require(
                    intervals.violating == 0,
                    "cycle \(cycle): \(intervals.violating) of \(intervals.long) open intervals > 150 ms had a line on "
                        + "past the bound")
                let state = try await panel.snapshot()?.state
                try require(state == .paused, "cycle \(cycle): state \(String(describing: state)) after a long open")
            }
            panel.setInterlock(closed: false)
            let off = await panel.secondsUntilLinesOff(timeout: 0.5)
            try require(
                intervals.violating == 0,
                "\(intervals.violating) of \(intervals.long) open intervals > 150 ms had a line on past the bound")
            try require(
                longOpensWhileEmitting == cycles,
                "only \(longOpensWhileEmitting) of \(cycles) long opens began while emitting")
            try require(off != nil, "lines on 0.5 s after the interlock settled open")
            panel.setInterlock(closed: true)
            // Whether the session came back by itself: a second of watching, sampled, is the event here.
            let resumedByItself = await panel.chip.waitForValue(line: Panel.red, 1, timeout: .seconds(1))
            try require(!resumedByItself && panel.linesOff, "emission resumed by itself after the interlock closed")
            let snapshot = try await panel.snapshot()
            let state = snapshot?.state
            try require(state == .paused, "state \(String(describing: state)) after flapping, expected paused")
            let resumed = try await panel.command("resume")
            try require(resumed?.ok == true, "resume refused with the interlock closed: \(String(describing: resumed))")
            try require(await panel.chip.waitForValue(line: Panel.red, 1, timeout: .seconds(2)), "resume did not emit")
            _ = try await panel.command("stop")
            return String(
                format: "%d toggles, %d open intervals > 150 ms (%d begun emitting), 0 with a line on past the bound; "
                    + "slowest off %.0f ms",
                toggles, intervals.long, longOpensWhileEmitting, Panel.seconds(intervals.slowestOff) * 1000)
        }
    }
}

/// Wall-clock jumps through `Tests/reliability/walljump.c` (an LD_PRELOAD shim that shifts
/// CLOCK_REALTIME only; the monotonic clock stays real). The session must end at its planned
/// length by the monotonic clock, and the 24 h totals must not drop when wall time jumps back a
/// day, also across a restart.
enum ClockScenarios {
    static func jumps() async throws -> String? {
        try await withPanel { panel in
            let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../walljump.c").standardized.path
            let library = panel.directory.file("walljump.so")
            let built = await shell("cc -shared -fPIC -O2 -o '\(library)' '\(source)' -ldl")
            try require(built.status == 0, "could not build the wall-clock shim: \(built.output)")
            let offsetFile = panel.directory.file("wall-offset")
            try "0".write(toFile: offsetFile, atomically: true, encoding: .utf8)
            let environment = ["LD_PRELOAD": library, "RLT_WALL_OFFSET_FILE": offsetFile]
            try await panel.startGateway(environment: environment)
            let planned = 6.0
            let response = try await panel.start(duration: planned)
            try require(response?.ok == true, "start refused: \(String(describing: response))")
            let started = ContinuousClock.now
            await sleep(1.5)
            try "7200".write(toFile: offsetFile, atomically: true, encoding: .utf8)
            await sleep(1.5)
            try "-86400".write(toFile: offsetFile, atomically: true, encoding: .utf8)
            let off = await panel.secondsUntilLinesOff(timeout: planned + 3)
            let length = Panel.seconds(ContinuousClock.now - started)
            try require(off != nil, "session did not end after a wall-clock jump")
            try require(
                abs(length - planned) < 1.5, String(format: "session lasted %.2f s, planned %.0f s", length, planned))
            let after = try await panel.snapshot()
            let booked = (after?.dose24h ?? -1)
            try require(booked >= planned * Panel.dosePerSecond * 0.9, "dose_24h \(booked) after the jumps")
            await panel.gateway?.terminate()
            try await panel.startGateway(environment: environment)
            let restarted = try await panel.snapshot()
            let dose = (restarted?.dose24h ?? -1)
            try require(dose + 1e-6 >= booked, "dose_24h dropped from \(booked) to \(dose) after a restart 1 day back")
            try "0".write(toFile: offsetFile, atomically: true, encoding: .utf8)
            await sleep(0.2)
            let back = (try await panel.snapshot()?.dose24h ?? -1)
            try require(back + 1e-6 >= booked, "dose_24h dropped from \(booked) to \(back) when wall time came back")
            return String(
                format:
                    "session %.2f s of %.0f s across +2 h and -1 d jumps; dose_24h %.3f, %.3f after restart 1 day back, %.3f back at now",
                length, planned, booked, dose, back)
        }
    }
}
