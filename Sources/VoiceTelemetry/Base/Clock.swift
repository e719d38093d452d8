// The clocks of the library: CLOCK_MONOTONIC in nanoseconds (what t_ns = 0 reads for a session on the
// monotonic clock; a session on a media clock shifts it, SessionMeta.now), and the wall clock
// (CLOCK_REALTIME) that anchors each session's times to the Unix epoch.
#if canImport(Glibc)
import Glibc
#endif

enum Clock {
    @inline(__always)
    static func nowNs() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// A caller's timestamp on CLOCK_MONOTONIC, with 0 standing for now (calls of no session).
    @inline(__always)
    static func resolve(_ tNs: UInt64) -> UInt64 { tNs == 0 ? nowNs() : tNs }

    static func wallNs() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// Wall clock minus CLOCK_MONOTONIC, taken when first asked: the anchor of events of no session
    /// (wall time = t_ns &+ this).
    static let processUnixOffsetNs: UInt64 = wallNs() &- nowNs()
}
