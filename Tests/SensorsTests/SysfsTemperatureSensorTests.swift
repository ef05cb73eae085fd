import Foundation
import TestKit
import Testing

@testable import Sensors

@Suite struct SysfsTemperatureSensorTests {
    @Test(arguments: [
        ("23125\n", 23.125),  // thermal_zone*/temp as the kernel writes it
        ("-4500\n", -4.5),  // hwmon temp*_input below zero
        ("0\n", 0.0),
        ("131000\n", 131.0),  // out of range is the core's call, not the sensor's
        ("  45000  \n", 45.0),
        ("23125\r\n", 23.125),  // written by a user-space bridge with DOS line ends: "\r\n" is one Character
    ])
    func read_whenFileHoldsMillidegrees_returnsCelsius(text: String, expected: Double) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("thermal_zone0/temp", text)
        let sensor = SysfsTemperatureSensor(path: path)

        #expect(sensor.read() == .celsius(expected))
    }

    @Test(arguments: [
        ("garbage\n", "is not integer millidegrees"),
        ("23.5\n", "is not integer millidegrees"),
        ("nan\n", "is not integer millidegrees"),
        ("12 34\n", "is not integer millidegrees"),
        ("\n", "empty"),
        ("", "empty"),
    ])
    func read_whenFileHoldsNoInteger_isInvalidWithReason(text: String, reason: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("hwmon0/temp1_input", text)
        let sample = SysfsTemperatureSensor(path: path).read()

        guard case .invalid(let message) = sample else {
            Issue.record("expected an invalid sample, got \(sample)")
            return
        }
        #expect(message.contains(reason))
        #expect(message.contains(path))
    }

    @Test func read_whenFileIsMissing_isInvalidNamingPathAndError() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/thermal_zone9/temp"
        let sample = SysfsTemperatureSensor(path: path).read()

        guard case .invalid(let message) = sample else {
            Issue.record("expected an invalid sample, got \(sample)")
            return
        }
        #expect(message == "\(path): No such file or directory")
    }

    @Test func read_whenPathIsADirectory_isInvalidWithReadError() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let sample = SysfsTemperatureSensor(path: directory.path).read()

        guard case .invalid(let message) = sample else {
            Issue.record("expected an invalid sample, got \(sample)")
            return
        }
        #expect(message.contains("Is a directory"))
    }

    @Test func read_whenFileChanges_reportsTheNewValue() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("temp", "30000\n")
        let sensor = SysfsTemperatureSensor(path: path)

        #expect(sensor.read() == .celsius(30))
        try directory.write("temp", "31500\n")
        #expect(sensor.read() == .celsius(31.5))
    }
}
