#!/bin/sh
# rlt-test-gpio-sim.service: one gpio-sim chip through configfs, standing in for the board's GPIO
# (Tests/deb/systemd-boot.sh). Lines 17, 27, 22, 23 are named as the default wiring names them.
set -eu
modprobe configfs
mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config
modprobe gpio-sim
cfg=/sys/kernel/config/gpio-sim/rlt
mkdir "$cfg" "$cfg/bank0"
echo 32 >"$cfg/bank0/num_lines"
echo rlt-sim >"$cfg/bank0/label"
for pair in 17:red 27:nir 22:master 23:interlock; do
    mkdir "$cfg/bank0/line${pair%%:*}"
    echo "${pair#*:}" >"$cfg/bank0/line${pair%%:*}/name"
done
echo 1 >"$cfg/live"
echo "rlt-test: gpio-sim chip $(cat "$cfg/bank0/chip_name") ($(cat "$cfg/dev_name")) is live"
