#if canImport(Glibc)
    import Glibc
#endif

/// A tiny, well-mixed, seedable generator (SplitMix64): the same seed gives the same sequence on
/// every machine, so a failing property test, fuzz run or simulation replays from its printed seed.
///
/// The one copy for the tests, the fuzz harness, the benchmarks and the simulator.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        self.state = seed
    }

    public mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `true` with probability `probability` (0…1).
    public mutating func chance(_ probability: Double) -> Bool {
        Double.random(in: 0..<1, using: &self) < probability
    }

    /// `true` in `percent` cases out of 100.
    public mutating func chance(percent: Int) -> Bool {
        Int.random(in: 0..<100, using: &self) < percent
    }

    /// A uniformly distributed number of seconds in `range`.
    public mutating func seconds(_ range: ClosedRange<Double>) -> Double {
        Double.random(in: range, using: &self)
    }

    /// An exponentially distributed interval with the given mean: the gaps between independent events.
    public mutating func exponential(mean: Double) -> Double {
        -mean * log1p(-Double.random(in: 0..<1, using: &self))
    }

    /// One of `values`, which must not be empty.
    public mutating func pick<C: Collection>(_ values: C) -> C.Element where C.Index == Int {
        values[values.startIndex + Int.random(in: 0..<values.count, using: &self)]
    }
}
