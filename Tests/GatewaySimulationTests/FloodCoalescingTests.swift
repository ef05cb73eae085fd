@testable import Gateway
import GatewayProtocol
import GatewaySimulation
import Logging
import MQTT
import SafetyCore
import TestKit
import Testing

/// Under a command flood the gateway's own output stays bounded: `command_rejected` events are
/// coalesced per code per second (every command still answered on `res`), a flood of Home Assistant
/// births costs one republish, and memory is trimmed once the flood is over until the outgoing queue
/// has drained.
@Suite struct FloodCoalescingTests {
    let topics = Topics(prefix: "rlt", deviceID: "p1")

    // MARK: RejectionCoalescer (the pure value)

    @Test func rejections_onePerCodePerWindow_theRestFoldedIntoTheNextEvent() {
        var coalescer = RejectionCoalescer(window: 1)
        let t0 = Instant.seconds(10)
        let first = coalescer.offer(command: nil, code: .json, message: "m0", now: t0)
        #expect(first == .init(command: nil, code: .json, message: "m0", suppressed: 0))
        var published = 0
        for index in 1...5 {
            let rejection = coalescer.offer(
                command: "c\(index)", code: .json, message: "m\(index)", now: t0.adding(seconds: 0.1))
            if rejection != nil { published += 1 }
        }
        #expect(published == 0, "folded within the window")
        // Another code has its own window.
        let other = coalescer.offer(command: nil, code: .rate, message: "r", now: t0.adding(seconds: 0.2))
        #expect(other?.suppressed == 0)
        let early = coalescer.due(now: t0.adding(seconds: 0.9))
        #expect(early.isEmpty, "nothing is due before the window is over")
        let summaries = coalescer.due(now: t0.adding(seconds: 1))
        #expect(summaries == [.init(command: "c5", code: .json, message: "m5", suppressed: 4)])
        let later = coalescer.due(now: t0.adding(seconds: 5))
        #expect(later.isEmpty)
    }

    @Test func rejectionAfterTheWindow_carriesWhatNoTickFlushed() {
        var coalescer = RejectionCoalescer(window: 1)
        let t0 = Instant.seconds(1)
        _ = coalescer.offer(command: nil, code: .stale, message: "a", now: t0)
        _ = coalescer.offer(command: nil, code: .stale, message: "b", now: t0.adding(seconds: 0.5))
        _ = coalescer.offer(command: nil, code: .stale, message: "c", now: t0.adding(seconds: 0.6))
        let next = coalescer.offer(command: "start", code: .stale, message: "d", now: t0.adding(seconds: 1.5))
        #expect(next == .init(command: "start", code: .stale, message: "d", suppressed: 2))
    }

    /// Every rejection is described by one event or counted in exactly one event's `suppressed`.
    @Test(arguments: [UInt64(1), 7, 99])
    func everyRejectionIsAccountedFor_andNoCodeGetsMoreThanOneEventPerWindow(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var coalescer = RejectionCoalescer(window: 1)
        let codes: [ResponseCode] = [.json, .rate, .stale, .schema]
        var offered: [ResponseCode: Int] = [:]
        var accounted: [ResponseCode: Int] = [:]
        var published: [ResponseCode: [Instant]] = [:]
        var now = Instant.seconds(1)
        func publish(_ rejection: RejectionCoalescer.Rejection) {
            accounted[rejection.code, default: 0] += 1 + rejection.suppressed
            published[rejection.code, default: []].append(now)
        }
        for step in 0..<20_000 {
            now = now.adding(seconds: Double(random.next() % 1000) / 1e6)  // up to 1 ms apart
            let code = codes[Int(random.next() % 4)]
            offered[code, default: 0] += 1
            if let rejection = coalescer.offer(command: nil, code: code, message: "\(step)", now: now) {
                publish(rejection)
            }
            if step % 97 == 0 { coalescer.due(now: now).forEach(publish) }
        }
        now = now.adding(seconds: 1)
        coalescer.due(now: now).forEach(publish)
        #expect(accounted == offered)
        for (code, instants) in published {
            for (earlier, later) in zip(instants, instants.dropFirst()) {
                #expect(later.seconds(since: earlier) >= 1, "\(code): two events within a second")
            }
        }
    }

    // MARK: Through the loop

    final class Counter {
        var value = 0
    }

    final class Harness {
        let clock = VirtualClock()
        let publisher: SimulatedPublisher
        let loop: GatewayLoop
        /// How often the loop asked for a delayed discovery republish.
        let republishRequests = Counter()

        init(topics: Topics) {
            self.publisher = SimulatedPublisher(topics: [topics.event, topics.response])
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            let lines = SimulatedLines([.red, .nir, .master])
            let driver = OutputDriver(lines: lines, pwm: [:], outputs: [.red, .nir, .master], logger: logger)
            let requests = self.republishRequests
            let parts = GatewayParts(
                mqtt: self.publisher, outputs: driver, sensor: nil, ledger: nil,
                info: DeviceInfo(
                    name: "t", model: "t", serial: "t", softwareVersion: "t",
                    wavelengthsNm: PerChannel(red: 660, nir: 850), settings: .defaults),
                discovery: nil, telemetry: .init(runningSeconds: 5, idleSeconds: 60), identify: {},
                scheduleDiscoveryRepublish: { requests.value += 1 })
            self.loop = GatewayLoop(
                machine: SafetyMachine(settings: .defaults, bootID: "b"), parts: parts, topics: topics,
                clock: self.clock, logger: logger)
            self.loop.feed(.boot(BootContext()))
        }
    }

    @Test func floodOfRefusedCommands_everyOneAnswered_eventsOnePerCodePerSecond() throws {
        let harness = Harness(topics: self.topics)
        _ = harness.publisher.take()
        for _ in 0..<50 {
            let command = MQTTMessage(topic: self.topics.command, text: "not json", qos: .atLeastOnce)
            harness.loop.handle(.mqtt(.message(command)))
        }
        let sent = harness.publisher.take()
        let responses = sent.filter { $0.topic == self.topics.response }
        var events = try sent.filter { $0.topic == self.topics.event }
            .map { try EventDocument(json: JSONValue.parse($0.payload)) }
        #expect(responses.count == 50, "every refused command still gets its answer")
        // The rate bucket (burst 10) refuses the later ones E_RATE: one event per code at once.
        #expect(events.map(\.rejectionCode) == [.json, .rate])
        harness.clock.advance(to: harness.clock.nanoseconds + 1_000_000_000)
        harness.loop.handle(.tick)
        events += try harness.publisher.take().filter { $0.topic == self.topics.event }
            .map { try EventDocument(json: JSONValue.parse($0.payload)) }
        #expect(events.count == 4, "one summary per code once its second is over")
        #expect(events.reduce(0) { $0 + 1 + $1.suppressedRejections } == 50, "every refusal is accounted for")
    }

    @Test func floodOfHomeAssistantBirths_asksForOneRepublish_untilItHasHappened() {
        let harness = Harness(topics: self.topics)
        let birth = MQTTEvent.message(MQTTMessage(topic: self.topics.homeAssistantStatus, text: "online"))
        for _ in 0..<1000 { harness.loop.handle(.mqtt(birth)) }
        #expect(harness.republishRequests.value == 1, "one pending republish, not one timer per birth")
        harness.loop.handle(.mqtt(.message(MQTTMessage(topic: self.topics.homeAssistantStatus, text: "offline"))))
        harness.loop.handle(.republishDiscovery)
        harness.loop.handle(.mqtt(birth))
        #expect(harness.republishRequests.value == 2, "a birth after the republish asks again")
    }

    // MARK: MemoryTrimSchedule

    @Test func trim_afterAFlood_everyQuietSecondUntilTheOutgoingQueueDrained_thenAFewMore() {
        var schedule = MemoryTrimSchedule()
        /// The decisions of successive seconds.
        func checks(_ seconds: [(shed: Int, drained: Bool)]) -> [Bool] {
            seconds.map { schedule.check(shedTotal: $0.shed, outgoingDrained: $0.drained) }
        }
        #expect(checks([(0, true)]) == [false], "no flood, no trim")
        #expect(checks([(5000, false), (9000, false)]) == [false, false], "not while messages are being shed")
        #expect(checks(Array(repeating: (9000, false), count: 30)) == Array(repeating: true, count: 30),
            "every quiet second while the outgoing queue still drains")
        let afterDrain = checks(Array(repeating: (9000, true), count: MemoryTrimSchedule.trimsAfterDrain + 1))
        #expect(afterDrain == Array(repeating: true, count: MemoryTrimSchedule.trimsAfterDrain) + [false],
            "a few more once drained, then done until the next flood")
        #expect(checks([(9001, true), (9001, true)]) == [false, true], "the next flood starts it again")
    }
}
