// StructReader: reads the fields of a versioned ABI struct (one that starts with `uint32_t struct_size`)
// only where the caller's struct_size says its struct has them; never a byte beyond.

struct StructReader<S> {
    let base: UnsafeRawPointer
    let size: Int

    init(_ pointer: UnsafePointer<S>) {
        base = UnsafeRawPointer(pointer)
        size = Int(base.load(as: UInt32.self))
    }

    func covers<T>(_ field: KeyPath<S, T>) -> Bool {
        guard let offset = MemoryLayout<S>.offset(of: field) else { return false }
        return size >= offset + MemoryLayout<T>.size
    }

    /// The field's value, or nil when the caller's struct is too short to have it.
    func field<T>(_ field: KeyPath<S, T>, as: T.Type) -> T? {
        guard covers(field), let offset = MemoryLayout<S>.offset(of: field) else { return nil }
        return base.load(fromByteOffset: offset, as: T.self)
    }
}
