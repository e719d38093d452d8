#!/usr/bin/env bash
# Costs: vt_turn_usage with a price table loaded beside the same call without one (ns/call, C caller),
# and an inline-atomics baseline, all in the same run. Built against build/lib (make bench builds it).
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p build/bench
${CC:-gcc} -std=c99 -O2 -D_GNU_SOURCE -Iinclude -o build/bench/bench_costs bench/costs/bench_costs.c \
    -Lbuild/lib -lvoicetelemetry -Wl,-rpath,"$PWD/build/lib"
./build/bench/bench_costs
