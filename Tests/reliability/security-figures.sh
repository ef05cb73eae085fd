#!/usr/bin/env bash
# Regenerates the measured figures of docs/SECURITY.md, one command:
#
#   sudo bash Tests/reliability/security-figures.sh                 # quick suite + 1,000,000 execs per fuzz target
#   sudo bash Tests/reliability/security-figures.sh --full          # the full suite (5 repetitions) instead
#   sudo bash Tests/reliability/security-figures.sh --fuzz-minutes 30   # fuzz by time instead of executions
#   sudo bash Tests/reliability/security-figures.sh --fuzz-summary F    # take the fuzz lines of an earlier
#                                                    # `bash Fuzz/run.sh --runs N --summary F` (same commit)
#   sudo bash Tests/reliability/security-figures.sh --suite-log L      # the output of an earlier
#                                                    # `bash Tests/reliability/run.sh --quick | tee L` (same commit)
#
# Runs the reliability suite (with its short CI fuzzing, so this also checks what CI runs), the
# long fuzz run (Fuzz/run.sh), and Tests/powerloss/run.sh when it exists (its last line,
# `powerloss: N crash points, N passed, N failed`), then rewrites the block between
# `<!-- figures:begin -->` and `<!-- figures:end -->` in docs/SECURITY.md with what they printed,
# the date and the commit. A figure that was not measured says "not run"; nothing is carried over
# from an earlier block. The commit is marked "+local changes" when the code, tests or fuzz harnesses
# differ from it; the corpus the long run grows does not count. Exit 1 when any part failed (the block is still written, failures shown).
set -uo pipefail
cd "$(dirname "$0")/../.."
export PATH="/opt/swift/usr/bin:$PATH:/usr/sbin:/sbin"

SUITE=(--quick)
SUITE_NAME="quick"
FUZZ=(--runs 1000000)
FUZZ_NAME="1,000,000 executions per target"
FUZZ_SUMMARY=""
SUITE_LOG=""
while [ $# -gt 0 ]; do
    case "$1" in
        --full) SUITE=(); SUITE_NAME="full" ;;
        --fuzz-minutes) FUZZ=(--minutes "$2"); FUZZ_NAME="$2 min per target"; shift ;;
        --fuzz-runs) FUZZ=(--runs "$2"); FUZZ_NAME="$2 executions per target"; shift ;;
        --fuzz-summary) FUZZ_SUMMARY="$2"; shift ;;
        --suite-log) SUITE_LOG="$2"; shift ;;
        *) echo "usage: security-figures.sh [--full] [--fuzz-minutes N | --fuzz-runs N | --fuzz-summary FILE] [--suite-log FILE]"; exit 64 ;;
    esac
    shift
done
WORK="$(mktemp -d /tmp/rlt-figures.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
STATUS=0

if [ -n "$SUITE_LOG" ]; then
    SUITE_NAME="taken from $(basename "$SUITE_LOG") of $(date -u -r "$SUITE_LOG" '+%Y-%m-%d %H:%M UTC')"
    cp "$SUITE_LOG" "$WORK/suite.out"
else
    echo "== reliability suite ($SUITE_NAME)"
    bash Tests/reliability/run.sh "${SUITE[@]}" 2>&1 | tee "$WORK/suite.out"
fi
grep -qE "^[0-9]+ passed, 0 failed$" "$WORK/suite.out" || STATUS=1

if [ -n "$FUZZ_SUMMARY" ]; then
    # A long run made separately (it takes most of an hour on 2 cores): its lines, as printed, and when.
    FUZZ_NAME="taken from $(basename "$FUZZ_SUMMARY") of $(date -u -r "$FUZZ_SUMMARY" '+%Y-%m-%d %H:%M UTC')"
    grep "^FUZZ " "$FUZZ_SUMMARY" > "$WORK/fuzz.summary" 2> /dev/null
    grep -q ", [1-9][0-9]* crashes " "$WORK/fuzz.summary" && STATUS=1
else
    echo "== long fuzz run ($FUZZ_NAME)"
    bash Fuzz/run.sh "${FUZZ[@]}" --summary "$WORK/fuzz.summary" 2>&1 | tee "$WORK/fuzz.out"
    [ "${PIPESTATUS[0]}" = 0 ] || STATUS=1
fi

POWERLOSS="not run (Tests/powerloss/run.sh does not exist in this tree)"
if [ -f Tests/powerloss/run.sh ]; then
    echo "== power loss"
    bash Tests/powerloss/run.sh 2>&1 | tee "$WORK/powerloss.out"
    POWERLOSS="$(grep -E '^powerloss: [0-9]+ crash points, [0-9]+ passed, [0-9]+ failed' "$WORK/powerloss.out" | tail -1)"
    if [ -z "$POWERLOSS" ]; then
        POWERLOSS="not run (Tests/powerloss/run.sh printed no closing 'powerloss:' line)"
        STATUS=1
    fi
    echo "$POWERLOSS" | grep -q ", 0 failed" || STATUS=1
fi

# The block, from the logs only.
{
    echo "<!-- figures:begin -->"
    echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') at commit \`$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- Sources Package.swift Fuzz Tests ':!Fuzz/corpus' || echo '+local changes')\` on $(nproc) cores by"
    echo "\`bash Tests/reliability/security-figures.sh\` (reliability suite $SUITE_NAME; fuzzing $FUZZ_NAME)."
    echo
    closing="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$WORK/suite.out" | tail -1)"
    scenarios="$(grep -E '^SCENARIO ' "$WORK/suite.out" | sed -E 's/^SCENARIO ([^:]*): ([0-9]+\/[0-9]+) (PASS|FAIL).*/\1 \2/' | paste -sd ',' - | sed 's/,/, /g')"
    survived="$(grep -E '^SCENARIO ' "$WORK/suite.out" | sed -E 's/^SCENARIO [^:]*: ([0-9]+)\/([0-9]+).*/\1 \2/' | awk '{s += $1; t += $2} END {if (t) print s "/" t}')"
    echo "* Reliability suite: ${closing:-not run (no closing line)}; scenario runs survived ${survived:-not run}${scenarios:+ (}${scenarios}${scenarios:+)}."
    hostile="$(grep -E '^HOSTILE ' "$WORK/suite.out" | tail -1 | sed -E 's/^HOSTILE (messages: )?//')"
    echo "* Hostile messages: ${hostile:-not run}."
    flood="$(grep -E '^LOAD flood: ' "$WORK/suite.out" | tail -1 | sed 's/^LOAD flood: //')"
    echo "* Flood: ${flood:-not run}."
    echo "* Power loss: ${POWERLOSS#powerloss: }."
    echo "* Fuzzing (libFuzzer, release, coverage counters \`cov\` = edges, \`ft\` = features):"
    echo
    echo "| target | executions | per second | cov | ft | corpus files | crashes |"
    echo "| --- | ---: | ---: | ---: | ---: | --- | ---: |"
    for target in command config mqtt-properties homeassistant sensor fleet-registry ledger; do
        line="$(grep "^FUZZ $target: " "$WORK/fuzz.summary" 2> /dev/null | tail -1)"
        if [ -n "$line" ]; then
            echo "$line" | sed -E 's/^FUZZ ([^:]*): ([0-9]+) execs, ([0-9]+)\/s, cov ([^,]*), ft ([^,]*), corpus ([0-9]+ -> [0-9]+), ([0-9]+) crashes.*/| \1 | \2 | \3 | \4 | \5 | \6 | \7 |/'
        else
            echo "| $target | not run | | | | | |"
        fi
    done
    echo "<!-- figures:end -->"
} > "$WORK/block.md"

python3 - "$WORK/block.md" docs/SECURITY.md << 'EOF'
import re, sys
block = open(sys.argv[1]).read().rstrip("\n")
path = sys.argv[2]
text = open(path).read()
pattern = re.compile(r"<!-- figures:begin -->.*?<!-- figures:end -->", re.S)
if pattern.search(text):
    text = pattern.sub(lambda _: block, text, count=1)
else:
    text = text.rstrip("\n") + "\n\n## Measured figures\n\n" + block + "\n"
open(path, "w").write(text)
EOF
echo "== docs/SECURITY.md figures"
cat "$WORK/block.md"
exit $STATUS
