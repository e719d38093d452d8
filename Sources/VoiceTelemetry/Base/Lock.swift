// Lock: a pthread mutex guarding a value, with the shape of Synchronization.Mutex. A pthread mutex
// rather than Mutex because its lock and unlock are calls ThreadSanitizer intercepts: Mutex's futex
// fast path lives in the (uninstrumented) Swift runtime, so TSan would see no ordering between two
// critical sections and report the state they protect. Never used on a record path.
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

final class Lock<State>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    /// Out of line, so the object has no mutable stored property for Swift's access tracking to
    /// report: every access to the state happens under the mutex.
    private let state: UnsafeMutablePointer<State>

    init(_ initial: State) {
        state = .allocate(capacity: 1)
        state.initialize(to: initial)
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        state.deinitialize(count: 1)
        state.deallocate()
    }

    func withLock<T, E: Error>(_ body: (inout State) throws(E) -> T) throws(E) -> T {
        pthread_mutex_lock(mutex)
        owner.store(UInt(pthread_self()), ordering: .relaxed)
        defer {
            owner.store(0, ordering: .relaxed)
            pthread_mutex_unlock(mutex)
        }
        return try body(&state.pointee)
    }

    /// The thread inside withLock (0: none). Only a comparison with the calling thread means
    /// anything: no other thread can store the caller's id.
    private let owner = Atomic<UInt>(0)
    /// Whether lockForFork took the lock (false: the forking thread was inside withLock already, e.g.
    /// a plugin's init that forks, and keeps it through the fork).
    /// (glibc runs one fork's handlers at a time.)
    private let heldForFork = Atomic<Bool>(false)

    /// Take and release the lock across a fork (ForkSafety only): the thread that forks holds it
    /// through fork() and releases it in the parent and in the child.
    func lockForFork() {
        let held = owner.load(ordering: .relaxed) != UInt(pthread_self())
        heldForFork.store(held, ordering: .relaxed)
        if held { pthread_mutex_lock(mutex) }
    }

    func unlockAfterFork() {
        if heldForFork.load(ordering: .relaxed) { pthread_mutex_unlock(mutex) }
    }
}
