@testable import Gateway
import GPIO
import GatewayConfig
import Logging
import SafetyCore
import TestKit
import Testing

/// The GPIO adapter names lines; the core knows inputs and outputs by identity. Every configured
/// line must reach the core as itself: a name one side spells differently would silently drop
/// that input's edges.
@Suite struct LineRoleTests {
    static var everyLineConfigured: GatewayConfiguration {
        var configuration = GatewayConfiguration()
        configuration.gpio.inputs = GPIOSettings.Inputs(
            interlock: GatewayConfig.InputLine(line: 23, bias: .pullDown),
            stopButton: GatewayConfig.InputLine(line: 24, bias: .pullUp),
            emissionSense: GatewayConfig.InputLine(line: 25, bias: .pullDown))
        configuration.gpio.outputs = GPIOSettings.Outputs(
            master: OutputLine(line: 22), indicator: OutputLine(line: 5), heartbeat: OutputLine(line: 6))
        return configuration
    }

    @Test func everyConfiguredInput_reachesTheCoreAsItsOwnLine() {
        let specs = Self.everyLineConfigured.gpioInputs
        #expect(specs.compactMap { SafetyCore.InputLine(lineName: $0.name) } == SafetyCore.InputLine.allCases)
        #expect(specs.map(\.line) == [23, 24, 25])
    }

    @Test func everyConfiguredOutput_hasItsRole() {
        let configuration = Self.everyLineConfigured
        #expect(configuration.outputRoles == Set(OutputRole.allCases))
        #expect(configuration.gpioOutputs.map(\.name) == ["red", "nir", "master", "indicator", "heartbeat"])
        var minimal = configuration
        minimal.gpio.outputs = GPIOSettings.Outputs(master: nil)
        #expect(minimal.outputRoles == [.red, .nir])
    }

    /// outputs-off drives the started wiring and then the file's; only a change that reaches an output
    /// (another line, level, PWM channel or chip) may count as a second wiring to drive.
    @Test func sameOutputs_onlyWhenEveryOutputIsReachedTheSameWay() {
        let started = Self.everyLineConfigured
        var file = started
        file.mqtt.username = "rlt-panel-2"
        file.limits.maxSessionSeconds = 600
        file.gpio.inputs.interlock = nil
        #expect(OutputsOff.sameOutputs(started, file), "no output changed")

        var rewired: [GatewayConfiguration] = []
        for change in [
            { (c: inout GatewayConfiguration) in c.gpio.outputs.red.line += 1 },
            { (c: inout GatewayConfiguration) in c.gpio.outputs.nir.activeLow.toggle() },
            { (c: inout GatewayConfiguration) in c.gpio.outputs.master = OutputLine(line: 21) },
            { (c: inout GatewayConfiguration) in c.gpio.outputs.heartbeat = nil },
            { (c: inout GatewayConfiguration) in c.gpio.outputs.red.pwm = PWMSettings(chip: 0, channel: 1) },
            { (c: inout GatewayConfiguration) in c.gpio.chip = "gpiochip1" },
            { (c: inout GatewayConfiguration) in c.gpio.backend = .simulated },
        ] {
            var changed = started
            change(&changed)
            rewired.append(changed)
        }
        for changed in rewired {
            let same = OutputsOff.sameOutputs(started, changed)
            #expect(!same, "\(changed.gpioBackend) \(changed.gpioOutputs)")
        }
    }

    @Test func unknownLineName_isNoInput() {
        #expect(SafetyCore.InputLine(lineName: "stopButton") == nil)
        #expect(SafetyCore.InputLine(lineName: "stop_button") == .stopButton)
    }

    /// The output port over a real (simulated-chip) controller opened from the config's specs: each
    /// role drives its own line and reads back as itself.
    @Test func outputPort_drivesEachRolesOwnLine_andReadsItBackByRole() throws {
        try withTemporaryDirectory { directory in
            let configuration = Self.everyLineConfigured
            let controller = try GPIOController.open(
                backend: .simulated(directory: directory), outputs: configuration.gpioOutputs, inputs: [],
                consumer: "test", logger: Logger(label: "test"))
            let lines = GPIOOutputLines(controller)
            defer { lines.close() }
            for role in OutputRole.allCases {
                try lines.set([role: true])
                let levels = try lines.readOutputs()
                #expect(levels.count == OutputRole.allCases.count)
                #expect(levels.filter(\.value).map(\.key) == [role], "setting \(role) on")
                try lines.set([role: false])
            }
        }
    }
}
