import ArgumentParser

/// `rlt-gateway`: the daemon (`run`), its config checker, and a terminal client for sessions.
@main
struct RLTGateway: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rlt-gateway",
        abstract: "Edge daemon of a red / near-infrared LED therapy panel, controlled over MQTT.",
        version: GatewayVersionText.current,
        subcommands: [Run.self, CheckConfig.self, Session.self, History.self, FleetCommand.self]
    )
}
