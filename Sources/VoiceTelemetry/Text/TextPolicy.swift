// TextPolicy: what happens to texts (transcripts) of a session before anyone reads them.
import CVoiceTelemetry

/// What happens to texts (transcripts) of a session before anyone reads them.
struct TextPolicy: Sendable {
    /// false (the default): a text is replaced by its length.
    var include = false
    /// Longest text kept, in characters (Unicode scalars).
    var maxChars = Int(VT_DEFAULT_MAX_TEXT_CHARS)
}
