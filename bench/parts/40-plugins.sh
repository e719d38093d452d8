#!/usr/bin/env bash
# Part 40: vt_emit with a no-op and with a stalled sink plugin (p50/p99 ns), and sustained events/s
# delivered to a no-op plugin, each beside an inline C baseline measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=build/bench
mkdir -p "$out"
CC=${CC:-gcc}
$CC -std=c99 -O2 -fPIC -shared -fvisibility=hidden -Iinclude -o "$out/noop_sink.so" bench/plugins/sinks.c
$CC -std=c99 -O2 -fPIC -shared -fvisibility=hidden -Iinclude -DSTALL -o "$out/stall_sink.so" bench/plugins/sinks.c
$CC -std=c99 -O2 -Iinclude -o "$out/bench_emit" bench/plugins/bench_emit.c \
    -Lbuild/lib -lvoicetelemetry -Wl,-rpath,"$(pwd)/build/lib" -lpthread
"$out/bench_emit" "$out"
