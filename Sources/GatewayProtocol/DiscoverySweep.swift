import SafetyCore

/// Decides, on every connect, what the gateway publishes so that Home Assistant ends up with exactly
/// the discovery configs of today's config, whatever an earlier config, mode or version left
/// retained on the broker.
///
/// Clearing blindly does not work: HA keys a device-based component and a per-entity config by the
/// same discovery id, so an empty payload on a per-entity topic that holds nothing still reaches the
/// entity the device document made, and HA logs a conflict; an empty device topic with nothing
/// under it is a warning too. So the gateway first reads what is there: it subscribes to its node's
/// discovery topics, and the retained configs arrive before a probe it publishes after subscribing
/// (the broker queues them for the subscriber in that order). When the probe comes back, the
/// sweep knows every stale config and answers with, in this order:
///
/// 1. `{"migrate_discovery": true}` on each stale config whose entity lives on under the other form
///    (per-entity → device, or device → per-entity): HA's migration, which unloads the entity but
///    keeps its registry entry, id, name and area;
/// 2. an empty retained payload on every stale topic: the broker forgets it, and an entity the panel
///    no longer offers is removed. (After the documents, HA 2025.4 takes an empty payload on the old
///    topic for a conflict with the migrated entity and logs a warning; before them nobody owns it.)
/// 3. today's documents, which bring migrated entities back under their registry entries.
///
/// A pure value; the loop owns one and publishes what it returns (docs/DESIGN.md, "Home Assistant").
public struct DiscoverySweep: Sendable {
    /// How long a sweep waits for its probe before the documents go out without it.
    public static let patienceSeconds = 5.0

    /// One publication the sweep asks for.
    public struct Publication: Hashable, Sendable {
        public var topic: String
        public var payload: [UInt8]
        public var retain: Bool
    }

    /// Today's documents, in publishing order (topic, payload).
    public let documents: [(topic: String, payload: [UInt8])]
    /// Stale topics whose entities continue under today's form: they get the migration request.
    public let migratable: Set<String>
    /// Where the probe goes; the loop subscribes to it with the discovery topics.
    public let probeTopic: String

    private var found: [String] = []
    private var probe: [UInt8]?
    /// When the probe that is out was sent.
    private var probeSentAt: Instant?
    private var probesSent = 0

    public init(documents: [(topic: String, payload: [UInt8])], migratable: Set<String>, probeTopic: String) {
        self.documents = documents
        self.migratable = migratable
        self.probeTopic = probeTopic
    }

    /// Whether a probe is out and the sweep still collects retained configs.
    public var isCollecting: Bool { self.probe != nil }

    /// Starts a sweep on a new connection: forgets what the last one saw and returns the probe to
    /// publish (not retained), tagged so an old connection's probe cannot end this sweep.
    public mutating func begin(tag: String, at now: Instant) -> Publication {
        self.probesSent += 1
        let probe = Array("\(tag)-\(self.probesSent)".utf8)
        self.found = []
        self.probe = probe
        self.probeSentAt = now
        return Publication(topic: self.probeTopic, payload: probe, retain: false)
    }

    /// A message on one of the node's discovery topics. Only retained, non-empty configs count:
    /// live copies of the gateway's own publications and removals arrive without the retain flag or
    /// empty.
    public mutating func observed(topic: String, payload: [UInt8], retained: Bool) {
        guard self.isCollecting, retained, !payload.isEmpty, !self.found.contains(topic) else { return }
        self.found.append(topic)
    }

    /// The probe came back: every retained config has arrived. Returns what to publish, in order, or
    /// nothing when `payload` is not this sweep's probe.
    public mutating func probeReturned(payload: [UInt8]) -> [Publication]? {
        guard let probe = self.probe, payload == probe else { return nil }
        self.probe = nil
        self.probeSentAt = nil
        return self.plan()
    }

    /// When the probe is out for longer than ``patienceSeconds`` (the broker's ACL may not let the
    /// panel read its own discovery topics), the sweep ends without it and today's documents go out
    /// unswept, as before sweeps existed; `nil` while there is still time, or no probe is out.
    public mutating func giveUpIfOverdue(now: Instant) -> [Publication]? {
        guard let sentAt = self.probeSentAt, now.seconds(since: sentAt) > Self.patienceSeconds else { return nil }
        self.probe = nil
        self.probeSentAt = nil
        return self.documentPublications
    }

    /// Today's documents alone (HA's birth asks for them again).
    public var documentPublications: [Publication] {
        self.documents.map { Publication(topic: $0.topic, payload: $0.payload, retain: true) }
    }

    private func plan() -> [Publication] {
        let current = Set(self.documents.map(\.topic))
        let stale = self.found.filter { !current.contains($0) }
        let migrations = stale.filter { self.migratable.contains($0) }.map {
            Publication(topic: $0, payload: Array(#"{"migrate_discovery":true}"#.utf8), retain: false)
        }
        let removals = stale.map { Publication(topic: $0, payload: [], retain: true) }
        return migrations + removals + self.documentPublications
    }
}
