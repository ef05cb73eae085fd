import SafetyCore
import Testing

/// Bounded exhaustive exploration: every sequence over a small event alphabet up to a depth,
/// breadth first, merging worlds that look the same under a hashable abstraction. Every concrete
/// transition taken is checked against the same invariants as the property tests.
@Suite("Bounded exhaustive exploration")
struct ExhaustiveTests {
    /// The abstract alphabet. Letters that are not waits advance the clock by 0.25 s first.
    enum Letter: CaseIterable {
        case tick, wait, sampleCool, sampleWarm, sampleHot, sampleInvalid
        case start, stop, pause, resume, ackAll
        case interlockOpen, interlockClose, linkDown, linkUp, readbackGlitch, storageFailed, shutdown
    }

    /// What two worlds must share to count as the same abstract state.
    struct Key: Hashable {
        var state: SessionState
        var faults: [FaultCode]
        var interlock: InterlockState
        var snapshotEmitting: Bool
        var outputs: OutputCommand
        var readback: OutputReadback
        var temperature: Int
        var sampleAge: Int
        var elapsed: Int
        var dose24h: Int
        var sessions24h: Int
        var mismatchAge: Int
        var link: Bool
        var shutDown: Bool
        var invalids: Int
    }

    struct Node {
        var world: World
        var link = true
        var shutDown = false
        var invalids = 0

        func key() -> Key {
            let world = self.world
            let snapshot = world.machine.snapshot(now: world.now)
            let age = world.lastValidAt.map { Int(world.now.seconds(since: $0) / 0.75) } ?? 9
            return Key(
                state: snapshot.state, faults: snapshot.faults, interlock: snapshot.interlock,
                snapshotEmitting: snapshot.emitting, outputs: world.outputs, readback: world.readback,
                temperature: Int(snapshot.temperature?.value ?? -99), sampleAge: min(age, 5),
                elapsed: Int(snapshot.elapsedSeconds / 0.25), dose24h: Int(snapshot.dose24h.joulesPerCm2 * 100),
                sessions24h: snapshot.sessions24h,
                mismatchAge: world.mismatchSince.map { Int(world.now.seconds(since: $0) / 0.25) } ?? -1,
                link: self.link, shutDown: self.shutDown, invalids: min(self.invalids, 3))
        }

        mutating func apply(_ letter: Letter) {
            if letter == .wait {
                guard !self.world.lit else { return }
                self.world.advance(1.5)
            } else {
                self.world.advance(0.25)
            }
            switch letter {
            case .tick, .wait: self.world.deliver(.tick)
            case .sampleCool: self.sample(30)
            case .sampleWarm: self.sample(32)
            case .sampleHot: self.sample(70)
            case .sampleInvalid:
                self.invalids += 1
                self.world.deliver(.temperature(.invalid("EIO")))
            case .start: self.command(.start(.init()))
            case .stop: self.command(.stop)
            case .pause: self.command(.pause)
            case .resume: self.command(.resume)
            case .ackAll: self.command(.ack(.all))
            case .interlockOpen: self.world.deliver(.input(.interlock, active: false))
            case .interlockClose: self.world.deliver(.input(.interlock, active: true))
            case .linkDown:
                self.link = false
                self.world.deliver(.linkChanged(connected: false))
            case .linkUp:
                self.link = true
                self.world.deliver(.linkChanged(connected: true))
            case .readbackGlitch:
                self.world.deliver(.outputReadback(OutputReadback(red: true, nir: true, master: true)))
            case .storageFailed: self.world.deliver(.storageFailed("disk full"))
            case .shutdown:
                self.shutDown = true
                self.world.deliver(.shutdown)
            }
        }

        private mutating func sample(_ t: Double) {
            self.invalids = 0
            self.world.deliver(.temperature(.valid(Celsius(t))))
        }

        private mutating func command(_ command: Command) {
            let envelope = self.world.envelope(command)
            self.world.deliver(.command(envelope))
        }
    }

    static func settings(linkPolicy: SafetySettings.LinkLossPolicy) -> SafetySettings {
        var settings = SafetySettings()
        settings.presets.durationSeconds = 1
        settings.limits = .init(
            maxSessionSeconds: 10, maxSessionDose: Dose(joulesPerCm2: 0.2), maxDailyDose: Dose(joulesPerCm2: 0.25),
            maxDailySessions: 3, cooldownSeconds: 1)
        settings.thermal.heatingWatchSeconds = 1
        settings.policy.outputMismatchSeconds = 0.5
        settings.policy.onLinkLoss = linkPolicy
        settings.rateLimit = .init(perSecond: 100, burst: 100)
        return settings
    }

    @Test(arguments: SafetySettings.LinkLossPolicy.allCases)
    func invariantsHold_forEverySequenceUpToTheDepth(linkPolicy: SafetySettings.LinkLossPolicy) async {
        let depth = 7
        var root = Node(world: World(settings: Self.settings(linkPolicy: linkPolicy)))
        root.world.deliver(.boot(BootContext()))
        root.world.deliver(.input(.interlock, active: true))
        root.world.deliver(.temperature(.valid(Celsius(30))))
        var seen: Set<Key> = [root.key()]
        var frontier = [root]
        var transitions = 0
        var statesReached: Set<SessionState> = []
        var failures: [String] = []
        for level in 1...depth {
            var next: [Node] = []
            for (index, node) in frontier.enumerated() {
                // Yield now and then so this CPU-bound search does not starve tests that wait on streams.
                if index % 200 == 0 { await Task.yield() }
                for letter in Letter.allCases {
                    var child = node
                    child.apply(letter)
                    transitions += 1
                    if let violation = child.world.violation {
                        if failures.count < 5 { failures.append("depth \(level) after \(letter): \(violation)") }
                        continue
                    }
                    let key = child.key()
                    statesReached.insert(key.state)
                    if seen.insert(key).inserted { next.append(child) }
                }
            }
            frontier = next
        }
        print(
            "exhaustive (\(linkPolicy.rawValue)): depth \(depth), \(Letter.allCases.count) letters, "
                + "\(seen.count) abstract states, \(transitions) transitions checked")
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        #expect(statesReached == Set(SessionState.allCases), "reached \(statesReached)")
    }
}
