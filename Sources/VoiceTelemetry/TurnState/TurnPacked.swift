// TurnPacked: the turn words that hold several fields in one UInt64 (TurnWord lists where each
// lives). Each layout is declared once, here, and read and written by name. Names are kept as their
// stored form, the TurnNames id + 1 (0: none), which TurnNames.name(stored:) reads.

/// A stage's provider and model (TurnWord.providers + i; the session's current one in TurnMemory's
/// control words).
struct ProviderWord {
    var provider: UInt64   // stored name id
    var model: UInt64      // stored name id, 0: no model

    init(provider: UInt64, model: UInt64) {
        self.provider = provider
        self.model = model
    }

    @inline(__always)
    init(word: UInt64) {
        provider = word >> 32
        model = word & 0xFFFF_FFFF
    }

    var word: UInt64 { provider << 32 | model }
}

/// The first word of a tool call (TurnWord.tools + 3 i; start and end follow).
struct ToolCallWord {
    var name: UInt64   // stored name id
    var kind: UInt64   // vt_tool_kind
    var ok: Bool

    init(name: UInt64, kind: UInt64, ok: Bool) {
        self.name = name
        self.kind = kind
        self.ok = ok
    }

    init(word: UInt64) {
        name = word >> 32
        kind = (word >> 8) & 0xFF
        ok = word & 1 != 0
    }

    var word: UInt64 { name << 32 | kind << 8 | (ok ? 1 : 0) }
}

/// The first word of a fallback (TurnWord.fallbacks + 2 i; its time follows).
struct FallbackWord {
    var stage: UInt32
    var kind: UInt64    // vt_fallback_kind
    var from: UInt64    // stored name ids (16 bits each: TurnNames keeps at most 4096 names)
    var to: UInt64
    var reason: UInt64  // 0: no reason

    init(stage: UInt32, kind: UInt64, from: UInt64, to: UInt64, reason: UInt64) {
        self.stage = stage
        self.kind = kind
        self.from = from
        self.to = to
        self.reason = reason
    }

    init(word: UInt64) {
        stage = UInt32(truncatingIfNeeded: word >> 56)
        kind = (word >> 48) & 0xFF
        from = (word >> 32) & 0xFFFF
        to = (word >> 16) & 0xFFFF
        reason = word & 0xFFFF
    }

    var word: UInt64 { UInt64(stage) << 56 | kind << 48 | from << 32 | to << 16 | reason }
}

/// A text's word (TurnWord.texts + kind): whether one was reported, whether the kept bytes were cut,
/// how many bytes are kept and how many characters the text had.
struct TextMeta {
    var present: Bool
    var truncated: Bool
    var storedBytes: Int
    var characters: Int

    init(truncated: Bool, storedBytes: Int, characters: Int) {
        present = true
        self.truncated = truncated
        self.storedBytes = storedBytes
        self.characters = characters
    }

    @inline(__always)
    init(word: UInt64) {
        present = word >> 63 != 0
        truncated = (word >> 62) & 1 != 0
        storedBytes = Int((word >> 32) & 0x3FFF_FFFF)
        characters = Int(word & 0xFFFF_FFFF)
    }

    var word: UInt64 {
        (present ? 1 << 63 : 0) | (truncated ? 1 << 62 : 0) | UInt64(storedBytes) << 32
            | UInt64(min(characters, Int(UInt32.max)))
    }
}
