import ArgumentParser

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `rlt-gateway fleet …`: the fleet tools moved to their own program, `rlt-fleet`, because their
/// HTTP server (FlyingFox) pulls Foundation's networking and libcurl into whatever links it, and a
/// panel never runs them. This subcommand stays so existing scripts and habits keep working: it
/// *replaces* this process with `rlt-fleet` and the same arguments, so the pid, signals, output and
/// exit status are `rlt-fleet`'s own (`rlt-gateway fleet exporter & … kill $!` still stops the
/// exporter). When `rlt-fleet` is missing it says how to get it and exits 127, as a shell does for
/// an unknown command.
struct FleetForwarder: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet",
        abstract: "Run rlt-fleet (watch, exporter, stop) with these arguments; the fleet tools are a separate program.",
        discussion: """
            Looks for rlt-fleet next to this rlt-gateway binary, then on PATH. `rlt-gateway fleet --help` \
            shows rlt-fleet's help. Build it with `swift build -c release --product rlt-fleet`, or install \
            it with `bash deploy/install.sh --fleet` (docs/FLEET.md).
            """,
        // Every argument, --help included, belongs to rlt-fleet.
        helpNames: [])

    @Argument(parsing: .captureForPassthrough, help: "Arguments for rlt-fleet, e.g. `watch --config FILE`.")
    var arguments: [String] = []

    func run() throws {
        let candidates = FleetProgram.candidates()
        guard let program = candidates.first(where: { access($0, X_OK) == 0 }) else {
            FleetProgram.printMissing(lookedIn: candidates)
            throw ExitCode(127)
        }
        let argv = ([program] + self.arguments).map { strdup($0) } + [nil]
        execv(program, argv)
        // Only reached when the exec failed (a binary for another architecture, no permission).
        FleetProgram.printToStandardError(
            "rlt-gateway fleet: cannot run \(program): \(String(cString: strerror(errno)))\n")
        throw ExitCode(126)
    }
}

/// Where `rlt-fleet` is looked for: beside the running binary first (a build directory, or
/// /usr/local/bin after `deploy/install.sh --fleet`), so a checkout's `rlt-gateway fleet` runs the
/// `rlt-fleet` of the same build rather than an older one on PATH.
enum FleetProgram {
    static let name = "rlt-fleet"

    static func candidates() -> [String] {
        var directories: [String] = []
        if let own = self.ownDirectory() { directories.append(own) }
        let path = getenv("PATH").map { String(cString: $0) } ?? ""
        for directory in path.split(separator: ":").map(String.init) where !directories.contains(directory) {
            directories.append(directory)
        }
        return directories.map { "\($0)/\(self.name)" }
    }

    /// The directory of this executable (Linux: `/proc/self/exe`, symlinks resolved); nil elsewhere.
    static func ownDirectory() -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        let path = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return path.lastIndex(of: "/").map { String(path[..<$0]) }
    }

    static func printMissing(lookedIn candidates: [String]) {
        printToStandardError(
            """
            rlt-gateway fleet: the fleet tools (watch, exporter, stop) are a separate program now, \
            \(self.name), and it was not found.
              looked for: \(candidates.joined(separator: ", "))
              A panel does not need it. On the machine that watches the fleet, from a checkout:
                bash deploy/install.sh --fleet                 # installs /usr/local/bin/\(self.name)
                swift build -c release --product \(self.name)     # or just build it
              then run `\(self.name) watch|exporter|stop ...` (same options; docs/FLEET.md).

            """)
    }

    static func printToStandardError(_ text: String) {
        var text = text
        text.withUTF8 { bytes in _ = write(STDERR_FILENO, bytes.baseAddress, bytes.count) }
    }
}
