#!/usr/bin/env bash
# Prints a TCP port that is free on 127.0.0.1 right now: a random port below Linux's ephemeral range
# (so no outgoing connection takes it meanwhile) that no socket in /proc/net/tcp{,6} uses, local or
# remote. Plain bash and grep: no Python needed.
set -euo pipefail
for _ in $(seq 200); do
    port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 12000 ))
    if ! grep -qs "$(printf ':%04X ' "$port")" /proc/net/tcp /proc/net/tcp6; then
        echo "$port"
        exit 0
    fi
done
echo "free-port: no free port found in 20000-31999" >&2
exit 1
