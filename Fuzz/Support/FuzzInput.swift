/// Structured values read from the front of a fuzz input, so one byte string drives several typed
/// choices (which property, which column type, which number) and libFuzzer's mutations of a byte
/// become a different choice, not a different parse of everything after it.
///
/// Reading past the end yields zeros and empty values: every input is a complete (if short) script.
public struct FuzzInput {
    private let bytes: [UInt8]
    private var offset = 0

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    public var isAtEnd: Bool { self.offset >= self.bytes.count }

    public mutating func byte() -> UInt8 {
        guard self.offset < self.bytes.count else { return 0 }
        defer { self.offset += 1 }
        return self.bytes[self.offset]
    }

    /// A length-prefixed run of bytes (one length byte, so at most 255).
    public mutating func chunk() -> [UInt8] {
        let count = min(Int(self.byte()), self.bytes.count - min(self.offset, self.bytes.count))
        defer { self.offset += count }
        return Array(self.bytes[self.offset..<self.offset + count])
    }

    /// A length-prefixed string, invalid UTF-8 repaired the way the adapters repair it.
    public mutating func string() -> String {
        String(decoding: self.chunk(), as: UTF8.self)
    }

    public mutating func uint64() -> UInt64 {
        var value: UInt64 = 0
        for _ in 0..<8 { value = value << 8 | UInt64(self.byte()) }
        return value
    }

    public mutating func int64() -> Int64 { Int64(bitPattern: self.uint64()) }

    /// Any `Double` bit pattern: NaN, infinities, negative zero and subnormals included.
    public mutating func double() -> Double { Double(bitPattern: self.uint64()) }

    /// The rest of the input.
    public mutating func rest() -> [UInt8] {
        defer { self.offset = self.bytes.count }
        return self.offset < self.bytes.count ? Array(self.bytes[self.offset...]) : []
    }
}
