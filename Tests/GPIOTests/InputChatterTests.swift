import Testing

@testable import GPIO

/// A contact that keeps bouncing faster than its debounce window is reported inactive (open, for
/// the interlock) after ``InputDebouncer/unstableFactor`` windows; a failing read is reported as a
/// failed input, never only logged.
@Suite struct InputChatterTests {
    private let ms: Int64 = 1_000_000

    @Test func chatterFasterThanDebounce_reportsInactive_withinTheUnstableLimit() {
        var debouncer = InputDebouncer(inputs: [(name: "interlock", debounceMs: 20, level: true)])
        var reported: GPIOInputEdge?
        var time: Int64 = 100 * self.ms
        while reported == nil, time < 1000 * self.ms {
            debouncer.activity(on: 0, at: time)
            time += 7 * self.ms
            #expect(debouncer.dueLines(at: time).isEmpty)
            reported = debouncer.unstableLines(at: time).first
        }
        #expect(reported?.active == false)
        #expect(time - 100 * self.ms <= 20 * InputDebouncer.unstableFactor * self.ms + 7 * self.ms)
        // Once it calms closed, the closed level is reported again.
        let settles = time + 20 * self.ms
        #expect(debouncer.dueLines(at: settles) == [0])
        #expect(debouncer.settle(0, level: true)?.active == true)
    }

    @Test func failingRead_reportsEveryInputFailed_once_thenTheLevelAgain() {
        var pump = InputEdgePump(
            inputs: [GPIOInputSpec(name: "interlock", line: 1, debounceMs: 10)], levels: [true])
        let failed = pump.failed("EIO", at: 0)
        #expect(failed.map(\.failure) == ["EIO"])
        #expect(failed.first?.active == false)
        #expect(pump.failed("EIO", at: 1).isEmpty)
        let recovered = pump.settle(at: 20 * self.ms) { _ throws(GPIOError) in true }
        #expect(recovered.map(\.active) == [true])
        #expect(recovered.first?.failure == nil)
    }
}
