import GPIO
import GatewayProtocol
import Ledger
import Logging
import MQTT
import SafetyCore
import Sensors
import Synchronization

/// The single owner of the state machine: consumes ``GatewayInput`` in order, feeds the core and
/// performs the actions it returns.
///
/// Not `Sendable` on purpose: it lives inside the gateway's run task and nowhere else.
final class GatewayLoop {
    private var machine: SafetyMachine
    private let parts: GatewayParts
    private let topics: Topics
    private let logger: Logger
    private var seq: UInt64 = 0
    private var lastTelemetryAt: Instant?
    private var lastStateAt: Instant?
    /// The v5 response address of the command being handled, if the requester gave one.
    private var replyTo: (topic: String, correlation: [UInt8]?)?
    /// When the outputs were last driven off, for the fault event's reaction time.
    private var outputsOffAt: Instant?
    private var lastCommandedOutputs: OutputCommand = .off
    /// Counts performed `setOutputs`, so ``perform(_:now:)`` can tell that a nested event (a failed
    /// ledger write feeds `storageFailed` while the list is being performed) already drove the
    /// outputs after its list was built.
    private var outputsGeneration = 0
    /// When this run started, for the uptime in `diag`.
    private let startedAt = MonotonicClock.now()
    private(set) var isShuttingDown = false
    /// True while any output is commanded on or reads back on: the tick must then run at its fast
    /// pace (``TickPace``). A line stuck on while commanded off keeps it fast too, for S9.
    private(set) var needsFastTicks = true

    init(machine: SafetyMachine, parts: GatewayParts, topics: Topics, logger: Logger) {
        self.machine = machine
        self.parts = parts
        self.topics = topics
        self.logger = logger
    }

    // MARK: - Feeding the core

    /// Feeds one event to the core and performs what it returns.
    func feed(_ event: SafetyEvent, now: Instant = MonotonicClock.now()) {
        let actions = self.machine.handle(event, now: now)
        self.perform(actions, now: now)
    }

    func handle(_ input: GatewayInput) {
        let now = MonotonicClock.now()
        switch input {
        case .mqtt(.connected):
            self.logger.info("MQTT connected", metadata: ["mqtt.topic": "\(self.topics.base)"])
            self.feed(.linkChanged(connected: true), now: now)
            self.publishRetainedDocuments(now: now)
        case .mqtt(.disconnected(let reason)):
            self.logger.warning("MQTT link lost", metadata: ["mqtt.reason": "\(reason)"])
            self.feed(.linkChanged(connected: false), now: now)
        case .mqtt(.message(let message)):
            self.received(message, now: now)
        case .edge(let edge):
            guard let line = InputLine(gpioName: edge.name) else { return }
            self.feed(.input(line, active: edge.active), now: now)
        case .sample(let sample):
            self.feed(.temperature(TemperatureReading(sample)), now: now)
        case .tick:
            self.feed(.tick, now: now)
            self.publishTelemetryIfDue(now: now)
            self.parts.outputs.healthyTick()
        case .republishDiscovery:
            self.publishRetainedDocuments(now: now)
        case .shutdown:
            self.isShuttingDown = true
            self.feed(.shutdown, now: now)
        }
    }

    // MARK: - Incoming MQTT

    private func received(_ message: MQTTMessage, now: Instant) {
        switch self.topics.classify(message.topic) {
        case .command(let sourceTopic):
            let source: CommandSource =
                switch sourceTopic {
                case .device: .device
                case .fleetAll: .fleetAll
                case .fleetGroup(let group): .fleetGroup(group)
                }
            let envelope = CommandDecoder.decode(
                message.payload, source: source, retained: message.retain,
                receivedAtUnixMs: WallClock.unixMilliseconds(),
                maximumBytes: self.machine.settings.maxCommandBytes)
            self.replyTo = message.responseTopic.map { ($0, message.correlationData) }
            defer { self.replyTo = nil }
            self.feed(.command(envelope), now: now)
        case .homeAssistantStatus:
            if String(decoding: message.payload, as: UTF8.self) == "online" {
                self.parts.scheduleDiscoveryRepublish()
            }
        case .other:
            break
        }
    }

    // MARK: - Performing actions

    private func perform(_ actions: [SafetyAction], now: Instant) {
        let generation = self.outputsGeneration
        for action in actions {
            switch action {
            case .setOutputs(let command):
                // The core puts a turn-on after the ledger's `sessionOpened`. If that write failed,
                // the nested `storageFailed` already turned the outputs off: this turn-on is stale
                // and must not run, or the lines stay on while the core believes them off.
                if command.emitting, self.outputsGeneration != generation {
                    self.logger.warning("stale turn-on dropped: a nested event changed the outputs first")
                    continue
                }
                self.setOutputs(command)
            case .respond(let response):
                self.publishResponse(response, now: now)
            case .publishState:
                self.publishState(now: now)
            case .notify(let notice):
                self.publishEvent(notice)
            case .record(let record):
                self.persist(record, now: now)
            case .identify:
                self.parts.identify()
            }
        }
    }

    /// Drives the lines, reads them back and tells the core what the hardware really did (S9).
    private func setOutputs(_ command: OutputCommand) {
        self.outputsGeneration += 1
        let readback = self.parts.outputs.apply(command)
        if !command.emitting { self.outputsOffAt = MonotonicClock.now() }
        self.lastCommandedOutputs = command
        self.needsFastTicks = command.emitting || readback.red || readback.nir || readback.master
        self.parts.sensor.outputsChanged(readback)
        self.logger.debug(
            "outputs set",
            metadata: ["gpio.red": "\(readback.red)", "gpio.nir": "\(readback.nir)", "gpio.master": "\(readback.master)"])
        self.feed(.outputReadback(readback))
    }

    private func persist(_ record: LedgerRecord, now: Instant) {
        guard let ledger = self.parts.ledger else { return }
        do {
            try ledger.perform(record, unixMs: WallClock.unixMilliseconds())
        } catch {
            self.logger.error("ledger write failed", metadata: ["ledger.error": "\(error)"])
            self.feed(.storageFailed("\(error)"), now: now)
        }
    }

    // MARK: - Publishing

    private func publishResponse(_ response: CommandResponse, now: Instant) {
        // No `nil` literal here: `JSONValue` is `ExpressibleByNilLiteral`, so `cond ? value : nil` type-checks
        // as `JSONValue.null` and every response would carry `"data": null` (only get/ping carry data).
        var snapshot: JSONValue?
        if response.includesSnapshot {
            snapshot = self.stateDocument(now: now)
        }
        let payload = Payloads.response(response, snapshot: snapshot).bytes
        let message: MQTTMessage
        if let replyTo = self.replyTo {
            message = MQTTMessage(
                topic: replyTo.topic, payload: payload, qos: .atLeastOnce, retain: false,
                correlationData: replyTo.correlation)
        } else {
            message = MQTTMessage(topic: self.topics.response, payload: payload, qos: .atLeastOnce, retain: false)
        }
        self.parts.mqtt.publish(message, queueing: .dropWhenOffline)
    }

    /// The one document `state`, `tele` and `get` answers share (DESIGN: one schema for both topics),
    /// stamped with the current `seq`.
    private func stateDocument(now: Instant) -> JSONValue {
        Payloads.state(self.machine.snapshot(now: now), unixMs: WallClock.unixMilliseconds(), seq: self.seq)
    }

    private func publishState(now: Instant) {
        self.seq += 1
        self.lastStateAt = now
        let payload = self.stateDocument(now: now)
        self.parts.mqtt.publish(
            MQTTMessage(topic: self.topics.state, payload: payload.bytes, qos: .atLeastOnce, retain: true),
            queueing: .latestWins(key: "state"))
    }

    private func publishEvent(_ notice: SafetyNotice) {
        var offAt: Instant?
        if case .faultRaised = notice { offAt = self.outputsOffAt }
        let payload = Payloads.event(notice, unixMs: WallClock.unixMilliseconds(), outputsOffAt: offAt)
        self.parts.mqtt.publish(
            MQTTMessage(topic: self.topics.event, payload: payload.bytes, qos: .atLeastOnce, retain: false),
            queueing: .bounded)
        self.logger.info("event", metadata: ["event": "\(payload.text)"])
    }

    /// Telemetry every `running_interval_s` while emitting, `idle_interval_s` otherwise; the
    /// retained state doubles as a heartbeat at the idle interval.
    private func publishTelemetryIfDue(now: Instant) {
        let emitting = self.lastCommandedOutputs.emitting
        let interval = emitting ? self.parts.telemetry.runningSeconds : self.parts.telemetry.idleSeconds
        if let last = self.lastTelemetryAt, now.seconds(since: last) < interval { return }
        self.lastTelemetryAt = now
        self.seq += 1
        let payload = self.stateDocument(now: now)
        self.parts.mqtt.publish(
            MQTTMessage(topic: self.topics.telemetry, payload: payload.bytes, qos: .atMostOnce, retain: false),
            queueing: .dropWhenOffline)
        if let last = self.lastStateAt, now.seconds(since: last) < self.parts.telemetry.idleSeconds { return }
        self.publishState(now: now)
        self.publishDiagnostics(now: now)
    }

    private func publishDiagnostics(now: Instant) {
        let statistics = self.parts.mqtt.statistics
        let payload = Payloads.diagnostics(
            bootID: self.machine.bootID, uptimeSeconds: now.seconds(since: self.startedAt),
            reconnects: statistics.reconnects, droppedMessages: statistics.dropped + statistics.droppedIncoming,
            unixMs: WallClock.unixMilliseconds())
        self.parts.mqtt.publish(
            MQTTMessage(topic: self.topics.diagnostics, payload: payload.bytes, qos: .atLeastOnce, retain: true),
            queueing: .latestWins(key: "diag"))
    }

    /// `info`, discovery and `state`: retained documents a (re)connecting client expects.
    private func publishRetainedDocuments(now: Instant) {
        self.parts.mqtt.publish(
            MQTTMessage(topic: self.topics.info, payload: self.parts.info.json.bytes, qos: .atLeastOnce, retain: true),
            queueing: .latestWins(key: "info"))
        for message in self.parts.discovery {
            self.parts.mqtt.publish(message, queueing: .latestWins(key: message.topic))
        }
        self.publishState(now: now)
        self.publishDiagnostics(now: now)
    }
}

extension InputLine {
    init?(gpioName: String) {
        switch gpioName {
        case "interlock": self = .interlock
        case "stop_button": self = .stopButton
        case "emission_sense": self = .emissionSense
        default: return nil
        }
    }
}

extension TemperatureReading {
    init(_ sample: SensorSample) {
        switch sample {
        case .celsius(let value, _):
            self = value.isFinite ? .valid(Celsius(value)) : .invalid("reading is not a number")
        case .invalid(let reason, _):
            self = .invalid(reason)
        }
    }
}
