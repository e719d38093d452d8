#!/usr/bin/env bash
# Part 85: the metrics path beside its peers, all measured in this run (issue 15).
#
#   counter add, observe        ns per write through a handle (vt_metric_add / _observe) and by name
#                               (vt_counter_add / vt_observe with help and {transport="sip"}), beside an
#                               inline atomic add (noinline C), the same add as vt_metric_add's in a C
#                               shared library (the floor of any library call: PLT, a double checked as
#                               a whole number, the atomic; bench/metrics/call_floor.c) and
#                               client_golang (a kept child's Inc /
#                               Observe; WithLabelValues("sip").Inc() / .Observe() for by name)
#   exposition A, B             us per vt_prom_text beside client_golang's Gather + expfmt text encoding
#                               and prometheus_client's generate_latest of the same families, label
#                               values, bucket bounds and observations (bench/metrics/bench_metrics.c,
#                               bench/peers/go, bench/peers/python take the same arguments below);
#                               per sample line too (ours has more lines: the _quantiles summaries)
#   allocations                 per handle write, per by-name write and per scrape after a warm-up
#                               (an interposed malloc counts them)
#   record p99 under a scrape   vt_record_audio_out and vt_metric_add in two threads, p99 while a third
#                               thread scrapes the 10,000 series of B without a pause / p99 alone (three
#                               phases each, alternating; best of each)
#
# Each program runs ROUNDS times alternately (VT_METRICS_BENCH_ROUNDS, default 3) and the best figure of
# each is kept: a loaded machine slows runs down, it never speeds them up. The Go peer is built in
# GOPATH mode from Debian's golang-github-prometheus-client-golang-dev (no module proxy), installed with
# apt-get when missing (as part 80 does); without prometheus_client the Python column says "-".
set -euo pipefail
cd "$(dirname "$0")/../.."
out=build/bench
mkdir -p "$out"
CC=${CC:-gcc}
PYTHON=${PYTHON:-python3}
rounds=${VT_METRICS_BENCH_ROUNDS:-3}

# The workloads, one list for the three programs: COUNTER_FAMILIES HISTOGRAM_FAMILIES SERIES_PER_FAMILY
# OBSERVATIONS_PER_SERIES BUCKET_BOUNDS. A: the issue's registry (70 counters, 70 histograms of 11
# buckets: 1,050 sample lines in client_golang). B: 10,000 series (8,000 counters, 2,000 histograms).
bounds=0.005,0.01,0.025,0.05,0.1,0.25,0.5,1,2.5,5,10
workload_A="10 10 7 50 $bounds"
workload_B="8 2 1000 20 $bounds"

$CC -O2 -std=c11 -Wall -Wextra -shared -fPIC -o "$out/libcallfloor.so" bench/metrics/call_floor.c
$CC -O2 -std=c11 -Wall -Wextra -Iinclude -o "$out/bench_metrics" bench/metrics/bench_metrics.c \
    -Lbuild/lib -lvoicetelemetry -L"$out" -lcallfloor -Wl,-rpath,"$PWD/build/lib:$PWD/$out" -lpthread
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
need=()
command -v go >/dev/null || need+=(golang-go)
[ -d /usr/share/gocode/src/github.com/prometheus/client_golang ] || need+=(golang-github-prometheus-client-golang-dev)
if [ ${#need[@]} -gt 0 ]; then
    echo "installing ${need[*]} (apt-get)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; } ||
        echo "(the client_golang column needs ${need[*]}: apt-get install -y ${need[*]})"
fi
have_go=0
if [ -d /usr/share/gocode/src/github.com/prometheus/client_golang ] && command -v go >/dev/null; then
    GO111MODULE=off GOPATH="$work/gopath:/usr/share/gocode" GOFLAGS= GOPROXY=off \
        go build -o "$out/peer_go" ./bench/peers/go && have_go=1
fi
have_py=0
"$PYTHON" -c 'import prometheus_client' 2>/dev/null && have_py=1

# run NAME COMMAND...: append the command's "<figure> <value>" lines to $work/NAME.
run() { local name=$1; shift; "$@" >> "$work/$name"; }
for _ in $(seq "$rounds"); do
    run ours_calls "$out/bench_metrics" calls 4000000
    [ $have_go = 1 ] && run go_calls "$out/peer_go" calls 4000000
    # shellcheck disable=SC2086
    run ours_A "$out/bench_metrics" expo $workload_A 300
    # shellcheck disable=SC2086
    [ $have_go = 1 ] && run go_A "$out/peer_go" expo $workload_A 300
    # shellcheck disable=SC2086
    run ours_B "$out/bench_metrics" expo $workload_B 10
    # shellcheck disable=SC2086
    [ $have_go = 1 ] && run go_B "$out/peer_go" expo $workload_B 10
done
# shellcheck disable=SC2086
if [ $have_py = 1 ]; then
    run py_A "$PYTHON" bench/peers/python/peer.py expo $workload_A 20
    run py_B "$PYTHON" bench/peers/python/peer.py expo $workload_B 3
fi
run p99 "$out/bench_metrics" p99 "${VT_METRICS_BENCH_P99_SECONDS:-3}"
touch "$work/go_calls" "$work/go_A" "$work/go_B" "$work/py_A" "$work/py_B"

# best NAME FIGURE: the smallest value of FIGURE over the rounds of NAME ("-" if none).
best() { awk -v k="$2" '$1 == k && (m == "" || $2 + 0 < m + 0) { m = $2 } END { print m == "" ? "-" : m }' "$work/$1"; }
row() {   # row WHAT OURS PEER_NAME PEER TARGET   (target: "<= x" on ours/peer, or "-")
    awk -v what="$1" -v ours="$2" -v pname="$3" -v peer="$4" -v target="$5" 'BEGIN {
        ratio = (ours == "-" || peer == "-" || peer + 0 == 0) ? "-" : sprintf("%.3f", ours / peer)
        verdict = "info"
        if (target != "-" && ratio != "-") verdict = (ratio + 0 <= target + 0) ? "ok" : "MISSED"
        printf "%-40s %10s  %-30s %10s %7s %8s  %s\n", what, ours, pname, peer, ratio, target == "-" ? "-" : "<= " target, verdict
    }'
}
per_line() { awk -v t="$1" -v n="$2" 'BEGIN { if (t == "-" || n == "-" || n == 0) print "-"; else printf "%.1f", t * 1000 / n }'; }

printf "%-40s %10s  %-30s %10s %7s %8s\n" "figure" "ours" "peer (same run)" "peer" "ratio" "target"
row "counter add, handle (ns)" "$(best ours_calls counter_add_handle)" "inline atomic add (C)" "$(best ours_calls inline_atomic_add)" 1.3
row "counter add, handle (ns)" "$(best ours_calls counter_add_handle)" "same add in a C .so (PLT)" "$(best ours_calls shared_library_add)" 1.1
row "counter add, handle (ns)" "$(best ours_calls counter_add_handle)" "client_golang kept child .Inc" "$(best go_calls counter_add_handle)" -
row "counter add, by name (ns)" "$(best ours_calls counter_add_name)" "WithLabelValues(\"sip\").Inc()" "$(best go_calls counter_add_name)" 1.0
row "observe, handle (ns)" "$(best ours_calls observe_handle)" "client_golang Observe" "$(best go_calls observe_handle)" 1.0
row "observe, by name (ns)" "$(best ours_calls observe_name)" "WithLabelValues(..).Observe" "$(best go_calls observe_name)" 1.0
for w in A B; do
    ours_us=$(best "ours_$w" expo_us) go_us=$(best "go_$w" expo_us) py_us=$(best "py_$w" expo_us)
    ours_lines=$(best "ours_$w" expo_lines) go_lines=$(best "go_$w" expo_lines)
    label="exposition $w: $ours_lines lines (us)"
    row "$label" "$ours_us" "Gather+expfmt: $go_lines lines" "$go_us" 0.25
    row "exposition $w, per sample line (ns)" "$(per_line "$ours_us" "$ours_lines")" "Gather+expfmt" \
        "$(per_line "$go_us" "$go_lines")" 0.25
    row "exposition $w (us)" "$ours_us" "prometheus_client generate_latest" "$py_us" 0.05
done
row "allocations per handle write" "$(best ours_calls allocs_per_handle_write)" "-" - -
row "allocations per by-name write" "$(best ours_calls allocs_per_name_write)" "-" - -
row "allocations per scrape A (warm)" "$(best ours_A allocs_per_scrape)" "-" - -
row "allocations per scrape B (warm)" "$(best ours_B allocs_per_scrape)" "-" - -
row "record_audio_out p99, scrape/alone (ns)" "$(best p99 p99_audio_scraping)" "alone" "$(best p99 p99_audio_alone)" 1.2
row "metric handle add p99, scrape/alone" "$(best p99 p99_metric_scraping)" "alone" "$(best p99 p99_metric_alone)" 1.2
echo "(allocation target 0; p99 per call, timed 64 at a time; $(best p99 scrapes) scrapes of B during $(best p99 calls_scraping) calls)"
