#!/usr/bin/env bash
# Part 50: events/s stored by the SQLite sink plugin (driven through the plugin ABI with realistic
# lines, batches of 256), beside a bare C loop inserting the same rows with the same schema and
# PRAGMAs, measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=build/bench
mkdir -p "$out"
CC=${CC:-gcc}
make --no-print-directory -o build/lib/libvoicetelemetry.so build/plugins/sqlite_sink.so >/dev/null
$CC -std=c99 -O2 -Wall -Wextra -Iinclude -Itests/trace_store -o "$out/bench_sqlite" bench/trace_store/bench_sqlite.c \
    -ldl -lsqlite3
"$out/bench_sqlite" build/plugins/sqlite_sink.so "$out" "${VT_BENCH_TRACE_EVENTS:-40000}"
