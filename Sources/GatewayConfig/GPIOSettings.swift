/// The panel's GPIO wiring: which chip, which line offsets, and how each line is read or driven.
public struct GPIOSettings: Sendable, Hashable {
    public enum Backend: String, Sendable, Hashable, CaseIterable {
        /// The kernel's GPIO character device through libgpiod (v1 or v2, as built).
        case libgpiod
        /// Line levels kept in files laid out like gpio-sim's sysfs (docs/DESIGN.md "Simulated GPIO chip").
        case simulated
    }

    public var backend: Backend
    /// libgpiod chip: name (`gpiochip0`), path (`/dev/gpiochip0`) or label.
    public var chip: String
    /// Simulated backend's directory; `nil` for libgpiod. Defaults to `/tmp/rlt-gpio-sim/<device.id>`.
    public var simDir: String?
    public var outputs: Outputs
    public var inputs: Inputs

    public init(
        backend: Backend = .libgpiod, chip: String = "gpiochip0", simDir: String? = nil,
        outputs: Outputs = Outputs(), inputs: Inputs = Inputs()
    ) {
        self.backend = backend
        self.chip = chip
        self.simDir = simDir
        self.outputs = outputs
        self.inputs = inputs
    }

    /// The simulated backend's default directory for a device, so two simulated panels never share lines.
    public static func defaultSimDir(deviceID: String) -> String { "/tmp/rlt-gpio-sim/\(deviceID)" }

    public struct Outputs: Sendable, Hashable {
        public var red: ChannelOutput
        public var nir: ChannelOutput
        /// Series relay, on only while emitting.
        public var master: OutputLine?
        /// Status indicator.
        public var indicator: OutputLine?
        /// Toggled while the loop is healthy, for an external hardware watchdog.
        public var heartbeat: OutputLine?

        public init(
            red: ChannelOutput = ChannelOutput(line: 17), nir: ChannelOutput = ChannelOutput(line: 27),
            master: OutputLine? = OutputLine(line: 22), indicator: OutputLine? = nil, heartbeat: OutputLine? = nil
        ) {
            self.red = red
            self.nir = nir
            self.master = master
            self.indicator = indicator
            self.heartbeat = heartbeat
        }
    }

    public struct Inputs: Sendable, Hashable {
        /// Normally-closed interlock: emission only while it reads closed (S10).
        public var interlock: InputLine?
        /// Local stop button (S11).
        public var stopButton: InputLine?
        /// Optional emission-sense input (photodiode, current sense) checked against the command (S9).
        public var emissionSense: InputLine?

        /// The default interlock is fail-safe: a normally-closed contact to 3.3 V read with the internal
        /// pull-down, so a broken wire floats low and reads open.
        public init(
            interlock: InputLine? = InputLine(line: 23, bias: .pullDown), stopButton: InputLine? = nil,
            emissionSense: InputLine? = nil
        ) {
            self.interlock = interlock
            self.stopButton = stopButton
            self.emissionSense = emissionSense
        }
    }
}

/// An LED channel's enable line, and optionally the sysfs PWM that dims it.
public struct ChannelOutput: Sendable, Hashable {
    public var line: Int
    public var activeLow: Bool
    /// Without PWM the channel is on/off only and accepts intensity 100 % only.
    public var pwm: PWMSettings?

    public init(line: Int, activeLow: Bool = false, pwm: PWMSettings? = nil) {
        self.line = line
        self.activeLow = activeLow
        self.pwm = pwm
    }

    public var output: OutputLine { OutputLine(line: self.line, activeLow: self.activeLow) }
}

/// A plain on/off output line.
public struct OutputLine: Sendable, Hashable {
    public var line: Int
    /// On drives the line low.
    public var activeLow: Bool

    public init(line: Int, activeLow: Bool = false) {
        self.line = line
        self.activeLow = activeLow
    }
}

/// A sysfs PWM channel: `/sys/class/pwm/pwmchip<chip>/pwm<channel>`.
public struct PWMSettings: Sendable, Hashable {
    public var chip: Int
    public var channel: Int
    public var frequencyHz: Int

    public init(chip: Int = 0, channel: Int = 0, frequencyHz: Int = 1000) {
        self.chip = chip
        self.channel = channel
        self.frequencyHz = frequencyHz
    }
}

/// An input line.
///
/// Convention: the logical value is the physical level, inverted when ``activeLow`` is true, and a
/// logical 1 means *active*: interlock closed, stop button pressed, emission sensed.
public struct InputLine: Sendable, Hashable {
    public enum Bias: String, Sendable, Hashable, CaseIterable {
        case pullUp = "pull-up"
        case pullDown = "pull-down"
        case disabled
    }

    public var line: Int
    public var bias: Bias
    public var activeLow: Bool
    /// Level changes shorter than this are ignored.
    public var debounceMs: Int

    public init(line: Int, bias: Bias = .pullUp, activeLow: Bool = false, debounceMs: Int = 10) {
        self.line = line
        self.bias = bias
        self.activeLow = activeLow
        self.debounceMs = debounceMs
    }
}
