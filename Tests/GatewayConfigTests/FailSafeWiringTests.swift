import GatewayConfig
import Testing

/// Input wiring on which a broken wire reads the safe-looking state is an error, on every backend.
@Suite("Fail-safe input wiring")
struct FailSafeWiringTests {
    @Test(arguments: [
        ("pull-up", false, "closed"), ("pull-down", true, "closed"), ("disabled", false, "closed"),
        ("disabled", true, "closed"),
    ])
    func interlockWiring_whereABrokenWireReadsClosed_isAnError(bias: String, activeLow: Bool, reading: String) {
        for backend in ["libgpiod", "simulated"] {
            let found = problems(
                "gpio: {backend: \(backend), sim_dir: /tmp/x, inputs: {interlock: {line: 23, bias: \(bias), "
                    + "active_low: \(activeLow)}}}")
            let message = messages(found, at: "gpio.inputs.interlock")
            #expect(message.count == 1, "\(found)")
            #expect(message.first?.contains(reading) == true)
            #expect(message.first?.contains("bias: pull-up with active_low: true") == true, "names the right wiring")
        }
    }

    @Test(arguments: [("pull-up", true), ("pull-down", false)])
    func interlockWiring_whereABrokenWireReadsOpen_isAccepted(bias: String, activeLow: Bool) {
        #expect(problems("gpio: {inputs: {interlock: {line: 23, bias: \(bias), active_low: \(activeLow)}}}") == [])
    }

    @Test func interlockWithTheHarnessesOldWiring_isRefusedNamingTheFix() {
        let found = problems("gpio: {inputs: {interlock: {line: 23, bias: pull-up}}}")
        let message = messages(found, at: "gpio.inputs.interlock").first ?? ""
        #expect(message.contains("bias: pull-up with active_low: false reads a broken interlock wire as closed"))
        #expect(message.contains("bias: pull-down with active_low: false"))
    }

    @Test(arguments: [("pull-up", true), ("pull-down", false), ("disabled", false)])
    func stopButtonWiring_whereABrokenWireReadsReleased_isAnError(bias: String, activeLow: Bool) {
        let found = problems(
            "gpio: {inputs: {stop_button: {line: 24, bias: \(bias), active_low: \(activeLow)}}}")
        let message = messages(found, at: "gpio.inputs.stop_button")
        #expect(message.count == 1, "\(found)")
        #expect(message.first?.contains("released") == true)
        #expect(message.first?.contains("normally-closed button") == true)
    }

    @Test(arguments: [("pull-up", false), ("pull-down", true)])
    func stopButtonWiring_whereABrokenWireReadsPressed_isAccepted(bias: String, activeLow: Bool) {
        #expect(problems("gpio: {inputs: {stop_button: {line: 24, bias: \(bias), active_low: \(activeLow)}}}") == [])
    }

    @Test func defaultInterlock_isFailSafe() {
        #expect(ConfigLoader.default().gpio.inputs.interlock?.bias == .pullDown)
        #expect(ConfigLoader.default().validate() == [])
        #expect(problems("gpio: {inputs: {interlock: {line: 23}, stop_button: {line: 24}}}") == [])
    }
}
