#!/bin/bash
# The real-kernel GPIO self-test for both libgpiod APIs the gateway builds against, on one kernel harness:
#   v1  rlt-gpio-selftest built against this Debian 12 machine's libgpiod 1.6 (scratch path .build-qemu);
#   v2  the same sources built against Debian 13's libgpiod 2 through gpiod2.sh (scratch path .build-gpiod2),
#       its libgpiod.so.3 copied into the initramfs beside it.
# Each variant is booted by run.sh (same kernel, gpio-sim module and tool checks) and must pass on its own. Before
# booting, the binary's ELF dependencies must name the variant's library (libgpiod.so.2 for v1, .so.3 for v2), so a
# PKG_CONFIG_PATH that sends the v1 build to libgpiod 2 (or the reverse) fails here instead of testing one API
# twice; in the guest the binary's loader says which libgpiod it loaded. guest-selftest.sh runs the self-test by
# chip name and again by chip label.
#
# usage: Tests/qemu/selftest.sh [v1] [v2]     (default: both)
# Prints, per variant, run.sh's guest lines and `variant <v>: N passed, N failed`; then the time of every stage and,
# last, the summed `N passed, N failed`. Exits non-zero if either variant failed or could not be built.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
here=Tests/qemu
. "$here/lib.sh"

variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=(v1 v2)

timings=()
total_passed=0
total_failed=0
status=0
for variant in "${variants[@]}"; do
    case "$variant" in
        v1) scratch=.build-qemu; library=libgpiod.so.2; build=(env -u PKG_CONFIG_PATH swift build) ;;
        v2) scratch=.build-gpiod2; library=libgpiod.so.3; build=(bash "$here/gpiod2.sh" swift build) ;;
        *) die "unknown variant '$variant' (expected v1 or v2)" ;;
    esac
    binary="$scratch/release/rlt-gpio-selftest"
    echo "== variant $variant: rlt-gpio-selftest against $library ($scratch)"
    t0="$(now)"
    mkdir -p "$scratch"
    build_log="$scratch/selftest-build.log"
    if ! "${build[@]}" -c release --product rlt-gpio-selftest --static-swift-stdlib --scratch-path "$scratch" \
        > "$build_log" 2>&1; then
        tail -n 30 "$build_log" >&2
        echo "variant $variant: 0 passed, 1 failed (build failed)"
        total_failed=$((total_failed + 1))
        status=1
        continue
    fi
    timings+=("$variant build $(since "$t0")s")
    tail -n 1 "$build_log"
    needed="$(readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(libgpiod\.so\.[0-9]*\)\].*/\1/p')"
    if [ "$needed" != "$library" ]; then
        echo "not ok - $binary needs '${needed:-no libgpiod}', not $library: the $variant build found another libgpiod"
        echo "variant $variant: 0 passed, 1 failed"
        total_failed=$((total_failed + 1))
        status=1
        continue
    fi
    log "$binary needs $needed => $(ldd "$binary" | awk -v l="$needed" '$1 == l { print $3 }')"

    t0="$(now)"
    out="$(mktemp)"
    bash "$here/run.sh" --binary "$binary" --binary "$here/guest-selftest.sh" --guest-cmd guest-selftest.sh \
        | tee "$out"
    rc=${PIPESTATUS[0]}
    timings+=("$variant qemu $(since "$t0")s")
    closing="$(tail -n 1 "$out")"
    rm -f "$out"
    if ! printf '%s\n' "$closing" | grep -Eq '^[0-9]+ passed, [0-9]+ failed$'; then closing="0 passed, 1 failed"; fi
    passed="${closing%% *}"
    failed="$(printf '%s\n' "$closing" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed$/\1/')"
    [ "$rc" = 0 ] || [ "$failed" != 0 ] || failed=1
    echo "variant $variant: $passed passed, $failed failed"
    total_passed=$((total_passed + passed))
    total_failed=$((total_failed + failed))
    [ "$rc" = 0 ] && [ "$failed" = 0 ] || status=1
done

log "timing: ${timings[*]}"
echo "$total_passed passed, $total_failed failed"
exit "$status"
