// C entry points: process metrics and the Prometheus exposition.
import CVoiceTelemetry

/// The shared body of the four value calls: check the arguments, find the series, apply the value.
private func writeMetric(_ kind: MetricKind, _ name: UnsafePointer<CChar>?, _ help: UnsafePointer<CChar>?,
                         _ labels: UnsafePointer<vt_label>?, _ n_labels: Int,
                         _ apply: (Series) -> Void) -> vt_status {
    abiCall { () throws(Failure) in
        // `help` is checked on every call (so the same call always gets the same answer), but read
        // only by the call that creates a family.
        try Inputs.checkHelp(help)
        // Fast path: the same raw arguments as an earlier successful call map to the same series.
        if let name,
           let _ = try? ProcessState.shared.locked({ (registry) -> Series? in
               guard let entry = seriesCache.lookup(kind, name, labels, n_labels) else { return nil }
               registry.countUnknownLabels(metric: entry.family.name, times: entry.droppedKeys)
               apply(entry.series)
               return entry.series
           }) {
            return
        }
        let metric = try Inputs.metricName(name)
        let helpText = help.map { String(cString: $0) }   // checked above
        let checked = try Inputs.labels(labels, count: n_labels)
        try ProcessState.shared.locked { (registry) throws(Failure) in
            let series = try registry.userSeries(kind: kind, name: metric, help: helpText, labels: checked)
            apply(series)
            if let name, let family = registry.families[metric] {
                seriesCache.remember(kind, name, labels, n_labels, series: series, family: family,
                                     droppedKeys: checked.count - series.labels.count)
            }
        }
    }
}

/// The metric calls' fast path (used under the process lock).
let seriesCache = SeriesCache()

private func notFinite(_ v: Double) -> vt_status {
    fail(.invalid("value \(v) is not a finite number"))
}

@c @implementation
public func vt_counter_add(_ name: UnsafePointer<CChar>?, _ help: UnsafePointer<CChar>?,
                           _ labels: UnsafePointer<vt_label>?, _ n_labels: Int, _ v: Double) -> vt_status {
    guard let v = Inputs.finite(v) else { return notFinite(v) }
    return writeMetric(.counter, name, help, labels, n_labels) { series in
        if v > 0 { series.add(v) }   // counters only go up: negative increments are ignored
    }
}

@c @implementation
public func vt_gauge_set(_ name: UnsafePointer<CChar>?, _ help: UnsafePointer<CChar>?,
                         _ labels: UnsafePointer<vt_label>?, _ n_labels: Int, _ v: Double) -> vt_status {
    guard let v = Inputs.finite(v) else { return notFinite(v) }
    return writeMetric(.gauge, name, help, labels, n_labels) { $0.set(v) }
}

@c @implementation
public func vt_gauge_add(_ name: UnsafePointer<CChar>?, _ help: UnsafePointer<CChar>?,
                         _ labels: UnsafePointer<vt_label>?, _ n_labels: Int, _ v: Double) -> vt_status {
    guard let v = Inputs.finite(v) else { return notFinite(v) }
    return writeMetric(.gauge, name, help, labels, n_labels) { $0.add(v) }
}

@c @implementation
public func vt_observe(_ name: UnsafePointer<CChar>?, _ help: UnsafePointer<CChar>?,
                       _ labels: UnsafePointer<vt_label>?, _ n_labels: Int, _ v: Double) -> vt_status {
    guard let v = Inputs.finite(v) else { return notFinite(v) }
    guard v >= 0 else { return fail(.invalid("value \(v) is negative: an observation must be >= 0")) }
    return writeMetric(.histogram, name, help, labels, n_labels) { series in
        series.histogram?.observe(v, nanoUnits: LatencyHistogram.nanoUnits(v))
    }
}

@c @implementation
public func vt_register_labels(_ name: UnsafePointer<CChar>?, _ keys: UnsafePointer<UnsafePointer<CChar>?>?,
                               _ n_keys: Int) -> vt_status {
    abiCall { () throws(Failure) in
        let metric = try Inputs.metricName(name)
        guard n_keys >= 0, n_keys <= Int(VT_MAX_LABELS) else {
            throw .invalid("\(n_keys) keys: at most \(VT_MAX_LABELS) are allowed")
        }
        var checked: [String] = []
        if n_keys > 0 {
            guard let keys else { throw .invalid("keys is NULL but n_keys is \(n_keys)") }
            for i in 0..<n_keys {
                let key = try Inputs.labelKey(keys[i], index: i)
                guard !checked.contains(key) else { throw .invalid("label key '\(key)' is given twice") }
                checked.append(key)
            }
        }
        try ProcessState.shared.locked { (registry) throws(Failure) in
            try registry.registerLabels(name: metric, keys: checked)
            seriesCache.clear()   // the same call may now map to another series
        }
    }
}

@c @implementation
public func vt_set_buckets(_ name: UnsafePointer<CChar>?, _ upper_bounds: UnsafePointer<Double>?, _ n: Int) -> vt_status {
    abiCall { () throws(Failure) in
        let metric = try Inputs.metricName(name)
        guard n >= 1, n <= Int(VT_MAX_BUCKETS) else {
            throw .invalid("\(n) bucket bounds: between 1 and \(VT_MAX_BUCKETS) are allowed")
        }
        guard let upper_bounds else { throw .invalid("upper_bounds is NULL") }
        var bounds: [Double] = []
        for i in 0..<n {
            guard let bound = Inputs.finite(upper_bounds[i]) else {
                throw .invalid("bound \(i) is \(upper_bounds[i]): bounds must be finite (+Inf is implicit)")
            }
            if let last = bounds.last, bound <= last {
                throw .invalid("bound \(i) (\(bound)) is not greater than bound \(i - 1) (\(last))")
            }
            bounds.append(bound)
        }
        try ProcessState.shared.locked { (registry) throws(Failure) in
            try registry.setBuckets(name: metric, bounds: bounds)
        }
    }
}

@c @implementation
public func vt_prom_text(_ buf: UnsafeMutablePointer<CChar>?, _ cap: Int, _ len_out: UnsafeMutablePointer<Int>?) -> vt_status {
    abiCall { () throws(Failure) in
        guard len_out != nil else { throw .invalid("len_out is NULL") }
        try ProcessState.shared.promText().deliver(to: buf, capacity: cap, length: len_out)
    }
}

@c @implementation
public func vt_prom_text_as(_ format: UInt32, _ buf: UnsafeMutablePointer<CChar>?, _ cap: Int,
                            _ len_out: UnsafeMutablePointer<Int>?) -> vt_status {
    abiCall { () throws(Failure) in
        guard let chosen = ExpositionFormat(rawValue: format) else {
            throw .invalid("format \(format) is not a vt_exposition_format (0 Prometheus text, 1 OpenMetrics)")
        }
        guard len_out != nil else { throw .invalid("len_out is NULL") }
        try ProcessState.shared.promText(chosen).deliver(to: buf, capacity: cap, length: len_out)
    }
}
