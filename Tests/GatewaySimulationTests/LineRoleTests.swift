@testable import Gateway
import GatewayConfig
import SafetyCore
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

    @Test func unknownLineName_isNoInput() {
        #expect(SafetyCore.InputLine(lineName: "stopButton") == nil)
        #expect(SafetyCore.InputLine(lineName: "stop_button") == .stopButton)
    }
}
