#!/usr/bin/env bash
# Go binding (examples-go): what the binding adds to a cgo crossing, and what batching saves.
#
#   RecordAudioOut / cgo no-op      Session.RecordAudioOut (one cgo call through the vtgo.h helper
#                                   into the library) against a cgo call of a C function that does
#                                   nothing, with the same argument types (internal/cgobaseline).
#                                   Target <= 1.3.
#   RecordBatch per frame / single  ns per audio frame recorded 50 at a time with Session.RecordBatch,
#                                   against one RecordAudioOut per frame. Target <= 0.25.
#   Counter.Add / cgo no-op         a metric handle's write (vt_metric_add through the vtgo.h helper)
#   Histogram.Observe / cgo no-op   and vt_metric_observe, against a cgo call of a no-op with their
#                                   types (uint64, double). Target <= 1.3.
#
# Each ratio comes from one benchmark that runs both sides alternately, 10000 calls at a time
# (BenchmarkAudioOutVsNoop, BenchmarkBatchVsSingle in examples-go/bench_test.go), so that load on
# a shared machine hits both sides alike. The benchmarks run ROUNDS times; the table shows the round
# with the median ratio (and, for the informative parallel row, medians).
# Env: VT_GO_BENCH_ROUNDS (default 7), VT_GO_BENCH_TIME (default 2000000x), VT_GO_BENCH_KEEP (a
# file to keep the raw `go test` output in).
# Runs with the repository root as cwd and the library built (make bench does both).
set -euo pipefail
cd "$(dirname "$0")/../.."

rounds=${VT_GO_BENCH_ROUNDS:-7}
benchtime=${VT_GO_BENCH_TIME:-2000000x}
export GOFLAGS=-mod=mod GOPROXY=off
out=$(mktemp)
trap '[ -n "${VT_GO_BENCH_KEEP:-}" ] && cp "$out" "$VT_GO_BENCH_KEEP"; rm -f "$out"' EXIT

(cd examples-go && go test -run '^$' \
    -bench '^Benchmark(AudioOutVsNoop|BatchVsSingle|CounterAddVsNoop|ObserveVsNoop|RecordAudioOut|RecordAudioOutParallel)$' \
    -benchtime "$benchtime" -count "$rounds" .) >"$out"

# Lines: BenchmarkName-P <iterations> <ns> ns/op [<value> <unit>]...
awk '
function median(a, n,    i, j, t) {
    for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function med(key,    i, a) {
    if (!(key in count)) { missing = missing " " key; return 0 }
    for (i = 1; i <= count[key]; i++) a[i] = val[key, i]
    return median(a, count[key])
}
# The round whose ratio is the median (the lower middle one for an even count): its ours and base
# are shown beside its ratio, so that a row reads consistently.
function pair(name, what, target,    i, j, n, r, idx, t) {
    n = count[name ":ratio"]
    if (!n) { missing = missing " " name; return }
    for (i = 1; i <= n; i++) { r[i] = val[name ":ratio", i]; idx[i] = i }
    for (i = 2; i <= n; i++) {
        for (j = i; j > 1 && r[idx[j - 1]] > r[idx[j]]; j--) { t = idx[j]; idx[j] = idx[j - 1]; idx[j - 1] = t }
    }
    i = idx[int((n + 1) / 2)]
    row(what, val[name ":ours-ns", i], val[name ":base-ns", i], val[name ":ratio", i], target)
}
function row(what, ours, base, r, target,    verdict) {
    verdict = target == "-" ? "info" : (r <= target + 0 ? "ok" : "MISSED")
    printf "%-44s %9.1f %9.1f %7.3f %8s  %s\n", what, ours, base, r, target == "-" ? "-" : "<= " target, verdict
}
/^Benchmark/ {
    name = $1; sub(/-[0-9]+$/, "", name); sub(/^Benchmark/, "", name)
    for (i = 3; i < NF; i += 2) { key = name ":" $(i + 1); val[key, ++count[key]] = $i }
}
END {
    print "Go binding: median round of " count["AudioOutVsNoop:ratio"] " (both sides of a ratio timed alternately in one benchmark)"
    printf "%-44s %9s %9s %7s %8s\n", "", "ours ns", "base ns", "ratio", "target"
    pair("AudioOutVsNoop", "RecordAudioOut / cgo no-op call", "1.3")
    pair("BatchVsSingle", "RecordBatch per frame (50/call) / single", "0.25")
    pair("CounterAddVsNoop", "Counter.Add (metric handle) / cgo no-op", "1.3")
    pair("ObserveVsNoop", "Histogram.Observe (metric handle) / cgo no-op", "1.3")
    p = med("RecordAudioOutParallel:ns/op"); s = med("RecordAudioOut:ns/op")
    row("RecordAudioOut, GOMAXPROCS goroutines / 1", p, s, s ? p / s : 0, "-")
    if (missing != "") { print "benchmarks missing:" missing; exit 1 }
}' "$out"
