// TurnText: UTF-8 validation and character counting of borrowed C text, without allocating.
enum TurnText {
    /// The number of Unicode scalars in `bytes`, or nil if they are not valid UTF-8.
    static func validUTF8Characters(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var i = 0, chars = 0
        let n = bytes.count
        while i < n {
            let b0 = bytes[i]
            if b0 < 0x80 { i += 1; chars += 1; continue }
            let len: Int
            var minScalar: UInt32
            var scalar: UInt32
            switch b0 {
            case 0xC2...0xDF: len = 2; scalar = UInt32(b0 & 0x1F); minScalar = 0x80
            case 0xE0...0xEF: len = 3; scalar = UInt32(b0 & 0x0F); minScalar = 0x800
            case 0xF0...0xF4: len = 4; scalar = UInt32(b0 & 0x07); minScalar = 0x10000
            default: return nil
            }
            guard i + len <= n else { return nil }
            for j in 1..<len {
                let b = bytes[i + j]
                guard b & 0xC0 == 0x80 else { return nil }
                scalar = scalar << 6 | UInt32(b & 0x3F)
            }
            guard scalar >= minScalar, scalar <= 0x10FFFF, !(0xD800...0xDFFF).contains(scalar) else { return nil }
            minScalar = 0
            i += len
            chars += 1
        }
        return chars
    }
}
