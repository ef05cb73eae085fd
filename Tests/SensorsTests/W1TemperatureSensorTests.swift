import TestKit
import Testing

@testable import Sensors

@Suite struct W1TemperatureSensorTests {
    private func read(_ text: String) throws -> SensorSample {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("28-0316a2795cff/w1_slave", text)
        return W1TemperatureSensor(path: path).read()
    }

    private func invalidReason(_ text: String) throws -> String? {
        if case .invalid(let reason) = try self.read(text) { return reason }
        return nil
    }

    @Test func read_whenCrcYes_returnsCelsius() throws {
        let text = "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n"
        #expect(try self.read(text) == .celsius(23.125))
    }

    /// "\r\n" is a single Swift `Character`, equal to neither "\r" nor "\n": both the line split and the
    /// trim must treat it as a line end, or a copy with DOS line ends reads as one truncated line.
    @Test func read_withDosLineEnds_returnsCelsius() throws {
        let text = "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\r\n72 01 4b 46 7f ff 0e 10 57 t=23125\r\n"
        #expect(try self.read(text) == .celsius(23.125))
    }

    @Test func read_whenNegative_returnsCelsius() throws {
        let text = "5e ff 4b 46 7f ff 02 10 85 : crc=85 YES\n5e ff 4b 46 7f ff 02 10 85 t=-10125\n"
        #expect(try self.read(text) == .celsius(-10.125))
    }

    @Test func read_whenCrcNo_isInvalidCrcNo() throws {
        let text = "72 01 4b 46 7f ff 0e 10 57 : crc=12 NO\n72 01 4b 46 7f ff 0e 10 57 t=23125\n"
        let reason = try #require(try self.invalidReason(text))
        #expect(reason.contains("CRC NO"))
    }

    @Test func read_whenPowerOnResetValue_isInvalid() throws {
        let text = "50 05 4b 46 7f ff 0c 10 1c : crc=1c YES\n50 05 4b 46 7f ff 0c 10 1c t=85000\n"
        let reason = try #require(try self.invalidReason(text))
        #expect(reason.contains("85000"))
        #expect(reason.contains("power-on reset"))
    }

    @Test func read_whenScratchpadIsAllZero_isInvalid() throws {
        let text = "00 00 00 00 00 00 00 00 00 : crc=00 YES\n00 00 00 00 00 00 00 00 00 t=0\n"
        let reason = try #require(try self.invalidReason(text))
        #expect(reason.contains("all-zero"))
    }

    @Test(arguments: [
        ("", "empty"),
        ("72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n", "truncated"),
        ("garbage\nmore garbage\n", "no crc="),
        ("72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57\n", "no t="),
        ("72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=abc\n", "not integer millidegrees"),
    ])
    func read_whenTextIsMalformed_isInvalidWithReason(text: String, reason: String) throws {
        let message = try #require(try self.invalidReason(text))
        #expect(message.contains(reason))
    }

    @Test func read_whenFileIsMissing_isInvalidNamingPath() throws {
        let sample = W1TemperatureSensor(path: "/nonexistent/28-000000000000/w1_slave").read()
        guard case .invalid(let message) = sample else {
            Issue.record("expected an invalid sample, got \(sample)")
            return
        }
        #expect(message == "/nonexistent/28-000000000000/w1_slave: No such file or directory")
    }
}
