import Foundation
import GPIO
import TestKit
import Testing

/// A temporary tree laid out like `/sys/class/pwm`.
private struct PWMTree {
    private let directory: TemporaryDirectory
    var root: String { self.directory.path }

    init(exported: Bool) throws {
        self.directory = try TemporaryDirectory(prefix: "rlt-pwm")
        try FileManager.default.createDirectory(atPath: "\(self.root)/pwmchip0", withIntermediateDirectories: true)
        try self.write("", "pwmchip0/export")
        try self.write("2\n", "pwmchip0/npwm")
        if exported {
            try FileManager.default.createDirectory(
                atPath: "\(self.root)/pwmchip0/pwm1", withIntermediateDirectories: true)
            try self.write("0\n", "pwmchip0/pwm1/period")
            try self.write("0\n", "pwmchip0/pwm1/duty_cycle")
            try self.write("1\n", "pwmchip0/pwm1/enable")
        }
    }

    func write(_ text: String, _ name: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: "\(self.root)/\(name)"))
    }

    func read(_ name: String) -> String? {
        FileManager.default.contents(atPath: "\(self.root)/\(name)").map {
            String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    func remove() { self.directory.remove() }
}

@Suite struct SysfsPWMTests {
    @Test func init_programsPeriod_withDutyZeroAndDisabled() throws {
        let tree = try PWMTree(exported: true)
        defer { tree.remove() }
        let pwm = try SysfsPWM(chip: 0, channel: 1, frequencyHz: 1000, root: tree.root)

        #expect(pwm.periodNanoseconds == 1_000_000)
        #expect(tree.read("pwmchip0/pwm1/period") == "1000000")
        #expect(tree.read("pwmchip0/pwm1/duty_cycle") == "0")
        #expect(tree.read("pwmchip0/pwm1/enable") == "0")
        #expect(tree.read("pwmchip0/export") == "")
    }

    @Test func setDuty_writesDutyCycle_enables_andReadsBack() throws {
        let tree = try PWMTree(exported: true)
        defer { tree.remove() }
        let pwm = try SysfsPWM(chip: 0, channel: 1, frequencyHz: 1000, root: tree.root)

        #expect(try pwm.setDuty(0.4) == 0.4)
        #expect(tree.read("pwmchip0/pwm1/duty_cycle") == "400000")
        #expect(tree.read("pwmchip0/pwm1/enable") == "1")

        #expect(try pwm.setDuty(2) == 1)  // clamped
        #expect(try pwm.setDuty(0) == 0)
        #expect(tree.read("pwmchip0/pwm1/enable") == "0")

        _ = try pwm.setDuty(0.5)
        #expect(pwm.disable() == nil)
        #expect(try pwm.readDuty() == 0)
        #expect(tree.read("pwmchip0/pwm1/duty_cycle") == "0")
    }

    @Test func init_whenChannelIsNotExported_writesExport_andReportsWhenItNeverAppears() throws {
        let tree = try PWMTree(exported: false)
        defer { tree.remove() }
        do {
            _ = try SysfsPWM(chip: 0, channel: 1, frequencyHz: 1000, root: tree.root, exportTimeoutMilliseconds: 50)
            Issue.record("a channel that never appeared was accepted")
        } catch {
            #expect(error.code == .pwmFailed)
            #expect(error.message.contains("pwmchip0/pwm1 did not appear"))
        }
        #expect(tree.read("pwmchip0/export") == "1")
    }

    @Test func init_whenChipIsMissing_namesTheChip() throws {
        let tree = try PWMTree(exported: false)
        defer { tree.remove() }
        do {
            _ = try SysfsPWM(chip: 3, channel: 0, frequencyHz: 1000, root: tree.root)
            Issue.record("a missing chip was accepted")
        } catch {
            #expect(error.code == .pwmFailed)
            #expect(error.message.contains("pwmchip3 not found"))
        }
    }

    @Test func init_withFrequencyOutOfRange_isRefused() throws {
        let tree = try PWMTree(exported: true)
        defer { tree.remove() }
        #expect(throws: GPIOError.self) { try SysfsPWM(chip: 0, channel: 1, frequencyHz: 0, root: tree.root) }
    }
}
