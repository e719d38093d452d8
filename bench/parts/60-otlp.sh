#!/usr/bin/env bash
# Part 60: spans/s otlp_sink.so parses, encodes and sends over OTLP/HTTP to a loopback receiver that
# discards them (bench/otlp/sink_receiver.c), beside the OpenTelemetry Python SDK (opentelemetry-sdk +
# opentelemetry-exporter-otlp-proto-http, bench only) exporting the same span tree to the same
# receiver in the same run. VT_BENCH_OTLP_TURNS / VT_BENCH_OTLP_SDK_TURNS set the sizes.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=build/bench
mkdir -p "$out"
CC=${CC:-gcc}
PYTHON=${PYTHON:-python3}
make --no-print-directory -o build/lib/libvoicetelemetry.so build/plugins/otlp_sink.so >/dev/null
$CC -std=c99 -O2 -Wall -Wextra -pthread -o "$out/sink_receiver" bench/otlp/sink_receiver.c
$CC -std=c99 -O2 -Wall -Wextra -Iinclude -o "$out/bench_otlp" bench/otlp/bench_otlp.c -ldl
turns=${VT_BENCH_OTLP_TURNS:-20000}
sdk_turns=${VT_BENCH_OTLP_SDK_TURNS:-2000}

rm -f "$out/otlp_port"
"$out/sink_receiver" "$out/otlp_port" > "$out/otlp_receiver.out" &
rpid=$!
trap 'kill $rpid 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$out/otlp_port" ] && break; sleep 0.1; done
port=$(cat "$out/otlp_port")

declare -A ours sdk
printf '%-15s %12s %12s %10s\n' "protocol" "otlp_sink/s" "python-sdk/s" "ratio"
for mode in protobuf-gzip protobuf json; do
    ours[$mode]=$("$out/bench_otlp" build/plugins/otlp_sink.so "$port" "$mode" "$turns" "$out/otlp_stats.json" | awk '{print $4}')
    sdk[$mode]="-"
    if [ "$mode" != json ] && $PYTHON -c 'import opentelemetry.sdk, opentelemetry.exporter.otlp.proto.http' 2>/dev/null; then
        sdk[$mode]=$($PYTHON bench/otlp/sdk_bench.py "$port" "$mode" "$sdk_turns" | awk '{print $4}')
    fi
    ratio="-"
    [ "${sdk[$mode]}" != "-" ] && ratio=$(awk -v a="${ours[$mode]}" -v b="${sdk[$mode]}" 'BEGIN{printf "%.1fx", a/b}')
    printf '%-15s %12s %12s %10s\n' "$mode" "${ours[$mode]}" "${sdk[$mode]}" "$ratio"
done
$PYTHON -c 'import opentelemetry.sdk' 2>/dev/null ||
    echo "(python-sdk: pip install opentelemetry-sdk opentelemetry-exporter-otlp-proto-http for the baseline)"
echo "($turns turns = $((turns / 10 * 101)) spans for otlp_sink, $sdk_turns turns for the SDK; 10 spans a turn + a root a session)"
