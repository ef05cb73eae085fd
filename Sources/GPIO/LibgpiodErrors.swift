#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The errors of the kernel backends, written once for libgpiod v1 (``LibgpiodChip``) and v2 (`LibgpiodV2Chip`).
///
/// Which libgpiod a build uses is a packaging fact of the board, not something its operator should see in a
/// message: a busy line or a missing chip reads the same under both, and tests on a v1 machine check the text the
/// v2 backend will print (docs/DESIGN.md, "GPIO backends"). No libgpiod call lives here, so this file compiles
/// against either header.
enum LibgpiodErrors {
    /// `open(2)` of the chip failed: missing, not allowed, or something else.
    static func chipOpen(descriptor: String, errno code: Int32, consumer: String) -> GPIOError {
        switch code {
        case ENOENT, ENODEV, ENOTTY:
            return GPIOError(
                .chipNotFound,
                "GPIO chip \"\(descriptor)\" not found (consumer \"\(consumer)\"): "
                    + "\(errnoText(code)); `gpiodetect` lists the chips, name one as gpiochipN, /dev/gpiochipN "
                    + "or by label", errno: code)
        case EACCES, EPERM:
            return GPIOError(
                .permissionDenied,
                "GPIO chip \"\(descriptor)\" cannot be opened by consumer \"\(consumer)\": "
                    + "\(errnoText(code)); run as a member of the group owning /dev/gpiochip*", errno: code)
        default:
            return GPIOError(
                .chipOpenFailed,
                "GPIO chip \"\(descriptor)\" failed to open (consumer \"\(consumer)\"): " + errnoText(code),
                errno: code)
        }
    }

    /// Listing the chips to find one by label failed.
    static func chipListing(label: String, errno code: Int32, consumer: String) -> GPIOError {
        GPIOError(
            .chipNotFound,
            "GPIO chip labelled \"\(label)\" not found (consumer \"\(consumer)\"): listing chips "
                + "failed: \(errnoText(code))", errno: code)
    }

    /// No chip carries `label`; `seen` lists every chip looked at as `gpiochipN [label]`.
    static func labelNotFound(label: String, seen: [String], consumer: String) -> GPIOError {
        let found = seen.isEmpty ? "no GPIO chips exist" : "chips: " + seen.joined(separator: ", ")
        return GPIOError(
            .chipNotFound, "GPIO chip labelled \"\(label)\" not found (consumer \"\(consumer)\"); \(found)",
            errno: ENOENT)
    }

    static func lineNameNotFound(
        description: String, chipName: String, lineName: String, errno code: Int32, consumer: String
    ) -> GPIOError {
        GPIOError(
            .lineNotFound,
            "\(description): \(chipName) has no line named \"\(lineName)\" (consumer "
                + "\"\(consumer)\"); `gpioinfo \(chipName)` lists the line names", errno: code)
    }

    static func lineOutOfRange(
        description: String, offset: Int, chipName: String, lineCount: Int, consumer: String
    ) -> GPIOError {
        GPIOError(
            .lineOutOfRange,
            "\(description): offset \(offset) is out of range, \(chipName) has lines 0…\(lineCount - 1) "
                + "(consumer \"\(consumer)\")", errno: EINVAL)
    }

    /// The kernel refused a line request. `holder` is asked only for `EBUSY`, and names who holds the line.
    static func request(
        description: String, errno code: Int32, consumer: String, bias: GPIOBias?, holder: () -> String?
    ) -> GPIOError {
        if code == EBUSY {
            let named = holder().map { "consumer \"\($0)\"" } ?? "another consumer"
            return GPIOError(
                .lineBusy,
                "\(description) is busy: held by \(named); stop it (`gpioinfo` shows the holder) or "
                    + "pick a free line; requested by consumer \"\(consumer)\"", errno: code)
        }
        var hint = ""
        if code == EINVAL, let bias, bias != .asIs {
            hint = "; bias \(bias.rawValue) needs Linux ≥ 5.5 and a driver that supports it (try bias: as-is)"
        }
        return GPIOError(
            .requestFailed, "\(description): request by consumer \"\(consumer)\" failed: \(errnoText(code))\(hint)",
            errno: code)
    }

    static func setFailed(description: String, physical: Bool, errno code: Int32) -> GPIOError {
        GPIOError(
            .ioFailed, "\(description): setting \(physical ? 1 : 0) failed: \(errnoText(code))", errno: code)
    }

    static func readFailed(description: String, errno code: Int32) -> GPIOError {
        GPIOError(.ioFailed, "\(description): reading the level failed: \(errnoText(code))", errno: code)
    }

    static func waitFailed(chipName: String, errno code: Int32) -> GPIOError {
        GPIOError(.ioFailed, "\(chipName): waiting for input events failed: \(errnoText(code))", errno: code)
    }

    static func readEventsFailed(description: String, errno code: Int32) -> GPIOError {
        GPIOError(.ioFailed, "\(description): reading edge events failed: " + errnoText(code), errno: code)
    }

    static func released(chipName: String) -> GPIOError {
        GPIOError(.closed, "\(chipName): lines already released")
    }
}
