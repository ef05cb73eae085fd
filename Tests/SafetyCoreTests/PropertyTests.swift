import Foundation
import SafetyCore
import TestKit
import Testing

/// Invariants of docs/DESIGN.md over many random event sequences.
///
/// `SAFETY_SEED` fixes the master seed (printed on failure), `SAFETY_SEQUENCES` the count.
@Suite("Property tests over random event sequences")
struct PropertyTests {
    static let environment = ProcessInfo.processInfo.environment
    static let sequences = Int(environment["SAFETY_SEQUENCES"] ?? "") ?? 10_000
    static let steps = 40

    /// `async` and yielding: a long CPU-bound test would otherwise hold one of the (on 2 cores, two)
    /// cooperative threads for seconds and starve the adapter tests' event streams running beside it.
    @Test func invariantsHold_overRandomSequences() async {
        let master = UInt64(Self.environment["SAFETY_SEED"] ?? "") ?? UInt64.random(in: 0...UInt64.max)
        var seeds = SplitMix64(seed: master)
        var failures: [String] = []
        var events = 0
        var states: [SessionState: Int] = [:]
        var faults: Set<FaultCode> = []
        var seen: [String: Int] = [:]
        var lit = 0
        for index in 0..<Self.sequences {
            if index % 50 == 0 { await Task.yield() }
            let seed = seeds.next()
            let world = Self.play(seed: seed)
            events += world.handled
            lit += world.litEvents
            seen.merge(world.seen, uniquingKeysWith: +)
            let snapshot = world.machine.snapshot(now: world.now)
            states[snapshot.state, default: 0] += 1
            faults.formUnion(snapshot.faults)
            if let violation = world.violation {
                failures.append("sequence \(index) seed \(seed): \(violation)")
                if failures.count >= 5 { break }
            }
        }
        print(
            "property test: seed \(master), \(Self.sequences) sequences, \(events) events; final states \(states); "
                + "faults reached \(faults.sorted().map(\.rawValue)); \(lit) events while emitting; notices "
                + "\(seen.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
        #expect(
            failures.isEmpty,
            "SAFETY_SEED=\(master) (replay one sequence with its seed):\n\(failures.joined(separator: "\n"))")
        // The generator must actually reach the interesting places, or the test proves little.
        #expect(events >= Self.sequences * Self.steps)
        #expect(Set(states.keys).isSuperset(of: [.idle, .running, .cooldown, .fault]), "final states \(states)")
        #expect(faults.count >= 5, "faults reached \(faults)")
        for notice in [
            "completed(duration)", "completed(dose_target)", "paused(interlock)", "fault_raised(F_SENSOR_STALE)",
            "aborted(stop)", "resumed", "command_rejected(E_DOSE_LIMIT)", "command_rejected(E_COOLDOWN)",
        ] {
            #expect(seen[notice, default: 0] > 0, "never reached \(notice)")
        }
    }

    static func randomSettings(_ rng: inout SplitMix64) -> SafetySettings {
        var settings = SafetySettings()
        settings.inputs = .init(
            interlock: rng.chance(percent: 80), stopButton: rng.chance(percent: 50),
            emissionSense: rng.chance(percent: 20))
        settings.hasMasterRelay = rng.chance(percent: 80)
        settings.dimmable = PerChannel(red: rng.chance(percent: 50), nir: rng.chance(percent: 50))
        settings.limits.maxSessionSeconds = rng.pick([30, 60, 1200])
        settings.limits.maxSessionDose = Dose(joulesPerCm2: rng.pick([0.5, 1.5, 60]))
        settings.limits.maxDailyDose = Dose(joulesPerCm2: rng.pick([1, 2.5, 120]))
        settings.limits.maxDailySessions = Int.random(in: 1...3, using: &rng)
        settings.limits.cooldownSeconds = rng.pick([0, 2, 120])
        settings.presets.durationSeconds = rng.pick([5, 10, 20])
        settings.presets.channels = rng.pick(ChannelSelection.allCases)
        settings.policy.onLinkLoss = rng.pick(SafetySettings.LinkLossPolicy.allCases)
        settings.policy.latchOnUncleanRestart = rng.chance(percent: 50)
        settings.thermal.heatingWatchSeconds = rng.pick([4, 120])
        return settings
    }

    /// Plays one random sequence; the world records the first violation.
    static func play(seed: UInt64) -> World {
        var rng = SplitMix64(seed: seed)
        let settings = Self.randomSettings(&rng)
        var world = World(settings: settings, honestHardware: rng.chance(percent: 92))
        var temperature = Double.random(in: 20...45, using: &rng)
        var history: [DoseHistoryEntry] = []
        var budget = settings.limits.maxDailyDose.joulesPerCm2
        for _ in 0..<Int.random(in: 0...2, using: &rng) {
            let dose = Double.random(in: 0...budget, using: &rng)
            budget -= dose
            history.append(
                DoseHistoryEntry(
                    ageSeconds: Double.random(in: 0...90_000, using: &rng),
                    dose: Dose(joulesPerCm2: dose)))
        }
        world.deliver(.boot(BootContext(history: history, uncleanSessionID: rng.chance(percent: 10) ? "old-1" : nil)))
        if settings.inputs.interlock, rng.chance(percent: 90) { world.deliver(.input(.interlock, active: true)) }
        world.deliver(.temperature(.valid(Celsius(temperature))))
        // Most sensors sample on their own timer; a few die at some point (S7).
        let sensorDiesAt = rng.chance(percent: 15) ? Int.random(in: 0..<Self.steps, using: &rng) : Int.max
        var sampledAt = world.now
        for step in 0..<Self.steps {
            guard world.violation == nil else { break }
            var dt =
                rng.chance(percent: 70) ? Double.random(in: 0...0.3, using: &rng) : Double.random(in: 0.3...0.5, using: &rng)
            if !world.lit, rng.chance(percent: 3) {
                // A quiet stretch (cooldown, the 24 h window): the sensor keeps sampling meanwhile.
                if step < sensorDiesAt { world.deliver(.temperature(.valid(Celsius(temperature)))) }
                for _ in 0..<Int.random(in: 2...20, using: &rng) {
                    world.advance(2.9)
                    temperature = max(20, temperature - 2.9 * 0.3)
                    if step < sensorDiesAt { world.deliver(.temperature(.valid(Celsius(temperature)))) }
                }
                sampledAt = world.now
                dt = 0
            }
            world.advance(dt)
            if step < sensorDiesAt, world.now.seconds(since: sampledAt) >= 1 {
                sampledAt = world.now
                world.deliver(.temperature(.valid(Celsius(temperature))))
            }
            if world.outputs.emitting {
                temperature += Double.random(in: 0...0.4, using: &rng)
            } else {
                temperature = max(20, temperature - dt * 0.3)
            }
            world.deliver(Self.randomEvent(&rng, world: &world, temperature: &temperature))
        }
        return world
    }

    static func randomEvent(_ rng: inout SplitMix64, world: inout World, temperature: inout Double) -> SafetyEvent {
        let roll = Int.random(in: 0..<200, using: &rng)
        switch roll {
        case 0..<40:
            return .tick
        case 40..<80:
            // A one-off spike (hot, or outside the plausible range), or a step to a new level.
            if rng.chance(percent: 4) { return .temperature(.valid(Celsius(rng.pick([56, 66, 130])))) }
            if rng.chance(percent: 3) { temperature = rng.pick([30, 52]) }
            return .temperature(.valid(Celsius(temperature)))
        case 80..<88:
            return .temperature(.invalid("EIO"))
        case 88..<140:
            return .command(Self.randomEnvelope(&rng, world: &world))
        case 140..<150:
            return .input(.interlock, active: !world.interlockClosed || rng.chance(percent: 20))
        case 150..<155:
            return .input(.stopButton, active: rng.chance(percent: 70))
        case 155..<160:
            return .input(.emissionSense, active: rng.chance(percent: 50) ? world.outputs.emitting : rng.chance(percent: 50))
        case 160..<163:
            return .outputReadback(
                OutputReadback(red: rng.chance(percent: 50), nir: rng.chance(percent: 50), master: rng.chance(percent: 50)))
        case 163..<172:
            return .outputReadback(world.outputs.expectedReadback)
        case 172..<180:
            return .linkChanged(connected: rng.chance(percent: 50))
        case 180..<181:
            return .storageFailed("disk full")
        case 181..<182:
            return .shutdown
        default:
            return .tick
        }
    }

    static func randomEnvelope(_ rng: inout SplitMix64, world: inout World) -> CommandEnvelope {
        let command: Command
        switch Int.random(in: 0..<100, using: &rng) {
        case 0..<30:
            command = .start(
                StartArguments(
                    channels: rng.chance(percent: 50) ? rng.pick(ChannelSelection.allCases) : nil,
                    intensityPercent: rng.chance(percent: 30) ? rng.pick([0, 50, 100, 150]) : nil,
                    durationSeconds: rng.chance(percent: 50) ? rng.pick([1, 4, 10, 60, 2000]) : nil,
                    doseTarget: rng.chance(percent: 30)
                        ? Dose(joulesPerCm2: rng.pick([0.1, 0.3, 1, 100])) : nil))
        case 30..<45: command = .stop
        case 45..<55: command = .pause
        case 55..<67: command = .resume
        case 67..<80:
            command = .ack(rng.chance(percent: 50) ? .all : .one(rng.pick(FaultCode.allCases)))
        case 80..<88:
            command = .set(
                PresetChanges(
                    channels: rng.chance(percent: 50) ? rng.pick(ChannelSelection.allCases) : nil,
                    intensityPercent: rng.chance(percent: 30) ? rng.pick([50, 100]) : nil,
                    durationSeconds: rng.chance(percent: 50) ? rng.pick([2, 10, 5000]) : nil,
                    doseTarget: rng.chance(percent: 30) ? .some(rng.chance(percent: 50) ? nil : Dose(joulesPerCm2: 0.2)) : nil))
        case 88..<92: command = .get
        case 92..<96: command = .ping
        default: command = .identify
        }
        if rng.chance(percent: 3) {
            return CommandEnvelope(id: world.freshID(), commandName: "bogus", body: .invalid(.unknownCommand, "bogus"))
        }
        let source: CommandSource = rng.chance(percent: 5) ? (rng.chance(percent: 50) ? .fleetAll : .fleetGroup("g")) : .device
        return world.envelope(
            command, reuseID: rng.chance(percent: 5), source: source, retained: rng.chance(percent: 3),
            payloadBytes: rng.chance(percent: 2) ? 5_000 : 80, stale: rng.chance(percent: 3))
    }
}
