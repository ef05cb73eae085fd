import Foundation
import GPIO
import Testing

@Suite struct SimulatedGPIOControllerTests {
    private let outputs = [
        GPIOOutputSpec(name: "red", line: 17),
        GPIOOutputSpec(name: "nir", line: 27),
        GPIOOutputSpec(name: "master", line: 22, activeLow: true),
    ]

    @Test func open_outputsStartOff_withPhysicalLevelRespectingActiveLow() throws {
        let chip = try SimulatedChipDirectory()
        defer { chip.remove() }
        let controller = try GPIOController.open(
            backend: chip.backend, outputs: self.outputs, inputs: [], consumer: "rlt-test", logger: quietLogger)
        defer { controller.close() }

        #expect(chip.read(line: 17, "value") == "0")
        #expect(chip.read(line: 27, "value") == "0")
        #expect(chip.read(line: 22, "value") == "1")
        #expect(try controller.readOutputs() == ["red": false, "nir": false, "master": false])
    }

    @Test func set_returnsReadback_andActiveLowInversionIsVisibleInValue() throws {
        let chip = try SimulatedChipDirectory()
        defer { chip.remove() }
        let controller = try GPIOController.open(
            backend: chip.backend, outputs: self.outputs, inputs: [], consumer: "rlt-test", logger: quietLogger)
        defer { controller.close() }

        #expect(try controller.set(["red": true, "master": true]) == ["red": true, "master": true])
        #expect(chip.read(line: 17, "value") == "1")
        #expect(chip.read(line: 22, "value") == "0")
        #expect(chip.read(line: 27, "value") == "0")
        #expect(try controller.readOutputs() == ["red": true, "nir": false, "master": true])

        #expect(try controller.set(["red": false, "nir": true]) == ["red": false, "nir": true])
        #expect(chip.read(line: 17, "value") == "0")
        #expect(chip.read(line: 27, "value") == "1")
    }

    @Test func set_readsBackWhatTheLineHolds_notWhatWasCommanded() throws {
        let chip = try SimulatedChipDirectory()
        defer { chip.remove() }
        let controller = try GPIOController.open(
            backend: chip.backend, outputs: self.outputs, inputs: [], consumer: "rlt-test", logger: quietLogger)
        defer { controller.close() }

        _ = try controller.set(["red": true])
        try chip.write(line: 17, "value", "0")  // a line that did not follow (a stuck driver)
        #expect(try controller.readOutputs()["red"] == false)
    }

    @Test func set_withUnknownName_throwsBeforeTouchingAnyLine() throws {
        let chip = try SimulatedChipDirectory()
        defer { chip.remove() }
        let controller = try GPIOController.open(
            backend: chip.backend, outputs: self.outputs, inputs: [], consumer: "rlt-test", logger: quietLogger)
        defer { controller.close() }

        let error = captureGPIOError { try controller.set(["red": true, "blue": true]) }
        #expect(error?.code == .unknownLine)
        #expect(error?.message.contains("\"blue\"") == true)
        #expect(chip.read(line: 17, "value") == "0")
    }

    @Test func close_drivesEveryOutputOff_isIdempotent_andRefusesLaterUse() throws {
        let chip = try SimulatedChipDirectory()
        defer { chip.remove() }
        let controller = try GPIOController.open(
            backend: chip.backend, outputs: self.outputs, inputs: [], consumer: "rlt-test", logger: quietLogger)
        _ = try controller.set(["red": true, "nir": true, "master": true])

        controller.close()
        controller.close()

        #expect(chip.read(line: 17, "value") == "0")
        #expect(chip.read(line: 27, "value") == "0")
        #expect(chip.read(line: 22, "value") == "1")
        #expect(captureGPIOError { try controller.set(["red": true]) }?.code == .closed)
        #expect(chip.read(line: 17, "value") == "0")
    }

    @Test func open_whenDirectoryIsMissing_namesChipAndConsumer() throws {
        let chip = try SimulatedChipDirectory()
        chip.remove()
        let error = captureGPIOError {
            try GPIOController.open(
                backend: chip.backend, outputs: self.outputs, inputs: [], consumer: "rlt-test", logger: quietLogger)
        }
        #expect(error?.code == .chipNotFound)
        #expect(error?.message.contains(chip.path) == true)
        #expect(error?.message.contains("rlt-test") == true)
    }

    @Test func open_whenLineIsHeld_isBusyNamingHolder_andReleasesWhatItClaimed() throws {
        let chip = try SimulatedChipDirectory()
        defer { chip.remove() }
        let holder = try GPIOController.open(
            backend: chip.backend, outputs: [GPIOOutputSpec(name: "other", line: 22)], inputs: [],
            consumer: "gpioset", logger: quietLogger)

        // red (17) and nir (27) are free, master (22) is held: nothing may stay requested.
        let error = captureGPIOError {
            try GPIOController.open(
                backend: chip.backend, outputs: self.outputs, inputs: [], consumer: "rlt-gateway", logger: quietLogger)
        }
        #expect(error?.code == .lineBusy)
        #expect(
            error?.message.hasPrefix(
                "simulated chip \(chip.path) line 22 (master) is busy: held by consumer \"gpioset\"")
                == true)
        #expect(error?.message.contains("rlt-gateway") == true)

        holder.close()
        let retry = try GPIOController.open(
            backend: chip.backend, outputs: self.outputs, inputs: [], consumer: "rlt-gateway", logger: quietLogger)
        retry.close()
    }

    @Test func open_whenAnInputIsHeld_releasesTheOutputsItAlreadyRequested() throws {
        let chip = try SimulatedChipDirectory()
        defer { chip.remove() }
        let holder = try GPIOController.open(
            backend: chip.backend, outputs: [], inputs: [GPIOInputSpec(name: "other", line: 23)],
            consumer: "gpiomon", logger: quietLogger)
        defer { holder.close() }

        let error = captureGPIOError {
            try GPIOController.open(
                backend: chip.backend, outputs: self.outputs, inputs: [GPIOInputSpec(name: "interlock", line: 23)],
                consumer: "rlt-gateway", logger: quietLogger)
        }
        #expect(error?.code == .lineBusy)
        #expect(error?.message.contains("line 23 (interlock) is busy: held by consumer \"gpiomon\"") == true)
        // The outputs were requested (OFF) before the input failed, and were released again.
        #expect(chip.read(line: 22, "value") == "1")
        let outputsOnly = try GPIOController.open(
            backend: chip.backend, outputs: self.outputs, inputs: [], consumer: "rlt-gateway", logger: quietLogger)
        outputsOnly.close()
    }

    @Test func open_withDuplicateLine_isRefusedBeforeAnyRequest() throws {
        let chip = try SimulatedChipDirectory()
        defer { chip.remove() }
        let error = captureGPIOError {
            try GPIOController.open(
                backend: chip.backend, outputs: [GPIOOutputSpec(name: "red", line: 17)],
                inputs: [GPIOInputSpec(name: "interlock", line: 17)], consumer: "rlt-test", logger: quietLogger)
        }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.message.contains("both red and interlock") == true)
        #expect(chip.read(line: 17, "value") == nil)
    }

    @Test func open_withNegativeOffset_isOutOfRange() throws {
        let chip = try SimulatedChipDirectory()
        defer { chip.remove() }
        let error = captureGPIOError {
            try GPIOController.open(
                backend: chip.backend, outputs: [GPIOOutputSpec(name: "red", line: -1)], inputs: [],
                consumer: "rlt-test", logger: quietLogger)
        }
        #expect(error?.code == .lineOutOfRange)
    }

    @Test func open_withLineName_findsTheNamedLine() throws {
        let chip = try SimulatedChipDirectory()
        defer { chip.remove() }
        try chip.write(line: 5, "name", "LED_RED")
        let controller = try GPIOController.open(
            backend: chip.backend, outputs: [GPIOOutputSpec(name: "red", line: 0, lineName: "LED_RED")], inputs: [],
            consumer: "rlt-test", logger: quietLogger)
        defer { controller.close() }

        _ = try controller.set(["red": true])
        #expect(chip.read(line: 5, "value") == "1")
        #expect(chip.read(line: 0, "value") == nil)

        let missing = captureGPIOError {
            try GPIOController.open(
                backend: chip.backend, outputs: [GPIOOutputSpec(name: "nir", line: 0, lineName: "LED_NIR")], inputs: [],
                consumer: "rlt-test", logger: quietLogger)
        }
        #expect(missing?.code == .lineNotFound)
        #expect(missing?.message.contains("\"LED_NIR\"") == true)
    }

    @Test func open_inputWithoutPullFile_createsItFromBias_andExistingPullWins() throws {
        let chip = try SimulatedChipDirectory()
        defer { chip.remove() }
        try chip.write(line: 6, "pull", "pull-down")
        let controller = try GPIOController.open(
            backend: chip.backend, outputs: [],
            inputs: [
                GPIOInputSpec(name: "interlock", line: 5, bias: .pullUp),
                GPIOInputSpec(name: "stop_button", line: 6, activeLow: true, bias: .pullUp),
                GPIOInputSpec(name: "emission_sense", line: 7, bias: .asIs),
            ], consumer: "rlt-test", logger: quietLogger)
        defer { controller.close() }

        #expect(chip.read(line: 5, "pull") == "pull-up")
        #expect(chip.read(line: 6, "pull") == "pull-down")
        #expect(chip.read(line: 7, "pull") == "pull-down")
        #expect(chip.read(line: 5, "value") == "1")
        #expect(try controller.readInputs() == ["interlock": true, "stop_button": true, "emission_sense": false])
    }

    @Test func pullChange_raisesDebouncedEdgeEvents() async throws {
        let chip = try SimulatedChipDirectory()
        defer { chip.remove() }
        let controller = try GPIOController.open(
            backend: chip.backend, outputs: self.outputs,
            inputs: [GPIOInputSpec(name: "interlock", line: 23, bias: .pullUp, debounceMs: 5)],
            consumer: "rlt-test", logger: quietLogger)
        defer { controller.close() }
        let recorder = EdgeRecorder(controller.inputEdges)
        defer { recorder.cancel() }
        #expect(try controller.readInputs() == ["interlock": true])

        try chip.write(line: 23, "pull", "pull-down")
        let opened = await recorder.wait(for: 1)
        #expect(opened.map(\.name) == ["interlock"])
        #expect(opened.map(\.active) == [false])
        #expect(try controller.readInputs() == ["interlock": false])
        #expect(chip.read(line: 23, "value") == "0")

        try chip.write(line: 23, "pull", "pull-up")
        let closed = await recorder.wait(for: 2)
        #expect(closed.map(\.active) == [false, true])
    }

    @Test func activeLowInput_reportsActiveWhenPulledLow() async throws {
        let chip = try SimulatedChipDirectory()
        defer { chip.remove() }
        let controller = try GPIOController.open(
            backend: chip.backend, outputs: [],
            inputs: [GPIOInputSpec(name: "stop_button", line: 8, activeLow: true, bias: .pullUp, debounceMs: 0)],
            consumer: "rlt-test", logger: quietLogger)
        defer { controller.close() }
        let recorder = EdgeRecorder(controller.inputEdges)
        defer { recorder.cancel() }
        #expect(try controller.readInputs() == ["stop_button": false])

        try chip.write(line: 8, "pull", "pull-down")  // button pressed: shorted to ground
        let edges = await recorder.wait(for: 1)
        #expect(edges.map(\.active) == [true])
        #expect(try controller.readInputs() == ["stop_button": true])
    }

    @Test func fastBounce_isSuppressedByDebounce_whileAHeldChangeIsReported() async throws {
        let chip = try SimulatedChipDirectory()
        defer { chip.remove() }
        // A long window keeps the test independent of machine load: the bounce lasts far less than it.
        let controller = try GPIOController.open(
            backend: chip.backend, outputs: [],
            inputs: [GPIOInputSpec(name: "stop_button", line: 4, bias: .pullDown, debounceMs: 1500)],
            consumer: "rlt-test", logger: quietLogger)
        defer { controller.close() }
        let recorder = EdgeRecorder(controller.inputEdges)
        defer { recorder.cancel() }

        for _ in 0..<3 {
            try chip.write(line: 4, "pull", "pull-up")
            try await Task.sleep(for: .milliseconds(40))
            try chip.write(line: 4, "pull", "pull-down")
            try await Task.sleep(for: .milliseconds(40))
        }
        try chip.write(line: 4, "pull", "pull-up")  // now held
        let edges = await recorder.wait(for: 1, upTo: 10)
        #expect(edges.map(\.active) == [true])
        // Nothing else arrives: the bounces before the held change were swallowed, not queued.
        try await Task.sleep(for: .milliseconds(200))
        #expect(recorder.recorded.map(\.active) == [true])
    }

    @Test func close_finishesTheEdgeStream() async throws {
        let chip = try SimulatedChipDirectory()
        defer { chip.remove() }
        let controller = try GPIOController.open(
            backend: chip.backend, outputs: [],
            inputs: [GPIOInputSpec(name: "interlock", line: 1, bias: .pullUp)], consumer: "rlt-test",
            logger: quietLogger)
        let recorder = EdgeRecorder(controller.inputEdges)
        defer { recorder.cancel() }
        controller.close()
        #expect(await recorder.waitForFinish())
        #expect(captureGPIOError { try controller.readInputs() }?.code == .closed)
    }
}
