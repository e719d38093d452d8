// promhttp_peer: client_golang's promhttp.Handler serving the bench's series (bench/parts/80-http.sh),
// the peer http_exporter.so is measured against. Built in GOPATH mode against Debian's
// golang-github-prometheus-client-golang-dev.
//
//	usage: promhttp_peer PORT_FILE FAMILIES LABELS
//
// The series: FAMILIES families, the first half counters bench_requests_<f>_total, the rest gauges
// bench_inflight_<f>, each with LABELS series route="r0".."r<LABELS-1>"; series i of family f holds
// i*7+f (counters) or i*3+f (gauges) -- the rule bench/http/engine.c follows too.
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: promhttp_peer PORT_FILE FAMILIES LABELS")
		os.Exit(2)
	}
	families, _ := strconv.Atoi(os.Args[2])
	labels, _ := strconv.Atoi(os.Args[3])
	reg := prometheus.NewRegistry()
	for f := 0; f < families; f++ {
		help := fmt.Sprintf("Bench family %d.", f)
		if f < families/2 {
			c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: fmt.Sprintf("bench_requests_%d_total", f), Help: help}, []string{"route"})
			reg.MustRegister(c)
			for i := 0; i < labels; i++ {
				c.WithLabelValues(fmt.Sprintf("r%d", i)).Add(float64(i*7 + f))
			}
		} else {
			g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: fmt.Sprintf("bench_inflight_%d", f), Help: help}, []string{"route"})
			reg.MustRegister(g)
			for i := 0; i < labels; i++ {
				g.WithLabelValues(fmt.Sprintf("r%d", i)).Set(float64(i*3 + f))
			}
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	tmp := os.Args[1] + ".tmp"
	if err := os.WriteFile(tmp, []byte(fmt.Sprintf("%d\n", port)), 0o644); err != nil || os.Rename(tmp, os.Args[1]) != nil {
		fmt.Fprintln(os.Stderr, "port file:", err)
		os.Exit(1)
	}
	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	fmt.Fprintln(os.Stderr, http.Serve(ln, nil))
}
