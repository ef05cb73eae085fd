import Clocks
import GPIO
import Ledger
import MQTT
import SafetyCore

/// The seams between ``GatewayLoop`` and the world: small protocols the real adapters already
/// satisfy, so the whole-gateway simulator (module `GatewaySimulation`) runs the real loop, output
/// driver and ledger writer against seeded fault-injecting doubles in virtual time.

/// The two clocks the loop reads: monotonic for every rule, wall only for labels and ledger rows.
package protocol GatewayClock: AnyObject {
    var now: Instant { get }
    var unixMilliseconds: Int64 { get }
    /// Whether the wall clock may be taken at face value (docs/DESIGN.md, "Time").
    var wallClockTrusted: Bool { get }
    /// The kernel boot the monotonic clock belongs to.
    var bootID: String { get }
}

extension GatewayClock {
    /// Both clocks now, as the ledger stamps a record.
    package var ledgerTime: LedgerTime {
        LedgerTime(
            unixMs: self.unixMilliseconds, trusted: self.wallClockTrusted, bootID: self.bootID,
            monotonicMs: self.now.nanoseconds / 1_000_000)
    }
}

/// `CLOCK_MONOTONIC` and `CLOCK_REALTIME`, trusted as the kernel says (``WallClockTrust``).
package final class SystemClock: GatewayClock {
    package let bootID = KernelBoot.id
    package init() {}
    package var now: Instant { Instant.monotonicNow }
    package var unixMilliseconds: Int64 { WallClock.unixMilliseconds() }
    package var wallClockTrusted: Bool { WallClockTrust.isTrusted }
}

/// Where the loop's messages go (``MQTTClient``).
package protocol MessagePublisher: AnyObject {
    func publish(_ message: MQTTMessage, queueing: MQTTQueueing)
    var statistics: MQTTStatistics { get }
}

extension MQTTClient: MessagePublisher {}

/// The output lines by role (``GPIOOutputLines`` over a ``GPIOController``).
package protocol OutputLines: AnyObject {
    /// Sets the lines of these roles; throws at the first failing line.
    func set(_ levels: [OutputRole: Bool]) throws(GPIOError)
    /// Every output's level, read back, by role.
    func readOutputs() throws(GPIOError) -> [OutputRole: Bool]
    /// Drives every output off and releases the lines.
    func close()
}

/// The GPIO controller as the gateway sees it: lines by role. The controller names lines as the
/// config does (`gpio.outputs.red`); this is the one place a role becomes that name and back.
package final class GPIOOutputLines: OutputLines {
    private let controller: GPIOController

    package init(_ controller: GPIOController) {
        self.controller = controller
    }

    package func set(_ levels: [OutputRole: Bool]) throws(GPIOError) {
        var named: [String: Bool] = [:]
        for (role, on) in levels { named[role.lineName] = on }
        _ = try self.controller.set(named)
    }

    package func readOutputs() throws(GPIOError) -> [OutputRole: Bool] {
        var levels: [OutputRole: Bool] = [:]
        for (name, level) in try self.controller.readOutputs() {
            // The controller holds only the lines opened from `outputRoles`' specs.
            guard let role = OutputRole(lineName: name) else { continue }
            levels[role] = level
        }
        return levels
    }

    package func close() {
        self.controller.close()
    }
}

/// One dimmable channel's duty cycle (``SysfsPWM``).
package protocol DutyOutput: AnyObject {
    /// Sets the duty (0 … 1) and returns the duty read back.
    func setDuty(_ duty: Double) throws(GPIOError) -> Double
    /// Duty 0 and disabled; returns the error instead of throwing.
    func disable() -> GPIOError?
}

extension SysfsPWM: DutyOutput {}

/// Durable storage of the core's records (``SessionLedger``): when `perform` returns, the record is
/// on disk, and it returns the lifetime totals the store holds with it.
package protocol LedgerStore: AnyObject, Sendable {
    func perform(_ record: LedgerRecord, at time: LedgerTime) throws -> LifetimeTotals
}

extension SessionLedger: LedgerStore {}
