#ifndef RLT_FUZZER_DRIVER_H
#define RLT_FUZZER_DRIVER_H
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's documented entry for programs that keep their own `main` (SwiftPM gives every
/// executable a `main` of its own, so libFuzzer's `main` is never linked). Defined by the fuzzer
/// runtime that `-sanitize=fuzzer` links; only called in builds with `RLT_LIBFUZZER` defined.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
