// The exposition of a small registry, in both formats, against text written out by hand: escaping,
// label order around `le` and `quantile`, empty and filled histograms, quantiles, units, counter
// names in OpenMetrics, and an exemplar.
import Testing
@testable import VoiceTelemetry

/// g_queue_bytes (a gauge), g_requests_total (a counter, two series) and g_wait_seconds (a latency
/// family with buckets 0.1 and 1: one series empty, one with samples 0.05, 0.5 and 2).
private func goldenRegistry() throws -> Registry {
    let registry = Registry(builtIn: TurnFamilies.specs)
    try registry.userSeries(kind: .gauge, name: "g_queue_bytes", help: "Queue size.", labels: []).set(-2.25)
    let ok = try registry.userSeries(kind: .counter, name: "g_requests_total", help: "Requests \"served\" \\ total.",
                                     labels: [Label(key: "code", value: "200"), Label(key: "route", value: "/a")])
    Series.addToCounter(ok.cell, 3)
    try registry.userSeries(kind: .counter, name: "g_requests_total", help: nil,
                            labels: [Label(key: "code", value: "500"), Label(key: "route", value: "/b\"q")]).add(1.5)
    try registry.setBuckets(name: "g_wait_seconds", bounds: [0.1, 1])
    _ = try registry.userSeries(kind: .histogram, name: "g_wait_seconds", help: "Wait.", labels: [Label(key: "a", value: "w")])
    let wait = try registry.userSeries(kind: .histogram, name: "g_wait_seconds", help: nil,
                                       labels: [Label(key: "a", value: "x"), Label(key: "z", value: "y")])
    for v in [0.05, 0.5, 2] { wait.histogram?.observe(v, nanoUnits: LatencyHistogram.nanoUnits(v)) }
    return registry
}

// Quantiles: nearest rank of 3 samples (0.5 -> the 2nd, 0.9 and up -> the 3rd), each the midpoint of
// its log-linear bucket (32 per octave): 0.5 s lies in [59 * 2^23, 60 * 2^23) ns, midpoint 499122176 ns;
// 2 s in [59 * 2^25, 60 * 2^25) ns, midpoint 1996488704 ns (below the maximum, 2 s, so not clamped).
private let goldenSamples = #"""
g_wait_seconds_bucket{a="w",le="0.1"} 0
g_wait_seconds_bucket{a="w",le="1"} 0
g_wait_seconds_bucket{a="w",le="+Inf"} 0
g_wait_seconds_sum{a="w"} 0
g_wait_seconds_count{a="w"} 0
g_wait_seconds_bucket{a="x",le="0.1",z="y"} 1
g_wait_seconds_bucket{a="x",le="1",z="y"} 2
g_wait_seconds_bucket{a="x",le="+Inf",z="y"} 3
g_wait_seconds_sum{a="x",z="y"} 2.55
g_wait_seconds_count{a="x",z="y"} 3

"""#

private let goldenQuantiles = #"""
g_wait_seconds_quantiles{a="w",quantile="0.5"} NaN
g_wait_seconds_quantiles{a="w",quantile="0.9"} NaN
g_wait_seconds_quantiles{a="w",quantile="0.95"} NaN
g_wait_seconds_quantiles{a="w",quantile="0.99"} NaN
g_wait_seconds_quantiles_sum{a="w"} 0
g_wait_seconds_quantiles_count{a="w"} 0
g_wait_seconds_quantiles{a="x",quantile="0.5",z="y"} 0.499122176
g_wait_seconds_quantiles{a="x",quantile="0.9",z="y"} 1.996488704
g_wait_seconds_quantiles{a="x",quantile="0.95",z="y"} 1.996488704
g_wait_seconds_quantiles{a="x",quantile="0.99",z="y"} 1.996488704
g_wait_seconds_quantiles_sum{a="x",z="y"} 2.55
g_wait_seconds_quantiles_count{a="x",z="y"} 3

"""#

private let goldenPrometheus = #"""
# HELP g_queue_bytes Queue size.
# TYPE g_queue_bytes gauge
g_queue_bytes -2.25
# HELP g_requests_total Requests "served" \\ total.
# TYPE g_requests_total counter
g_requests_total{code="200",route="/a"} 3
g_requests_total{code="500",route="/b\"q"} 1.5
# HELP g_wait_seconds Wait.
# TYPE g_wait_seconds histogram

"""# + goldenSamples + #"""
# HELP g_wait_seconds_quantiles Wait. Quantiles (0.5, 0.9, 0.95, 0.99) over the process lifetime.
# TYPE g_wait_seconds_quantiles summary

"""# + goldenQuantiles

private let goldenOpenMetrics = #"""
# HELP g_queue_bytes Queue size.
# TYPE g_queue_bytes gauge
# UNIT g_queue_bytes bytes
g_queue_bytes -2.25
# HELP g_requests Requests \"served\" \\ total.
# TYPE g_requests counter
g_requests_total{code="200",route="/a"} 3
g_requests_total{code="500",route="/b\"q"} 1.5
# HELP g_wait_seconds Wait.
# TYPE g_wait_seconds histogram
# UNIT g_wait_seconds seconds

"""# + goldenSamples + #"""
# HELP g_wait_seconds_quantiles Wait. Quantiles (0.5, 0.9, 0.95, 0.99) over the process lifetime.
# TYPE g_wait_seconds_quantiles summary

"""# + goldenQuantiles

/// The text from the start up to the library's own families (they follow: their names sort after g_).
private func ownFamilies(_ text: String) -> String {
    String(text[..<(text.range(of: "# HELP voicetelemetry_")?.lowerBound ?? text.endIndex)])
}

@Test func smallRegistryInPrometheusTextIsTheHandWrittenText() throws {
    let text = String(decoding: renderedBytes(try goldenRegistry(), .prometheus), as: UTF8.self)
    #expect(ownFamilies(text) == goldenPrometheus)
    #expect(LegacyPromText.render(try goldenRegistry(), format: .prometheus).bytes == Array(text.utf8))
}

@Test func smallRegistryInOpenMetricsIsTheHandWrittenText() throws {
    let text = String(decoding: renderedBytes(try goldenRegistry(), .openMetrics), as: UTF8.self)
    #expect(ownFamilies(text) == goldenOpenMetrics)
    #expect(LegacyPromText.render(try goldenRegistry(), format: .openMetrics).bytes == Array(text.utf8))
}

@Test func anExemplarNamesItsTurnInOpenMetricsOnly() throws {
    let registry = Registry(builtIn: TurnFamilies.specs)
    let family = try #require(registry.families["voicetelemetry_turn_e2e_latency_seconds"])
    let series = try registry.series(of: family, labels: [Label(key: "transport", value: "sip")])
    let h = try #require(series.histogram)
    let bucket = h.observe(0.2, nanoUnits: 200_000_000)   // le="0.2"
    let key = ExemplarKey(sessionID: "call-\"7\"", traceID: "0af7651916cd43dd8448eb211c80319c")
    h.exemplars?.offer(bucket: bucket, key: key, turnID: 12, value: 0.2, unixNs: 1_700_000_000_005_000_000)
    let om = String(decoding: renderedBytes(registry, .openMetrics), as: UTF8.self)
    #expect(om.contains(#"""
        voicetelemetry_turn_e2e_latency_seconds_bucket{le="0.15",transport="sip"} 0
        voicetelemetry_turn_e2e_latency_seconds_bucket{le="0.2",transport="sip"} 1 # {session_id="call-\"7\"",turn_id="12",trace_id="0af7651916cd43dd8448eb211c80319c"} 0.2 1700000000.005
        voicetelemetry_turn_e2e_latency_seconds_bucket{le="0.25",transport="sip"} 1

        """#))
    let text = String(decoding: renderedBytes(registry, .prometheus), as: UTF8.self)
    #expect(text.contains("voicetelemetry_turn_e2e_latency_seconds_bucket{le=\"0.2\",transport=\"sip\"} 1\n"))
}
