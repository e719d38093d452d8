// ThreadScratch: one event's worth of scratch memory per thread, allocated on the thread's first
// rewritten payload and freed when the thread exits. A payload that must be rewritten (whitespace,
// transcripts) is written here before its event is copied into the plugins' queues: 4 KiB is too
// large for Swift's stack temporaries (they fall back to the heap above 1 KiB), and a heap
// allocation per event is what the emitting thread must never do.
#if canImport(Glibc)
import Glibc
#endif

enum ThreadScratch {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        _ = pthread_key_create(&key) { buffer in free(buffer) }
        return key
    }()

    /// The calling thread's buffer of `EventBus.maxEventBytes` bytes; nil only if memory is exhausted.
    @inline(__always)
    static func cell() -> UnsafeMutablePointer<UInt8>? {
        if let existing = pthread_getspecific(key) { return existing.assumingMemoryBound(to: UInt8.self) }
        return allocate()
    }

    @inline(never)
    private static func allocate() -> UnsafeMutablePointer<UInt8>? {
        guard let fresh = malloc(EventBus.maxEventBytes) else { return nil }
        _ = pthread_setspecific(key, fresh)
        return fresh.assumingMemoryBound(to: UInt8.self)
    }
}
