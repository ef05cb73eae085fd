/// The bias (internal pull resistor) an input line is requested with.
///
/// The raw values are the config's spelling (`gpio.inputs.<name>.bias`) and gpio-sim's `pull` file's.
public enum GPIOBias: String, Sendable, Hashable, CaseIterable {
    case pullUp = "pull-up"
    case pullDown = "pull-down"
    case disabled = "disabled"
    /// Leave the line's bias as the board firmware or device tree set it.
    case asIs = "as-is"
}

/// One output line of the panel: an LED channel enable, the master relay, the indicator or the heartbeat.
public struct GPIOOutputSpec: Sendable, Hashable {
    /// The logical name the gateway uses (`red`, `nir`, `master`, `indicator`, `heartbeat`).
    public var name: String
    /// The line offset on the chip; ignored when ``lineName`` is set.
    public var line: Int
    /// A line name to look up on the chip instead of using ``line`` (e.g. `"GPIO17"` on a Raspberry Pi).
    public var lineName: String?
    /// `true` when the output is on at the physical low level (e.g. a relay board driven through a transistor).
    public var activeLow: Bool

    public init(name: String, line: Int, lineName: String? = nil, activeLow: Bool = false) {
        self.name = name
        self.line = line
        self.lineName = lineName
        self.activeLow = activeLow
    }
}

/// One input line: the interlock, the local stop button or the emission-sense feedback.
public struct GPIOInputSpec: Sendable, Hashable {
    /// The logical name the gateway uses (`interlock`, `stop_button`, `emission_sense`).
    public var name: String
    /// The line offset on the chip; ignored when ``lineName`` is set.
    public var line: Int
    /// A line name to look up on the chip instead of using ``line``.
    public var lineName: String?
    /// `true` when the input is active at the physical low level (a switch to ground with a pull-up).
    public var activeLow: Bool
    /// The pull the line is requested with.
    public var bias: GPIOBias
    /// How long the level must stay unchanged before an edge is reported; 0 reports every settled change at once.
    public var debounceMs: Int

    public init(
        name: String, line: Int, lineName: String? = nil, activeLow: Bool = false, bias: GPIOBias = .asIs,
        debounceMs: Int = 10
    ) {
        self.name = name
        self.line = line
        self.lineName = lineName
        self.activeLow = activeLow
        self.bias = bias
        self.debounceMs = debounceMs
    }
}

/// Which GPIO implementation the controller drives (`gpio.backend` in the config).
public enum GPIOBackendSelection: Sendable, Hashable {
    /// A kernel GPIO chip through libgpiod (v1 or v2): `gpiochip0`, `/dev/gpiochip0`, a chip number or the chip's label.
    case libgpiod(chip: String)
    /// The simulated chip: a directory laid out like gpio-sim's sysfs (`<dir>/sim_gpio<N>/value`, `…/pull`).
    case simulated(directory: String)
}

/// A debounced change of an input's logical level.
public struct GPIOInputEdge: Sendable, Hashable {
    /// The input's logical name.
    public var name: String
    /// The new logical level: `true` when active.
    public var active: Bool
    /// Set when the line could not be read (the edge thread's wait or read failed): the level is
    /// unknown and `active` is `false`, the level of an open interlock. The consumer must treat the
    /// input as failed, not merely inactive.
    public var failure: String?

    public init(name: String, active: Bool, failure: String? = nil) {
        self.name = name
        self.active = active
        self.failure = failure
    }
}
