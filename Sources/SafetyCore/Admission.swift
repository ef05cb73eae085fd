/// A token bucket on the monotonic clock (S15).
///
/// Kept as a value inside the machine so the rate limit is as pure and replayable as every other
/// rule: the same events at the same instants always give the same answers.
struct TokenBucket: Hashable, Sendable {
    private(set) var tokens: Double
    private var refilledAt: Instant?

    init(burst: Double) {
        self.tokens = max(0, burst)
    }

    /// Takes one token if there is one; refills first at `perSecond`, up to `burst`.
    mutating func take(now: Instant, perSecond: Double, burst: Double) -> Bool {
        if let last = self.refilledAt {
            let elapsed = max(0, now.seconds(since: last))
            self.tokens = min(max(0, burst), self.tokens + elapsed * max(0, perSecond))
        }
        self.refilledAt = now
        guard self.tokens >= 1 else { return false }
        self.tokens -= 1
        return true
    }
}

/// The responses to the most recent command ids, so a QoS 1 redelivery gets the first answer
/// again and has no second effect (S14).
///
/// Bounded: the oldest id is forgotten first. A redelivery arrives within seconds, so a few
/// hundred ids are plenty while the memory stays constant however long the daemon runs.
struct ResponseCache: Hashable, Sendable {
    let capacity: Int
    private var responses: [String: CommandResponse] = [:]
    private var order: [String] = []
    private var oldest = 0

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    subscript(id: String) -> CommandResponse? { self.responses[id] }

    mutating func remember(_ response: CommandResponse, for id: String) {
        guard self.responses[id] == nil else { return }
        self.responses[id] = response
        if self.order.count < self.capacity {
            self.order.append(id)
        } else {
            self.responses[self.order[self.oldest]] = nil
            self.order[self.oldest] = id
            self.oldest = (self.oldest + 1) % self.capacity
        }
    }

    /// Forgets the answer for `id`, so the same command sent again acts again (a command whose
    /// effect was undone, such as a `start` whose session could not be recorded). The id keeps its
    /// place in the eviction order; if it is remembered again, it may be forgotten a little early,
    /// which only means a late redelivery is decided afresh.
    mutating func forget(_ id: String) {
        self.responses[id] = nil
    }

    var count: Int { self.responses.count }
}

/// The signatures of recently admitted signed commands, so that a copy of one is refused within the
/// replay window (`E_REPLAY`); past the window its `ts` is stale anyway (`E_STALE`), so an entry can go.
///
/// Keyed by the signature itself: a replay is the same signed bytes, while two different commands never
/// share a tag. Bounded twice: entries expire with the window (on the wall clock the `ts` check uses),
/// and at most `capacity` are kept; when that many are fresh the next signed command is refused rather
/// than an entry forgotten early, which would let its copy act.
struct ReplayMemory: Hashable, Sendable {
    let capacity: Int
    /// Signature → wall-clock unix ms after which a copy would be stale anyway.
    private var expiries: [String: Int64] = [:]

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    func contains(_ tag: String, nowUnixMs: Int64) -> Bool {
        guard let expiry = self.expiries[tag] else { return false }
        return expiry >= nowUnixMs
    }

    /// Remembers `tag` until `expiresAtUnixMs`; `false` when the memory is full of unexpired tags.
    mutating func remember(_ tag: String, expiresAtUnixMs: Int64, nowUnixMs: Int64) -> Bool {
        if self.expiries.count >= self.capacity {
            self.expiries = self.expiries.filter { $0.value >= nowUnixMs }
        }
        guard self.expiries.count < self.capacity else { return false }
        self.expiries[tag] = expiresAtUnixMs
        return true
    }

    var count: Int { self.expiries.count }
}

/// Short numbers for messages, without Foundation: one decimal, no trailing `.0`.
func format(_ value: Double) -> String {
    guard value.isFinite else { return "\(value)" }
    let rounded = (value * 10).rounded() / 10
    if rounded == rounded.rounded(), abs(rounded) < 1e15 {
        return "\(Int(rounded))"
    }
    return "\(rounded)"
}

/// A dose the client may ask for, rounded *down* to one decimal: advice rounded to the nearest
/// (59.96 → "60") would be refused again.
func formatDown(_ dose: Dose) -> String {
    format((dose.joulesPerCm2 * 10).rounded(.down) / 10)
}

func format(_ celsius: Celsius) -> String { "\(format(celsius.value)) °C" }
func format(_ dose: Dose) -> String { "\(format(dose.joulesPerCm2)) J/cm²" }
