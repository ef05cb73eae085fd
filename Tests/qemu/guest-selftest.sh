#!/bin/sh
# The guest command of selftest.sh (copied into the initramfs as /rlt/bin/guest-selftest.sh, run by /init with
# RLT_GPIO_CHIP and RLT_GPIOSIM_DIR set): rlt-gpio-selftest twice against the gpio-sim chip, once naming the chip
# as /init does (gpiochipN) and once by its label (rlt-sim, set by guest-init.sh), so both ways of finding a chip
# meet the real kernel; libgpiod 2 opens chips by path only, so the v2 backend finds labels itself. First it
# prints which libgpiod the binary's loader resolves. Exits non-zero if either run failed.
LD_TRACE_LOADED_OBJECTS=1 rlt-gpio-selftest \
    | sed -n 's/^[[:space:]]*\(libgpiod[^ ]*\) => \([^ ]*\).*/guest: rlt-gpio-selftest loads \1 from \2/p'
rlt-gpio-selftest
by_name=$?
label=rlt-sim
RLT_GPIO_CHIP=$label rlt-gpio-selftest > /tmp/by-label.out 2>&1
by_label=$?
sed -E "s/^(ok|not ok) - /\1 - chip by label $label: /" /tmp/by-label.out
[ "$by_name" = 0 ] && [ "$by_label" = 0 ]
