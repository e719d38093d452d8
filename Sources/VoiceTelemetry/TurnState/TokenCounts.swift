// TokenCounts: the nine fields of one vt_token_usage report, read from the caller's struct once (the
// record path then works on a value: no closure calls, no second read of the caller's memory).
import CVoiceTelemetry

struct TokenCounts {
    /// In vt_token_usage order: input, output, cached_input, reasoning, input_text, input_audio,
    /// input_image, output_text, output_audio. < 0: not reported.
    var fields: (Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64) = (-1, -1, -1, -1, -1, -1, -1, -1, -1)
    static let count = 9
    /// Where the fields start in vt_token_usage (after struct_size); they follow one another as int64s.
    private static let firstOffset = MemoryLayout<vt_token_usage>.offset(of: \vt_token_usage.input)!
    /// The smallest struct_size a report may have: one that covers `input`.
    static let minimumSize = firstOffset + MemoryLayout<Int64>.size

    /// From a vt_token_usage of `size` bytes (struct_size): fields beyond it are not reported.
    init(_ raw: UnsafeRawPointer, size: Int) {
        withUnsafeMutableBytes(of: &fields) { out in
            for i in 0..<Self.count {
                let offset = Self.firstOffset + MemoryLayout<Int64>.stride * i
                let v: Int64 = size >= offset + 8 ? raw.loadUnaligned(fromByteOffset: offset, as: Int64.self) : -1
                out.storeBytes(of: v, toByteOffset: 8 * i, as: Int64.self)
            }
        }
    }

    init() {}

    @inline(__always)
    subscript(_ i: Int) -> Int64 {
        withUnsafeBytes(of: fields) { $0.load(fromByteOffset: 8 * i, as: Int64.self) }
    }
}
