#!/usr/bin/env bash
# Turn collector: stage record calls from C (ns/call) beside an inline-atomics baseline, and turn
# completion cost (us). Built against build/lib (make bench builds it first).
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p build/bench
${CC:-gcc} -std=c99 -O2 -D_GNU_SOURCE -Iinclude -o build/bench/bench_turns bench/turns/bench_turns.c \
    -Lbuild/lib -lvoicetelemetry -Wl,-rpath,"$PWD/build/lib"
./build/bench/bench_turns
