// The one clock of the library: CLOCK_MONOTONIC in nanoseconds. `0` as a timestamp means "now".
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

    /// A caller's timestamp, with 0 standing for now.
    @inline(__always)
    static func resolve(_ tNs: UInt64) -> UInt64 { tNs == 0 ? nowNs() : tNs }
}
