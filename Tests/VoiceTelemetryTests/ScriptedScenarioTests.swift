// The shared scripted scenario (tests/scenarios), replayed through the C ABI from Swift: the same
// exact values the C, Python and Go suites check.
import CVoiceTelemetry
import Foundation
import Testing

private let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

private func replay(_ name: String) throws -> (vt_session, [String: Any]) {
    let script = try String(contentsOf: repoRoot.appendingPathComponent("tests/scenarios/\(name).txt"), encoding: .utf8)
    var session: vt_session = 0
    var snapshot: [String: Any] = [:]
    for raw in script.split(separator: "\n") {
        let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
        let words = line.split(separator: " ").map(String.init)
        guard let call = words.first else { continue }
        let args = Array(words.dropFirst())
        let t = UInt64(args.last ?? "0") ?? 0
        var status: vt_status = VT_OK.rawValue
        switch call {
        case "config":
            let pairs = args.dropFirst().dropLast().map { $0.split(separator: "=").map(String.init) }
            let keys = pairs.map { strdup($0[0]) }, values = pairs.map { strdup($0[1]) }
            defer { (keys + values).forEach { free($0) } }
            var labels = zip(keys, values).map { vt_label(key: $0.0, value: $0.1) }
            status = args[0].withCString { id in
                labels.withUnsafeMutableBufferPointer { buffer in
                    var cfg = vt_session_config()
                    cfg.struct_size = UInt32(MemoryLayout<vt_session_config>.size)
                    cfg.session_id = id
                    cfg.labels = UnsafePointer(buffer.baseAddress)
                    cfg.n_labels = buffer.count
                    cfg.start_t_ns = t
                    return vt_create_session(&cfg, &session)
                }
            }
        case "audio_out": status = vt_record_audio_out(session, Int(args[0])!, t)
        case "vad_start": status = vt_record_vad_start(session, t)
        case "vad_end": status = vt_record_vad_end(session, t)
        case "text_send": status = vt_record_text_send(session, t)
        case "text_out": status = vt_record_text_out(session, t)
        case "interruption": status = vt_record_interruption(session, t)
        case "turn_start": status = vt_record_turn_start(session, t)
        case "turn_complete": status = vt_record_turn_complete(session, t)
        case "usage":
            let v = args.map { Int64($0)! }
            var u = vt_usage(struct_size: UInt32(MemoryLayout<vt_usage>.size), total: v[0], prompt: v[1],
                             response: v[2], cached: v[3], thoughts: v[4])
            status = vt_record_usage(session, &u)
        case "snapshot_at":
            var buffer = [CChar](repeating: 0, count: 1 << 16)
            var len = 0
            status = vt_snapshot_json_at(session, t, &buffer, buffer.count, &len)
            let data = Data(buffer.prefix(len).map { UInt8(bitPattern: $0) })
            snapshot = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        default:
            Issue.record("unknown scenario call \(call)")
        }
        #expect(status == VT_OK.rawValue, "\(line) returned \(status)")
    }
    return (session, snapshot)
}

private func value(_ json: [String: Any], _ path: String) -> Any? {
    var current: Any? = json
    for part in path.split(separator: ".") { current = (current as? [String: Any])?[String(part)] }
    return current
}

@Test func scriptedCallGivesTheExpectedSnapshot() throws {
    let (session, snapshot) = try replay("scripted_call")
    let expected = try String(contentsOf: repoRoot.appendingPathComponent("tests/scenarios/scripted_call.expected"),
                              encoding: .utf8)
    var checked = 0
    for line in expected.split(separator: "\n") where !line.hasPrefix("#") {
        let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { continue }
        let want = try JSONSerialization.jsonObject(with: Data(parts[1].utf8), options: .fragmentsAllowed)
        let got = value(snapshot, parts[0])
        #expect(got.map { "\($0)" } == "\(want)", "\(parts[0]): got \(String(describing: got)), expected \(want)")
        checked += 1
    }
    #expect(checked == 43)
    #expect(vt_end_session(session) == VT_OK.rawValue)
}
