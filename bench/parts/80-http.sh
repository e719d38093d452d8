#!/usr/bin/env bash
# Part 80: http_exporter.so (docs/http.md) beside client_golang's promhttp.Handler, same run, loopback.
#
#   /metrics scrapes/s   1,000 series (20 families x 50 labels: bench/http/promhttp_peer.go states the
#                        rule, bench/http/engine.c follows it; our text also carries the library's own
#                        families), plain and gzip, by wrk (-t1 -c16), with one core for the server
#                        (threads 1 / GOMAXPROCS=1) and two; ROUNDS rounds alternating ours and the
#                        peer's, median of each. Target: ours >= 2x promhttp.
#   record cost          vt_record_audio_out ns/call while a scraper process gets /metrics (gzip) 100
#                        times a second, against the same calls with the scraper stopped (SIGSTOP),
#                        alternating; median rounds. Target: <= 1.2x.
#   idle connections     RSS growth of a fresh serving process for 1,000 idle keep-alive connections
#                        (each answered once), ours and promhttp's (kernel socket buffers are not in
#                        RSS); for ours also the bytes malloc handed out for them (mallinfo2).
#
# Env: VT_BENCH_HTTP_ROUNDS (default 5), VT_BENCH_HTTP_SECONDS (wrk duration, default 2).
# Needs wrk and golang-github-prometheus-client-golang-dev (Debian; installed with apt-get if missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(pwd)/build/bench
mkdir -p "$out"
CC=${CC:-gcc}
PYTHON=${PYTHON:-python3}
rounds=${VT_BENCH_HTTP_ROUNDS:-5}
secs=${VT_BENCH_HTTP_SECONDS:-2}
families=20 labels=50
# What it needs from Debian, installed when missing (as .ci/run does for the tests).
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v go >/dev/null || need+=(golang-go)
[ -d /usr/share/gocode/src/github.com/prometheus/client_golang ] || need+=(golang-github-prometheus-client-golang-dev)
if [ ${#need[@]} -gt 0 ]; then
    echo "installing ${need[*]} (apt-get)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; } ||
        { echo "part 80 needs ${need[*]}: apt-get install -y ${need[*]}"; exit 1; }
fi
make --no-print-directory -o build/lib/libvoicetelemetry.so build/plugins/http_exporter.so >/dev/null
$CC -std=c99 -O2 -Wall -Wextra -Iinclude -o "$out/http_engine" bench/http/engine.c \
    -Lbuild/lib -lvoicetelemetry -Wl,-rpath,"$(pwd)/build/lib"
$CC -std=c99 -O2 -Wall -Wextra -o "$out/http_scraper" bench/http/scraper.c
GO111MODULE=off GOFLAGS= GOPATH=/usr/share/gocode go build -o "$out/promhttp_peer" bench/http/promhttp_peer.go

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

wait_port() { for _ in $(seq 100); do [ -s "$1" ] && { cat "$1"; return; }; sleep 0.05; done; echo "no port in $1" >&2; exit 1; }

# start_ours THREADS NAME: an engine serving the series; sets port_NAME, pid_NAME, and in_NAME /
# out_NAME (file descriptors of its stdin and stdout: commands and answers).
start_ours() {
    rm -f "$out/$2.port" "$out/$2.in" "$out/$2.out"
    mkfifo "$out/$2.in" "$out/$2.out"
    "$out/http_engine" build/plugins/http_exporter.so "$out/$2.port" $families $labels "$1" <"$out/$2.in" >"$out/$2.out" &
    pids+=($!)
    local fin fout
    exec {fin}>"$out/$2.in" {fout}<"$out/$2.out"
    eval "pid_$2=$!; in_$2=$fin; out_$2=$fout; port_$2=$(wait_port "$out/$2.port")"
}
start_peer() { # GOMAXPROCS NAME
    rm -f "$out/$2.port"
    GOMAXPROCS=$1 "$out/promhttp_peer" "$out/$2.port" $families $labels 2>/dev/null &
    pids+=($!)
    eval "pid_$2=$!; port_$2=$(wait_port "$out/$2.port")"
}

rps() { # PORT [HEADER]
    local h=()
    [ -n "${2:-}" ] && h=(-H "$2")
    wrk -t1 -c16 -d"${secs}s" "${h[@]}" "http://127.0.0.1:$1/metrics" | awk '/^Requests\/sec/ {print $2}'
}
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
verdict() { awk -v r="$1" -v t="$2" -v dir="$3" 'BEGIN {ok = dir == "ge" ? r >= t : r <= t; print ok ? "ok" : "MISSED"}'; }

start_ours 1 ours1; start_ours 2 ours2
start_peer 1 peer1; start_peer 2 peer2
body() { curl -s ${2:+-H "$2"} "http://127.0.0.1:$1/metrics" | wc -c; }
echo "/metrics scrapes/s, $((families * labels)) series, loopback, wrk -t1 -c16 -d${secs}s, median of $rounds alternating rounds"
printf '%-22s %14s %12s %7s %8s\n' "" "http_exporter" "promhttp" "ratio" "target"
for cores in 1 2; do
    for enc in plain gzip; do
        hdr=""; [ $enc = gzip ] && hdr="Accept-Encoding: gzip"
        a="" b=""
        po=$(eval echo \$port_ours$cores); pp=$(eval echo \$port_peer$cores)
        for _ in $(seq "$rounds"); do a="$a $(rps "$po" "$hdr")"; b="$b $(rps "$pp" "$hdr")"; done
        ma=$(echo "$a" | median); mb=$(echo "$b" | median); r=$(ratio "$ma" "$mb")
        printf '%-22s %14.0f %12.0f %7s %8s  %s\n' "$cores core$([ $cores = 2 ] && echo s), $enc" "$ma" "$mb" "$r" ">= 2" \
            "$(verdict "$r" 2 ge)"
    done
done
echo "(bodies, bytes plain / gzip: http_exporter $(body "$port_ours1") / $(body "$port_ours1" "Accept-Encoding: gzip")" \
     "with the library's own families, gzip level 1; promhttp $(body "$port_peer1") / $(body "$port_peer1" "Accept-Encoding: gzip"), level 6)"

# The record call's cost, scraped 100 times a second or not.
"$out/http_scraper" "$port_ours1" 100 &
scraper=$!
pids+=($scraper)
echo "record 9 5000000 $scraper" >&"$in_ours1"
read -r quiet busy <&"$out_ours1"
kill "$scraper"
r=$(ratio "$busy" "$quiet")
echo
printf '%-44s %9s %9s %7s %8s\n' "vt_record_audio_out ns/call (median of 9)" "scraped" "not" "ratio" "target"
printf '%-44s %9s %9s %7s %8s  %s\n' "scraped 100/s (gzip) vs not" "$busy" "$quiet" "$r" "<= 1.2" "$(verdict "$r" 1.2 le)"

# Memory per idle keep-alive connection, in fresh processes.
start_ours 1 idle_ours
start_peer 1 idle_peer
rss() { awk '/^VmRSS/ {print $2 * 1024}' "/proc/$1/status"; }
heap() { echo heap >&"$in_idle_ours"; read -r h <&"$out_idle_ours"; echo "$h"; }
hold() { # PORT: 1,000 connections answered once, held until the returned pid is killed
    rm -f "$out/idle.ready"
    "$PYTHON" bench/http/idle_conns.py "$1" 1000 /idle </dev/null >"$out/idle.ready" &
    held=$!
    for _ in $(seq 600); do [ -s "$out/idle.ready" ] && return; sleep 0.05; done
    echo "idle connections not ready" >&2; exit 1
}
curl -s -o /dev/null "http://127.0.0.1:$port_idle_ours/idle" # one request first: the worker's buffers
curl -s -o /dev/null "http://127.0.0.1:$port_idle_peer/idle"
r0=$(rss "$pid_idle_ours"); h0=$(heap); g0=$(rss "$pid_idle_peer")
hold "$port_idle_ours"; r1=$(rss "$pid_idle_ours"); h1=$(heap); kill $held
hold "$port_idle_peer"; g1=$(rss "$pid_idle_peer"); kill $held
echo
printf '%-44s %9s %9s %7s\n' "per idle keep-alive connection (of 1,000)" "ours" "promhttp" "ratio"
printf '%-44s %9s %9s %7s\n' "RSS growth, bytes" $(((r1 - r0) / 1000)) $(((g1 - g0) / 1000)) \
    "$(ratio $(((r1 - r0) / 1000 + 1)) $(((g1 - g0) / 1000 + 1)))"
printf '%-44s %9s %9s\n' "heap in use (malloc), bytes" $(((h1 - h0) / 1000)) "-"
