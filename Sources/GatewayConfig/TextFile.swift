import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a text file could not be read, with the operating system's reason.
struct FileReadError: Error, CustomStringConvertible {
    var path: String
    var reason: String
    var description: String { "cannot read \(self.path): \(self.reason)" }
}

/// Reads a whole UTF-8 file, naming the OS's reason (`No such file or directory`) on failure.
func readTextFile(_ path: String) -> Result<String, FileReadError> {
    guard let data = FileManager.default.contents(atPath: path) else {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            return .failure(FileReadError(path: path, reason: String(cString: strerror(errno))))
        }
        close(descriptor)
        return .failure(FileReadError(path: path, reason: "not a readable regular file"))
    }
    guard let text = String(data: data, encoding: .utf8) else {
        return .failure(FileReadError(path: path, reason: "not UTF-8 text"))
    }
    return .success(text)
}
