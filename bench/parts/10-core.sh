#!/usr/bin/env bash
# Core figures from C: hot-path record cost, observe, snapshot, exposition, RSS, allocations.
set -euo pipefail
mkdir -p build/bench
gcc -O2 -std=c11 -Wall -Iinclude -o build/bench/bench_core bench/core/bench_core.c \
    -Lbuild/lib -lvoicetelemetry -Wl,-rpath,"$PWD/build/lib" -lpthread
./build/bench/bench_core
