#!/usr/bin/env bash
# Python binding: per-call overhead against a bare ctypes crossing, and the batch path.
# Run from the repository root with build/lib/libvoicetelemetry.so built (bench/run.sh does both).
set -euo pipefail
CC=${CC:-gcc}
PYTHON=${PYTHON:-python3}
mkdir -p build/bench
"$CC" -O2 -shared -fPIC -o build/bench/libvtnoop.so bench/python/noop.c
VOICETELEMETRY_LIB="$PWD/build/lib/libvoicetelemetry.so" \
    "$PYTHON" bench/python/bench.py --noop build/bench/libvtnoop.so "$@"
