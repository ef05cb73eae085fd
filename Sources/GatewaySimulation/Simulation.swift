import Foundation
import GPIO
import Gateway
import GatewayProtocol
import Ledger
import Logging
import MQTT
import SafetyCore
import Sensors
import TestKit

/// One seeded run of the whole gateway in virtual time.
///
/// The real ``GatewayLoop``, ``SafetyMachine``, ``OutputDriver``, ``InputEdgePump`` and ledger
/// (``SessionLedger`` on SQLite, behind ``SimulatedLedgerWriter``'s virtual disk) run unchanged;
/// the chip, PWM, sensor, disk, clocks, inputs and MQTT intake are simulated, seeded and
/// fault-injecting. Every step is one input handled by the loop; after every step the invariants
/// are checked where the user meets them: at the simulated lines (which channel really emits, at
/// which duty), never at the core's belief.
package final class Simulation {
    // MARK: - Fixed parameters

    static let debounceMs = 20
    /// How long an input change may take to reach the loop: a debounce window, or the unstable
    /// limit of a chattering contact, plus the edge thread's turn.
    static let inputReaction = Double(Int(InputDebouncer.unstableFactor) + 1) * Double(debounceMs) / 1000 + 0.03
    static let sensorInterval = 1.0
    static let tickFast: Int64 = 50_000_000
    static let tickSlow: Int64 = 500_000_000
    static let epsilon = 1e-4
    /// The rolling window of the daily limits, in seconds.
    static let dayWindow = 86_400.0
    /// How late an input may reach the loop while the lines emit.
    static let heldLimit = 0.1

    // MARK: - The world

    private let options: SimulationOptions
    private var random: SplitMix64
    private let settings: SafetySettings
    private let topics = Topics(prefix: "rlt", deviceID: "sim")
    private let clock = VirtualClock()
    private let lines = SimulatedLines([.red, .nir, .master, .indicator])
    private let pwmRed = SimulatedPWM()
    private let publisher: SimulatedPublisher
    private let writer: SimulatedLedgerWriter
    private let ledgerPath: String
    private var loop: GatewayLoop?
    private var pump: InputEdgePump
    private var nextPumpAt: Int64?
    private let inputSpecs: [GPIOInputSpec]

    private var queue = EventQueue()
    /// The last steps, formatted only when a violation is reported.
    private var trail: [(at: Double, label: String)] = []
    private var result: SimulationResult
    private var bootCount = 0

    // Physical truth.
    private var interlockClosed = true
    private var stopPressed = false
    private var inputsFailing = false
    private var linkUp = true
    private var panelTemperature = 25.0
    private var ambient = 25.0
    private var sensorMode = SensorMode.healthy
    private var lastStuckValue = 25.0
    private var outputFaultActive = false
    private var chatterUntil = 0.0

    // Oracle.
    private struct KnownSession {
        var id: String
        var startedAt: Double
        var plannedSeconds: Double?
        var truthDose = 0.0
        var truthEmitting = 0.0
    }
    private var current: KnownSession?
    private var sessions: [String: KnownSession] = [:]
    /// Light delivered, in one-minute buckets (start time, J/cm²), for the 24 h window by delivery.
    private var buckets: [(start: Double, dose: Double)] = []
    private var lastAccrued = 0.0
    /// Since when the lines emit (set at the end of the step that lit them), `nil` while dark.
    private var litSince: Double?
    /// Whether light was accounted in the current step (the 24 h check runs only then).
    private var deliveredInStep = false
    private var interlockUnsafeSince: Double?
    private var interlockClosedAt: Double?
    private var inputsFailingSince: Double?
    private var stopButtonAt: Double?
    private var lastQualifyingStop: Double?
    private var lastValid: (at: Double, value: Double)?
    private var invalidStreak = 0
    private var bootedAt = 0.0
    private var freshStarts: Set<String> = []
    private var stopIDs: Set<String> = []
    private var faultsSeen = false
    private var commandCounter = 0
    private var absence = Absence.notYet
    /// The ledger's lifetime totals at the previous boot: they must never go back.
    private var lastLifetime = LifetimeTotals.zero
    /// The lifetime totals of the last published state.
    private var lastPublishedLifetime: LifetimeDocument?
    /// The dose the last refusal said still fits the 24 h allowance, for the heavy user to ask next.
    private var suggestedDose: Double?

    /// Where the user of a run longer than the 24 h window is in their one long absence.
    enum Absence {
        case notYet, away, back
    }

    enum SensorMode: Equatable {
        case healthy, failing, hung, stuckValue, wild
    }

    enum Happening {
        case tick(Int)
        case sample(Int)
        case pump
        case command(MQTTMessage, stop: StopMark?)
        case link(up: Bool)
        case interlock(closed: Bool)
        case chatter
        case stopButton(pressed: Bool)
        case inputsFail(Bool)
        case user
        case fault
        case clearFault(() -> Void)
        case crash
        case restart
        case wallStep(Int64)
        case script(Int)
    }

    struct StopMark {
        var reused: Bool
    }

    package init(options: SimulationOptions) throws {
        self.options = options
        self.random = SplitMix64(seed: options.seed)
        self.result = SimulationResult(seed: options.seed)
        var settings = SafetySettings(
            irradianceMWPerCm2: PerChannel(red: 50, nir: 40), dimmable: PerChannel(red: true, nir: false))
        settings.inputs = SafetySettings.Inputs(interlock: true, stopButton: true, emissionSense: false)
        if options.random {
            settings.limits.maxDailySessions = Int.random(in: 3...10, using: &self.random)
            settings.limits.cooldownSeconds = self.random.seconds(5...120)
            settings.policy.onLinkLoss = SafetySettings.LinkLossPolicy.allCases.randomElement(using: &self.random)!
            settings.policy.checkpointIntervalSeconds = self.random.seconds(5...30)
        } else {
            settings.limits.cooldownSeconds = 5
        }
        self.settings = settings
        self.inputSpecs = [
            GPIOInputSpec(name: InputLine.interlock.lineName, line: 10, debounceMs: Self.debounceMs),
            GPIOInputSpec(name: InputLine.stopButton.lineName, line: 11, debounceMs: Self.debounceMs),
        ]
        self.pump = InputEdgePump(inputs: self.inputSpecs, levels: [true, false])
        self.publisher = SimulatedPublisher(topics: [self.topics.response, self.topics.event, self.topics.state])
        self.ledgerPath = options.directory + "/ledger-\(options.seed).sqlite"
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: self.ledgerPath + suffix) }
        self.writer = SimulatedLedgerWriter(
            ledger: try SessionLedger(path: self.ledgerPath), clock: self.clock, seed: options.seed ^ 0x5EED)
        self.lines.willChange = { [unowned self] in self.accrueUntilNow() }
        self.pwmRed.willChange = { [unowned self] in self.accrueUntilNow() }
    }

    deinit {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: self.ledgerPath + suffix) }
    }

    // MARK: - Running

    /// Runs to the end (or the first violation) and returns what happened.
    package func run() -> SimulationResult {
        let end = self.clock.seconds + self.options.duration
        if self.options.random, self.random.chance(0.1) {
            self.wrongBootClock()
        }
        self.boot()
        for (index, step) in self.options.script.enumerated() {
            self.schedule(at: self.clock.seconds + step.at, .script(index))
        }
        if self.options.random {
            self.schedule(after: self.random.exponential(mean: 5), .user)
            self.schedule(after: self.random.exponential(mean: self.faultMean), .fault)
        }
        while self.result.violation == nil, let next = self.queue.pop() {
            if Double(next.at) / 1e9 > end { break }
            if let at = self.writer.nextCompletionTime, at < next.at {
                // The disk finished a record before the next happening: deliver it first.
                self.queue.push(next)
                self.step(at: at, label: "ledger completion") {
                    let completion = self.writer.completeHead()
                    self.loop?.handle(.ledger(completion))
                }
                continue
            }
            self.perform(next.happening, at: next.at)
        }
        if self.result.violation == nil {
            // Whatever happened, a power cut now must find the ledger honest.
            self.crashAndCheckRecovery()
        }
        self.result.simulatedSeconds = self.clock.seconds - 1
        if let lifetime = try? self.writer.ledger.lifetime(),
            let sessions = try? self.writer.ledger.sessions(limit: 10_000)
        {
            self.result.doseOutsideSessions = lifetime.dose.joulesPerCm2
                - sessions.reduce(0) { $0 + $1.doseTotal.joulesPerCm2 }
        }
        // Closed here, not at deinit: the loop and the writer hold each other, and a thousand runs of
        // leaked descriptors push a test process's sockets past select()'s 1024 (libmosquitto: rc=3).
        self.writer.ledger.close()
        return self.result
    }

    private var faultMean: Double { max(20, self.options.duration / 6) }

    // MARK: - Steps

    /// One step: an input handled by the loop, then the truth accounted and the invariants checked.
    private func step(at nanoseconds: Int64, label: String, _ body: () -> Void) {
        // An input due earlier that the loop could only take now was held behind the loop's work (a
        // wait for the disk): never allowed while the lines emit.
        let held = Double(self.clock.nanoseconds - nanoseconds) / 1e9
        let arrival = Double(nanoseconds) / 1e9
        if held > Self.heldLimit, self.isLit, let since = self.litSince, since <= arrival {
            self.violation("\(label) was held \(String(format: "%.3f", held)) s behind the loop while the lines emit")
        }
        self.clock.advance(to: nanoseconds)
        // The time since the last step, at the state that step left; inside the step, every change
        // of a line accounts the light up to its own instant (a wait may pass between two changes).
        self.deliveredInStep = false
        self.accrueUntilNow()
        let stepStart = self.clock.seconds
        body()
        for completion in self.writer.takeCompletedInWait() {
            self.loop?.handle(.ledger(completion))
        }
        self.accrueUntilNow()
        if !self.isLit {
            self.litSince = nil
        } else if self.litSince == nil {
            self.litSince = self.clock.seconds
        }
        self.readPublished(stepStart: stepStart)
        self.result.steps += 1
        self.note(stepStart, label)
        self.checkInvariants(stepStart: stepStart, lightChanged: self.deliveredInStep)
    }

    private func perform(_ happening: Happening, at: Int64) {
        switch happening {
        case .tick(let boot):
            guard boot == self.bootCount, let loop = self.loop else { return }
            self.step(at: at, label: "tick") { loop.handle(.tick) }
            self.schedule(
                atNanoseconds: self.clock.nanoseconds + (loop.needsFastTicks ? Self.tickFast : Self.tickSlow),
                .tick(boot))
        case .sample(let boot):
            guard boot == self.bootCount, let loop = self.loop else { return }
            self.schedule(after: Self.sensorInterval, .sample(boot))
            guard self.sensorMode != .hung else { return }
            let sample = self.readSensor(at: at)
            self.step(at: at, label: "sample") {
                self.deliverSampleToOracle(sample)
                loop.handle(.sample(sample))
            }
        case .pump:
            // Only the earliest scheduled turn runs; the edge thread is one thread.
            guard at == self.nextPumpAt else { return }
            self.nextPumpAt = nil
            self.step(at: at, label: "edge pump") { self.runPump() }
        case .command(let message, let stop):
            guard let loop = self.loop, self.linkUp else { return }
            self.step(at: at, label: "cmd \(message.payloadText)\(message.retain ? " retained" : "")") {
                if let stop, !(stop.reused && self.options.tolerated.contains(.stopReplay)) {
                    self.lastQualifyingStop = self.clock.seconds
                }
                loop.handle(.mqtt(.message(message)))
            }
        case .link(let up):
            self.linkUp = up
            guard let loop = self.loop else { return }
            self.step(at: at, label: up ? "link up" : "link down") {
                loop.handle(.mqtt(up ? .connected : .disconnected(reason: "simulated")))
            }
        case .interlock(let closed):
            self.setInterlock(closed, at: at)
        case .chatter:
            let now = Double(at) / 1e9
            if now >= self.chatterUntil {
                self.setInterlock(true, at: at)
            } else {
                self.setInterlock(!self.interlockClosed, at: at)
                let gap = self.random.seconds(0.002...Double(Self.debounceMs) / 1000 * 0.8)
                self.schedule(atNanoseconds: at + Int64(gap * 1e9), .chatter)
            }
        case .stopButton(let pressed):
            self.stopPressed = pressed
            if pressed { self.stopButtonAt = Double(at) / 1e9 }
            self.rawActivity(on: 1, at: at)
        case .inputsFail(let failing):
            self.inputsFailing = failing
            if failing {
                self.inputsFailingSince = Double(at) / 1e9
            } else {
                self.inputsFailingSince = nil
            }
            self.step(at: at, label: failing ? "input reads fail" : "input reads work") { self.runPump() }
        case .user:
            self.schedule(after: self.userTurn(at: at), .user)
        case .fault:
            self.clock.advance(to: at)
            // None while the user is away: the paused session must still be there to resume.
            if self.absence != .away { self.injectFault() }
            self.schedule(after: self.random.exponential(mean: self.faultMean), .fault)
        case .clearFault(let clear):
            self.clock.advance(to: at)
            clear()
        case .crash:
            self.clock.advance(to: at)
            self.crashAndCheckRecovery()
            self.schedule(after: self.random.seconds(1...10), .restart)
        case .restart:
            self.clock.advance(to: at)
            if self.options.random, self.random.chance(0.3) {
                self.wrongBootClock()
            } else if self.options.random, self.random.chance(0.25) {
                self.unsyncedBootClock()
            }
            self.boot()
        case .wallStep(let errorMs):
            self.clock.advance(to: at)
            self.clock.wallErrorMs = errorMs
            self.clock.wallClockTrusted = errorMs == 0
        case .script(let index):
            self.clock.advance(to: at)
            self.scripted(self.options.script[index].action, at: at)
        }
    }

    // MARK: - Boot and crash

    private func boot() {
        self.bootCount += 1
        self.lines.powerUp()
        var history = BootContext()
        do {
            self.writer.ledger.close()
            self.writer.ledger = try SessionLedger(path: self.ledgerPath)
            history = try self.writer.ledger.recover(at: self.clock.ledgerTime)
        } catch {
            self.violation("the ledger could not be reopened after a restart: \(error)")
            return
        }
        self.checkBootWindow(history)
        self.checkLifetime(history.lifetime)
        var logger = Logger(label: "rlt-sim")
        logger.logLevel = .critical
        let driver = OutputDriver(
            lines: self.lines, pwm: [.red: self.pwmRed], outputs: [.red, .nir, .master, .indicator],
            logger: logger)
        let parts = GatewayParts(
            mqtt: self.publisher, outputs: driver, sensor: nil, ledger: self.writer,
            info: DeviceInfo(
                name: "sim", model: "sim", serial: "sim", softwareVersion: "sim",
                wavelengthsNm: PerChannel(red: 660, nir: 850), settings: self.settings),
            discovery: nil, telemetry: .init(runningSeconds: 5, idleSeconds: 60), identify: {},
            scheduleDiscoveryRepublish: {})
        let loop = GatewayLoop(
            machine: SafetyMachine(settings: self.settings, bootID: "b\(self.bootCount)"), parts: parts,
            topics: self.topics, clock: self.clock, logger: logger)
        self.loop = loop
        self.bootedAt = self.clock.seconds
        self.lastValid = nil
        self.invalidStreak = 0
        let levels = [self.interlockClosed, self.stopPressed]
        self.pump = InputEdgePump(inputs: self.inputSpecs, levels: levels)
        self.nextPumpAt = nil
        self.step(at: self.clock.nanoseconds, label: "boot \(self.bootCount)") {
            loop.feed(.boot(history))
            if self.inputsFailing {
                for spec in self.inputSpecs {
                    loop.handle(
                        .edge(GPIOInputEdge(name: spec.name, active: false, failure: "EIO")))
                }
            } else {
                for (spec, level) in zip(self.inputSpecs, levels) {
                    loop.handle(.edge(GPIOInputEdge(name: spec.name, active: level)))
                }
            }
            if self.linkUp { loop.handle(.mqtt(.connected)) }
        }
        self.schedule(after: 0.05, .tick(self.bootCount))
        self.schedule(after: self.random.seconds(0...Self.sensorInterval), .sample(self.bootCount))
    }

    /// A power cut: the lines go dark, records in flight are lost; then the ledger is checked.
    private func crashAndCheckRecovery() {
        self.accrueUntilNow()
        self.lines.powerCut()
        self.litSince = nil
        self.loop = nil
        self.writer.crash()
        self.current = nil
        self.bootCount += 1
        self.clock.newKernelBoot()
        self.checkLedgerCoversTruth()
    }

    // MARK: - Truth

    /// The light the panel really emits now, per channel, as duty (0 when dark).
    private func light() -> PerChannel<Double> {
        let levels = self.lines.levels
        guard levels[.master] == true else { return PerChannel(red: 0, nir: 0) }
        return PerChannel(
            red: levels[.red] == true ? self.pwmRed.duty : 0,
            nir: levels[.nir] == true ? 1 : 0)
    }

    private var isLit: Bool {
        let light = self.light()
        return light.red > 0 || light.nir > 0
    }

    /// Accounts the light the lines emit now, since the last accounting, to the session known now.
    private func accrueUntilNow() {
        self.accrue(self.light(), session: self.current?.id, until: self.clock.seconds)
    }

    private func accrue(_ light: PerChannel<Double>, session: String?, until: Double) {
        let seconds = until - self.lastAccrued
        self.lastAccrued = until
        self.heatPanel(light: light, seconds: seconds)
        guard seconds > 0, light.red > 0 || light.nir > 0 else { return }
        let dose =
            (self.settings.irradianceMWPerCm2.red * light.red + self.settings.irradianceMWPerCm2.nir * light.nir)
            * seconds / 1000
        self.result.litSeconds += seconds
        self.deliveredInStep = true
        let minute = (until / 60).rounded(.down) * 60
        if let last = self.buckets.last, last.start == minute {
            self.buckets[self.buckets.count - 1].dose += dose
        } else {
            self.buckets.append((minute, dose))
            self.buckets.removeAll { $0.start < until - 2 * Self.dayWindow }
        }
        guard let session, var known = self.sessions[session] else {
            self.violation("light outside any announced session (\(String(format: "%.4f", dose)) J/cm²)")
            return
        }
        known.truthDose += dose
        known.truthEmitting += seconds
        self.sessions[session] = known
        if self.current?.id == session { self.current = known }
    }

    private func heatPanel(light: PerChannel<Double>, seconds: Double) {
        guard seconds > 0 else { return }
        let power = (light.red + light.nir) / 2
        // Heats about 0.15 °C/s at full power; relaxes to ambient with a 200 s time constant.
        let steady = self.ambient + 30 * power
        self.panelTemperature = steady + (self.panelTemperature - steady) * exp(-seconds / 200)
    }

    private func readSensor(at: Int64) -> SensorSample {
        switch self.sensorMode {
        case .failing:
            return .invalid("simulated: CRC error")
        case .stuckValue:
            return .celsius(self.lastStuckValue)
        case .wild:
            return .celsius([Double.nan, 300, -80, 1e9].randomElement(using: &self.random)!)
        case .healthy, .hung:
            let value = self.panelTemperature + self.random.seconds(-0.1...0.1)
            self.lastStuckValue = value
            return .celsius(value)
        }
    }

    private func deliverSampleToOracle(_ sample: SensorSample) {
        if case .celsius(let value) = sample, value.isFinite, self.settings.thermal.validRange.contains(value) {
            self.lastValid = (self.clock.seconds, value)
            self.invalidStreak = 0
        } else {
            self.invalidStreak += 1
        }
    }

    // MARK: - Inputs

    private func setInterlock(_ closed: Bool, at: Int64) {
        guard closed != self.interlockClosed else { return }
        let now = Double(at) / 1e9
        self.interlockClosed = closed
        if closed {
            self.interlockClosedAt = now
        } else {
            // A new unsafe stretch begins unless the contact never stayed closed for a debounce window.
            let settled = self.interlockClosedAt.map { now - $0 >= Double(Self.debounceMs) / 1000 } ?? true
            if self.interlockUnsafeSince == nil || settled { self.interlockUnsafeSince = now }
        }
        self.rawActivity(on: 0, at: at)
    }

    private func rawActivity(on index: Int, at: Int64) {
        guard self.loop != nil else { return }
        self.pump.activity(on: [index], at: at)
        if let deadline = self.pump.nextDeadline { self.schedulePump(at: deadline) }
    }

    private func schedulePump(at deadline: Int64) {
        guard self.nextPumpAt.map({ deadline < $0 }) ?? true else { return }
        self.nextPumpAt = deadline
        self.schedule(atNanoseconds: deadline, .pump)
    }

    private func runPump() {
        guard let loop = self.loop else { return }
        let now = self.clock.nanoseconds
        let edges: [GPIOInputEdge]
        if self.inputsFailing {
            edges = self.pump.failed("simulated chip: reading input events failed (EIO)", at: now)
        } else {
            let levels = [self.interlockClosed, self.stopPressed]
            edges = self.pump.settle(at: now) { index throws(GPIOError) in levels[index] }
        }
        for edge in edges { loop.handle(.edge(edge)) }
        if !self.inputsFailing, let deadline = self.pump.nextDeadline {
            self.schedulePump(at: max(deadline, now + 1))
        }
    }

    private func interlockSafeAgain() {
        if self.interlockClosed, let closedAt = self.interlockClosedAt,
            self.clock.seconds - closedAt >= Double(Self.debounceMs) / 1000
        {
            self.interlockUnsafeSince = nil
        }
    }

    // MARK: - Published messages

    private func readPublished(stepStart: Double) {
        for message in self.publisher.take() {
            guard let value = try? JSONValue.parse(message.payload) else { continue }
            if message.topic == self.topics.event {
                self.eventPublished(value, at: stepStart)
            } else if message.topic == self.topics.state {
                self.statePublished(value)
            } else {
                self.responsePublished(value)
            }
        }
    }

    private func eventPublished(_ value: JSONValue, at: Double) {
        guard let event = try? EventDocument(json: value) else { return }
        switch event.event {
        case .sessionStarted(let start):
            let known = KnownSession(id: start.sessionID, startedAt: at, plannedSeconds: start.plannedSeconds)
            self.sessions[start.sessionID] = known
            self.current = known
            self.result.sessions += 1
        case .completed(let end), .aborted(let end):
            if self.current?.id == end.sessionID { self.current = nil }
        case .faultRaised:
            self.faultsSeen = true
        default:
            break
        }
    }

    /// Home Assistant sums `lifetime` as `total_increasing` and takes any decrease for a meter reset:
    /// the published totals must never go back, within a run or across restarts and crashes.
    private func statePublished(_ value: JSONValue) {
        guard let lifetime = (try? StateDocument(json: value))?.lifetime else {
            self.violation("a state without lifetime totals: \(value.text)")
            return
        }
        self.result.checks += 1
        if let last = self.lastPublishedLifetime,
            lifetime.dose < last.dose || lifetime.emittingSeconds < last.emittingSeconds
        {
            self.violation("the published lifetime totals went back from \(last) to \(lifetime)")
        }
        self.lastPublishedLifetime = lifetime
    }

    private func responsePublished(_ value: JSONValue) {
        guard let response = try? ResponseDocument(json: value) else { return }
        if !self.options.random, let id = response.id {
            self.result.answers[id] = response.ok ? "ok" : response.code?.rawValue ?? "?"
        }
        if self.absence == .back, !response.ok, let advised = advisedDose(in: response.message) {
            // Does what the refusal says, as an automation retrying with the allowance would.
            self.suggestedDose = advised
        }
        guard response.command == "start", let id = response.id, self.freshStarts.remove(id) != nil, response.ok
        else { return }
        self.result.checks += 1
        guard let current = self.current, self.writer.durableSessionIDs.contains(current.id) else {
            self.violation("start \(id) answered ok, but no session was durably recorded")
            return
        }
    }

    // MARK: - Invariants

    private func checkInvariants(stepStart: Double, lightChanged: Bool) {
        self.interlockSafeAgain()
        let light = self.light()
        let lit = light.red > 0 || light.nir > 0
        let thermal = self.settings.thermal
        self.result.checks += 9
        if let current = self.current {
            let limits = self.settings.limits
            let slack = 2 * Double(Self.tickFast) / 1e9
            if current.truthDose > limits.maxSessionDose.joulesPerCm2 + 0.09 * slack + Self.epsilon {
                self.violation("session \(current.id) delivered \(current.truthDose) J/cm², above the session limit")
            }
            if let planned = current.plannedSeconds, current.truthEmitting > planned + slack + Self.epsilon {
                self.violation("session \(current.id) emitted \(current.truthEmitting) s of \(planned) s planned")
            }
        }
        if lightChanged { self.checkDailyLight() }
        guard lit else { return }
        guard let current = self.current else {
            self.violation("lines emit with no session announced")
            return
        }
        if !self.writer.durableSessionIDs.contains(current.id) {
            self.violation("lines emit for session \(current.id) that is not durably recorded")
        }
        if let since = self.interlockUnsafeSince, stepStart >= since + Self.inputReaction {
            self.violation("lines emit with the interlock open or unstable since \(since)")
        }
        if let since = self.inputsFailingSince, stepStart >= since + Self.inputReaction {
            self.violation("lines emit while the inputs cannot be read since \(since)")
        }
        if let pressed = self.stopButtonAt, stepStart >= pressed + Self.inputReaction, current.startedAt < pressed {
            self.violation("lines emit after the stop button was pressed at \(pressed)")
        }
        if let stop = self.lastQualifyingStop, current.startedAt <= stop {
            self.violation("lines emit after a stop handled at \(stop)")
        }
        if let valid = self.lastValid, valid.value >= thermal.cutoff.value {
            self.violation("lines emit with the panel reading \(valid.value) °C ≥ cutoff")
        }
        let lastSign = self.lastValid?.at ?? self.bootedAt
        if stepStart - lastSign > thermal.staleAfterSeconds + Self.epsilon {
            self.violation("lines emit with no valid temperature since \(lastSign)")
        }
        if self.invalidStreak >= max(1, thermal.invalidReadingsBeforeFault) {
            self.violation("lines emit after \(self.invalidStreak) invalid readings in a row")
        }
        if let pending = self.writer.oldestPendingSince,
            stepStart >= Double(pending) / 1e9 + GatewayLoop.ledgerWriteBound + 0.1
        {
            self.violation("lines emit while a ledger record is pending since \(Double(pending) / 1e9)")
        }
    }

    /// Light delivered in any 24 h ≤ the daily limit + a tick per session (by delivery time).
    private func checkDailyLight() {
        let now = self.clock.seconds
        let limit = self.settings.limits.maxDailyDose.joulesPerCm2 + 0.05
        if self.options.tolerated.contains(.doseWindowByStart) {
            // What this branch promises: sessions that *started* in the last 24 h stay within the limit.
            let byStart = self.sessions.values.filter { now - $0.startedAt < Self.dayWindow }.reduce(0) { $0 + $1.truthDose }
            if byStart > limit {
                self.violation("sessions started in the last 24 h delivered \(byStart) J/cm²")
            }
            return
        }
        let delivered = self.buckets.filter { $0.start >= now - Self.dayWindow }.reduce(0) { $0 + $1.dose }
        if delivered > limit { self.violation("\(delivered) J/cm² delivered within 24 h") }
    }

    /// After a crash: the ledger holds at least the light each session really delivered.
    private func checkLedgerCoversTruth() {
        let rows: [SessionRow]
        do {
            self.writer.ledger.close()
            self.writer.ledger = try SessionLedger(path: self.ledgerPath)
            _ = try self.writer.ledger.recover(at: self.clock.ledgerTime)
            rows = try self.writer.ledger.sessions(limit: 100_000)
        } catch {
            self.violation("the ledger could not be read after a crash: \(error)")
            return
        }
        let booked = Dictionary(rows.map { ($0.id, $0.doseTotal.joulesPerCm2) }, uniquingKeysWith: max)
        // A session may overrun its ceiling by one tick of light (the limits' own allowance), and boot
        // recovery books the ceiling: that tick is the one shortfall tolerated (see the report).
        let tick =
            (self.settings.irradianceMWPerCm2.red + self.settings.irradianceMWPerCm2.nir) / 1000
            * Double(Self.tickFast) / 1e9
        for session in self.sessions.values where session.truthDose > Self.epsilon {
            self.result.checks += 1
            let ledger = booked[session.id] ?? 0
            if ledger + tick + Self.epsilon < session.truthDose {
                let row = rows.first { $0.id == session.id }.map { "\($0)" } ?? "none: purged or never written"
                self.violation(
                    "after a crash the ledger holds \(ledger) J/cm² for session \(session.id), which delivered "
                        + "\(session.truthDose) (ledger row: \(row))")
                return
            }
        }
    }

    /// After a restart: the 24 h window the core starts with is never smaller than the truth.
    private func checkBootWindow(_ context: BootContext) {
        self.result.checks += 1
        let now = self.clock.seconds
        let window = context.history.reduce(0) { $0 + $1.dose.joulesPerCm2 }
        let truth: Double
        if self.options.tolerated.contains(.doseWindowByStart) {
            truth = self.sessions.values.filter { now - $0.startedAt < Self.dayWindow - 1 }.reduce(0) { $0 + $1.truthDose }
        } else {
            truth = self.buckets.filter { $0.start >= now - Self.dayWindow + 60 }.reduce(0) { $0 + $1.dose }
        }
        // One tick of overrun per session is the limits' allowance that boot recovery's ceiling omits.
        let tick =
            (self.settings.irradianceMWPerCm2.red + self.settings.irradianceMWPerCm2.nir) / 1000
            * Double(Self.tickFast) / 1e9
        if window + tick * Double(max(1, context.history.count)) + Self.epsilon < truth {
            self.violation("after a restart the 24 h window holds \(window) J/cm², the truth is \(truth)")
        }
    }

    /// After a restart: the ledger's lifetime totals never went back (crashes, purges), and the dose
    /// covers all the light the lines ever delivered, however much history retention deleted.
    private func checkLifetime(_ lifetime: LifetimeTotals) {
        self.result.checks += 1
        if lifetime.dose < self.lastLifetime.dose || lifetime.emittingSeconds < self.lastLifetime.emittingSeconds {
            self.violation("the lifetime totals went back from \(self.lastLifetime) to \(lifetime)")
        }
        self.lastLifetime = lifetime
        let truth = self.sessions.values.reduce(0) { $0 + $1.truthDose }
        // The same allowance as the boot window: one tick of overrun per session that boot recovery's
        // ceiling omits.
        let tick =
            (self.settings.irradianceMWPerCm2.red + self.settings.irradianceMWPerCm2.nir) / 1000
            * Double(Self.tickFast) / 1e9
        if lifetime.dose.joulesPerCm2 + tick * Double(self.sessions.count) + Self.epsilon < truth {
            self.violation("the lifetime dose is \(lifetime.dose.joulesPerCm2) J/cm², the lines delivered \(truth)")
        }
    }

    private func violation(_ message: String) {
        guard self.result.violation == nil else { return }
        self.result.violation = "t=\(String(format: "%.3f", self.clock.seconds)) s: \(message)"
        self.result.trail = self.trail.map { "\(String(format: "%.3f", $0.at)) \($0.label)" }
    }

    private func note(_ at: Double, _ label: String) {
        if self.trail.count == 40 { self.trail.removeFirst() }
        self.trail.append((at, label))
    }

    // MARK: - Scheduling

    private func schedule(after seconds: Double, _ happening: Happening) {
        self.schedule(atNanoseconds: self.clock.nanoseconds + Int64(max(0, seconds) * 1e9), happening)
    }

    private func schedule(at seconds: Double, _ happening: Happening) {
        self.schedule(atNanoseconds: Int64(seconds * 1e9), happening)
    }

    private func schedule(atNanoseconds: Int64, _ happening: Happening) {
        self.queue.push(EventQueue.Entry(at: atNanoseconds, happening: happening))
    }

    fileprivate func count(_ kind: FaultKind) {
        self.result.faults[kind, default: 0] += 1
    }

    // MARK: - Commands

    /// Sends one command payload; a `stop` is marked so the stop invariant watches it.
    fileprivate func send(
        _ json: String, id: String?, isStop: Bool, fleet: Bool = false, retained: Bool = false, stale: Bool = false,
        delay: Double = 0
    ) {
        let topic = fleet ? self.topics.fleetAll : self.topics.command
        let message = MQTTMessage(topic: topic, payload: Array(json.utf8), qos: .atLeastOnce, retain: retained)
        var mark: StopMark?
        if isStop, !retained, !stale, let id {
            let key = "\(fleet ? "all" : "device")/\(id)"
            let reused = !self.stopIDs.insert(key).inserted
            if reused { self.count(.stopReusedID) }
            mark = StopMark(reused: reused)
        } else if isStop, let id {
            self.stopIDs.insert("\(fleet ? "all" : "device")/\(id)")
        }
        if json.contains("\"start\""), let id, !retained, !stale { self.freshStarts.insert(id) }
        self.schedule(after: delay, .command(message, stop: mark))
    }

    fileprivate func nextID() -> String {
        self.commandCounter += 1
        return "u\(self.commandCounter)"
    }
}

// MARK: - The random user and the random faults

extension Simulation {
    /// The user's turn; returns the seconds until their next one.
    ///
    /// In a run longer than the 24 h window the user once pauses a session while it emits, stays
    /// away for a day and a bit, comes back to resume it, and then uses the panel as hard as the
    /// limits let them. The resumed session's light falls in the new window although the session
    /// started in the old one: a window that counts sessions by their start misses it (defect 3).
    fileprivate func userTurn(at: Int64) -> Double {
        let longRun = self.options.duration > Self.dayWindow
        switch self.absence {
        case .notYet where longRun && self.isLit && self.linkUp && self.current != nil:
            self.clock.advance(to: at)
            self.sendSimple("pause", delay: 0)
            self.absence = .away
            self.count(.longAbsence)
            return self.random.seconds(86_700...91_800)
        case .away:
            self.clock.advance(to: at)
            self.absence = .back
            let ack = self.nextID()
            self.send(#"{"id":"\#(ack)","cmd":"ack","args":{"fault":"all"}}"#, id: ack, isStop: false, delay: 0)
            self.sendSimple("resume", delay: 1)
        case .back:
            self.clock.advance(to: at)
            self.sendHeavyStart()
        default:
            self.userActs(at: at)
        }
        return self.random.exponential(mean: 25)
    }

    /// Both channels at full power for as long as a session may last, up to the per-session limit or
    /// what the last refusal said still fits: it fills the 24 h window to its limit in few sessions.
    private func sendHeavyStart() {
        let id = self.nextID()
        let dose = self.suggestedDose.take() ?? self.settings.limits.maxSessionDose.joulesPerCm2
        self.send(
            #"{"id":"\#(id)","cmd":"start","args":{"channels":"both","duration_s":1200,"dose_j_cm2":\#(dose)}}"#,
            id: id, isStop: false, delay: 0)
    }

    fileprivate func userActs(at: Int64) {
        self.clock.advance(to: at)
        let roll = Double.random(in: 0..<1, using: &self.random)
        var delay = 0.0
        if self.random.chance(0.05) {
            self.count(.reorder)
            delay = self.random.seconds(0.1...1.5)
        }
        switch roll {
        case ..<0.38: self.sendStart(delay: delay)
        case ..<0.58: self.sendStop(delay: delay)
        case ..<0.64: self.sendSimple("pause", delay: delay)
        case ..<0.70: self.sendSimple("resume", delay: delay)
        case ..<0.80:
            let id = self.nextID()
            self.send(#"{"id":"\#(id)","cmd":"ack","args":{"fault":"all"}}"#, id: id, isStop: false, delay: delay)
        case ..<0.83:
            let id = self.nextID()
            let duration = Int.random(in: 10...300, using: &self.random)
            self.send(
                #"{"id":"\#(id)","cmd":"set","args":{"duration_s":\#(duration)}}"#, id: id, isStop: false, delay: delay)
        case ..<0.86: self.sendSimple("get", delay: delay)
        case ..<0.88:
            self.send(#"{"id":"x","cmd":"start","args":{"bogus":1}}"#, id: nil, isStop: false, delay: delay)
        case ..<0.91:
            self.count(.burst)
            for index in 0..<Int.random(in: 10...40, using: &self.random) {
                let id = self.nextID()
                if index == 7 {
                    self.send(#"{"id":"\#(id)","cmd":"stop"}"#, id: id, isStop: true, delay: 0.001 * Double(index))
                } else {
                    self.send(#"{"id":"\#(id)","cmd":"get"}"#, id: id, isStop: false, delay: 0.001 * Double(index))
                }
            }
        case ..<0.95:
            self.count(.stopButton)
            self.schedule(after: 0, .stopButton(pressed: true))
            self.schedule(after: self.random.seconds(0.1...0.6), .stopButton(pressed: false))
        default:
            self.count(.disconnect)
            self.schedule(after: 0, .link(up: false))
            self.schedule(after: self.random.seconds(1...40), .link(up: true))
        }
    }

    private func sendStart(delay: Double) {
        let id = self.nextID()
        let channels = ["red", "nir", "both"].randomElement(using: &self.random)!
        let intensity = channels == "red" && self.random.chance(0.5) ? 50 : 100
        let duration = Int.random(in: 5...240, using: &self.random)
        var args = #""channels":"\#(channels)","intensity_pct":\#(intensity),"duration_s":\#(duration)"#
        if self.random.chance(0.2) { args += #","dose_j_cm2":\#(Int.random(in: 1...20, using: &self.random))"# }
        let json = #"{"id":"\#(id)","cmd":"start","args":{\#(args)}}"#
        self.sendMaybeDuplicated(json, id: id, isStop: false, delay: delay)
    }

    private func sendStop(delay: Double) {
        let fleet = self.random.chance(0.2)
        let variant = Double.random(in: 0..<1, using: &self.random)
        if variant < 0.15 {
            // The "panic" id, reused for every emergency.
            self.sendMaybeDuplicated(
                #"{"id":"panic","cmd":"stop"}"#, id: "panic", isStop: true, fleet: fleet, delay: delay)
        } else if variant < 0.25 {
            // Refused (retained), then sent again correctly under the same id, as the error says to.
            self.count(.retained)
            let id = self.nextID()
            self.send(
                #"{"id":"\#(id)","cmd":"stop"}"#, id: id, isStop: true, fleet: fleet, retained: true, delay: delay)
            self.send(#"{"id":"\#(id)","cmd":"stop"}"#, id: id, isStop: true, fleet: fleet, delay: delay + 0.5)
        } else if variant < 0.32 {
            self.count(.staleCommand)
            let id = self.nextID()
            let ts = self.clock.unixMilliseconds - 120_000
            self.send(
                #"{"id":"\#(id)","cmd":"stop","ts":\#(ts),"ttl_ms":1000}"#, id: id, isStop: true, fleet: fleet,
                stale: true, delay: delay)
        } else {
            let id = self.nextID()
            self.sendMaybeDuplicated(#"{"id":"\#(id)","cmd":"stop"}"#, id: id, isStop: true, fleet: fleet, delay: delay)
        }
    }

    private func sendSimple(_ name: String, delay: Double) {
        let id = self.nextID()
        self.sendMaybeDuplicated(#"{"id":"\#(id)","cmd":"\#(name)"}"#, id: id, isStop: false, delay: delay)
    }

    private func sendMaybeDuplicated(_ json: String, id: String, isStop: Bool, fleet: Bool = false, delay: Double) {
        self.send(json, id: id, isStop: isStop, fleet: fleet, delay: delay)
        if self.random.chance(0.1) {
            // A QoS 1 redelivery.
            self.count(.duplicate)
            self.send(json, id: id, isStop: isStop, fleet: fleet, delay: delay + self.random.seconds(0.01...3))
        }
    }

    fileprivate func injectFault() {
        let kinds: [FaultKind] = [
            .gpioWriteError, .gpioReadError, .stuckLine, .pwmWriteError, .sensorError, .sensorHang, .sensorWild,
            .sensorStuckValue, .panelHot, .storageError, .slowFsync, .stuckFsync, .crash, .wallStep, .chatter,
            .brokenWire, .inputReadFailure,
        ]
        let kind = kinds.randomElement(using: &self.random)!
        let outputKinds: Set<FaultKind> = [.gpioWriteError, .gpioReadError, .stuckLine, .pwmWriteError]
        if outputKinds.contains(kind) {
            // One output fault at a time: the design promises safety against any single failing
            // write or line, not against the channel enable and the master relay failing together.
            guard !self.outputFaultActive else { return }
            self.outputFaultActive = true
        }
        self.count(kind)
        let length = self.random.seconds(1...40)
        var clear: () -> Void = {}
        switch kind {
        case .gpioWriteError:
            let line = [OutputRole.red, .nir, .master].randomElement(using: &self.random)!
            self.lines.failingWrites = [line]
            clear = {
                self.lines.failingWrites = []; self.outputFaultActive = false
            }
        case .gpioReadError:
            self.lines.readsFail = true
            clear = {
                self.lines.readsFail = false; self.outputFaultActive = false
            }
        case .stuckLine:
            let line = [OutputRole.red, .nir, .master].randomElement(using: &self.random)!
            self.lines.stuck = [line: true]
            clear = {
                self.lines.stuck = [:]; self.outputFaultActive = false
            }
        case .pwmWriteError:
            self.pwmRed.writesFail = true
            clear = {
                self.pwmRed.writesFail = false; self.outputFaultActive = false
            }
        case .sensorError:
            self.sensorMode = .failing
            clear = { self.sensorMode = .healthy }
        case .sensorHang:
            self.sensorMode = .hung
            clear = { self.sensorMode = .healthy }
        case .sensorStuckValue:
            self.sensorMode = .stuckValue
            clear = { self.sensorMode = .healthy }
        case .sensorWild:
            self.sensorMode = .wild
            clear = { self.sensorMode = .healthy }
        case .panelHot:
            self.ambient = 70
            clear = { self.ambient = 25 }
        case .storageError:
            self.writer.mode = .failing(
                self.random.chance(0.5) ? "database or disk is full (ENOSPC)" : "disk I/O error (EIO)")
            clear = { self.writer.mode = .healthy }
        case .slowFsync:
            self.writer.mode = .slow(self.random.seconds(0.3...4))
            clear = { self.writer.mode = .healthy }
        case .stuckFsync:
            self.writer.mode = .stuck
            clear = { self.writer.mode = .healthy }
        case .crash:
            self.schedule(after: 0, .crash)
            return
        case .wallStep:
            let jump = Int64(self.random.seconds(-172_800...172_800) * 1000)
            self.schedule(after: 0, .wallStep(self.clock.wallErrorMs + jump))
            self.schedule(after: self.random.seconds(5...600), .wallStep(0))
            return
        case .chatter:
            self.chatterUntil = self.clock.seconds + self.random.seconds(0.2...4)
            self.schedule(after: 0, .chatter)
            return
        case .brokenWire:
            self.schedule(after: 0, .interlock(closed: false))
            self.schedule(after: length, .interlock(closed: true))
            return
        case .inputReadFailure:
            self.schedule(after: 0, .inputsFail(true))
            self.schedule(after: length, .inputsFail(false))
            return
        case .wrongBootClock, .unsyncedBootClock, .stopButton, .duplicate, .retained, .reorder, .burst, .disconnect,
            .stopReusedID, .staleCommand, .longAbsence:
            return
        }
        self.schedule(after: length, .clearFault(clear))
    }

    /// A board without a real-time clock boots at 1970, or one whose clock is a year ahead; NTP
    /// steps it right a little later. Until then the kernel does not call the clock synchronised.
    fileprivate func wrongBootClock() {
        self.count(.wrongBootClock)
        self.clock.wallErrorMs =
            self.random.chance(0.5) ? -VirtualClock.trueEpochUnixMs : 365 * 86_400_000
        self.clock.wallClockTrusted = false
        self.schedule(after: self.random.seconds(5...120), .wallStep(0))
    }

    /// A board whose clock happens to be right at boot but that NTP has not reached yet: the ledger
    /// cannot know it is right, and records stay provisional until the sync.
    fileprivate func unsyncedBootClock() {
        self.count(.unsyncedBootClock)
        self.clock.wallClockTrusted = false
        self.schedule(after: self.random.seconds(5...600), .wallStep(0))
    }

    fileprivate func scripted(_ action: ScriptStep.Action, at: Int64) {
        switch action {
        case .command(let json, let fleet, let retained):
            let id = (try? JSONValue.parse(Array(json.utf8)))?["id"]?.stringValue
            self.send(json, id: id, isStop: json.contains("\"stop\""), fleet: fleet, retained: retained)
        case .pwmWritesFail(let failing):
            self.pwmRed.writesFail = failing
        case .lineWritesFail(let line, let failing):
            self.lines.failingWrites = failing ? [line] : []
        case .ledger(let mode):
            self.writer.mode = mode
        case .interlock(let closed):
            self.setInterlock(closed, at: at)
        case .chatter(let seconds):
            self.chatterUntil = self.clock.seconds + seconds
            self.schedule(after: 0, .chatter)
        case .inputReadsFail(let failing):
            self.schedule(after: 0, .inputsFail(failing))
        case .stopButton:
            self.schedule(after: 0, .stopButton(pressed: true))
            self.schedule(after: 0.3, .stopButton(pressed: false))
        case .crash:
            self.schedule(after: 0, .crash)
        }
    }
}

/// A binary heap of happenings by time, first scheduled first among equal times.
struct EventQueue {
    struct Entry {
        var at: Int64
        var order: UInt64 = 0
        var happening: Simulation.Happening

        init(at: Int64, happening: Simulation.Happening) {
            self.at = at
            self.happening = happening
        }

        func before(_ other: Entry) -> Bool { (self.at, self.order) < (other.at, other.order) }
    }

    private var heap: [Entry] = []
    private var counter: UInt64 = 0

    mutating func push(_ entry: Entry) {
        var entry = entry
        if entry.order == 0 {
            self.counter += 1
            entry.order = self.counter
        }
        self.heap.append(entry)
        var child = self.heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard self.heap[child].before(self.heap[parent]) else { break }
            self.heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Entry? {
        guard !self.heap.isEmpty else { return nil }
        self.heap.swapAt(0, self.heap.count - 1)
        let top = self.heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < self.heap.count, self.heap[left].before(self.heap[smallest]) { smallest = left }
            if right < self.heap.count, self.heap[right].before(self.heap[smallest]) { smallest = right }
            guard smallest != parent else { break }
            self.heap.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}
