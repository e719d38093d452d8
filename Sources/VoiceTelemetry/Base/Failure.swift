// Failure: a status code plus a detail message, and the per-thread "last error" that vt_last_error reads.
import CVoiceTelemetry
#if canImport(Glibc)
import Glibc
#endif

/// A failed call: the status the ABI returns and the message vt_last_error() will show.
struct Failure: Error {
    let status: vt_status
    let message: String

    static func invalid(_ message: String) -> Failure { Failure(status: VT_E_INVALID_ARG.rawValue, message: message) }
    static func badHandle(_ message: String) -> Failure { Failure(status: VT_E_BAD_HANDLE.rawValue, message: message) }
    static func limit(_ message: String) -> Failure { Failure(status: VT_E_LIMIT.rawValue, message: message) }
    static func order(_ message: String) -> Failure { Failure(status: VT_E_ORDER.rawValue, message: message) }
    static func bufferTooSmall(_ message: String) -> Failure { Failure(status: VT_E_BUFFER_TOO_SMALL.rawValue, message: message) }
    static func notFound(_ message: String) -> Failure { Failure(status: VT_E_NOT_FOUND.rawValue, message: message) }
    static func plugin(_ message: String) -> Failure { Failure(status: VT_E_PLUGIN.rawValue, message: message) }
    static func permission(_ message: String) -> Failure { Failure(status: VT_E_PERMISSION.rawValue, message: message) }
    static func internalError(_ message: String) -> Failure { Failure(status: VT_E_INTERNAL.rawValue, message: message) }

    /// The failure an inner call reported through its status and the thread's last error.
    static func reported(_ status: vt_status) -> Failure { Failure(status: status, message: String(cString: LastError.get())) }
}

/// Static text of every status, in one place.
enum StatusText {
    static func text(_ status: vt_status) -> StaticString {
        switch status {
        case VT_OK.rawValue: return "ok"
        case VT_E_INVALID_ARG.rawValue: return "invalid argument"
        case VT_E_BAD_HANDLE.rawValue: return "unknown or ended session handle"
        case VT_E_BUFFER_TOO_SMALL.rawValue: return "buffer too small"
        case VT_E_LIMIT.rawValue: return "limit reached"
        case VT_E_ORDER.rawValue: return "call out of order"
        case VT_E_INTERNAL.rawValue: return "internal error"
        case VT_E_NOT_FOUND.rawValue: return "not found"
        case VT_E_PLUGIN.rawValue: return "plugin refused or failed"
        case VT_E_PERMISSION.rawValue: return "permission refused"
        default: return "unknown status"
        }
    }
}

/// The calling thread's last error message, kept in a NUL-terminated buffer owned by the thread.
enum LastError {
    static let capacity = 512

    /// One pthread key for the process. Its destructor frees the thread's buffer at thread exit.
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        _ = pthread_key_create(&key) { buffer in free(buffer) }
        return key
    }()

    private static let empty: StaticString = ""

    /// The thread's buffer, allocated on the thread's first failure (an error path, never a record).
    private static func buffer(create: Bool) -> UnsafeMutablePointer<CChar>? {
        if let existing = pthread_getspecific(key) {
            return existing.assumingMemoryBound(to: CChar.self)
        }
        guard create, let fresh = malloc(capacity) else { return nil }
        fresh.storeBytes(of: 0, as: CChar.self)
        _ = pthread_setspecific(key, fresh)
        return fresh.assumingMemoryBound(to: CChar.self)
    }

    /// Store `message`, truncated on a UTF-8 boundary to fit the buffer.
    static func set(_ message: String) {
        guard let buffer = buffer(create: true) else { return }
        let utf8 = UTF8Check.prefix(message, maxBytes: capacity - 1)
        utf8.withUnsafeBufferPointer { bytes in
            for (i, byte) in bytes.enumerated() { buffer[i] = CChar(bitPattern: byte) }
        }
        buffer[utf8.count] = 0
    }

    /// Store a message kept as UTF-8 bytes, without allocating once the thread has its buffer (the
    /// record paths' failures that happen in steady state, e.g. a metric handle past the series limit).
    static func set(utf8 message: [UInt8]) {
        guard let buffer = buffer(create: true) else { return }
        let count = min(message.count, capacity - 1)
        message.withUnsafeBufferPointer { bytes in
            for i in 0..<count { buffer[i] = CChar(bitPattern: bytes[i]) }
        }
        buffer[count] = 0
    }

    static func get() -> UnsafePointer<CChar> {
        if let buffer = buffer(create: false) { return UnsafePointer(buffer) }
        return UnsafeRawPointer(empty.utf8Start).assumingMemoryBound(to: CChar.self)
    }
}

/// Run an ABI body: a thrown Failure becomes its status, with its message stored for vt_last_error().
@inline(__always)
func abiCall(_ body: () throws(Failure) -> Void) -> vt_status {
    do {
        try body()
        return VT_OK.rawValue
    } catch {
        LastError.set(error.message)
        return error.status
    }
}

/// Report a failure from a hot-path function without the closure machinery of abiCall.
@inline(never)
func fail(_ failure: Failure) -> vt_status {
    LastError.set(failure.message)
    return failure.status
}
