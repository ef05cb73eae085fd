#!/usr/bin/env bash
# Builds and runs the fuzz targets (docs/SECURITY.md, "Fuzzing", lists them and what each checks):
#
#   bash Fuzz/run.sh --seconds 20                 # every target 20 s (what run.sh --quick does)
#   bash Fuzz/run.sh --minutes 10 command ledger  # a long run of two targets
#   bash Fuzz/run.sh --runs 1000000               # each target until 1,000,000 executions
#   bash Fuzz/run.sh --asan --seconds 60          # with AddressSanitizer (slower; own build dir)
#   bash Fuzz/run.sh --minimise                   # rewrite each corpus as its smallest equivalent
#
# Per target: replays Fuzz/regressions/<target>/ (each must run clean), fuzzes from the corpus in
# Fuzz/corpus/<target>/ with Fuzz/dictionaries/<target>.dict, writes a crash to
# Fuzz/regressions/<target>/crash-… (commit it), then merges the inputs that found new coverage
# into Fuzz/corpus/<target>/ (-merge=1 only adds: a run never deletes corpus files). Prints
#   FUZZ <target>: <execs> execs, <n>/s, cov <c>, ft <f>, corpus <a> -> <b>, <k> crashes (<engine>)
# and ends with `fuzz: N targets, N execs, N crashes`; exit 1 on any crash or failed replay.
# --summary FILE also writes the FUZZ lines there. Without libFuzzer's runtime it falls back to the
# seeded random-input harness (seed printed, crashing input written to the same regressions folder).
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

ALL_TARGETS=(command config mqtt-properties homeassistant sensor fleet-registry ledger)
SECONDS_PER_TARGET=20
RUNS=""
ASAN=0
MINIMISE=0
SUMMARY=""
TARGETS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) SECONDS_PER_TARGET="$2"; shift ;;
        --minutes) SECONDS_PER_TARGET=$(($2 * 60)); shift ;;
        --runs) RUNS="$2"; shift ;;
        --asan) ASAN=1 ;;
        --minimise) MINIMISE=1 ;;
        --summary) SUMMARY="$2"; shift ;;
        -h | --help) sed -n '2,19p' "$0"; exit 0 ;;
        -*) echo "unknown option $1 (see --help)"; exit 64 ;;
        *) TARGETS+=("$1") ;;
    esac
    shift
done
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=("${ALL_TARGETS[@]}")
# Swift's own crash backtracer would take the fatal signal first, and libFuzzer would never write
# the crashing input (seen: a crash reported, no file): leave crashes to libFuzzer.
export SWIFT_BACKTRACE=enable=no
WORK="$(mktemp -d /tmp/rlt-fuzz.XXXXXX)"
# The sensor and ledger targets keep their files on tmpfs here; a crashing target cannot clean up.
export RLT_FUZZ_SCRATCH="$(mktemp -d /dev/shm/rlt-fuzz.XXXXXX)"
trap 'rm -rf "$WORK" "$RLT_FUZZ_SCRATCH"' EXIT

# Release with the fuzzer's coverage instrumentation in Swift (-sanitize=fuzzer) and in C (Yams'
# libyaml, swift-crypto's BoringSSL: -fsanitize=fuzzer-no-link). A debug build with ASan ran the
# command target at ~425 execs/s here; release without ASan is many times that, and ASan finds
# little in Swift code that bounds-checks anyway: it stays a mode (--asan) for the C parts.
if [ "$ASAN" = 1 ]; then
    SCRATCH=.build-fuzz-asan; SANITIZE=fuzzer,address; CSANITIZE=fuzzer-no-link,address; ENGINE="libFuzzer+ASan"
else
    SCRATCH=.build-fuzz; SANITIZE=fuzzer; CSANITIZE=fuzzer-no-link; ENGINE="libFuzzer"
fi
FLAGS=(-c release --scratch-path "$SCRATCH" -Xswiftc -sanitize="$SANITIZE" -Xswiftc -DRLT_LIBFUZZER
    -Xcc -fsanitize="$CSANITIZE")

LIBFUZZER=1
for target in "${TARGETS[@]}"; do
    if ! swift build "${FLAGS[@]}" --product "rlt-fuzz-$target" > "$WORK/build-$target.log" 2>&1; then
        grep -E "error:" "$WORK/build-$target.log" | head -n 5
        LIBFUZZER=0
        break
    fi
done
if [ "$LIBFUZZER" = 1 ]; then
    BIN="$SCRATCH/release"
else
    echo "libFuzzer build failed (toolchain without the fuzzer runtime?): seeded random-input harness instead"
    ENGINE="random-input harness"
    for target in "${TARGETS[@]}"; do
        swift build --product "rlt-fuzz-$target" > "$WORK/build-$target.log" 2>&1 || { tail -n 5 "$WORK/build-$target.log"; exit 1; }
    done
    BIN="$(swift build --show-bin-path)"
fi

files() { find "$1" -maxdepth 1 -type f 2> /dev/null | wc -l; }
TOTAL_EXECS=0
TOTAL_CRASHES=0
for target in "${TARGETS[@]}"; do
    binary="$BIN/rlt-fuzz-$target"
    corpus="Fuzz/corpus/$target"
    regressions="Fuzz/regressions/$target"
    dict="Fuzz/dictionaries/$target.dict"
    mkdir -p "$corpus" "$regressions" "$WORK/new-$target"
    log="$WORK/fuzz-$target.log"
    crashes=0

    # Crashes found earlier first: each must now run clean (libFuzzer runs file arguments once).
    if [ -n "$(ls -A "$regressions")" ]; then
        if ! "$binary" "$regressions"/* > "$WORK/regress-$target.log" 2>&1; then
            echo "   $target: a regression input fails again:"
            grep -E "INVARIANT|ERROR|Fatal|panic|Running:" "$WORK/regress-$target.log" | head -n 5
            crashes=$((crashes + 1))
        fi
    fi

    if [ "$MINIMISE" = 1 ] && [ "$LIBFUZZER" = 1 ]; then
        mkdir -p "$WORK/min-$target"
        if "$binary" -merge=1 "$WORK/min-$target" "$corpus" > "$WORK/min-$target.log" 2>&1; then
            before=$(files "$corpus")
            rm -f "$corpus"/* && cp "$WORK/min-$target"/* "$corpus"/
            echo "   $target: corpus minimised, $before -> $(files "$corpus") files"
        fi
    fi

    before=$(files "$corpus")
    if [ "$LIBFUZZER" = 1 ]; then
        budget=(-max_total_time="$SECONDS_PER_TARGET")
        [ -n "$RUNS" ] && budget=(-runs="$RUNS")
        dictionary=()
        [ -f "$dict" ] && dictionary=(-dict="$dict")
        # New inputs go to the first directory (a scratch one), read-only seeds come from the tree.
        "$binary" "${budget[@]}" "${dictionary[@]}" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
            -print_final_stats=1 -artifact_prefix="$regressions/" "$WORK/new-$target" "$corpus" > "$log" 2>&1
        status=$?
        execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
        rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
        cov=$(grep -oE '(DONE|INITED|NEW|REDUCE|pulse|RELOAD) +cov: [0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
        ft=$(grep -oE ' ft: [0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
        if [ "$status" != 0 ]; then
            crashes=$((crashes + 1))
            grep -E "INVARIANT|ERROR|Fatal|panic|SUMMARY|Test unit written" "$log" | head -n 6
        fi
        # Keep what found new coverage: -merge=1 adds those inputs to the tree's corpus, never removes.
        if [ -n "$(ls -A "$WORK/new-$target")" ]; then
            "$binary" -merge=1 -timeout=10 -rss_limit_mb=2048 "$corpus" "$WORK/new-$target" > "$WORK/merge-$target.log" 2>&1 \
                || echo "   $target: merge failed (see a crash above); corpus unchanged"
        fi
    else
        seed=$RANDOM
        limit=()
        [ -n "$RUNS" ] && limit=(--runs "$RUNS")
        "$binary" --seconds "$SECONDS_PER_TARGET" "${limit[@]}" --seed "$seed" --artifact-prefix "$regressions/" \
            "$corpus" > "$log" 2>&1
        status=$?
        execs=$(grep -o 'execs: [0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
        rate=$(( ${execs:-0} / (SECONDS_PER_TARGET > 0 ? SECONDS_PER_TARGET : 1) ))
        cov="n/a"; ft="n/a"
        if [ "$status" != 0 ]; then
            crashes=$((crashes + 1))
            grep -E "INVARIANT|seed|written" "$log" | head -n 4
        fi
    fi
    line="FUZZ $target: ${execs:-0} execs, ${rate:-0}/s, cov ${cov:-?}, ft ${ft:-?}, corpus $before -> $(files "$corpus"), $crashes crashes ($ENGINE)"
    echo "$line"
    [ -n "$SUMMARY" ] && echo "$line" >> "$SUMMARY"
    TOTAL_EXECS=$((TOTAL_EXECS + ${execs:-0}))
    TOTAL_CRASHES=$((TOTAL_CRASHES + crashes))
done
echo "fuzz: ${#TARGETS[@]} targets, $TOTAL_EXECS execs, $TOTAL_CRASHES crashes"
[ "$TOTAL_CRASHES" = 0 ]
