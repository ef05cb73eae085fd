#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import GatewayProtocol
import Logging
import MQTT

/// Which panels a fleet command goes to.
public enum FleetTarget: Hashable, Sendable {
    /// `<prefix>/_all/cmd`: every panel.
    case all
    /// `<prefix>/_group/<g>/cmd`: the panels configured with `device.groups: [g]`.
    case group(String)

    /// - Throws: ``FleetError`` for a group name outside the contract's charset.
    public static func named(group: String) throws(FleetError) -> FleetTarget {
        guard FleetTopics.isDeviceID(group) else { throw FleetError.invalidGroup(group) }
        return .group(group)
    }

    func topic(_ topics: FleetTopics) -> String {
        switch self {
        case .all: topics.allCommand
        case .group(let group): topics.groupCommand(group)
        }
    }
}

/// One panel's answer to a fleet command, as published on its `res` topic.
public struct FleetAnswer: Hashable, Sendable {
    public var device: String
    public var ok: Bool
    public var code: String?
    public var message: String
    public var state: String?
}

/// What came back from a fleet command within the timeout.
public struct FleetCommandReport: Hashable, Sendable {
    public var commandID: String
    public var topic: String
    /// Whether the command was handed to the broker at all (false: no connection before the timeout).
    public var sent: Bool
    /// Answers by device id, sorted by device id.
    public var answers: [FleetAnswer]
    /// Panels whose retained status said online but which did not answer (only meaningful for ``FleetTarget/all``).
    public var silent: [String]

    /// 0 when every answer was `ok` and no online panel stayed silent; 1 when a panel refused or
    /// stayed silent; 3 when nothing answered at all.
    public var exitCode: Int32 {
        if !self.sent || self.answers.isEmpty { return 3 }
        return self.answers.allSatisfy(\.ok) && self.silent.isEmpty ? 0 : 1
    }
}

/// Sends one fleet command (`stop`, `get`, `identify`, `ping`) and collects the answers per panel.
///
/// It subscribes to `<prefix>/+/res` and `<prefix>/+/status` first, waits `settle` for the broker to
/// replay retained statuses (so it knows which panels are online), publishes the command with a fresh
/// id, and gathers every `res` carrying that id until `timeout`. For `_all` it finishes early once
/// every online panel has answered.
public struct FleetCommander: Sendable {
    public let topics: FleetTopics
    private let connection: MQTTClientConfiguration
    private let logger: Logger

    public init(connection: MQTTClientConfiguration, topics: FleetTopics, logger: Logger) {
        var connection = connection
        connection.subscriptions = [
            MQTTSubscription(filter: topics.filter(.response), qos: .atLeastOnce),
            MQTTSubscription(filter: topics.filter(.status), qos: .atLeastOnce),
        ]
        connection.will = nil
        connection.birth = []
        self.connection = connection
        self.topics = topics
        self.logger = logger
    }

    private enum Input: Sendable {
        case mqtt(MQTTEvent)
        case publishNow
        case deadline
    }

    /// - Parameter key: signs the command for panels that require signatures (`commands.signing`); a fleet
    ///   `stop` acts unsigned anyway, but a signed one is what a signed fleet sends everywhere.
    /// - Throws: ``MQTTError`` when the connection settings are invalid.
    public func send(
        _ command: String, to target: FleetTarget, timeout: Duration, settle: Duration = .milliseconds(500),
        key: CommandSignature? = nil
    ) async throws -> FleetCommandReport {
        let id = "fleet-\(UInt32.random(in: 0...UInt32.max))"
        let topic = target.topic(self.topics)
        let (inputs, continuation) = AsyncStream.makeStream(of: Input.self)
        // Events go straight into this command's one input stream (no forwarding task).
        let client = try MQTTClient(configuration: self.connection, logger: self.logger) { event in
            continuation.yield(.mqtt(event))
        }
        let deadline = Task {
            try? await Task.sleep(for: timeout + settle)
            continuation.yield(.deadline)
        }
        var settleTask: Task<Void, Never>?
        defer {
            deadline.cancel()
            settleTask?.cancel()
        }

        client.start()
        var online = Set<String>()
        var answers: [String: FleetAnswer] = [:]
        var sent = false
        loop: for await input in inputs {
            switch input {
            case .mqtt(.connected):
                guard settleTask == nil else { continue }
                settleTask = Task {
                    try? await Task.sleep(for: settle)
                    continuation.yield(.publishNow)
                }
            case .mqtt(.disconnected):
                continue
            case .mqtt(.message(let message)):
                guard let (device, kind) = self.topics.classify(message.topic),
                    let value = try? JSONValue.parse(message.payload)
                else { continue }
                switch kind {
                case .status:
                    guard let status = try? StatusDocument(json: value) else { continue }
                    if status.isOnline { online.insert(device) } else { online.remove(device) }
                case .response:
                    guard let answer = try? ResponseDocument(json: value), answer.id == id else { continue }
                    answers[device] = FleetAnswer(
                        device: device, ok: answer.ok, code: answer.code?.rawValue, message: answer.message,
                        state: answer.state.rawValue)
                    if target == .all, sent, !online.isEmpty, online.isSubset(of: Set(answers.keys)) { break loop }
                default:
                    continue
                }
            case .publishNow:
                let payload =
                    key?.signedPayload(
                        topic: topic, id: id, command: command, args: nil, ts: Self.unixMilliseconds(), ttlMs: 10_000)
                    ?? CommandRequest(id: id, command: command).json.bytes
                client.publish(
                    MQTTMessage(topic: topic, payload: payload, qos: .atLeastOnce, retain: false),
                    queueing: .bounded)
                sent = true
            case .deadline:
                break loop
            }
        }
        await client.stop()
        let silent = target == .all ? online.subtracting(answers.keys).sorted() : []
        return FleetCommandReport(
            commandID: id, topic: topic, sent: sent, answers: answers.values.sorted { $0.device < $1.device },
            silent: silent)
    }
}

extension FleetCommander {
    /// The wall clock in unix ms, for a signed command's `ts`.
    static func unixMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
