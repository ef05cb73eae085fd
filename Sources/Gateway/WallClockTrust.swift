import CClockSync
import Foundation

/// Whether the wall clock may be taken at face value (docs/DESIGN.md, "Time").
///
/// Trusted when the kernel says an NTP daemon synchronises it, or when the kernel set it from a
/// real-time clock at boot (`hctosys`). Otherwise — a board without a battery-backed clock before NTP
/// has reached it, or a clock set by hand — the ledger keeps its stamps provisional, so a clock that
/// booted ahead can neither age the 24 h history nor purge it.
package enum WallClockTrust {
    package static var isTrusted: Bool {
        rlt_wall_clock_synchronised() == 1 || Self.setFromRealTimeClockAtBoot
    }

    /// Read once: whether the kernel set the system time from a real-time clock when it booted.
    private static let setFromRealTimeClockAtBoot: Bool = {
        let directory = "/sys/class/rtc"
        let devices = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return devices.contains { device in
            let flag = try? String(contentsOfFile: "\(directory)/\(device)/hctosys", encoding: .utf8)
            return flag?.trimmingCharacters(in: .whitespacesAndNewlines) == "1"
        }
    }()
}

/// The kernel boot this process runs in: monotonic times of one boot compare, of two do not.
package enum KernelBoot {
    /// `/proc/sys/kernel/random/boot_id`, or a fresh id per process where it cannot be read (records
    /// of other processes then count as another boot's, the conservative reading).
    package static let id: String = {
        let text = try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8)
        let id = text?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        return id.isEmpty ? "process-" + UUID().uuidString : id
    }()
}
