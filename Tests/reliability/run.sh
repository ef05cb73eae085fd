#!/usr/bin/env bash
# The reliability suite (issue 8), one command:
#
#   bash Tests/reliability/run.sh           # full: 5 repetitions, 120 s of fuzzing per target, 60 s flood
#   bash Tests/reliability/run.sh --quick   # CI form (.ci/run): 2 repetitions, 20 s per fuzz target (7 targets,
#                                           # 140 s in all), 20 s flood
#   bash Tests/reliability/run.sh --minutes 30   # the long fuzz run: 30 min per target (Fuzz/run.sh)
#   bash Tests/reliability/run.sh --quick --only flood   # only the scenarios whose name contains `flood`
#                                                        # (repeatable; no fuzzing, no systemd scoring)
#
# Prints every scenario as `survived/total`, the fuzz executions and crashes, the hostile-input
# count with state changes, the RSS before and after the flood and the systemd-analyze exposure,
# and ends with `N passed, N failed` (exit 1 when anything failed). Needs root for the tmpfs mounts
# of the ledger scenarios. Environment: RLT_FUZZ_SECONDS overrides the fuzz time per target.
# The fuzzing itself is Fuzz/run.sh: corpus in Fuzz/corpus (grown, never deleted), crashes saved in
# Fuzz/regressions (replayed first), per-target executions and coverage printed.
set -uo pipefail
cd "$(dirname "$0")/../.."
export PATH="/opt/swift/usr/bin:$PATH:/usr/sbin:/sbin"
# systemd-analyze and the rest of what the suite uses (root or sudo; stops if it cannot).
bash deploy/setup.sh --tests || exit 1

QUICK=0
ONLY=()
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --only) [ $# -ge 2 ] || { echo "--only needs a scenario name (substring)"; exit 64; }; ONLY+=(--only "$2"); shift ;;
        --minutes) [ $# -ge 2 ] || { echo "--minutes needs a number"; exit 64; }; FUZZ_MINUTES="$2"; shift ;;
        *) echo "usage: run.sh [--quick] [--minutes N] [--only SUBSTRING]..."; exit 64 ;;
    esac
    shift
done
if [ "$QUICK" = 1 ]; then FUZZ_SECONDS="${RLT_FUZZ_SECONDS:-20}"; MODE=(--quick); else FUZZ_SECONDS="${RLT_FUZZ_SECONDS:-120}"; MODE=(); fi
[ -n "${FUZZ_MINUTES:-}" ] && FUZZ_SECONDS=$((FUZZ_MINUTES * 60))
WORK="$(mktemp -d /tmp/rlt-reliability.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

PASSED=0
FAILED=0
SUMMARY=()
result() { # name verdict(PASS|FAIL) detail
    case "$2" in
        PASS) PASSED=$((PASSED + 1)) ;;
        *) FAILED=$((FAILED + 1)) ;;
    esac
    SUMMARY+=("$(printf '%-46s %-6s %s' "$1" "$2" "$3")")
}

echo "== build (rlt-gateway, rlt-reliability)"
swift build --product rlt-gateway 2>&1 | grep -E "error|warning: |complete" || true
swift build --product rlt-reliability 2>&1 | grep -E "error|warning: |complete" || true
BIN="$(swift build --show-bin-path)"
if [ ! -x "$BIN/rlt-gateway" ] || [ ! -x "$BIN/rlt-reliability" ]; then
    echo "build failed"; echo "0 passed, 1 failed"; exit 1
fi
export RLT_GATEWAY_BIN="$BIN/rlt-gateway"

# With --only, the fuzz targets and the unit's score are not what was asked for.
# RLT_FUZZ_SECONDS=0 leaves the fuzzing out (security-figures.sh runs the long fuzz run itself).
if [ ${#ONLY[@]} -eq 0 ] && [ "$FUZZ_SECONDS" != 0 ]; then
    echo "== fuzzing (${FUZZ_SECONDS} s per target, Fuzz/run.sh)"
    bash Fuzz/run.sh --seconds "$FUZZ_SECONDS" --summary "$WORK/fuzz.summary" 2>&1 | tee "$WORK/fuzz.out"
    while IFS= read -r line; do
        target="$(echo "$line" | sed -E 's/^FUZZ ([^:]*): .*/\1/')"
        detail="$(echo "$line" | sed -E 's/^FUZZ [^:]*: //')"
        case "$line" in
            *", 0 crashes "*) result "fuzz[$target]" PASS "$detail" ;;
            *) result "fuzz[$target]" FAIL "$detail; inputs in Fuzz/regressions/$target (commit them)" ;;
        esac
    done < <(grep "^FUZZ " "$WORK/fuzz.summary" 2> /dev/null)
    grep -q "^FUZZ " "$WORK/fuzz.summary" 2> /dev/null || result "fuzzing" FAIL "Fuzz/run.sh printed no target (build failed?)"
fi

if [ ${#ONLY[@]} -eq 0 ]; then
    echo "== systemd unit hardening"
    if command -v systemd-analyze > /dev/null; then
        exposure="$(systemd-analyze security --offline=true deploy/rlt-gateway.service 2>&1 | grep -o 'Overall exposure level for [^:]*: [0-9.]* [A-Z]*' | tail -1)"
        score="$(echo "$exposure" | grep -o ': [0-9.]*' | grep -o '[0-9.]*')"
        echo "SYSTEMD $exposure"
        if [ -n "$score" ] && awk "BEGIN { exit !($score <= 3.0) }"; then
            result "systemd-analyze security" PASS "exposure $score (≤ 3.0)"
        else
            result "systemd-analyze security" FAIL "exposure '${score:-unknown}' (want ≤ 3.0)"
        fi
    else
        result "systemd-analyze security" FAIL "systemd-analyze not installed (apt-get install systemd)"
    fi
fi

echo "== fault scenarios (built daemon, real mosquitto, separate client processes)"
"$BIN/rlt-reliability" "${MODE[@]}" "${ONLY[@]}" 2>&1 | tee "$WORK/scenarios.out"
cp "$WORK/scenarios.out" "$WORK/all.out"
while IFS= read -r line; do
    name="$(echo "$line" | sed -E 's/^SCENARIO ([^:]*): .*/\1/')"
    counts="$(echo "$line" | sed -E 's/^SCENARIO [^:]*: ([0-9]+\/[0-9]+) .*/\1/')"
    case "$line" in
        *" PASS "*) result "$name" PASS "$counts" ;;
        *) result "$name" FAIL "$counts" ;;
    esac
done < <(grep "^SCENARIO " "$WORK/all.out")
if ! grep -q "^RELIABILITY" "$WORK/scenarios.out"; then result "scenario runner" FAIL "ended early (crash?)"; fi

echo
echo "== summary"
grep -E "^(HOSTILE|LOAD) " "$WORK/all.out"
grep -E "^FUZZ " "$WORK/fuzz.summary" 2> /dev/null
for line in "${SUMMARY[@]}"; do echo "$line"; done
# The closing line stays exactly "N passed, N failed" so CI reads it.
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
