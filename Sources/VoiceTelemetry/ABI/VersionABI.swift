// C entry points: version, statuses, last error, clock. Each implements its declaration in
// include/voicetelemetry.h; the compiler checks that the two agree.
import CVoiceTelemetry
#if canImport(Glibc)
import Glibc
#endif

/// "major.minor.patch" from the header's macros, in static storage (made once, never freed).
nonisolated(unsafe) private let versionText: UnsafePointer<CChar> = {   // immutable after its one initialisation
    let text = "\(VT_VERSION_MAJOR).\(VT_VERSION_MINOR).\(VT_VERSION_PATCH)"
    return UnsafePointer(strdup(text)!)
}()

@c @implementation
public func vt_version_number() -> UInt32 {
    UInt32(VT_VERSION_MAJOR * 1_000_000 + VT_VERSION_MINOR * 1_000 + VT_VERSION_PATCH)
}

@c @implementation
public func vt_version_string() -> UnsafePointer<CChar>? {
    versionText
}

@c @implementation
public func vt_status_str(_ status: vt_status) -> UnsafePointer<CChar>? {
    UnsafeRawPointer(StatusText.text(status).utf8Start).assumingMemoryBound(to: CChar.self)
}

@c @implementation
public func vt_last_error() -> UnsafePointer<CChar>? {
    LastError.get()
}

@c @implementation
public func vt_now_ns() -> UInt64 {
    Clock.nowNs()
}
