import FuzzSupport
import Gateway
import GatewayConfig
import GatewayProtocol
import SafetyCore
#if canImport(Glibc)
    import Glibc
#endif

/// Fuzz target: what reaches the gateway from Home Assistant's side of the broker: births and wills
/// on `homeassistant/status`, retained discovery configs read back for the sweep, the sweep's probe,
/// all classified by ``Topics/classify(_:)`` and handled by the same functions as the loop's
/// (``HomeAssistantDiscovery/isBirth(_:)``, ``Topics/ownsDiscoveryConfig(topic:payload:)``,
/// ``DiscoverySweep``, built by the config as at start).
///
/// Anyone who may publish under `homeassistant/#` writes these. Oracles (docs/DESIGN.md, "Home
/// Assistant"): only the exact birth `online` asks for a republish; a config the gateway takes for
/// its own is one of its node's discovery topics; the sweep's plan only ever migrates or clears
/// topics it read back as its node's, never today's documents, and ends with today's documents; a
/// topic is a command topic only if the gateway subscribed to it as one.
///
/// The input: a first byte picks the config (default `rlt` prefix with device discovery, or prefix
/// `site-a` with per-entity discovery and a legacy node id), then lines `<flags><topic>\t<payload>`:
/// flags bit 0 retained, bits 1–3 replace an empty topic with one of the interesting ones.
@main
enum HomeAssistantFuzzTarget: FuzzTarget {
    struct Setup {
        var topics: Topics
        var sweep: DiscoverySweep
        var documentTopics: Set<String>
        var commandTopics: Set<String>
    }

    /// Built once per process: parsing the config and rendering the documents is the loop's start-up,
    /// not part of what a message costs.
    static let setups: [Setup] = {
        let site = """
            device: {id: panel-7, groups: [upstairs]}
            mqtt: {prefix: site-a, discovery: {mode: entity}}
            """
        return [ConfigLoader.default(), try! ConfigLoader.parse(yaml: site)].map { config in
            let topics = config.topics
            let sweep = config.discoverySweep(topics: topics, version: "fuzz")
            return Setup(
                topics: topics, sweep: sweep, documentTopics: Set(sweep.documents.map(\.topic)),
                commandTopics: Set(topics.commandSubscriptions.map(\.topic)))
        }
    }()

    static func run(_ input: [UInt8]) {
        guard let selector = input.first else { return }
        let setup = Self.setups[Int(selector) % Self.setups.count]
        let topics = setup.topics
        var sweep = setup.sweep
        let probe = sweep.begin(tag: "fuzz", at: Instant(nanoseconds: 0)).payload
        var owned: Set<String> = []
        let canned = [
            "homeassistant/status", topics.discoverySweepProbe, topics.deviceDiscovery,
            "homeassistant/sensor/\(topics.nodeID)/temperature/config",
            "homeassistant/sensor/\(topics.legacyNodeID ?? topics.nodeID)/temperature/config",
            topics.command, "homeassistant/device/\(topics.nodeID)x/config",
        ]
        for line in input.dropFirst().split(separator: 0x0A, maxSplits: 32, omittingEmptySubsequences: true).prefix(32) {
            guard let flags = line.first, let tab = line.dropFirst().firstIndex(of: 0x09) else { continue }
            var topic = String(decoding: line.dropFirst()[..<tab], as: UTF8.self)
            if topic.isEmpty { topic = canned[Int(flags >> 1) % canned.count] }
            let payload = Array(line[line.index(after: tab)...])
            let retained = flags & 1 == 1
            switch topics.classify(topic) {
            case .homeAssistantStatus:
                if HomeAssistantDiscovery.isBirth(payload), payload != Array("online".utf8) {
                    fuzzFailure("took \(payload) for Home Assistant's birth", input: input)
                }
            case .discoveryConfig:
                guard topics.ownsDiscoveryConfig(topic: topic, payload: payload) else { continue }
                let nodes = [topics.nodeID] + (topics.legacyNodeID.map { [$0] } ?? [])
                let levels = topic.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
                if !topic.hasPrefix("homeassistant/") || !nodes.contains(where: levels.contains) {
                    fuzzFailure("took \(topic) for one of this node's discovery configs", input: input)
                }
                sweep.observed(topic: topic, payload: payload, retained: retained)
                if retained, !payload.isEmpty { owned.insert(topic) }
            case .discoverySweepProbe:
                guard let plan = sweep.probeReturned(payload: payload) else { continue }
                if payload != probe { fuzzFailure("a foreign probe \(payload) ended the sweep", input: input) }
                Self.checkPlan(plan, setup: setup, owned: owned, input: input)
            case .command:
                if !setup.commandTopics.contains(topic) {
                    fuzzFailure("\(topic) taken for a command topic", input: input)
                }
            case .other:
                break
            }
        }
    }

    static func checkPlan(_ plan: [DiscoverySweep.Publication], setup: Setup, owned: Set<String>, input: [UInt8]) {
        let documents = setup.sweep.documentPublications
        guard plan.count >= documents.count, Array(plan.suffix(documents.count)) == documents else {
            fuzzFailure("the sweep's plan does not end with today's documents", input: input)
        }
        for publication in plan.dropLast(documents.count) {
            if setup.documentTopics.contains(publication.topic) {
                fuzzFailure("the sweep would clear or migrate today's document \(publication.topic)", input: input)
            }
            if !owned.contains(publication.topic) {
                fuzzFailure("the sweep would publish to \(publication.topic), never read back as its own", input: input)
            }
            if !publication.payload.isEmpty, !setup.sweep.migratable.contains(publication.topic) {
                fuzzFailure("the sweep would migrate \(publication.topic), not migratable", input: input)
            }
        }
    }
}
