// PluginSettings: the host's own keys of a plugin's load config (the rest is for the plugin).
import CVoiceTelemetry

struct PluginSettings {
    var queueCapacity = Int(VT_DEFAULT_PLUGIN_QUEUE)
    var drainTimeoutNs: UInt64 = 2_000_000_000
    /// How much longer than the drain deadline unload waits for a thread stuck in a callback.
    var unloadGraceNs: UInt64 = 5_000_000_000
    var healthIntervalNs: UInt64 = 5_000_000_000
    var maxBatchEvents = 256
    static let maxBatchBytes = 64 * 1024

    /// Read the host keys of a validated config object (members as JSONRewriter collected them).
    init(config: UnsafePointer<UInt8>, members: [(key: String, value: Range<Int>)]) throws(Failure) {
        for (key, range) in members {
            func number(min: UInt64, max: UInt64) throws(Failure) -> UInt64 {
                var value: UInt64 = 0
                guard !range.isEmpty else { throw .invalid("config key \"\(key)\" needs a value") }
                for i in range {
                    let c = config[i]
                    guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9"), value < 1 << 40 else {
                        throw .invalid("config key \"\(key)\" must be an integer from \(min) to \(max)")
                    }
                    value = value * 10 + UInt64(c - UInt8(ascii: "0"))
                }
                guard value >= min, value <= max else {
                    throw .invalid("config key \"\(key)\" is \(value); allowed: \(min) to \(max)")
                }
                return value
            }
            switch key {
            case "queue_capacity":
                let wanted = Int(try number(min: 1, max: UInt64(VT_MAX_PLUGIN_QUEUE)))
                var capacity = 16
                while capacity < wanted { capacity *= 2 }
                queueCapacity = capacity
            case "drain_timeout_ms": drainTimeoutNs = try number(min: 0, max: 3_600_000) * 1_000_000
            case "unload_grace_ms": unloadGraceNs = try number(min: 0, max: 3_600_000) * 1_000_000
            case "health_interval_ms": healthIntervalNs = try number(min: 1, max: 86_400_000) * 1_000_000
            case "max_batch_events": maxBatchEvents = Int(try number(min: 1, max: 4096))
            default: continue
            }
        }
    }
}
