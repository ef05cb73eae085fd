import SafetyCore

/// One ``SafetyMachine`` driven the way the gateway's loop drives it, around simulated output hardware.
///
/// The loop answers every `setOutputs` it performs with the levels it read back from the lines
/// (`outputReadback`), in the same turn; a harness that skipped that echo would test a machine that
/// never hears from its hardware and latches `F_OUTPUT_MISMATCH`. The unit tests, the fuzz target,
/// the benchmarks and the GPIO self-test share this one echo instead of writing it four times.
/// Time is plain `Instant` arithmetic: the bench moves it only when told (``advance(seconds:)``).
public struct MachineBench {
    public var machine: SafetyMachine
    public var now: Instant
    /// The outputs of the last `setOutputs` the machine returned.
    public private(set) var outputs: OutputCommand = .off
    /// The output hardware: what it reads back once `command` is set; `nil` when it says nothing
    /// (a board without readback, or a test that withholds it).
    public var hardware: (OutputCommand) -> OutputReadback?

    /// Honest hardware: reads back exactly what it was told.
    public static func honest(_ command: OutputCommand) -> OutputReadback? { command.expectedReadback }

    public init(
        _ machine: SafetyMachine, now: Instant = Instant(nanoseconds: 1_000_000_000),
        hardware: @escaping (OutputCommand) -> OutputReadback? = MachineBench.honest
    ) {
        self.machine = machine
        self.now = now
        self.hardware = hardware
    }

    /// Feeds `event` at ``now``; when the machine set the outputs, feeds the hardware's readback
    /// too (and so on, while the answer sets them again). Returns every action, in order.
    @discardableResult
    public mutating func send(_ event: SafetyEvent) -> [SafetyAction] {
        var actions = self.machine.handle(event, now: self.now)
        guard let command = actions.lastOutputCommand else { return actions }
        self.outputs = command
        if let readback = self.hardware(command) {
            actions += self.send(.outputReadback(readback))
        }
        return actions
    }

    public mutating func advance(seconds: Double) {
        self.now = self.now.adding(seconds: seconds)
    }
}

extension [SafetyAction] {
    /// The last `setOutputs` in the list, if any: what the lines are told last.
    public var lastOutputCommand: OutputCommand? {
        self.last { if case .setOutputs = $0 { true } else { false } }.flatMap {
            if case .setOutputs(let command) = $0 { command } else { nil }
        }
    }
}
