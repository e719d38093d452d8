// peer_go: the client_golang side of bench/parts/85-metrics.sh. It builds the same families, label
// values, bucket bounds and observations as bench/metrics/bench_metrics.c from the same arguments,
// and prints "<figure> <value>" lines (best of several runs).
//
//	peer_go calls N                        ns of thread CPU time per Inc/Observe, on a kept child and
//	                                       through WithLabelValues
//	peer_go expo COUNTERS HISTOGRAMS SERIES OBS BOUNDS ROUNDS
//	                                       us per Gather + text encoding, lines and bytes of the output
//
// Built by the bench part in GOPATH mode against Debian's golang-github-prometheus-client-golang-dev
// (GO111MODULE=off GOPATH=...:/usr/share/gocode).
package main

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

func best(runs int, f func() time.Duration) time.Duration {
	b := time.Duration(1 << 62)
	for i := 0; i < runs; i++ {
		if d := f(); d < b {
			b = d
		}
	}
	return b
}

// threadCPU is the calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID, as bench_metrics.c measures):
// loops of millions of calls outlast a time slice on a shared machine.
func threadCPU() time.Duration {
	var ts syscall.Timespec
	if _, _, e := syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, 3 /* CLOCK_THREAD_CPUTIME_ID */, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		panic(e)
	}
	return time.Duration(ts.Nano())
}

func perCall(n int, f func(int)) float64 {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	d := best(7, func() time.Duration {
		t := threadCPU()
		f(n)
		return threadCPU() - t
	})
	return float64(d.Nanoseconds()) / float64(n)
}

func calls(n int) {
	reg := prometheus.NewRegistry()
	counter := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bench_requests_total", Help: "Requests."},
		[]string{"transport"})
	hist := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "bench_latency_seconds", Help: "Latency.",
		Buckets: prometheus.DefBuckets}, []string{"transport"})
	reg.MustRegister(counter, hist)
	kept := counter.WithLabelValues("sip")
	keptHist := hist.WithLabelValues("sip")
	fmt.Printf("counter_add_handle %.2f\n", perCall(n, func(n int) {
		for i := 0; i < n; i++ {
			kept.Inc()
		}
	}))
	fmt.Printf("counter_add_name %.2f\n", perCall(n, func(n int) {
		for i := 0; i < n; i++ {
			counter.WithLabelValues("sip").Inc()
		}
	}))
	fmt.Printf("observe_handle %.2f\n", perCall(n, func(n int) {
		for i := 0; i < n; i++ {
			keptHist.Observe(0.25)
		}
	}))
	fmt.Printf("observe_name %.2f\n", perCall(n, func(n int) {
		for i := 0; i < n; i++ {
			hist.WithLabelValues("sip").Observe(0.25)
		}
	}))
}

// observation is the i-th value of series s (the same formula as bench_metrics.c and peer.py).
func observation(s, i int) float64 { return float64((s*31+i*7919)%1000+1) / 400.0 }

func expo(counters, histograms, series, obs int, bounds []float64, rounds int) {
	reg := prometheus.NewRegistry()
	for f := 0; f < counters; f++ {
		vec := prometheus.NewCounterVec(prometheus.CounterOpts{Name: fmt.Sprintf("bench_events%d_total", f),
			Help: "Events of the bench."}, []string{"id"})
		reg.MustRegister(vec)
		for s := 0; s < series; s++ {
			vec.WithLabelValues(fmt.Sprintf("s%d", s)).Add(float64(s%5+1) * 10)
		}
	}
	for f := 0; f < histograms; f++ {
		vec := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: fmt.Sprintf("bench_stage%d_seconds", f),
			Help: "Stage latency of the bench.", Buckets: bounds}, []string{"id"})
		reg.MustRegister(vec)
		for s := 0; s < series; s++ {
			h := vec.WithLabelValues(fmt.Sprintf("s%d", s))
			for i := 0; i < obs; i++ {
				h.Observe(observation(s, i))
			}
		}
	}
	var out bytes.Buffer
	scrape := func() {
		out.Reset()
		mfs, err := reg.Gather()
		if err != nil {
			panic(err)
		}
		for _, mf := range mfs {
			if _, err := expfmt.MetricFamilyToText(&out, mf); err != nil {
				panic(err)
			}
		}
	}
	scrape()
	d := best(rounds, func() time.Duration {
		t := time.Now()
		scrape()
		return time.Since(t)
	})
	lines := 0
	for _, l := range strings.Split(out.String(), "\n") {
		if l != "" && l[0] != '#' {
			lines++
		}
	}
	fmt.Printf("expo_us %.1f\nexpo_lines %d\nexpo_bytes %d\n", float64(d.Nanoseconds())/1e3, lines, out.Len())
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(err)
	}
	return n
}

func main() {
	switch os.Args[1] {
	case "calls":
		calls(atoi(os.Args[2]))
	case "expo":
		var bounds []float64
		for _, b := range strings.Split(os.Args[6], ",") {
			v, err := strconv.ParseFloat(b, 64)
			if err != nil {
				panic(err)
			}
			bounds = append(bounds, v)
		}
		expo(atoi(os.Args[2]), atoi(os.Args[3]), atoi(os.Args[4]), atoi(os.Args[5]), bounds, atoi(os.Args[7]))
	default:
		fmt.Fprintln(os.Stderr, "usage: peer_go calls N | expo COUNTERS HISTOGRAMS SERIES OBS BOUNDS ROUNDS")
		os.Exit(2)
	}
}
