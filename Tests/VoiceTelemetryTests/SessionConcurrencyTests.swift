// Sessions through the C ABI from many threads: exact totals while snapshots and scrapes read.
import CVoiceTelemetry
import Synchronization
import Testing
@testable import VoiceTelemetry

/// A shared counter that task closures can capture.
private final class Tally: Sendable {
    let count = Atomic<Int>(0)
    func add() { count.wrappingAdd(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}

private func snapshot(_ s: vt_session) -> String {
    var len = 0
    var buffer = [CChar](repeating: 0, count: 1 << 16)
    let status = vt_snapshot_json(s, &buffer, buffer.count, &len)
    #expect(status == VT_OK.rawValue)
    return String(decoding: buffer.prefix(len).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

@Test func concurrentRecordsGiveExactTotals() async {
    var s: vt_session = 0
    #expect(vt_create_session(nil, &s) == VT_OK.rawValue)
    let failures = Tally()
    let session = s
    await withTaskGroup(of: Void.self) { group in
        for _ in 0..<4 {
            group.addTask {
                for i in 0..<50_000 {
                    if vt_record_audio_out(session, i % 5 + 1, 1) != VT_OK.rawValue {
                        failures.add()
                    }
                }
            }
        }
        group.addTask {
            for _ in 0..<200 {
                var len = 0
                _ = vt_prom_text(nil, 0, &len)
                _ = snapshot(session)
            }
        }
    }
    #expect(failures.value == 0)
    let json = snapshot(session)
    #expect(json.contains("\"audio_chunks_out\":200000,"), "\(json)")
    #expect(json.contains("\"audio_bytes_out\":600000,"), "\(json)")   // 4 * 10000 * (1+2+3+4+5)
    #expect(vt_end_session(session) == VT_OK.rawValue)
    #expect(vt_record_audio_out(session, 1, 1) == VT_E_BAD_HANDLE.rawValue)
}

@Test func endWhileRecordingNeverCrashesOrMisattributes() async {
    for _ in 0..<20 {
        var s: vt_session = 0
        #expect(vt_create_session(nil, &s) == VT_OK.rawValue)
        let session = s
        let okCount = Tally()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for _ in 0..<20_000 {
                    let st = vt_record_vad_end(session, 1)
                    #expect(st == VT_OK.rawValue || st == VT_E_BAD_HANDLE.rawValue)
                    if st == VT_OK.rawValue { okCount.add() }
                }
            }
            group.addTask { _ = vt_end_session(session) }
        }
        #expect(vt_end_session(session) == VT_E_BAD_HANDLE.rawValue)
        // Every vad_end that returned OK ran while the session was live: after the end, none may.
        #expect(vt_record_vad_end(session, 1) == VT_E_BAD_HANDLE.rawValue)
        #expect(okCount.value <= 20_000)
    }
}
