import GPIO
import GatewayProtocol
import Logging
import MQTT
import SafetyCore
import Sensors

/// The single owner of the state machine: consumes ``GatewayInput`` in order, feeds the core and
/// performs the actions it returns.
///
/// Each event's actions are performed completely before the next event is fed, and nothing is fed
/// from inside the performing (STYLE: the shell never calls back into the state machine while it
/// performs a list). What performing produced — the outputs' readback, a ledger record that failed —
/// is queued and fed as the *next* event. A failed record also decides the rest of its own list:
/// a turn-on after it is never performed, and when it was the `sessionOpened` a command depended
/// on, nothing else of that command's list is performed either (no `ok`, no `session_started`):
/// the core answers the command again from ``SafetyEvent/commandNotRecorded(_:reason:)``.
///
/// Ledger records are written off the loop (``LedgerWriting``); a record is waited for, at most
/// ``ledgerWriteBound``, only while every output is off (``persist(_:mayWait:)``). A record that has
/// not completed within that bound is a storage failure, checked on every tick.
///
/// Not `Sendable` on purpose: it lives inside the gateway's run task (or the simulator) and nowhere else.
package final class GatewayLoop {
    /// How long a ledger record may take before the gateway treats the ledger as failed
    /// (`F_STORAGE`, panel dark): far above a healthy `fsync` (milliseconds), short enough that a
    /// stuck disk is noticed while a session would still be young.
    package static let ledgerWriteBound: Double = 2

    private var machine: SafetyMachine
    private let parts: GatewayParts
    private let topics: Topics
    private let clock: any GatewayClock
    private let logger: Logger
    private var seq: UInt64 = 0
    private var lastTelemetryAt: Instant?
    private var lastStateAt: Instant?
    /// The v5 response address of the command being handled, if the requester gave one.
    private var replyTo: (topic: String, correlation: [UInt8]?)?
    /// Whether the MQTT link is up, as the last connection event said.
    private var linkUp = false
    /// When the outputs were last driven off, for the fault event's reaction time.
    private var outputsOffAt: Instant?
    private var lastCommandedOutputs: OutputCommand = .off
    private var lastReadback: OutputReadback = .off
    /// A `publishState` of the event being fed, performed once its readback is in (``feed(_:)``).
    private var statePending = false
    /// Records submitted and not completed yet, oldest first, with when they were submitted.
    private var outstandingRecords: [(ticket: LedgerTicket, submittedAt: Instant)] = []
    /// Set once an overdue record was reported, until the queue is empty again.
    private var overdueReported = false
    /// Which `command_rejected` events go out: one per code per second under a flood.
    private var rejections = RejectionCoalescer()
    /// A Home Assistant birth asked for a republish that has not happened yet: further births until
    /// it does ask for nothing more (a flood of births costs one republish, not one timer each).
    private var republishScheduled = false
    /// The ledger's lifetime totals as last written, for `state`; owned here because no rule reads them.
    private var lifetime = LedgerLifetime(boot: .zero)
    /// When this run started, for the uptime in `diag`.
    private let startedAt: Instant
    /// Home Assistant discovery's sweep, owned here: it changes with every connect.
    private var sweep: DiscoverySweep?
    private(set) package var isShuttingDown = false
    /// True while any output is commanded on or reads back on: the tick must then run at its fast
    /// pace (``TickPace``). A line stuck on while commanded off keeps it fast too, for S9.
    private(set) package var needsFastTicks = true

    package init(
        machine: SafetyMachine, parts: GatewayParts, topics: Topics, clock: any GatewayClock = SystemClock(),
        logger: Logger
    ) {
        self.machine = machine
        self.parts = parts
        self.sweep = parts.discovery
        self.topics = topics
        self.clock = clock
        self.logger = logger
        self.startedAt = clock.now
    }

    /// The core's state, for the simulator's reports (never for its invariants: those are checked
    /// at the lines).
    package var snapshot: SafetySnapshot { self.machine.snapshot(now: self.clock.now) }

    // MARK: - Feeding the core

    /// Feeds one event to the core and performs what it returns, then feeds the events that
    /// performing produced (readback, failures), each completely before the next.
    ///
    /// A readback is fed at the instant the lines were read, not when its turn in the list comes: a
    /// stop's `sessionClosed` is waited for (fsync) between the turn-off and the feeding of its
    /// readback, and the core, still holding the earlier "on" readback, would count that wait as
    /// light outside any session (S9 counts high when unsure) although the lines were already dark.
    package func feed(_ event: SafetyEvent) {
        if case .boot(let context) = event { self.lifetime = LedgerLifetime(boot: context.lifetime) }
        var pending: [(event: SafetyEvent, at: Instant?)] = [(event, nil)]
        var fedUpTo: Instant?
        while !pending.isEmpty {
            let (next, observedAt) = pending.removeFirst()
            // Never earlier than an event already fed: the core's clock only runs forward.
            let now = max(observedAt ?? self.clock.now, fedUpTo ?? Instant(nanoseconds: .min))
            fedUpTo = now
            let actions = self.machine.handle(next, now: now)
            pending += self.perform(actions, for: next, now: now)
        }
        // The core puts `publishState` last in a list; `state.emitting` comes from the readback,
        // which the core learns from the event after that list, so the state goes out once both are in.
        if self.statePending {
            self.statePending = false
            let now = self.clock.now
            self.publishState(now: now)
            // Telemetry carries every change too, not only the periodic samples: a reader of `tele`
            // alone (Home Assistant's live progress entities) sees a session end when it ends. Only
            // while connected: offline, telemetry is dropped (and counted), and the retained state
            // already carries the change to whoever connects.
            if self.linkUp { self.publishTelemetry(now: now) }
        }
    }

    package func handle(_ input: GatewayInput) {
        switch input {
        case .mqtt(.connected):
            self.logger.info("MQTT connected", metadata: ["mqtt.topic": "\(self.topics.base)"])
            self.linkUp = true
            self.feed(.linkChanged(connected: true))
            self.publishRetainedDocuments(now: self.clock.now)
            self.beginDiscoverySweep()
        case .mqtt(.disconnected(let reason)):
            self.linkUp = false
            self.logger.warning("MQTT link lost", metadata: ["mqtt.reason": "\(reason)"])
            self.feed(.linkChanged(connected: false))
        case .mqtt(.message(let message)):
            self.received(message)
        case .edge(let edge):
            guard let line = InputLine(lineName: edge.name) else {
                // Inputs are opened from `InputLine.lineName` only; a name outside it is a wiring
                // bug in this program, said loudly rather than dropped.
                self.logger.critical("edge from an input no rule knows", metadata: ["gpio.line": "\(edge.name)"])
                return
            }
            if let failure = edge.failure {
                self.feed(.inputFailed(line, reason: failure))
            } else {
                self.feed(.input(line, active: edge.active))
            }
        case .sample(let sample):
            self.feed(.temperature(TemperatureReading(sample)))
        case .tick:
            self.feed(.tick)
            self.driveOffAgainIfNeeded()
            for rejection in self.rejections.due(now: self.clock.now) { self.publishRejection(rejection) }
            self.checkOverdueRecords()
            self.publishTelemetryIfDue(now: self.clock.now)
            self.parts.outputs.healthyTick()
            self.giveUpSweepIfOverdue()
        case .ledger(let completion):
            self.recordCompleted(completion)
        case .republishDiscovery:
            self.republishScheduled = false
            self.publishRetainedDocuments(now: self.clock.now)
            if let sweep = self.sweep, !sweep.isCollecting {
                self.publishDiscovery(sweep.documentPublications)
            }
        case .shutdown:
            self.isShuttingDown = true
            self.feed(.shutdown)
        }
    }

    // MARK: - Incoming MQTT

    private func received(_ message: MQTTMessage) {
        switch self.topics.classify(message.topic) {
        case .command(let source):
            let envelope = CommandDecoder.decode(
                message.payload, source: source, retained: message.retain,
                receivedAtUnixMs: self.clock.unixMilliseconds,
                maximumBytes: self.machine.settings.maxCommandBytes, topic: message.topic, key: self.parts.commandKey)
            if let asked = message.responseTopic, !self.topics.mayAnswer(on: asked) {
                // The command still counts; its answer goes to the documented `<base>/res`.
                self.logger.warning(
                    "response topic outside this panel's res/ tree: answering on res",
                    metadata: ["mqtt.response_topic": "\(asked)"])
            }
            self.replyTo = message.responseTopic.flatMap {
                self.topics.mayAnswer(on: $0) ? ($0, message.correlationData) : nil
            }
            defer { self.replyTo = nil }
            self.feed(.command(envelope))
        case .homeAssistantStatus:
            if HomeAssistantDiscovery.isBirth(message.payload), !self.republishScheduled {
                self.republishScheduled = true
                self.parts.scheduleDiscoveryRepublish()
            }
        case .discoveryConfig:
            if self.topics.ownsDiscoveryConfig(topic: message.topic, payload: message.payload) {
                self.sweep?.observed(topic: message.topic, payload: message.payload, retained: message.retain)
            }
        case .discoverySweepProbe:
            if let plan = self.sweep?.probeReturned(payload: message.payload) {
                let removed = plan.filter { $0.retain && $0.payload.isEmpty }.count
                self.logger.info(
                    "discovery swept", metadata: ["discovery.stale_removed": "\(removed)", "mqtt.topic": "\(self.topics.nodeID)"])
                self.publishDiscovery(plan)
            }
        case .other:
            break
        }
    }

    // MARK: - Performing actions

    /// Performs `actions` in order and returns the events their outcomes produced, to be fed next,
    /// each readback with the instant the lines were read.
    private func perform(
        _ actions: [SafetyAction], for event: SafetyEvent, now: Instant
    ) -> [(event: SafetyEvent, at: Instant?)] {
        var produced: [(event: SafetyEvent, at: Instant?)] = []
        var failedRecord: (record: LedgerRecord, reason: String)?
        var mayWait = true
        for action in actions {
            if let failed = failedRecord, case .sessionOpened = failed.record {
                // The rest of this list presumed the session was recorded: only a turn-off may still run.
                if case .setOutputs(let command) = action, !command.emitting {
                    produced.append(self.setOutputsObserved(command))
                }
                continue
            }
            switch action {
            case .setOutputs(let command):
                if command.emitting, let failed = failedRecord {
                    self.logger.warning(
                        "turn-on not performed: a record before it failed",
                        metadata: ["ledger.error": "\(failed.reason)"])
                    continue
                }
                produced.append(self.setOutputsObserved(command))
            case .respond(let response):
                self.publishResponse(response, now: now)
            case .publishState:
                self.statePending = true
            case .notify(.commandRejected(let name, let code, let message)):
                if let rejection = self.rejections.offer(command: name, code: code, message: message, now: now) {
                    self.publishRejection(rejection)
                }
            case .notify(let notice):
                self.publishEvent(notice)
            case .record(let record):
                if let reason = self.persist(record, mayWait: &mayWait) {
                    failedRecord = (record, reason)
                }
            case .identify:
                self.parts.identify()
            }
        }
        if let failed = failedRecord {
            if case .sessionOpened = failed.record, case .command(let envelope) = event {
                produced.append((.commandNotRecorded(envelope, reason: failed.reason), nil))
            } else {
                produced.append((.storageFailed(failed.reason), nil))
            }
        }
        return produced
    }

    /// ``setOutputs(_:)`` as the event to feed, stamped with when the lines were read.
    private func setOutputsObserved(_ command: OutputCommand) -> (event: SafetyEvent, at: Instant?) {
        let readback = self.setOutputs(command)
        return (.outputReadback(readback), self.clock.now)
    }

    /// Drives the lines and returns what the hardware really did, for the core (S9).
    private func setOutputs(_ command: OutputCommand) -> OutputReadback {
        let readback = self.parts.outputs.apply(command)
        if !command.emitting { self.outputsOffAt = self.clock.now }
        self.lastCommandedOutputs = command
        self.lastReadback = readback
        self.needsFastTicks = command.emitting || readback.anyOn
        self.parts.sensor?.outputsChanged(readback)
        self.logger.debug(
            "outputs set",
            metadata: [
                "gpio.red": "\(readback.red)", "gpio.nir": "\(readback.nir)", "gpio.master": "\(readback.master)",
            ])
        return readback
    }

    /// While the core wants the outputs off and the last attempt failed or a line still reads on,
    /// every tick drives them off again: off is attempted every time, not once.
    private func driveOffAgainIfNeeded() {
        guard !self.lastCommandedOutputs.emitting, self.machine.commandedOutputs == .off,
            self.parts.outputs.lastApplyFailed || self.lastReadback.anyOn
        else { return }
        self.feed(.outputReadback(self.setOutputs(.off)))
    }

    /// Submits one record and, while the panel is dark, waits (bounded) until it is durable.
    ///
    /// `sessionOpened` is always waited for: emission starts only once the ledger knows the session
    /// (docs/DESIGN.md: written before emission), and everything is still off then. Any other record is
    /// waited for only while every output is commanded off and reads off (a stop's `sessionClosed`
    /// comes after its turn-off), so an `ok` means the record is on disk; while anything is on, a
    /// record is never waited for: an `fsync` must not hold a tick, an edge or a sample then. After
    /// one wait ran out, the rest of the list is not waited for (the disk is stuck).
    ///
    /// - Returns: why the record failed, or `nil` when it is submitted (or, when waited for, durable).
    private func persist(_ record: LedgerRecord, mayWait: inout Bool) -> String? {
        guard let ledger = self.parts.ledger else { return nil }
        guard let ticket = ledger.submit(record, at: self.clock.ledgerTime) else {
            self.logger.error("ledger queue full; record refused", metadata: ["ledger.record": "\(record)"])
            return "the ledger queue is full (\(LedgerWriter.capacity) records not yet written)"
        }
        var mustWait = false
        if case .sessionOpened = record { mustWait = true }
        let dark = !self.lastCommandedOutputs.emitting && !self.lastReadback.anyOn
        guard mustWait || (dark && mayWait) else {
            self.outstandingRecords.append((ticket, self.clock.now))
            return nil
        }
        guard let completion = ledger.wait(for: ticket, seconds: Self.ledgerWriteBound) else {
            mayWait = false
            self.logger.error("ledger record not written within the bound", metadata: ["ledger.record": "\(record)"])
            return "\(Self.describe(record)) was not written within \(Int(Self.ledgerWriteBound)) s"
        }
        // A waited record's state goes out right after its list: it carries the new totals.
        self.lifetime.learn(from: completion)
        if let failure = completion.failure {
            self.logger.error("ledger write failed", metadata: ["ledger.error": "\(failure)"])
            return failure
        }
        return nil
    }

    private static func describe(_ record: LedgerRecord) -> String {
        switch record {
        case .sessionOpened: "session_opened"
        case .sessionCheckpoint: "session_checkpoint"
        case .sessionClosed: "session_closed"
        case .faultRaised: "fault_raised"
        case .faultCleared: "fault_cleared"
        case .presetsChanged: "presets_changed"
        case .lightOutsideSession: "light_outside_session"
        }
    }

    private func recordCompleted(_ completion: LedgerCompletion) {
        // A record not waited for (a checkpoint while emitting): the next `tele` or `state` carries it.
        self.lifetime.learn(from: completion)
        let wasOutstanding = self.outstandingRecords.contains { $0.ticket == completion.ticket }
        self.outstandingRecords.removeAll { $0.ticket <= completion.ticket }
        if self.outstandingRecords.isEmpty { self.overdueReported = false }
        guard wasOutstanding, let failure = completion.failure else { return }
        self.logger.error("ledger write failed", metadata: ["ledger.error": "\(failure)"])
        self.feed(.storageFailed(failure))
    }

    /// A record older than the bound means the disk is stuck: the history can no longer be trusted.
    private func checkOverdueRecords() {
        guard !self.overdueReported, let oldest = self.outstandingRecords.first,
            self.clock.now.seconds(since: oldest.submittedAt) > Self.ledgerWriteBound
        else { return }
        self.overdueReported = true
        self.logger.error("a ledger record is overdue", metadata: ["ledger.ticket": "\(oldest.ticket.value)"])
        self.feed(.storageFailed("a record was not written within \(Int(Self.ledgerWriteBound)) s"))
    }

    // MARK: - Publishing

    private func publishResponse(_ response: CommandResponse, now: Instant) {
        let data = response.includesSnapshot ? self.stateDocument(now: now) : nil
        let payload = ResponseDocument(response, data: data).json.bytes
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

    /// The one document `state`, `tele` and `get` answers share (docs/DESIGN.md: one schema for both topics),
    /// stamped with the current `seq`.
    private func stateDocument(now: Instant) -> StateDocument {
        StateDocument(
            self.machine.snapshot(now: now), lifetime: self.lifetime.totals, unixMs: self.clock.unixMilliseconds,
            seq: self.seq)
    }

    private func publishState(now: Instant) {
        self.seq += 1
        self.lastStateAt = now
        let payload = self.stateDocument(now: now).json
        self.parts.mqtt.publish(
            MQTTMessage(topic: self.topics.state, payload: payload.bytes, qos: .atLeastOnce, retain: true),
            queueing: .latestWins(key: "state"))
    }

    private func publishEvent(_ notice: SafetyNotice) {
        var offAt: Instant?
        if case .faultRaised = notice { offAt = self.outputsOffAt }
        self.publish(EventDocument(notice, unixMs: self.clock.unixMilliseconds, outputsOffAt: offAt))
    }

    private func publishRejection(_ rejection: RejectionCoalescer.Rejection) {
        let event = EventDocument.Event.commandRejected(
            command: rejection.command, code: rejection.code, message: rejection.message,
            suppressed: rejection.suppressed)
        self.publish(EventDocument(event, unixMs: self.clock.unixMilliseconds))
    }

    private func publish(_ document: EventDocument) {
        let payload = document.json
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
        self.publishTelemetry(now: now)
        if let last = self.lastStateAt, now.seconds(since: last) < self.parts.telemetry.idleSeconds { return }
        self.publishState(now: now)
        self.publishDiagnostics(now: now)
    }

    /// One `tele` document; the periodic schedule counts from it, so samples stay an interval apart.
    private func publishTelemetry(now: Instant) {
        self.lastTelemetryAt = now
        self.seq += 1
        let payload = self.stateDocument(now: now).json
        self.parts.mqtt.publish(
            MQTTMessage(topic: self.topics.telemetry, payload: payload.bytes, qos: .atMostOnce, retain: false),
            queueing: .dropWhenOffline)
    }

    private func publishDiagnostics(now: Instant) {
        let statistics = self.parts.mqtt.statistics
        let payload = DiagnosticsDocument(
            bootID: self.machine.bootID, uptimeSeconds: now.seconds(since: self.startedAt),
            reconnects: statistics.reconnects, droppedMessages: statistics.dropped + statistics.droppedIncoming + self.parts.shedIncoming(),
            unixMs: self.clock.unixMilliseconds
        ).json
        self.parts.mqtt.publish(
            MQTTMessage(topic: self.topics.diagnostics, payload: payload.bytes, qos: .atLeastOnce, retain: true),
            queueing: .latestWins(key: "diag"))
    }

    /// `info`, `state` and `diag`: retained documents a (re)connecting client expects. Discovery
    /// follows its sweep.
    private func publishRetainedDocuments(now: Instant) {
        self.parts.mqtt.publish(
            MQTTMessage(topic: self.topics.info, payload: self.parts.info.json.bytes, qos: .atLeastOnce, retain: true),
            queueing: .latestWins(key: "info"))
        self.publishState(now: now)
        self.publishDiagnostics(now: now)
    }

    // MARK: - Discovery

    /// Sends the sweep's probe; discovery goes out when it comes back (``DiscoverySweep``).
    private func beginDiscoverySweep() {
        guard let probe = self.sweep?.begin(tag: self.machine.bootID, at: self.clock.now) else { return }
        self.parts.mqtt.publish(
            MQTTMessage(topic: probe.topic, payload: probe.payload, qos: .atLeastOnce, retain: false),
            queueing: .dropWhenOffline)
    }

    /// A probe that does not come back (an ACL that hides the discovery topics from the panel)
    /// must not keep the panel out of Home Assistant: discovery then goes out unswept.
    private func giveUpSweepIfOverdue() {
        guard self.linkUp, let publications = self.sweep?.giveUpIfOverdue(now: self.clock.now) else { return }
        self.logger.warning(
            """
            discovery: the sweep's probe did not come back; publishing without removing stale configs \
            (may the panel's broker account read its own discovery topics?)
            """,
            metadata: ["mqtt.topic": "\(self.topics.discoverySweepProbe)"])
        self.publishDiscovery(publications)
    }

    private func publishDiscovery(_ publications: [DiscoverySweep.Publication]) {
        for publication in publications {
            self.parts.mqtt.publish(
                MQTTMessage(topic: publication.topic, payload: publication.payload, qos: .atLeastOnce, retain: publication.retain),
                queueing: publication.retain ? .latestWins(key: publication.topic) : .bounded)
        }
    }
}

extension TemperatureReading {
    init(_ sample: SensorSample) {
        switch sample {
        case .celsius(let value):
            self = value.isFinite ? .valid(Celsius(value)) : .invalid("reading is not a number")
        case .invalid(let reason):
            self = .invalid(reason)
        }
    }
}
