// PriceTable: the user's price table, validated (docs/cost.md has its schema). Every refusal names the
// path of the offending value. Unit prices are kept in pico-units per pricing unit: per million
// tokens, per audio minute or second, per million characters, per minute of session.
import CVoiceTelemetry

/// The stages a price belongs to: the turn stages that report usage, and the session's transport.
enum CostStage {
    static let transport: UInt32 = 64
    /// In the order prices are listed (and vt_prices_json sorts them).
    static let all: [UInt32] = [TurnStage.llm, TurnStage.realtime, TurnStage.stt, TurnStage.tts, transport]

    static func name(_ stage: UInt32) -> String { stage == transport ? "transport" : TurnStage.name(stage) }

    static func code(_ name: String) -> UInt32? { all.first { self.name($0) == name } }
}

/// Token prices, in the order of their words in a price entry.
enum TokenPrice: Int, CaseIterable {
    case input, cachedInput, output, reasoning, inputAudio, inputImage, outputAudio

    var key: String {
        switch self {
        case .input: return "input"
        case .cachedInput: return "cached_input"
        case .output: return "output"
        case .reasoning: return "reasoning"
        case .inputAudio: return "input_audio"
        case .inputImage: return "input_image"
        case .outputAudio: return "output_audio"
        }
    }
}

/// What a stage's unit price counts, and how many nanoseconds or characters make its unit.
enum UnitPrice: UInt64 {
    case perMinute = 1, perSecond = 2, perMillionCharacters = 3

    var key: String {
        switch self {
        case .perMinute: return "per_minute"
        case .perSecond: return "per_second"
        case .perMillionCharacters: return "per_million_characters"
        }
    }

    /// Quantity units (ns of audio or session, characters) per priced unit.
    var divisor: UInt64 {
        switch self {
        case .perMinute: return 60_000_000_000
        case .perSecond: return 1_000_000_000
        case .perMillionCharacters: return 1_000_000
        }
    }

    /// The unit prices a stage may have.
    static func allowed(_ stage: UInt32) -> [UnitPrice] {
        switch stage {
        case TurnStage.stt: return [.perMinute, .perSecond]
        case TurnStage.tts: return [.perMillionCharacters]
        case CostStage.transport: return [.perMinute]
        default: return []
        }
    }
}

struct PriceEntry {
    var stage: UInt32
    var provider: String
    /// "*": any model of the provider (an exact model's entry wins).
    var model: String
    /// Pico-units per million tokens, by TokenPrice; nil = no price.
    var tokens: [UInt64?] = Array(repeating: nil, count: TokenPrice.allCases.count)
    var unit: (kind: UnitPrice, price: UInt64)?

    var pricesTokens: Bool { tokens[TokenPrice.input.rawValue] != nil }
}

struct PriceTable {
    static let maxEntries = 256
    static let wildcard = "*"
    static let maxNameBytes = Int(VT_TURN_MAX_NAME_BYTES)

    var currency: String
    var description: String?
    /// Sorted by stage (CostStage.all order), provider, model.
    var entries: [PriceEntry]

    /// Validate a parsed document.
    init(_ document: JSONValue) throws(Failure) {
        let root = JSONPath()
        let members = try Self.object(document, root)
        try Self.onlyKeys(members, ["currency", "prices", "description"], root)
        guard let c = members.first(where: { $0.key == "currency" })?.value else { throw Self.bad(root, "has no \"currency\"") }
        currency = try Self.currency(c, root.appending(.key("currency")))
        if let d = members.first(where: { $0.key == "description" })?.value {
            guard case .string(let text) = d, text.utf8.count <= 1024 else {
                throw Self.bad(root.appending(.key("description")), "must be a string of at most 1024 bytes")
            }
            description = text
        }
        guard let list = members.first(where: { $0.key == "prices" })?.value else { throw Self.bad(root, "has no \"prices\"") }
        let listPath = root.appending(.key("prices"))
        guard case .array(let items) = list else { throw Self.bad(listPath, "must be an array, not \(list.typeName)") }
        guard items.count <= Self.maxEntries else {
            throw Self.bad(listPath, "has \(items.count) entries: at most \(Self.maxEntries) (VT_MAX_PRICE_ENTRIES)")
        }
        var parsed: [PriceEntry] = []
        var firstAt: [String: Int] = [:]
        for (i, item) in items.enumerated() {
            let path = listPath.appending(.index(i))
            let entry = try Self.entry(item, path)
            let identity = "\(CostStage.name(entry.stage)) \(entry.provider) \(entry.model)"
            if let earlier = firstAt[identity] {
                throw Self.bad(path, "prices stage \"\(CostStage.name(entry.stage))\", provider \"\(entry.provider)\", model "
                               + "\"\(entry.model)\" again (as \(listPath)[\(earlier)] does)")
            }
            firstAt[identity] = i
            parsed.append(entry)
        }
        entries = parsed.sorted { a, b in
            let sa = CostStage.all.firstIndex(of: a.stage) ?? 0, sb = CostStage.all.firstIndex(of: b.stage) ?? 0
            if sa != sb { return sa < sb }
            if a.provider != b.provider { return a.provider < b.provider }
            return a.model < b.model
        }
    }

    // MARK: - Validation helpers

    private static func bad(_ path: JSONPath, _ what: String) -> Failure { .invalid("price table: \(path) \(what)") }

    private static func object(_ v: JSONValue, _ path: JSONPath) throws(Failure) -> [(key: String, value: JSONValue)] {
        guard case .object(let members) = v else { throw bad(path, "must be an object, not \(v.typeName)") }
        return members
    }

    private static func onlyKeys(_ members: [(key: String, value: JSONValue)], _ allowed: [String], _ path: JSONPath) throws(Failure) {
        for m in members where !allowed.contains(m.key) {
            throw bad(path.appending(.key(m.key)), "is not a known key here (known: \(allowed.joined(separator: ", ")))")
        }
    }

    private static func currency(_ v: JSONValue, _ path: JSONPath) throws(Failure) -> String {
        guard case .string(let text) = v, (1...16).contains(text.utf8.count),
              text.utf8.allSatisfy({ ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F })
        else { throw bad(path, "must be 1 to 16 letters, digits or '_' (an ISO 4217 code such as \"USD\")") }
        return text
    }

    private static func name(_ v: JSONValue?, _ path: JSONPath, what: String) throws(Failure) -> String {
        guard let v else { throw bad(path, "has no \"\(what)\"") }
        guard case .string(let text) = v, !text.isEmpty, text.utf8.count <= maxNameBytes else {
            throw bad(path.appending(.key(what)), "must be a non-empty string of at most \(maxNameBytes) bytes")
        }
        return text
    }

    private static func entry(_ v: JSONValue, _ path: JSONPath) throws(Failure) -> PriceEntry {
        let members = try object(v, path)
        func member(_ key: String) -> JSONValue? { members.first { $0.key == key }?.value }
        guard case .string(let stageName)? = member("stage"), let stage = CostStage.code(stageName) else {
            throw bad(member("stage") == nil ? path : path.appending(.key("stage")),
                      member("stage") == nil ? "has no \"stage\"" : "must be one of \"llm\", \"realtime\", \"stt\", \"tts\", \"transport\"")
        }
        let units = UnitPrice.allowed(stage)
        let tokenKeys = stage == CostStage.transport ? [] : TokenPrice.allCases.map(\.key)
        try onlyKeys(members, ["stage", "provider", "model"] + tokenKeys + units.map(\.key), path)
        var entry = PriceEntry(stage: stage, provider: try name(member("provider"), path, what: "provider"), model: wildcard)
        if member("model") != nil { entry.model = try name(member("model"), path, what: "model") }
        if stage == CostStage.transport && entry.model != wildcard {
            throw bad(path.appending(.key("model")), "must be \"*\" (or left out): transport is priced by provider only")
        }
        for token in TokenPrice.allCases {
            if let value = member(token.key) { entry.tokens[token.rawValue] = try price(value, path.appending(.key(token.key))) }
        }
        for unit in units {
            guard let value = member(unit.key) else { continue }
            if let other = entry.unit { throw bad(path, "has both \"\(other.kind.key)\" and \"\(unit.key)\": give one") }
            entry.unit = (unit, try price(value, path.appending(.key(unit.key))))
        }
        let hasInput = entry.tokens[TokenPrice.input.rawValue] != nil, hasOutput = entry.tokens[TokenPrice.output.rawValue] != nil
        let anyToken = entry.tokens.contains { $0 != nil }
        if anyToken && !(hasInput && hasOutput) {
            throw bad(path, "prices tokens: it needs both \"input\" and \"output\" (per million tokens)")
        }
        if !anyToken && entry.unit == nil {
            let needed = (units.map(\.key) + (tokenKeys.isEmpty ? [] : ["input and output"])).joined(separator: " or ")
            throw bad(path, "has no price: give \(needed)")
        }
        return entry
    }

    private static func price(_ v: JSONValue, _ path: JSONPath) throws(Failure) -> UInt64 {
        guard case .number(let literal) = v else { throw bad(path, "must be a number, not \(v.typeName)") }
        do throws(Pico.ParseError) {
            return try Pico.parse(literal)
        } catch {
            switch error {
            case .negative: throw bad(path, "is \(literal): a price must not be negative")
            case .tooPrecise: throw bad(path, "is \(literal): at most 12 decimal places")
            case .tooLarge: throw bad(path, "is \(literal): above 10000000, taken for a mistake")
            }
        }
    }

    // MARK: - Normalised text (vt_prices_json)

    /// The table as canonical JSON: keys in a fixed order, entries sorted, every model spelled out,
    /// prices as exact decimals.
    func json() -> TextOutput {
        var out = TextOutput(reserving: 256 + 160 * entries.count)
        out.append("{\"currency\":")
        out.appendJSONString(currency)
        if let description {
            out.append(",\"description\":")
            out.appendJSONString(description)
        }
        out.append(",\"prices\":[")
        for (i, e) in entries.enumerated() {
            if i > 0 { out.append(",") }
            out.append("{\"stage\":")
            out.appendJSONString(CostStage.name(e.stage))
            out.append(",\"provider\":")
            out.appendJSONString(e.provider)
            out.append(",\"model\":")
            out.appendJSONString(e.model)
            for token in TokenPrice.allCases {
                guard let p = e.tokens[token.rawValue] else { continue }
                out.append(",\"" + token.key + "\":" + Pico.decimal(UInt128(p)))
            }
            if let unit = e.unit { out.append(",\"" + unit.kind.key + "\":" + Pico.decimal(UInt128(unit.price))) }
            out.append("}")
        }
        out.append("]}")
        return out
    }
}
