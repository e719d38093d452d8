#!/usr/bin/env bash
# Go binding (examples-go): what the binding adds to a cgo crossing, and what batching saves.
#
#   RecordAudioOut / cgo no-op      Session.RecordAudioOut (one cgo call through the vtgo helper into
#                                   the library) against a cgo call of a C function that does nothing,
#                                   with the same argument types (internal/cgobaseline). Target <= 1.3.
#   RecordBatch per frame / single  ns per audio frame recorded 50 at a time with Session.RecordBatch,
#                                   against one RecordAudioOut per frame. Target <= 0.25.
#
# The benchmarks run ROUNDS times, interleaved: each round runs every benchmark once, each in its own
# `go test` process, in forward order on odd rounds and reversed on even ones (so neither side of a
# ratio always goes first). Each ratio is the median of the per-round ratios, so that a noisy shared
# machine moves both sides of a ratio together; the ns figures are medians over the rounds.
# Env: VT_GO_BENCH_ROUNDS (default 7), VT_GO_BENCH_TIME (default 1000000x).
# Runs with the repository root as cwd and the library built (make bench does both).
set -euo pipefail
cd "$(dirname "$0")/../.."

rounds=${VT_GO_BENCH_ROUNDS:-7}
benchtime=${VT_GO_BENCH_TIME:-1000000x}
export GOFLAGS=-mod=mod GOPROXY=off
out=$(mktemp)
trap '[ -n "${VT_GO_BENCH_KEEP:-}" ] && cp "$out" "$VT_GO_BENCH_KEEP"; rm -f "$out"' EXIT

benches=(CgoNoop RecordAudioOut RecordBatch50 RecordAudioOutParallel)
(cd examples-go && go test -run '^$' -bench '^$' . >/dev/null) # build once, outside the rounds
for ((r = 1; r <= rounds; r++)); do
    order=("${benches[@]}")
    if ((r % 2 == 0)); then
        order=()
        for ((i = ${#benches[@]} - 1; i >= 0; i--)); do order+=("${benches[i]}"); done
    fi
    for b in "${order[@]}"; do
        (cd examples-go && go test -run '^$' -bench "^Benchmark$b\$" -benchtime "$benchtime" -count 1 .) |
            sed -n "s/^Benchmark/$r Benchmark/p" >>"$out"
    done
done

# Lines: <round> BenchmarkName-P <iterations> <ns> ns/op [<ns> ns/event]
awk -v rounds="$rounds" '
function median(a, n,    i, j, t) {
    for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function med(name,    i, n, a) {
    n = 0; for (i = 1; i <= rounds; i++) if ((i, name) in ns) a[++n] = ns[i, name]
    if (n == 0) { missing = 1; return 0 }
    return median(a, n)
}
function ratio(top, bottom,    i, n, a) {
    n = 0; for (i = 1; i <= rounds; i++) if ((i, top) in ns && (i, bottom) in ns) a[++n] = ns[i, top] / ns[i, bottom]
    return n ? median(a, n) : 0
}
function row(what, top, bottom, target,    r, verdict) {
    r = ratio(top, bottom)
    verdict = target == "-" ? "info" : (r <= target + 0 ? "ok" : "MISSED")
    printf "%-44s %10.1f %10.1f %7.3f %8s  %s\n", what, med(top), med(bottom), r, target == "-" ? "-" : "<= " target, verdict
}
{
    name = $2; sub(/-[0-9]+$/, "", name); sub(/^Benchmark/, "", name)
    ns[$1, name] = $4
    if ($7 == "ns/event") ns[$1, name "/event"] = $6
}
END {
    printf "Go binding, %d interleaved rounds (ns: median over rounds; ratio: median of per-round ratios)\n", rounds
    printf "%-44s %10s %10s %7s %8s\n", "", "ours ns", "base ns", "ratio", "target"
    row("RecordAudioOut / cgo no-op call", "RecordAudioOut", "CgoNoop", "1.3")
    row("RecordBatch per frame (50/call) / single", "RecordBatch50/event", "RecordAudioOut", "0.25")
    row("RecordAudioOut, GOMAXPROCS goroutines / 1", "RecordAudioOutParallel", "RecordAudioOut", "-")
    if (missing) { print "some benchmarks did not run"; exit 1 }
}' "$out"
