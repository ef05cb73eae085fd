import Foundation
import GPIO
import GatewayConfig
import GatewayProtocol
import Ledger
import Logging
import MQTT
import SafetyCore
import Sensors
import ServiceLifecycle

/// The daemon: opens the hardware (outputs OFF first), the ledger, the sensor and MQTT, then runs
/// one owner task over one event stream until SIGTERM/SIGINT.
///
/// Start-up order is a safety property (S13): the output lines are requested with their OFF level
/// before anything else can fail or wait, and they are driven off again and released last.
public struct GatewayService: Service {
    public let configuration: GatewayConfiguration
    /// Read once by `run` before any line was touched; never read again from the files.
    public let secrets: GatewaySecrets
    public let logger: Logger
    /// Called once outputs are off and MQTT is set up (systemd `READY=1`).
    public var onReady: @Sendable () -> Void
    /// Called on every healthy loop turn, at most a few times per second (systemd `WATCHDOG=1`).
    public var onHealthy: @Sendable () -> Void

    public init(
        configuration: GatewayConfiguration, secrets: GatewaySecrets, logger: Logger,
        onReady: @escaping @Sendable () -> Void = {}, onHealthy: @escaping @Sendable () -> Void = {}
    ) {
        self.configuration = configuration
        self.secrets = secrets
        self.logger = logger
        self.onReady = onReady
        self.onHealthy = onHealthy
    }

    public func run() async throws {
        let configuration = self.configuration
        let logger = self.logger
        let bootID = Self.makeBootID()

        if case .simulated(let directory) = configuration.gpioBackend {
            // The simulator is a directory of files; creating it is part of "plug in the simulated chip".
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let gpio = try GPIOController.open(
            backend: configuration.gpioBackend, outputs: configuration.gpioOutputs, inputs: configuration.gpioInputs,
            consumer: "rlt-gateway", logger: logger)
        let pwm: [Channel: SysfsPWM]
        do {
            pwm = try configuration.makePWM()
        } catch {
            gpio.close()
            throw error
        }
        let outputs = OutputDriver(
            lines: GPIOOutputLines(gpio), pwm: pwm.mapValues { $0 as any DutyOutput },
            outputs: configuration.outputRoles, logger: logger)
        for warning in configuration.warnings {
            logger.warning("config: \(warning)")
        }
        do {
            try await self.run(configuration: configuration, gpio: gpio, outputs: outputs, bootID: bootID)
        } catch {
            outputs.close()
            throw error
        }
        outputs.close()
        logger.info("stopped; outputs off and released")
    }

    private func run(
        configuration: GatewayConfiguration, gpio: GPIOController, outputs: OutputDriver, bootID: String
    ) async throws {
        let logger = self.logger
        let ledger = try SessionLedger(path: configuration.storage.path, retentionDays: configuration.storage.retentionDays)
        let bootTime = SystemClock().ledgerTime
        let boot = try ledger.recover(at: bootTime)
        if !bootTime.trusted {
            logger.notice(
                """
                wall clock not synchronised (no NTP sync, no RTC): ledger stamps stay provisional until it is; \
                earlier boots' light counts as recent and nothing is purged
                """)
        }
        if let unclean = boot.uncleanSessionID {
            logger.warning("previous run left a session open; closed as unclean_shutdown", metadata: ["session.id": "\(unclean)"])
        }
        let signing = self.secrets.signing
        let sensor = configuration.makeSensor()
        let topics = configuration.topics
        let version = GatewayVersion.current
        let (stream, continuation) = AsyncStream.makeStream(of: GatewayInput.self)
        // MQTT events go from libmosquitto's thread straight into the loop's stream; the backlog
        // sheds a flood there and never a stop.
        let backlog = InboundBacklog()
        let mqtt = try MQTTClient(
            configuration: configuration.mqttClientConfiguration(
                topics: topics, bootID: bootID, version: version, password: self.secrets.mqttPassword),
            logger: logger,
            deliver: { Self.admit($0, backlog: backlog, topics: topics, into: continuation) })
        // Records are written on their own thread: an fsync never holds a tick, an edge or a sample.
        let writer = LedgerWriter(store: ledger) { continuation.yield(.ledger($0)) }
        let parts = GatewayParts(
            mqtt: mqtt, outputs: outputs, sensor: sensor, ledger: writer,
            info: configuration.deviceInfo(version: version),
            discovery: configuration.discoverySweep(topics: topics, version: version),
            telemetry: .init(
                runningSeconds: configuration.telemetry.runningIntervalSeconds,
                idleSeconds: configuration.telemetry.idleIntervalSeconds),
            identify: { outputs.identify() },
            scheduleDiscoveryRepublish: {
                Task {
                    try? await Task.sleep(for: .milliseconds(Int.random(in: 500...3000)))
                    continuation.yield(.republishDiscovery)
                }
            },
            shedIncoming: { backlog.totalDropped },
            commandKey: signing.key.map { CommandSignature(key: $0) })
        var settings = configuration.safety
        settings.signing = signing.rule
        let loop = GatewayLoop(
            machine: SafetyMachine(settings: settings, bootID: bootID), parts: parts, topics: topics,
            logger: logger)
        if signing.rule.required {
            logger.info(
                "signed commands required (stop excepted)",
                metadata: ["commands.replay_window_s": "\(signing.rule.replayWindowSeconds)"])
        }
        loop.feed(.boot(boot))
        do {
            for (name, active) in try gpio.readInputs() {
                loop.handle(.edge(GPIOInputEdge(name: name, active: active)))
            }
        } catch {
            for spec in configuration.gpioInputs {
                let failed = GPIOInputEdge(
                    name: spec.name, active: false, failure: error.message)
                loop.handle(.edge(failed))
            }
        }
        // The first reading is taken at once, on the poller's thread (a hung sensor must not keep the
        // daemon from coming online); until it arrives the stale-sensor clock runs from the boot.
        let poller = SensorPoller(sensor: sensor, intervalSeconds: Double(configuration.sensor.intervalMs) / 1000)
        poller.start { continuation.yield(.sample($0)) }
        mqtt.start()
        self.onReady()
        logger.info(
            "rlt-gateway running",
            metadata: ["device.id": "\(configuration.device.id)", "boot.id": "\(bootID)", "mqtt.topic": "\(topics.base)"])

        let onHealthy = self.onHealthy
        var lastDropReport = ContinuousClock.now
        var lastTrimCheck = ContinuousClock.now
        var trim = MemoryTrimSchedule()
        let pace = TickPace()
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await edge in gpio.inputEdges { continuation.yield(.edge(edge)) }
                }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: pace.interval)
                        continuation.yield(.tick)
                    }
                }
                for await input in stream {
                    if case .mqtt(.message) = input { backlog.handled() }
                    loop.handle(input)
                    pace.set(fast: loop.needsFastTicks)
                    if loop.isShuttingDown { break }
                    if case .tick = input {
                        onHealthy()
                        if ContinuousClock.now - lastTrimCheck >= .seconds(1) {
                            lastTrimCheck = ContinuousClock.now
                            let statistics = mqtt.statistics
                            let drained = statistics.inFlight == 0 && statistics.queued == 0
                            if trim.check(shedTotal: backlog.totalDropped, outgoingDrained: drained) {
                                Self.releaseFreeMemory()
                            }
                        }
                        if ContinuousClock.now - lastDropReport >= .seconds(5) {
                            lastDropReport = ContinuousClock.now
                            let dropped = backlog.takeDropped()
                            if dropped > 0 {
                                logger.warning(
                                    "MQTT flood: messages dropped unread",
                                    metadata: ["mqtt.dropped": "\(dropped)", "mqtt.backlog_limit": "\(InboundBacklog.limit)"])
                            }
                        }
                    }
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            continuation.yield(.shutdown)
        }
        poller.stop()
        // The shutdown's records (the session closed as `shutdown`) must be on disk before exit, or
        // the next boot takes the session for a crash.
        if !writer.finish(within: GatewayLoop.ledgerWriteBound) {
            logger.error("ledger records still unwritten at exit")
        }
        continuation.finish()
        await mqtt.stop(finalMessages: [
            MQTTMessage(
                topic: topics.status, payload: StatusDocument.offline(reason: "shutdown").json.bytes, qos: .atLeastOnce,
                retain: true)
        ])
    }

    /// Passes one MQTT event into the loop's stream, shedding a flood past the backlog limit but
    /// never a stop.
    static func admit(
        _ event: MQTTEvent, backlog: InboundBacklog, topics: Topics,
        into continuation: AsyncStream<GatewayInput>.Continuation
    ) {
        if case .message(let message) = event {
            let admitted = backlog.admit {
                guard case .command = topics.classify(message.topic) else { return false }
                return CommandDecoder.isStop(message.payload)
            }
            guard admitted else { return }
        }
        continuation.yield(.mqtt(event))
    }

    /// `malloc_trim(0)`: glibc keeps freed heap pages mapped; after a burst this returns them.
    /// Looked up at run time because `<malloc.h>` is not part of Swift's Glibc module.
    static func releaseFreeMemory() {
        #if canImport(Glibc)
            typealias MallocTrim = @convention(c) (Int) -> Int32
            guard let symbol = dlsym(nil, "malloc_trim") else { return }
            _ = unsafeBitCast(symbol, to: MallocTrim.self)(0)
        #endif
    }

    static func makeBootID() -> String {
        let alphabet = Array("0123456789abcdef")
        return String((0..<8).map { _ in alphabet[Int.random(in: 0..<16)] })
    }
}
