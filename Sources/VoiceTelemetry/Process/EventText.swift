// EventText: how a transcript goes into an event's JSON under a session's TextPolicy, for code that
// builds core event payloads (e.g. the turn record): redacted to "[redacted N chars]" (the default) or
// kept, truncated to maxChars characters (Unicode scalars). Same rule vt_emit applies to payloads.

enum EventText {
    /// Append `"key":<text per policy>` (a JSON member, with a leading comma unless `first`).
    static func appendText(_ out: inout TextOutput, key: String, text: String, policy: TextPolicy, first: Bool = false) {
        if !first { out.append(",") }
        out.appendJSONString(key)
        out.append(":")
        appendValue(&out, text: text, policy: policy)
    }

    /// Append the JSON string value of `text` per policy.
    static func appendValue(_ out: inout TextOutput, text: String, policy: TextPolicy) {
        let scalars = text.unicodeScalars
        if !policy.include {
            out.append("\"[redacted \(scalars.count) chars]\"")
            return
        }
        if scalars.count <= policy.maxChars {
            out.appendJSONString(text)
        } else {
            var kept = String.UnicodeScalarView()
            kept.append(contentsOf: scalars.prefix(policy.maxChars))
            out.appendJSONString(String(kept))
        }
    }
}
