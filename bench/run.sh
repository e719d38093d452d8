#!/usr/bin/env bash
# make bench: runs every bench/parts/*.sh in order. Each part prints its own table: our figure beside
# a baseline measured in the same run (ratios hold on a noisy machine; absolute numbers do not).
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
for part in bench/parts/*.sh; do
    [ -e "$part" ] || continue
    echo "== $(basename "$part")"
    bash "$part" || { echo "!! $(basename "$part") failed"; status=1; }
    echo
done
exit $status
