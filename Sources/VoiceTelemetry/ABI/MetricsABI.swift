// C entry points: process metrics, metric handles and the Prometheus exposition.
#if canImport(Glibc)
import Glibc
#endif
import CVoiceTelemetry
import Synchronization

// MARK: - Writing by handle (vt_metric_*) and by name (vt_counter_add, ...)

/// What a value call does to its series.
enum MetricOp {
    case counterAdd, gaugeAdd, set, observe
}

/// Apply a checked value through a valid handle whose kind suits `op`. Lock-free, allocation-free.
@inline(__always)
private func apply(_ handle: UInt64, _ target: UnsafeMutableRawPointer, _ op: MetricOp, _ v: Double) -> vt_status {
    guard handle & MetricHandles.overflowBit == 0 else { return dropped(target) }
    switch op {
    case .counterAdd:
        if v > 0 { Series.addToCounter(target.assumingMemoryBound(to: Atomic<UInt64>.self), v) }   // counters only go up
    case .gaugeAdd:
        target.assumingMemoryBound(to: Atomic<UInt64>.self)[0].addToDouble(v)
    case .set:
        target.assumingMemoryBound(to: Atomic<UInt64>.self)[0].store(v.bitPattern, ordering: .relaxed)
    case .observe:
        _ = Unmanaged<LatencyHistogram>.fromOpaque(target)._withUnsafeGuaranteedRef {
            $0.observe(v, nanoUnits: LatencyHistogram.nanoUnits(v))
        }
    }
    return VT_OK.rawValue
}

/// A value for a full family: counted as dropped, answered with VT_E_LIMIT.
@inline(never)
private func dropped(_ target: UnsafeMutableRawPointer) -> vt_status {
    Unmanaged<SeriesOverflow>.fromOpaque(target)._withUnsafeGuaranteedRef { overflow in
        overflow.dropped[0].addToDouble(1)
        LastError.set(utf8: overflow.message)
    }
    return VT_E_LIMIT.rawValue
}

/// The body of vt_metric_add/set/observe: check the handle, its kind and the value, then apply.
@inline(__always)
private func writeHandle(_ handle: UInt64, _ v: Double, _ accepts: (UInt64) -> MetricOp?, _ call: StaticString)
    -> vt_status {
    guard let target = MetricHandles.address(handle) else { return badMetric(handle) }
    guard let op = accepts((handle >> MetricHandles.kindShift) & 3) else { return wrongKind(handle, call) }
    guard let v = Inputs.finite(v) else { return notFinite(v) }
    if op == .observe && v < 0 { return negativeObservation(v) }
    return apply(handle, target, op, v)
}

@inline(never)
private func badMetric(_ handle: UInt64) -> vt_status {
    fail(.badHandle("metric handle \(handle) is not a handle vt_metric_get returned"))
}

@inline(never)
private func wrongKind(_ handle: UInt64, _ call: StaticString) -> vt_status {
    let kind = ["", "counter", "gauge", "histogram"][Int((handle >> MetricHandles.kindShift) & 3)]
    return fail(.invalid("metric handle \(handle) is a \(kind): \(call) does not apply to it"))
}

@inline(never)
private func notFinite(_ v: Double) -> vt_status {
    fail(.invalid("value \(v) is not a finite number"))
}

@inline(never)
private func negativeObservation(_ v: Double) -> vt_status {
    fail(.invalid("value \(v) is negative: an observation must be >= 0"))
}

/// The shared body of the four by-name calls (value already checked): the handle of the call's
/// series from the cache, else from the checked slow path; then the value through it.
private func writeByName(_ kind: MetricKind, _ op: MetricOp, _ name: UnsafePointer<CChar>?,
                         _ help: UnsafePointer<CChar>?, _ labels: UnsafePointer<vt_label>?, _ n: Int,
                         _ v: Double) -> vt_status {
    withUnsafeTemporaryAllocation(of: UInt64.self, capacity: SeriesCache.keyWords) { buffer -> vt_status in
        let key = buffer.baseAddress!
        let length = name.flatMap { SeriesCache.encode(kind, $0, labels, n, into: key) }
        if let length, let hit = SeriesCache.lookup(key, length: length) {
            // A help text equal to the family's was checked when the family was made.
            if let help, strcmp(help, hit.help) != 0 {
                do throws(Failure) { try Inputs.checkHelp(help) } catch { return fail(error) }
            }
            if hit.droppedKeys > 0 { hit.unknown?[0].addToDouble(Double(hit.droppedKeys)) }
            guard let target = MetricHandles.address(hit.handle) else { return badMetric(hit.handle) }
            return apply(hit.handle, target, op, v)
        }
        let handle: UInt64
        do throws(Failure) {
            handle = try resolveByName(kind, name, help, labels, n, key: length.map { (key, $0) })
        } catch {
            return fail(error)
        }
        guard let target = MetricHandles.address(handle) else { return badMetric(handle) }
        return apply(handle, target, op, v)
    }
}

/// The slow path of a by-name call: check everything, find or make the series (or the family's
/// overflow), remember the answer for the call's key.
private func resolveByName(_ kind: MetricKind, _ name: UnsafePointer<CChar>?, _ help: UnsafePointer<CChar>?,
                           _ labels: UnsafePointer<vt_label>?, _ n: Int,
                           key: (UnsafeMutablePointer<UInt64>, Int)?) throws(Failure) -> UInt64 {
    // `help` is checked on every call (so the same call always gets the same answer), but read
    // only by the call that creates a family.
    try Inputs.checkHelp(help)
    let metric = try Inputs.metricName(name)
    let helpText = help.map { String(cString: $0) }
    let checked = try Inputs.labels(labels, count: n)
    return try ProcessState.shared.locked { (registry) throws(Failure) -> UInt64 in
        let resolved = try registry.resolveHandle(kind: kind, name: metric, help: helpText, labels: checked)
        if let (bytes, length) = key {
            let unknown = resolved.droppedKeys > 0 ? registry.unknownLabelSeries(metric: metric)?.cell : nil
            seriesCache.remember(bytes, length: length,
                                 CachedSeries(handle: resolved.handle, help: UnsafePointer(resolved.family.helpCString),
                                              unknown: unknown, droppedKeys: UInt64(resolved.droppedKeys)))
        }
        return resolved.handle
    }
}

@c @implementation
public func vt_counter_add(_ name: UnsafePointer<CChar>?, _ help: UnsafePointer<CChar>?,
                           _ labels: UnsafePointer<vt_label>?, _ n_labels: Int, _ v: Double) -> vt_status {
    guard let v = Inputs.finite(v) else { return notFinite(v) }
    return writeByName(.counter, .counterAdd, name, help, labels, n_labels, v)
}

@c @implementation
public func vt_gauge_set(_ name: UnsafePointer<CChar>?, _ help: UnsafePointer<CChar>?,
                         _ labels: UnsafePointer<vt_label>?, _ n_labels: Int, _ v: Double) -> vt_status {
    guard let v = Inputs.finite(v) else { return notFinite(v) }
    return writeByName(.gauge, .set, name, help, labels, n_labels, v)
}

@c @implementation
public func vt_gauge_add(_ name: UnsafePointer<CChar>?, _ help: UnsafePointer<CChar>?,
                         _ labels: UnsafePointer<vt_label>?, _ n_labels: Int, _ v: Double) -> vt_status {
    guard let v = Inputs.finite(v) else { return notFinite(v) }
    return writeByName(.gauge, .gaugeAdd, name, help, labels, n_labels, v)
}

@c @implementation
public func vt_observe(_ name: UnsafePointer<CChar>?, _ help: UnsafePointer<CChar>?,
                       _ labels: UnsafePointer<vt_label>?, _ n_labels: Int, _ v: Double) -> vt_status {
    guard let v = Inputs.finite(v) else { return notFinite(v) }
    guard v >= 0 else { return negativeObservation(v) }
    return writeByName(.histogram, .observe, name, help, labels, n_labels, v)
}

@c @implementation
public func vt_metric_get(_ kind: UInt32, _ name: UnsafePointer<CChar>?, _ help: UnsafePointer<CChar>?,
                          _ labels: UnsafePointer<vt_label>?, _ n_labels: Int,
                          _ out: UnsafeMutablePointer<vt_metric>?) -> vt_status {
    out?.pointee = 0
    return abiCall { () throws(Failure) in
        guard let metricKind = MetricKind(handleKind: kind) else {
            throw .invalid("kind \(kind) is not a vt_metric_kind (1 counter, 2 gauge, 3 histogram)")
        }
        guard let out else { throw .invalid("out is NULL") }
        try Inputs.checkHelp(help)
        let metric = try Inputs.metricName(name)
        let helpText = help.map { String(cString: $0) }
        let checked = try Inputs.labels(labels, count: n_labels)
        let resolved = try ProcessState.shared.locked { (registry) throws(Failure) in
            try registry.resolveHandle(kind: metricKind, name: metric, help: helpText, labels: checked)
        }
        out.pointee = resolved.handle
        if resolved.handle & MetricHandles.overflowBit != 0 { throw Registry.seriesLimit(resolved.family) }
    }
}

@c @implementation
public func vt_metric_add(_ metric: vt_metric, _ v: Double) -> vt_status {
    // The common case first: a counter (not an overflow) and a whole increment, one atomic add.
    if (metric >> MetricHandles.kindShift) & 7 == 1, let target = MetricHandles.address(metric),
       Series.addWholeToCounter(target.assumingMemoryBound(to: Atomic<UInt64>.self), v) {
        return VT_OK.rawValue
    }
    return writeHandle(metric, v, { $0 == 1 ? .counterAdd : $0 == 2 ? .gaugeAdd : nil }, "vt_metric_add")
}

@c @implementation
public func vt_metric_set(_ metric: vt_metric, _ v: Double) -> vt_status {
    writeHandle(metric, v, { $0 == 2 ? .set : nil }, "vt_metric_set")
}

@c @implementation
public func vt_metric_observe(_ metric: vt_metric, _ v: Double) -> vt_status {
    // The common case first: a histogram (not an overflow) and a finite sample >= 0 (NaN fails
    // both comparisons; + 0.0 turns -0.0 into 0).
    if (metric >> MetricHandles.kindShift) & 7 == 3, v >= 0, v < .infinity,
       let target = MetricHandles.address(metric) {
        let sample = v + 0.0
        Unmanaged<LatencyHistogram>.fromOpaque(target)._withUnsafeGuaranteedRef {
            $0.observe(sample, nanoUnits: LatencyHistogram.nanoUnits(sample))
        }
        return VT_OK.rawValue
    }
    return writeHandle(metric, v, { $0 == 3 ? .observe : nil }, "vt_metric_observe")
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

/// The exposition into the caller's buffer, under the contract of the header's BUFFERS section.
private func exposition(_ format: ExpositionFormat, _ buf: UnsafeMutablePointer<CChar>?, _ cap: Int,
                        _ len_out: UnsafeMutablePointer<Int>?) throws(Failure) {
    guard let len_out else { throw .invalid("len_out is NULL") }
    guard cap >= 0 else { throw .invalid("cap is larger than the address space") }
    if buf == nil && cap > 0 { throw .invalid("buf is NULL but cap is \(cap)") }
    let (length, fits) = ProcessState.shared.promText(format, into: buf, capacity: cap)
    len_out.pointee = length
    guard fits else { throw .bufferTooSmall("the text needs \(length + 1) bytes (with its NUL); cap is \(cap)") }
}

@c @implementation
public func vt_prom_text(_ buf: UnsafeMutablePointer<CChar>?, _ cap: Int, _ len_out: UnsafeMutablePointer<Int>?) -> vt_status {
    abiCall { () throws(Failure) in try exposition(.prometheus, buf, cap, len_out) }
}

@c @implementation
public func vt_prom_text_as(_ format: UInt32, _ buf: UnsafeMutablePointer<CChar>?, _ cap: Int,
                            _ len_out: UnsafeMutablePointer<Int>?) -> vt_status {
    abiCall { () throws(Failure) in
        guard let chosen = ExpositionFormat(rawValue: format) else {
            throw .invalid("format \(format) is not a vt_exposition_format (0 Prometheus text, 1 OpenMetrics)")
        }
        try exposition(chosen, buf, cap, len_out)
    }
}
