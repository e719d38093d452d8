// SeriesCache: the fast path of the metric calls. A call's raw arguments (kind, name, labels as the
// caller passed them) are hashed straight from the C strings, without building Swift strings; a hit
// whose stored bytes are equal gives the series at once. A miss takes the checked slow path, which
// then remembers its result here. Used under the process lock only.
#if canImport(Glibc)
import Glibc
#endif
import CVoiceTelemetry

final class SeriesCache: @unchecked Sendable {
    struct Entry {
        let key: [UInt8]
        let series: Series
        /// Label keys the registration dropped on this call (counted again on every hit).
        let droppedKeys: Int
        let family: MetricFamily
    }

    static let maxEntries = 1 << 16
    private var entries: [UInt64: [Entry]] = [:]
    private var count = 0
    private var scratch: [UInt8] = []

    init() { scratch.reserveCapacity(1024) }

    /// The raw key of a call in `scratch`; false when an argument is unusual enough that only the
    /// slow path should judge it (NULL pointers, over-long strings, too many labels).
    private func encode(_ kind: MetricKind, _ name: UnsafePointer<CChar>, _ labels: UnsafePointer<vt_label>?,
                        _ n: Int) -> Bool {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(kind == .counter ? 1 : kind == .gauge ? 2 : 3)
        guard append(name, max: Int(VT_MAX_NAME_BYTES)) else { return false }
        guard n >= 0, n <= Int(VT_MAX_LABELS) else { return false }
        if n > 0 {
            guard let labels else { return false }
            for i in 0..<n {
                guard let key = labels[i].key, append(key, max: Int(VT_MAX_NAME_BYTES)) else { return false }
                if let value = labels[i].value {
                    scratch.append(1)
                    guard append(value, max: Int(VT_MAX_LABEL_VALUE_BYTES)) else { return false }
                } else {
                    scratch.append(2)
                }
            }
        }
        return true
    }

    private func append(_ text: UnsafePointer<CChar>, max: Int) -> Bool {
        let length = strnlen(text, max + 1)
        guard length <= max else { return false }
        text.withMemoryRebound(to: UInt8.self, capacity: length) {
            scratch.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
        }
        scratch.append(0)
        return true
    }

    private func hash() -> UInt64 {
        var h: UInt64 = 0xcbf29ce484222325   // FNV-1a
        for byte in scratch {
            h ^= UInt64(byte)
            h = h &* 0x100000001b3
        }
        return h
    }

    func lookup(_ kind: MetricKind, _ name: UnsafePointer<CChar>, _ labels: UnsafePointer<vt_label>?,
                _ n: Int) -> Entry? {
        guard encode(kind, name, labels, n), let bucket = entries[hash()] else { return nil }
        return bucket.first { $0.key == scratch }
    }

    /// Remember the slow path's answer for the call whose raw key `lookup` just encoded.
    func remember(_ kind: MetricKind, _ name: UnsafePointer<CChar>, _ labels: UnsafePointer<vt_label>?, _ n: Int,
                  series: Series, family: MetricFamily, droppedKeys: Int) {
        guard encode(kind, name, labels, n) else { return }
        if count >= Self.maxEntries { clear() }
        entries[hash(), default: []].append(Entry(key: scratch, series: series, droppedKeys: droppedKeys, family: family))
        count += 1
    }

    /// Forget everything (label registrations changed what a call maps to).
    func clear() {
        entries.removeAll()
        count = 0
    }
}
