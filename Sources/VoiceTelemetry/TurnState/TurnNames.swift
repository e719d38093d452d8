// TurnNames: process-wide interning of provider, model, tool and reason names, so that a turn keeps
// names as small ids in its fixed-size words. Used only under the process lock; names are never freed.
enum TurnNames {
    static let capacity = 4096
    nonisolated(unsafe) private static var names: [String] = []
    nonisolated(unsafe) private static var ids: [String: Int] = [:]

    /// The id of `name` (process lock held); past the capacity every new name is "other".
    static func id(_ name: String) -> Int {
        if let known = ids[name] { return known }
        guard names.count < capacity - 1 else { return id0Other() }
        names.append(name)
        ids[name] = names.count - 1
        return names.count - 1
    }

    /// The id of `name`, interning it if there is room; nil when the table is full and `name` is new
    /// (process lock held). For names that must keep their identity (price entries).
    static func idIfRoom(_ name: String) -> Int? {
        if let known = ids[name] { return known }
        guard names.count < capacity - 1 else { return nil }
        return id(name)
    }

    /// The id of `name` if it was ever interned (process lock held).
    static func existingID(_ name: String) -> Int? { ids[name] }

    private static func id0Other() -> Int {
        if let other = ids["other"] { return other }
        names.append("other")
        ids["other"] = names.count - 1
        return names.count - 1
    }

    /// The name of an id + 1 as stored in a word (0 = none), process lock held.
    static func name(stored: UInt64) -> String? {
        guard stored != 0, Int(stored - 1) < names.count else { return nil }
        return names[Int(stored - 1)]
    }
}
