// Exposition formatting: numbers, escaping, label order, families.
import Testing
@testable import VoiceTelemetry

@Test func numbersFollowTheTextFormat() {
    #expect(TextOutput.promNumber(.nan) == "NaN")
    #expect(TextOutput.promNumber(.infinity) == "+Inf")
    #expect(TextOutput.promNumber(-.infinity) == "-Inf")
    #expect(TextOutput.promNumber(1) == "1")
    #expect(TextOutput.promNumber(0.25) == "0.25")
    #expect(TextOutput.promNumber(-3) == "-3")
    #expect(TextOutput.promNumber(1e20) == "1e+20")
    #expect(TextOutput.promNumber(0.1 + 0.2) == "0.30000000000000004")
}

@Test func labelsRenderSortedWithExtrasMergedIn() {
    let labels = [Label(key: "model", value: "m"), Label(key: "transport", value: "sip")]
    #expect(Series.render(labels) == #"model="m",transport="sip""#)
    #expect(Series.render(labels, extra: Label(key: "le", value: "0.5")) == #"le="0.5",model="m",transport="sip""#)
    #expect(Series.render(labels, extra: Label(key: "quantile", value: "0.9"))
            == #"model="m",quantile="0.9",transport="sip""#)
    #expect(Series.render([], extra: Label(key: "le", value: "+Inf")) == #"le="+Inf""#)
}

@Test func labelValuesAndHelpAreEscaped() {
    var out = TextOutput()
    out.appendPromLabelValue("a\\b\"c\nd")
    #expect(String(decoding: out.bytes, as: UTF8.self) == #"a\\b\"c\nd"#)
    var help = TextOutput()
    help.appendPromHelp("x\\y\"z\nw")
    #expect(String(decoding: help.bytes, as: UTF8.self) == #"x\\y"z\nw"#)
}

@Test func registryFiltersRegisteredLabelsAndCountsUnknownKeys() throws {
    let registry = Registry(builtIn: TurnFamilies.specs)
    try registry.registerLabels(name: "t_req_total", keys: ["route"])
    let series = try registry.userSeries(kind: .counter, name: "t_req_total", help: "Requests.",
                                         labels: [Label(key: "route", value: "/"), Label(key: "user", value: "u")])
    #expect(series.labels == [Label(key: "route", value: "/")])
    let unknown = registry.unknownLabels.series.first
    #expect(unknown?.value == 1)
    #expect(unknown?.labels == [Label(key: "metric", value: "t_req_total")])
}

@Test func histogramFamilyRendersBucketsSumCountAndQuantiles() throws {
    let registry = Registry(builtIn: TurnFamilies.specs)
    try registry.setBuckets(name: "t_lat_seconds", bounds: [0.1, 1])
    let series = try registry.userSeries(kind: .histogram, name: "t_lat_seconds", help: "Latency.", labels: [])
    series.histogram?.observe(0.5, nanoUnits: LatencyHistogram.nanoUnits(0.5))
    series.histogram?.observe(0.05, nanoUnits: LatencyHistogram.nanoUnits(0.05))
    let text = String(decoding: renderedBytes(registry, .prometheus), as: UTF8.self)
    let expected = """
        # HELP t_lat_seconds Latency.
        # TYPE t_lat_seconds histogram
        t_lat_seconds_bucket{le="0.1"} 1
        t_lat_seconds_bucket{le="1"} 2
        t_lat_seconds_bucket{le="+Inf"} 2
        t_lat_seconds_sum 0.55
        t_lat_seconds_count 2
        # HELP t_lat_seconds_quantiles Latency. Quantiles (0.5, 0.9, 0.95, 0.99) over the process lifetime.
        # TYPE t_lat_seconds_quantiles summary
        t_lat_seconds_quantiles{quantile="0.5"} 0.05
        t_lat_seconds_quantiles{quantile="0.9"} 0.499122176
        t_lat_seconds_quantiles{quantile="0.95"} 0.499122176
        t_lat_seconds_quantiles{quantile="0.99"} 0.499122176
        t_lat_seconds_quantiles_sum 0.55
        t_lat_seconds_quantiles_count 2

        """
    #expect(text.contains(expected), "got:\n\(text)")
}

@Test func suffixRulesKeepTheOutputLintClean() {
    #expect(throws: Failure.self) { try Registry.checkSuffix("x", kind: .counter) }
    #expect(throws: Failure.self) { try Registry.checkSuffix("x_total", kind: .gauge) }
    #expect(throws: Failure.self) { try Registry.checkSuffix("x_bucket", kind: .histogram) }
    #expect(throws: Failure.self) { try Registry.checkSuffix("x_quantiles", kind: .histogram) }
    #expect(throws: Never.self) { try Registry.checkSuffix("x_total", kind: .counter) }
    #expect(throws: Never.self) { try Registry.checkSuffix("x_seconds", kind: .histogram) }
}
