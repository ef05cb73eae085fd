import ArgumentParser
import Gateway

/// `rlt-gateway`: the daemon (`run`), its config checker, and a terminal client for sessions.
/// `fleet` only hands over to the separate `rlt-fleet` program (FleetForwarder.swift says why).
@main
struct RLTGateway: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rlt-gateway",
        abstract: "Edge daemon of a red / near-infrared LED therapy panel, controlled over MQTT.",
        version: GatewayVersion.current,
        subcommands: [Run.self, CheckConfig.self, Session.self, History.self, DoctorCommand.self, OutputsOffCommand.self, FleetForwarder.self]
    )
}
