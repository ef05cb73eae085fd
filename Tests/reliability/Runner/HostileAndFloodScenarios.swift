import Foundation
import GatewayProtocol
import MQTT
import SafetyCore
import Synchronization
import TestSupport

/// One hostile message and what it must get: a response with `ok:false` (or `true` for a
/// harmless read such as `get`), or nothing (ignored by design: not a command topic).
struct HostileMessage {
    var label: String
    var topic: String
    var payload: [UInt8]
    var qos: MQTTQoS = .atLeastOnce
    var retain = false
    var expectsResponse: Bool
}

/// Samples the LED lines every 2 ms in the background and counts any sample with a line on.
final class LineWatcher: Sendable {
    private final class Counter: Sendable {
        let value = Mutex(0)
    }
    private let onSamples = Counter()
    private let task: Mutex<Task<Void, Never>?> = Mutex(nil)

    init(_ chip: SimulatedChipDirectory) {
        let counter = self.onSamples
        let task = Task {
            while !Task.isCancelled {
                if [Panel.red, Panel.nir, Panel.master].contains(where: { chip.value(line: $0) == 1 }) {
                    counter.value.withLock { $0 += 1 }
                }
                try? await Task.sleep(for: .milliseconds(2))
            }
        }
        self.task.withLock { $0 = task }
    }

    var count: Int { self.onSamples.value.withLock { $0 } }
    func stop() { self.task.withLock { $0?.cancel() } }
}

enum HostileScenarios {
    static func messages(base: String) -> [HostileMessage] {
        var list: [HostileMessage] = []
        let cmd = "\(base)/cmd"
        func text(
            _ label: String, _ payload: String, topic: String? = nil, qos: MQTTQoS = .atLeastOnce,
            retain: Bool = false, response: Bool = true
        ) {
            list.append(
                HostileMessage(
                    label: label, topic: topic ?? cmd, payload: Array(payload.utf8), qos: qos,
                    retain: retain, expectsResponse: response))
        }
        func bytes(_ label: String, _ payload: [UInt8], topic: String? = nil, response: Bool = true) {
            list.append(HostileMessage(label: label, topic: topic ?? cmd, payload: payload, expectsResponse: response))
        }
        let start = #"{"id":"h","cmd":"start","args":{"duration_s":30}}"#
        // Random topics under the prefix (not command topics): ignored by design.
        var generator = SystemRandomNumberGenerator()
        for index in 0..<12 {
            let segment = String(
                (0..<Int.random(in: 1...12, using: &generator)).map { _ in
                    "abcdefghijklmnopqrstuvwxyz0123456789-_".randomElement(using: &generator)!
                })
            text("random topic \(index)", start, topic: "\(base)/\(segment)", response: false)
        }
        for topic in [
            "\(base)/cmd/x", "\(base)/state", "\(base)/res", "\(base)/status", "\(base)/info", "rlt/other/cmd",
            "rlt/\(base.split(separator: "/").last ?? "")x/cmd", "rlt/_group/cmd",
        ] {
            text("other topic \(topic)", start, topic: topic, response: false)
        }
        text(
            "fake retained running state", #"{"state":"running","emitting":true}"#, topic: "\(base)/state",
            retain: true, response: false)
        text("fleet start", start, topic: "rlt/_all/cmd")
        text("start to a group it is not in", start, topic: "rlt/_group/g1/cmd", response: false)
        // Sizes up to the broker's limit (max_packet_size 1 MiB below).
        for size in [4097, 65536, 1_000_000] {
            text(
                "oversized \(size) B",
                #"{"id":"big","cmd":"start","pad":""# + String(repeating: "x", count: size) + #""}"#)
        }
        // Invalid UTF-8 and raw binary.
        bytes("invalid UTF-8 in id", Array(#"{"id":""#.utf8) + [0xFF, 0xFE] + Array(#"","cmd":"start"}"#.utf8))
        bytes("invalid UTF-8 in cmd", Array(#"{"id":"u2","cmd":"st"#.utf8) + [0xC0, 0x80] + Array(#"art"}"#.utf8))
        bytes("surrogate bytes", Array(#"{"id":"u3","cmd":""#.utf8) + [0xED, 0xA0, 0x80] + Array(#""}"#.utf8))
        for index in 0..<5 {
            bytes("random bytes \(index)", (0..<Int.random(in: 1...300)).map { _ in UInt8.random(in: 0...255) })
        }
        bytes("NUL inside JSON", Array(#"{"id":"n0","cmd":"get"#.utf8) + [0] + Array(#""}"#.utf8))
        // Deep nesting, within and beyond the size limit.
        text("4000 nested arrays", String(repeating: "[", count: 4000))
        text("nested args", #"{"id":"d2","cmd":"start","args":"# + String(repeating: "[", count: 3900))
        text("nested objects", String(repeating: #"{"a":"#, count: 800) + "1" + String(repeating: "}", count: 800))
        text("100k nested arrays", String(repeating: "[", count: 100_000))
        // Huge and odd numbers.
        for value in [
            "1e308", "1e309", "-1e309", "123456789012345678901234567890", "1e-320", "0", "-0", "-1",
            "-0.0", "NaN", "\"NaN\"", "Infinity", "-Infinity", "\"60\"", "true", "[60]", "{}", "6e0x",
        ] {
            text("duration_s \(value)", #"{"id":"n-\#(value.count)","cmd":"start","args":{"duration_s":\#(value)}}"#)
        }
        text("intensity 1e400", #"{"id":"i1","cmd":"start","args":{"intensity_pct":1e400}}"#)
        text("dose NaN", #"{"id":"i2","cmd":"start","args":{"dose_j_cm2":NaN}}"#)
        text("ts huge", #"{"id":"i3","cmd":"start","ts":1e300}"#)
        text("ttl negative", #"{"id":"i4","cmd":"start","ttl_ms":-5}"#)
        // Unknown fields and shapes.
        text("unknown top-level field", #"{"id":"f1","cmd":"start","admin":true}"#)
        text("unknown arg", #"{"id":"f2","cmd":"start","args":{"duraton_s":30}}"#)
        text("args not an object", #"{"id":"f3","cmd":"start","args":[1,2]}"#)
        text("id not a string", #"{"id":{"x":1},"cmd":"start"}"#)
        text("id too long", #"{"id":""# + String(repeating: "i", count: 500) + #"","cmd":"start"}"#)
        text("duplicate keys", #"{"id":"k1","cmd":"get","cmd":"start"}"#)
        text("trailing garbage", #"{"id":"t1","cmd":"start"} {"#)
        text("BOM prefix", "\u{FEFF}" + start)
        text("unknown command", #"{"id":"c1","cmd":"selfdestruct"}"#)
        text("empty", "")
        text("JSON null", "null")
        text("array", #"[{"id":"a1","cmd":"start"}]"#)
        // Commands in the wrong state, stale, acks.
        text("resume while idle", #"{"id":"w1","cmd":"resume"}"#)
        text("pause while idle", #"{"id":"w2","cmd":"pause"}"#)
        text("ack all", #"{"id":"w3","cmd":"ack","args":{"fault":"all"}}"#)
        text("ack unknown", #"{"id":"w4","cmd":"ack","args":{"fault":"F_NOPE"}}"#)
        text("stale start", #"{"id":"s1","cmd":"start","ts":1000,"ttl_ms":1000}"#)
        text("set above the hard limit", #"{"id":"s2","cmd":"set","args":{"duration_s":99999}}"#)
        // QoS 2 and retained junk.
        text("QoS 2 junk", #"{"id":"q2","cmd":"start","args":{"duration_s":-5}}"#, qos: .exactlyOnce)
        text("QoS 2 garbage", "%%%", qos: .exactlyOnce)
        text("retained start", start, retain: true)
        text("retained garbage", "\u{1}\u{2}junk", retain: true)
        return list
    }

    /// Fields that must not change under hostile input.
    static func fingerprint(_ snapshot: StateDocument?) -> String {
        guard let s = snapshot else { return "no snapshot" }
        return "state \(s.state.rawValue), session \(s.sessionID ?? "none"), faults \(s.faults.map(\.rawValue)), "
            + "presets \(s.presets), sessions_24h \(s.sessions24h), dose_24h \(s.dose24h), emitting \(s.emitting)"
    }

    static func run() async throws -> String? {
        let options = MosquittoBroker.Options(extraConfig: ["max_packet_size 1100000"])
        return try await withPanel(brokerOptions: options) { panel in
            try await panel.startGateway()
            let watcher = LineWatcher(panel.chip)
            defer { watcher.stop() }
            let baseline = self.fingerprint(try await panel.snapshot())
            let rssBefore = panel.rssKiB ?? 0
            let messages = Self.messages(base: panel.base)
            var stateChanges: [String] = []
            var missingResponses: [String] = []
            var unexpected: [String] = []
            var emittingAfter: [String] = []
            for message in messages {
                let onBefore = watcher.count
                panel.client.clearMessages()
                panel.client.publish(
                    MQTTMessage(
                        topic: message.topic, payload: message.payload, qos: message.qos, retain: message.retain))
                let response = await panel.client.waitForMessage(
                    topic: "\(panel.base)/res", timeout: .milliseconds(message.expectsResponse ? 2000 : 300))
                if message.expectsResponse, response == nil { missingResponses.append(message.label) }
                // A message published on `res` itself comes back as it was sent: the test's bytes, not an answer.
                if let response, message.topic != "\(panel.base)/res" {
                    if !message.expectsResponse {
                        unexpected.append("\(message.label): \(response.payloadText.prefix(80))")
                    }
                    let answer = try Panel.read(response, ResponseDocument.init(json:))
                    if answer.ok, !["get", "ping", "ack"].contains(answer.command ?? "") {
                        unexpected.append("\(message.label) accepted: \(response.payloadText.prefix(120))")
                    }
                }
                let now = self.fingerprint(try await panel.snapshot())
                if now != baseline { stateChanges.append("\(message.label): \(now)") }
                if watcher.count != onBefore { emittingAfter.append(message.label) }
                try? await Task.sleep(for: .milliseconds(200))  // stay near the 5/s rate limit
                if message.retain {
                    panel.client.publish(
                        MQTTMessage(topic: message.topic, payload: [], qos: .atLeastOnce, retain: true))
                }
            }
            let alive = try await panel.snapshot() != nil
            let rssAfter = panel.rssKiB ?? 0
            report(
                "HOSTILE messages: \(messages.count), state changes: \(stateChanges.count), emitting samples: "
                    + "\(watcher.count), RSS \(rssBefore / 1024) → \(rssAfter / 1024) MiB")
            try require(alive, "daemon stopped answering after hostile input; log:\n\(panel.logTail)")
            try require(stateChanges.isEmpty, "state changed: \(stateChanges.prefix(3))")
            try require(watcher.count == 0, "a line went on during hostile input, after: \(emittingAfter)")
            try require(missingResponses.isEmpty, "no error response for: \(missingResponses)")
            try require(unexpected.isEmpty, "unexpected: \(unexpected.prefix(3))")
            try require(rssAfter - rssBefore <= 8 * 1024, "RSS grew from \(rssBefore) KiB to \(rssAfter) KiB")
            return "\(messages.count) hostile messages, 0 state changes, 0 emitting samples"
        }
    }
}

/// A sustained command flood at the rate the broker carries, with the daemon's RSS sampled before,
/// during and after. After the flood the daemon must answer, have no line on, and its RSS must be
/// within 8 MiB (or 25 %) of before. A session runs meanwhile, and the interlock opening halfway
/// must still switch the lines off within 0.5 s.
enum FloodScenarios {
    static func run(seconds: Double) async throws -> String? {
        try await withPanel { panel in
            try await panel.startGateway()
            await sleep(3)
            _ = try await panel.snapshot()
            let before = panel.rssKiB ?? 0
            let flooder = try TestClient(port: panel.broker.port)
            guard await flooder.waitForConnection() else { throw Failure("flood client never connected") }
            // A session runs through the flood; halfway, the interlock opens: the lines must go off
            // within 0.5 s however many commands are queued.
            let started = try await panel.start(duration: 60)
            try require(started?.ok == true, "start refused: \(String(describing: started))")
            var interlockOpened = false
            var interlockReaction: Double?
            let halfway = ContinuousClock.now + .milliseconds(Int(seconds * 500))
            let payloads: [[UInt8]] = [
                Array(#"{"cmd":"get"}"#.utf8), Array(#"{"id":"x","cmd":"start","args":{"duration_s":-1}}"#.utf8),
                Array("not json at all".utf8), Array(#"{"cmd":"resume"}"#.utf8),
            ]
            var sent = 0
            var peak = before
            var samples: [Int] = []
            var responses = 0
            let end = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
            var nextSample = ContinuousClock.now
            while ContinuousClock.now < end {
                for _ in 0..<100 {
                    flooder.client.publish(
                        MQTTMessage(
                            topic: "\(panel.base)/cmd", payload: payloads[sent % payloads.count], qos: .atMostOnce),
                        queueing: .dropWhenOffline)
                    sent += 1
                }
                if !interlockOpened, ContinuousClock.now >= halfway {
                    interlockOpened = true
                    panel.setInterlock(closed: false)
                    interlockReaction = await panel.secondsUntilLinesOff(timeout: 5)
                }
                responses += panel.client.messages(topic: "\(panel.base)/res").count
                panel.client.clearMessages()
                if ContinuousClock.now >= nextSample {
                    let rss = panel.rssKiB ?? 0
                    samples.append(rss)
                    peak = max(peak, rss)
                    nextSample = ContinuousClock.now + .seconds(1)
                }
                try? await Task.sleep(for: .milliseconds(2))
            }
            await flooder.stop()
            let floodEnded = ContinuousClock.now
            var answered = false
            while !answered, ContinuousClock.now - floodEnded < .seconds(90) {
                panel.client.clearMessages()
                answered = try await panel.snapshot(timeout: .seconds(3)) != nil
            }
            let answerDelay = Panel.seconds(ContinuousClock.now - floodEnded)
            await sleep(11)  // the daemon trims freed memory every 5 s for 30 s after a flood
            let after = panel.rssKiB ?? 0
            let rate = Double(sent) / seconds
            report(
                String(
                    format:
                        "LOAD flood %.0f s: %d sent (%.0f msg/s), %d responses seen; RSS before %.1f MiB, peak %.1f MiB, after %.1f MiB; answered get %.1f s after the flood; interlock → lines off in %.3f s",
                    seconds, sent, rate, responses, Double(before) / 1024, Double(peak) / 1024, Double(after) / 1024,
                    answerDelay, interlockReaction ?? -1))
            try require(
                interlockReaction.map { $0 <= 0.5 } == true,
                "interlock during the flood: lines off after \(interlockReaction ?? -1) s")
            try require(panel.gateway?.isRunning == true, "daemon died under the flood; log:\n\(panel.logTail)")
            try require(answered, "daemon did not answer get after the flood")
            let bound = max(8 * 1024, before / 4)
            try require(
                after - before <= bound, "RSS grew from \(before) KiB to \(after) KiB (bound +\(bound) KiB)")
            return String(
                format: "RSS %.1f → %.1f MiB (peak %.1f), %.0f msg/s", Double(before) / 1024,
                Double(after) / 1024, Double(peak) / 1024, rate)
        }
    }
}
