/// Byte-level text helpers for the selector's phrase and mark tests, which compare UTF-8 bytes rather than
/// `String`s (a `String` comparison works by characters, many times slower).
extension Sequence<UInt8> {
    /// The bytes with ASCII capitals lowercased; every other byte as it is.
    func asciiLowercased() -> [UInt8] { map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 } }
}

extension Array<UInt8> {
    /// Whether `needle` occurs anywhere in the bytes.
    func containsBytes<Needle: Collection<UInt8>>(_ needle: Needle) -> Bool {
        guard let first = needle.first, count >= needle.count else { return needle.isEmpty }
        for start in 0...(count - needle.count) where self[start] == first {
            if self[start..<(start + needle.count)].elementsEqual(needle) { return true }
        }
        return false
    }
}
