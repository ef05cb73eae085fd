#!/bin/sh
# /init of the qemu test guest (busybox sh, runs as PID 1).
#
# Loads configfs and the out-of-tree gpio-sim module, creates one simulated chip through configfs,
# checks the kernel's GPIO character device with the libgpiod v1 tools, then runs the optional guest
# command from /rlt/guest-cmd. Every check prints `ok - …` or `not ok - …`; the last line is exactly
# `N passed, N failed`, which the host reads. Then the guest powers off (qemu runs with -no-reboot).

export PATH=/rlt/bin:/usr/bin:/bin:/usr/sbin:/sbin
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }
# check "description" command...: passes when the command exits 0.
check() {
    desc="$1"
    shift
    if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}
finish() {
    echo "guest: up $(cut -d' ' -f1 /proc/uptime) s"
    echo "$passed passed, $failed failed"
    sync
    poweroff -f
    sleep 5
    echo o > /proc/sysrq-trigger
}
# Fatal set-up failure: count it, print the closing line, stop.
abort() {
    not_ok "$*"
    finish
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# The archive may lack a /dev/console node (it needs root to create); reopen the console from devtmpfs.
exec </dev/console >/dev/console 2>&1
mkdir -p /tmp /run
mount -t tmpfs tmpfs /tmp
# Keep kernel messages (module taint warnings, etc.) from interleaving with the check lines.
echo 1 > /proc/sys/kernel/printk

echo "guest: kernel $(uname -r)"
insmod /lib/modules/configfs.ko || abort "insmod configfs.ko"
mount -t configfs none /sys/kernel/config || abort "mount configfs"
insmod /lib/modules/gpio-sim.ko || abort "insmod gpio-sim.ko"

# One chip with one bank of 32 lines; the names follow the gateway's default config (docs/DESIGN.md).
cfg=/sys/kernel/config/gpio-sim/rlt
mkdir "$cfg" || abort "create gpio-sim device in configfs"
mkdir "$cfg/bank0"
echo 32 > "$cfg/bank0/num_lines"
echo rlt-sim > "$cfg/bank0/label"
for pair in 17:red 27:nir 22:master 23:interlock; do
    n="${pair%%:*}"
    mkdir "$cfg/bank0/line$n"
    echo "${pair#*:}" > "$cfg/bank0/line$n/name"
done
echo 1 > "$cfg/live" || abort "make the gpio-sim device live"

chip="$(cat "$cfg/bank0/chip_name")"
dev_name="$(cat "$cfg/dev_name")"
simdir="/sys/devices/platform/$dev_name/$chip"
[ -c "/dev/$chip" ] || abort "/dev/$chip is not a character device"
[ -d "$simdir/sim_gpio0" ] || abort "$simdir/sim_gpio0 missing"
echo "guest: gpio-sim chip /dev/$chip ($dev_name), sysfs $simdir/sim_gpio<N>/{value,pull}"

value() { cat "$simdir/sim_gpio$1/value"; }
pull() { echo "$2" > "$simdir/sim_gpio$1/pull"; }
# wait_for CMD...: retries the command for up to 3 s (background tools need a moment to request a line).
wait_for() {
    i=0
    while [ $i -lt 60 ]; do
        "$@" && return 0
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}
value_is() { [ "$(value "$1")" = "$2" ]; }
line_used() { gpioinfo "$chip" | grep -E "^[[:space:]]+line[[:space:]]+$1:" | grep -Eq '(\[|[[:space:]])used'; }
stop() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

# --- chip discovery -------------------------------------------------------------------------------
check "gpiodetect lists $chip with label rlt-sim and 32 lines" \
    sh -c "gpiodetect | grep -q '^$chip \[rlt-sim\] (32 lines)'"
check "gpiofind resolves the line name 'red' to $chip 17" \
    sh -c "[ \"\$(gpiofind red)\" = '$chip 17' ]"

# --- outputs: a held output line is visible in sysfs ---------------------------------------------
gpioset --mode=signal "$chip" 17=1 &
pid=$!
check "gpioset $chip 17=1 drives sim_gpio17/value to 1 (pull-down)" wait_for value_is 17 1
stop $pid
check "a released output line falls back to its pull (pull-down: 0)" wait_for value_is 17 0

pull 17 pull-up
gpioset --mode=signal "$chip" 17=0 &
pid=$!
check "gpioset $chip 17=0 drives sim_gpio17/value to 0 against pull-up" wait_for value_is 17 0
stop $pid
check "a released output line falls back to its pull (pull-up: 1)" wait_for value_is 17 1
pull 17 pull-down

pull 27 pull-up
gpioset --mode=signal -l "$chip" 27=1 22=0 &
pid=$!
if wait_for line_used 27; then
    check "active-low: gpioset -l 27=1 gives physical sim_gpio27/value 0" value_is 27 0
    check "active-low: gpioset -l 22=0 gives physical sim_gpio22/value 1" value_is 22 1
else
    not_ok "gpioset -l did not request lines 27 and 22"
fi
stop $pid
pull 27 pull-down

# --- inputs: the simulated pull is what a reader sees --------------------------------------------
pull 23 pull-up
check "pull-up in sim_gpio23/pull reads 1 through gpioget" sh -c "[ \"\$(gpioget $chip 23)\" = 1 ]"
check "pull-up reads 0 through gpioget -l (active-low)" sh -c "[ \"\$(gpioget -l $chip 23)\" = 0 ]"
pull 23 pull-down
check "pull-down in sim_gpio23/pull reads 0 through gpioget" sh -c "[ \"\$(gpioget $chip 23)\" = 0 ]"
check "gpioget -B pull-up on line 5 reads 1 (bias reaches the simulator)" \
    sh -c "[ \"\$(gpioget -B pull-up $chip 5)\" = 1 ] && [ \"\$(cat $simdir/sim_gpio5/pull)\" = pull-up ]"

# --- edges ----------------------------------------------------------------------------------------
# edge_seen KIND FROM TO TEXT: gpiomon waits for one KIND edge on line 23 while the pull goes FROM -> TO.
edge_seen() {
    pull 23 "$2"
    gpiomon -n 1 --"$1"-edge "$chip" 23 > /tmp/mon.out 2>&1 &
    pid=$!
    if wait_for line_used 23; then
        # gpioinfo shows the line used once it is requested, a moment before the kernel has requested its
        # edge interrupt; an edge in that moment is lost (seen under TCG on a loaded machine, arm64.sh). So
        # the pull goes back and forth until gpiomon reports the edge, at most 10 times (2 s each).
        tries=0
        while [ $tries -lt 10 ]; do
            tries=$((tries + 1))
            pull 23 "$3"
            timeout -s KILL 2 sh -c "while ! grep -q '$4' /tmp/mon.out; do sleep 0.05; done" && break
            pull 23 "$2"
        done
        timeout -s KILL 10 sh -c "while kill -0 $pid 2>/dev/null; do sleep 0.05; done"
        check "gpiomon -n 1 sees a $1 edge after $2 -> $3 (try $tries)" grep -q "$4" /tmp/mon.out
    else
        not_ok "gpiomon did not request line 23"
    fi
    stop $pid
}
edge_seen rising pull-down pull-up 'RISING EDGE'
edge_seen falling pull-up pull-down 'FALLING EDGE'

# --- exclusive ownership --------------------------------------------------------------------------
gpioset --mode=signal "$chip" 22=1 &
pid=$!
if wait_for line_used 22; then
    gpioget "$chip" 22 > /tmp/busy.out 2>&1
    rc=$?
    check "a line held by gpioset is busy for gpioget (EBUSY, exit $rc)" \
        sh -c "[ $rc -ne 0 ] && grep -qi 'busy' /tmp/busy.out"
else
    not_ok "gpioset did not request line 22"
fi
stop $pid
check "the line is free again once its holder exits" wait_for sh -c "gpioget $chip 22 >/dev/null"

# --- optional guest command (e.g. the Swift GPIO self-test) ---------------------------------------
if [ -s /rlt/guest-cmd ]; then
    export RLT_GPIOSIM_DIR="$simdir" RLT_GPIO_CHIP="$chip" RLT_GPIO_CHIP_PATH="/dev/$chip"
    # Hand the command fresh pulls: pull-down everywhere, as gpio-sim starts.
    for n in $(seq 0 31); do pull "$n" pull-down; done
    cmd="$(cat /rlt/guest-cmd)"
    limit="$(cat /rlt/guest-timeout 2>/dev/null || echo 60)"
    echo "guest: running: $cmd (RLT_GPIOSIM_DIR=$RLT_GPIOSIM_DIR RLT_GPIO_CHIP=$RLT_GPIO_CHIP)"
    # Its own closing line is renamed so only ours is the closing line the host reads.
    ( cd /tmp && timeout -s KILL "$limit" sh -c "$cmd" 2>&1; echo $? > /tmp/guest.rc ) \
        | tee /tmp/guest.out \
        | sed -E 's/^([^ ]+: )?([0-9]+ passed, [0-9]+ failed)/guest command: \2/'
    rc="$(cat /tmp/guest.rc)"
    p="$(grep -c '^ok ' /tmp/guest.out)"
    f="$(grep -c '^not ok ' /tmp/guest.out)"
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$rc" = 0 ]; then ok "guest command exited 0"; else not_ok "guest command exited $rc"; fi
fi

finish
