import DedicatedThread
import Foundation

/// The terminal in non-canonical, no-echo mode so single keys arrive at once; ``restore()`` puts
/// the saved settings back (also on SIGINT/SIGTERM, which the watch loop turns into a clean exit).
struct RawTerminal: Sendable {
    let original: termios

    static func enable() -> RawTerminal? {
        guard isatty(STDIN_FILENO) == 1 else { return nil }
        var settings = termios()
        guard tcgetattr(STDIN_FILENO, &settings) == 0 else { return nil }
        let original = settings
        settings.c_lflag &= ~tcflag_t(ICANON | ECHO)
        guard tcsetattr(STDIN_FILENO, TCSANOW, &settings) == 0 else { return nil }
        return RawTerminal(original: original)
    }

    /// Reads keys on a thread of its own (a blocking read has no place on the cooperative pool).
    func readKeys(_ handle: @escaping @Sendable (UInt8) -> Void) {
        DedicatedThread.start(name: "rlt-keys") {
            var byte: UInt8 = 0
            while read(STDIN_FILENO, &byte, 1) == 1 { handle(byte) }
        }?.detach()
    }

    func restore() {
        var settings = self.original
        _ = tcsetattr(STDIN_FILENO, TCSANOW, &settings)
    }
}
