/// When a record is written, as far as the board can know it (docs/DESIGN.md, "Time").
///
/// A board without a battery-backed clock boots with a wrong wall time (1970, the time of its last
/// shutdown, or a year ahead) until NTP steps it. The ledger stores the wall time of every record,
/// but the rolling 24 h window (S3) and the cooldown (S4) must never be measured with a clock that may
/// be ahead: light would leave the window early and history would be purged. So each record also
/// carries whether the kernel considered the wall clock trustworthy and where it sits on the
/// monotonic clock of its kernel boot, which is exact within that boot whatever the wall clock did.
public struct LedgerTime: Sendable, Equatable {
    /// The wall clock, unix milliseconds.
    public var unixMs: Int64
    /// The kernel reports the wall clock synchronised (NTP) or set from a real-time clock at boot.
    public var trusted: Bool
    /// `/proc/sys/kernel/random/boot_id`: monotonic times compare only within one kernel boot.
    public var bootID: String
    /// `CLOCK_MONOTONIC`, milliseconds.
    public var monotonicMs: Int64

    public init(unixMs: Int64, trusted: Bool, bootID: String, monotonicMs: Int64) {
        self.unixMs = unixMs
        self.trusted = trusted
        self.bootID = bootID
        self.monotonicMs = monotonicMs
    }

    /// A wall time taken at face value, for tools and tests that do not model the clock's trust.
    public static func trusted(unixMs: Int64) -> LedgerTime {
        LedgerTime(unixMs: unixMs, trusted: true, bootID: "", monotonicMs: 0)
    }
}
