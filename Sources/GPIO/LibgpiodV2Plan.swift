#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What the libgpiod 2 backend asks of the kernel, decided without calling libgpiod.
///
/// `LibgpiodV2Chip` only turns this plan into `gpiod_line_settings` and `gpiod_line_config` calls. Keeping the
/// decisions here (how a chip is found, each line's settings, which line an edge event belongs to) lets the
/// default build, linked with libgpiod 1.6, test the v2 backend's logic on any machine; only the calls themselves
/// need a libgpiod 2 build and a kernel with GPIO (the qemu test, docs/DESIGN.md "GPIO backends").
enum LibgpiodV2Plan {
    /// Where a configured chip is. libgpiod 2 opens chips by path only: the by-name, by-number and by-label calls
    /// of v1 are gone, so the backend maps the config's spellings onto paths itself, the way v1 did inside the
    /// library (`gpiochipN` and `N` are `/dev/gpiochipN`; anything else that is not a path is a label).
    enum ChipLocation: Equatable, Sendable {
        case path(String)
        case label(String)

        init(descriptor: String) {
            if descriptor.hasPrefix("/") {
                self = .path(descriptor)
            } else if descriptor.hasPrefix("gpiochip") {
                self = .path("/dev/" + descriptor)
            } else if !descriptor.isEmpty, descriptor.allSatisfy({ $0.isASCII && $0.isNumber }) {
                self = .path("/dev/gpiochip" + descriptor)
            } else {
                self = .label(descriptor)
            }
        }
    }

    /// The settings of one requested line, in libgpiod 2's terms.
    struct LineSettings: Equatable, Sendable {
        enum Direction: Equatable, Sendable {
            /// An output driven at this physical level from the moment it is requested.
            case output(high: Bool)
            case input
        }
        var direction: Direction
        /// Both edges for inputs (the edge thread only needs to know a line moved), none for outputs.
        var detectsBothEdges: Bool
        var bias: GPIOBias
        /// Always `false`: the backend speaks physical levels, ``GPIOController`` alone applies `active_low`, so
        /// the inversion can never be applied twice or differ from the simulated chip.
        var activeLow: Bool { false }
        /// Always 0: debouncing is the edge thread's (``InputDebouncer``), the same for every backend; a kernel
        /// debounce would add a second, driver-dependent window in front of it.
        var debounceMicroseconds: Int { 0 }

        /// An output starting at `initialPhysical`, its OFF level. Bias stays as the board set it, as in v1.
        static func output(initialPhysical: Bool) -> LineSettings {
            LineSettings(direction: .output(high: initialPhysical), detectsBothEdges: false, bias: .asIs)
        }

        /// An input reporting both edges, with the configured pull.
        static func input(bias: GPIOBias) -> LineSettings {
            LineSettings(direction: .input, detectsBothEdges: true, bias: bias)
        }
    }

    /// One line to request: its offset on the chip (resolved from the spec's name if it had one) and settings.
    struct Line: Equatable, Sendable {
        var offset: UInt32
        var settings: LineSettings
        /// How messages name the line (``describeLine(chip:line:lineName:name:)``).
        var description: String
    }

    /// Refuses a plan in which two specs resolved to the same offset (a name and an offset, or two names, for one
    /// line). libgpiod 2 would quietly let the later settings win in one request; v1 got `EBUSY` from requesting
    /// the line a second time, so this reports the same "busy" error, held by our own consumer.
    static func checkDistinct(_ lines: [Line], consumer: String) throws(GPIOError) {
        var seen: Set<UInt32> = []
        for line in lines where !seen.insert(line.offset).inserted {
            throw LibgpiodErrors.request(description: line.description, errno: EBUSY, consumer: consumer, bias: nil) {
                consumer
            }
        }
    }

    /// The indices (into `lines`, in request order) of the lines that `eventOffsets` name, each once, in order.
    /// Offsets that are not ours are ignored: the kernel only reports lines of the request, so one would mean
    /// a libgpiod fault, and the debouncer reads every line's level anyway.
    static func activeIndices(eventOffsets: [UInt32], lines: [Line]) -> [Int] {
        var index: [UInt32: Int] = [:]
        for (position, line) in lines.enumerated() { index[line.offset] = position }
        return Set(eventOffsets.compactMap { index[$0] }).sorted()
    }
}
