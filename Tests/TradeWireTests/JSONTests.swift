import Foundation
import Testing
import CTradeWire
@testable import TradeWire

/// Turn our reading of a document into Foundation-shaped values, to compare with JSONSerialization.
func foundationShape(_ v: JSONValue) -> Any {
    switch v.kind {
    case .object:
        var d: [String: Any] = [:]
        v.forEachMember { k, x in d[k.string!] = foundationShape(x); return true }
        return d
    case .array:
        var a: [Any] = []
        v.forEachElement { a.append(foundationShape($0)); return true }
        return a
    case .string: return v.string!
    case .number: return v.double!
    case .bool: return v.bool!
    case .null: return NSNull()
    }
}

func sameShape(_ a: Any, _ b: Any) -> Bool {
    switch (a, b) {
    case let (x as [String: Any], y as [String: Any]):
        return x.count == y.count && x.allSatisfy { k, v in y[k].map { sameShape(v, $0) } ?? false }
    case let (x as [Any], y as [Any]):
        return x.count == y.count && zip(x, y).allSatisfy { sameShape($0, $1) }
    case let (x as String, y as String): return x == y
    case let (x as Double, y as NSNumber):
        if isBoolean(y) { return false }
        let d = y.doubleValue
        return x == d || abs(x - d) <= abs(d) * 1e-12
    case let (x as Bool, y as NSNumber): return isBoolean(y) && x == y.boolValue
    case let (x as Bool, y as Bool): return x == y
    case (is NSNull, is NSNull): return true
    default: return false
    }
}

/// JSONSerialization's booleans are NSNumbers of type char ("c").
func isBoolean(_ n: NSNumber) -> Bool { String(cString: n.objCType) == "c" }

func readOurs(_ bytes: [UInt8]) -> Any? {
    bytes.withUnsafeBytes { raw in (try? JSONDocument(validating: raw)).map { foundationShape($0.root) } }
}

func readFoundation(_ bytes: [UInt8]) -> Any? {
    try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
}

/// Where Foundation and RFC 8259 part ways (checked, not skipped):
/// Foundation accepts one trailing comma (`[1,]`, `{"a":1,}`), which RFC 8259
/// forbids; and refuses numbers outside Double's range, which the grammar allows
/// (our `decimal`/`int64` return nil for them instead).
func knownDifference(_ doc: [UInt8], ours: Any?, theirs: Any?) -> Bool {
    let text = String(decoding: doc, as: UTF8.self)
    if ours == nil, theirs != nil, text.range(of: #",\s*[\]}]"#, options: .regularExpression) != nil {
        return true
    }
    if ours != nil, theirs == nil, text.range(of: #"[0-9][eE][+]?[0-9]{3,}"#, options: .regularExpression) != nil {
        return true
    }
    return false
}

@Suite("JSON reader and writer")
struct JSONTests {
    static var corpus: [[UInt8]] {
        var docs: [[UInt8]] = []
        let dir = Bundle.module.resourcePath! + "/Fixtures/protocols"
        for f in (try? FileManager.default.contentsOfDirectory(atPath: dir))?.sorted() ?? [] {
            docs.append(Array(FileManager.default.contents(atPath: dir + "/" + f)!))
        }
        let handmade = [
            #"{"a":[1,2.5,-3e10,0.000001,1E+2,-0],"b":{"c":null,"d":true,"e":false},"s":"x\"y\\z\/\b\f\n\r\t"}"#,
            #"["\u00e9\u20ac\ud83d\ude00", "\u0000", "é€😀"]"#, #"  42  "#, #""just a string""#, "[]", "{}", "[[[[[]]]]]",
            #"{"price":"26500.40","qty":1.25000000}"#, #"{"dup":1,"dup":2}"#,
            // Refused by both:
            #"{"a":1,}"#, #"[1,2"#, #"{"a" 1}"#, #"01"#, #"1."#, #".5"#, #"-"#, #"1e"#, #"+1"#, #"NaN"#, #"[tru]"#,
            #""\ud800""#, #""\udc00\ud800""#, #""\x""#, "\"tab\there\"", #"{"a":1}{"#, "", " ", #"[1,,2]"#, #"{,}"#,
            #"{"a":"\u12"}"#, "\"\u{7f}\"",
        ]
        docs += handmade.map { Array($0.utf8) }
        docs.append([0x22, 0xff, 0x22])      // invalid UTF-8 inside a string
        docs.append([0x22, 0xc3, 0x22])      // truncated UTF-8
        return docs
    }

    /// Every fixture of protocols.md and the edge cases: we accept exactly what
    /// Foundation accepts, and read the same values.
    @Test func agreesWithJSONSerialization() {
        var checked = 0
        for doc in Self.corpus {
            let ours = readOurs(doc), theirs = readFoundation(doc)
            if knownDifference(doc, ours: ours, theirs: theirs) { checked += 1; continue }
            #expect((ours == nil) == (theirs == nil), "\(String(decoding: doc, as: UTF8.self))")
            if let ours, let theirs {
                #expect(sameShape(ours, theirs), "\(String(decoding: doc, as: UTF8.self))")
            }
            checked += 1
        }
        #expect(checked > 60)
    }

    /// Mutated fixtures (bytes dropped, flipped, truncated): still the same verdict and values.
    @Test func agreesOnMutations() {
        var rng = SystemRandomNumberGenerator()
        var disagreements: [String] = []
        for doc in Self.corpus where doc.count > 2 {
            for _ in 0..<40 {
                var m = doc
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: m.removeSubrange(Int.random(in: 0..<m.count, using: &rng)...)
                case 1: m[Int.random(in: 0..<m.count, using: &rng)] = [UInt8(ascii: "\""), UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), UInt8(ascii: "\\"), 0x20, UInt8(ascii: "1"), UInt8(ascii: "e")].randomElement(using: &rng)!
                case 2: m.remove(at: Int.random(in: 0..<m.count, using: &rng))
                default: m.insert(UInt8.random(in: 0x20...0x7e, using: &rng), at: Int.random(in: 0..<m.count, using: &rng))
                }
                let ours = readOurs(m), theirs = readFoundation(m)
                if knownDifference(m, ours: ours, theirs: theirs) { continue }
                if (ours == nil) != (theirs == nil) || (ours != nil && !sameShape(ours!, theirs!)) {
                    disagreements.append(String(decoding: m, as: UTF8.self))
                }
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(5))")
    }

    @Test func theKnownDifferencesAreWhatWeSayTheyAre() {
        for t in [#"{"a":1,}"#, #"[1,2,]"#] {
            #expect(readOurs(Array(t.utf8)) == nil && readFoundation(Array(t.utf8)) != nil, "\(t)")
        }
        let big = Array(#"{"a":1e400}"#.utf8)
        #expect(readOurs(big) != nil && readFoundation(big) == nil)
        big.withUnsafeBytes { raw in
            #expect((try? JSONDocument(validating: raw))?.root["a"]?.decimal == nil)
        }
    }

    @Test func depthIsBounded() {
        let deep = Array(String(repeating: "[", count: 10_000).utf8) + Array(String(repeating: "]", count: 10_000).utf8)
        #expect(readOurs(deep) == nil)
    }

    @Test func keysMatchWithoutAllocationAndThroughEscapes() throws {
        let text = Array(#"{"m\u0065thod":"add_order","req_id":7,"result":{"order_id":"OABC"},"x":[1,{"y":2}]}"#.utf8)
        try text.withUnsafeBytes { raw in
            let doc = try JSONDocument(validating: raw)
            #expect(doc.root["method"]?.stringEquals("add_order") == true)
            #expect(doc.root["req_id"]?.int64 == 7)
            #expect(doc.root["result"]?["order_id"]?.rawStringBytes.map { Array($0) } == Array("OABC".utf8))
            #expect(doc.root["missing"] == nil)
            #expect(doc.root["x"]?.elementCount == 2)
        }
    }

    /// Members captured while validating are the ones a lookup by name finds: first of
    /// each name, escaped names resolved, nested objects' members not taken for the root's.
    @Test func capturedMembersAreWhatLookupsFind() throws {
        let names: [StaticString] = ["method", "req_id", "result", "x", "y", "order_id", "dup"]
        let keys = JSONKeySet(names)
        var texts = Self.corpus
        texts.append(Array(#"{"m\u0065thod":"add_order","req_id":7,"result":{"order_id":"OABC"},"x":[1,{"y":2}],"dup":1,"dup":2}"#.utf8))
        texts.append(Array(#"{"y":{"y":{"y":3}},"order_idx":1,"orde":2}"#.utf8))
        var objects = 0
        for text in texts {
            text.withUnsafeBytes { raw in
                let plain = try? JSONDocument(validating: raw)
                let captured = try? JSONDocument(validating: raw, capturing: keys)
                #expect((plain == nil) == (captured == nil), "\(String(decoding: text, as: UTF8.self))")
                guard let plain, let captured, plain.root.kind == .object else { return }
                objects += 1
                for (i, name) in names.enumerated() {
                    let a = captured.captured[i].map { Array($0.rawBytes) }, b = plain.root[name].map { Array($0.rawBytes) }
                    #expect(a == b, "\(name) in \(String(decoding: text, as: UTF8.self))")
                }
            }
        }
        #expect(objects >= 5)
        let dup = Array(#"{"dup":1,"dup":2}"#.utf8)
        let first = try dup.withUnsafeBytes { raw in try JSONDocument(validating: raw, capturing: keys).captured[6]?.int64 }
        #expect(first == 1)
    }

    /// UTF-8 is checked inside strings (RFC 3629: overlongs, surrogates, over U+10FFFF and
    /// truncated sequences refused); a byte over 0x7F anywhere else is a grammar error.
    @Test func utf8IsCheckedWhereverItAppears() {
        let good: [[UInt8]] = [[0x22, 0xC3, 0xA9, 0x22], [0x22, 0xE2, 0x82, 0xAC, 0x22], [0x22, 0xF0, 0x9F, 0x98, 0x80, 0x22],
                               [0x22, 0xEF, 0xBF, 0xBF, 0x22], [0x22, 0xF4, 0x8F, 0xBF, 0xBF, 0x22]]
        let bad: [[UInt8]] = [[0x22, 0xC0, 0xAF, 0x22], [0x22, 0xE0, 0x80, 0xAF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22],
                              [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], [0x22, 0xF5, 0x80, 0x80, 0x80, 0x22], [0x22, 0xE2, 0x82, 0x22],
                              [0x22, 0x80, 0x22], [0x22, 0xC3], [0x5B, 0xC3, 0xA9, 0x5D], [0x7B, 0xC3, 0xA9, 0x3A, 0x31, 0x7D]]
        for t in good {
            var st: UInt32 = 0
            #expect(t.withUnsafeBufferPointer { tw_utf8_validate(&st, $0.baseAddress, $0.count) } == 0 && st == 0)
            #expect(t.withUnsafeBytes { (try? JSONDocument(validating: $0)) != nil }, "\(t)")
        }
        for t in bad {
            #expect(t.withUnsafeBytes { (try? JSONDocument(validating: $0)) == nil }, "\(t)")
        }
    }

    /// The eight-bytes-at-a-time string scan: every special byte (quote, backslash,
    /// control, non-ASCII) at every position of strings 0-40 bytes long, against Foundation.
    @Test func stringScanFindsEverySpecialByteAtEveryOffset() throws {
        let specials: [String] = ["\"", "\\", "\n", "\u{01}", "é", "€", "😀", "/"]
        var checked = 0
        for length in 0...40 {
            for at in 0...length {
                for sp in specials {
                    var chars = Array(repeating: "a", count: length)
                    chars.insert(sp, at: at)
                    let value = chars.joined()
                    let text = try JSONSerialization.data(withJSONObject: [value], options: [.fragmentsAllowed])
                    let bytes = Array(text)
                    let ours = try bytes.withUnsafeBytes { raw -> String? in
                        var out: String?
                        try JSONDocument(validating: raw).root.forEachElement { out = $0.string; return false }
                        return out
                    }
                    #expect(ours == value)
                    // The same byte raw (not escaped) is refused where JSON forbids it.
                    if sp == "\n" || sp == "\u{01}" {
                        let rawText = Array("[\"\(value)\"]".utf8)
                        #expect(rawText.withUnsafeBytes { (try? JSONDocument(validating: $0)) == nil })
                    }
                    checked += 1
                }
            }
        }
        #expect(checked > 6_000)
    }

    @Test func smallCopiesAndBackslashSearchAtEverySize() {
        let src = (0..<100).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 1) }
        for n in 0...80 {
            var dst = [UInt8](repeating: 0, count: 100)
            src.withUnsafeBytes { s in dst.withUnsafeMutableBytes { d in copySmall(d.baseAddress! + 3, s.baseAddress! + 5, n) } }
            #expect(Array(dst[3..<(3 + n)]) == Array(src[5..<(5 + n)]), "size \(n)")
            #expect(dst[..<3].allSatisfy { $0 == 0 } && dst[(3 + n)...].allSatisfy { $0 == 0 }, "size \(n) wrote outside")
            for at in 0...n {
                var hay = [UInt8](repeating: UInt8(ascii: "x"), count: n)
                if at < n { hay[at] = UInt8(ascii: "\\") }
                let found = hay.withUnsafeBufferPointer { b in b.baseAddress.flatMap { firstBackslash($0, n) } }
                #expect(found == (at < n ? at : nil), "size \(n) at \(at)")
            }
        }
    }

    @Test func writerOutputIsValidJSONWithEscapes() throws {
        var buf = [UInt8](repeating: 0, count: 512)
        let n = buf.withUnsafeMutableBytes { b -> Int in
            var w = JSONWriter(b)
            w.beginObject()
            w.key("s"); w.string("q\"uote\\ tab\t nl\n ctl\u{01} é")
            w.key("n"); w.value(Int64.min)
            w.key("d"); w.value(FixedDecimal("-0.00012")!)
            w.key("a"); w.beginArray(); w.value(true); w.null(); w.beginObject(); w.endObject(); w.value(3); w.endArray()
            w.key("e"); w.beginArray(); w.endArray()
            w.endObject()
            let overflowed = w.overflowed
            #expect(!overflowed)
            return w.count
        }
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(buf[..<n])) as? [String: Any])
        #expect(obj["s"] as? String == "q\"uote\\ tab\t nl\n ctl\u{01} é")
        #expect((obj["n"] as? NSNumber)?.int64Value == Int64.min)
        #expect(String(decoding: buf[..<n], as: UTF8.self).contains(#""d":-0.00012"#))
        #expect((obj["a"] as? [Any])?.count == 4)
    }

    @Test func writerReportsOverflowInsteadOfWritingPastTheEnd() {
        var buf = [UInt8](repeating: 0xAA, count: 20)
        buf.withUnsafeMutableBytes { b in
            var w = JSONWriter(UnsafeMutableRawBufferPointer(rebasing: b[..<10]))
            w.beginObject(); w.key("long_key_here"); w.value(123456789); w.endObject()
            let overflowed = w.overflowed, count = w.count
            #expect(overflowed)
            #expect(count <= 10)
        }
        #expect(buf[10...].allSatisfy { $0 == 0xAA })
    }
}

@Suite("Fixed-point decimals")
struct DecimalTests {
    @Test(arguments: ["0", "1", "-1", "26500.4", "0.00000001", "1.20", "123456789012.123456", "-0.5", "1000000"])
    func roundTripsExactly(_ s: String) {
        #expect(FixedDecimal(s)?.description == s)
    }

    @Test func exponentsAndNumericEquality() {
        #expect(FixedDecimal("1e-3")?.description == "0.001")
        #expect(FixedDecimal("2.5E+2")?.description == "250")
        #expect(FixedDecimal("1.20") == FixedDecimal("1.2"))
        #expect(FixedDecimal("1.20")?.hashValue == FixedDecimal("1.2")?.hashValue)
        #expect(FixedDecimal("0.1")! < FixedDecimal("0.11")!)
        let a: Price = "26500.4", b: Price = "26500.39"
        #expect(a > b)
    }

    @Test(arguments: ["", "-", ".", "1.2.3", "abc", "1e", "99999999999999999999", "1e-30", "1 ", "0x10"])
    func refusesWhatItCannotHoldExactly(_ s: String) {
        #expect(FixedDecimal(s) == nil)
    }

    @Test func readFromJSONNumbersAndStrings() throws {
        let t = Array(#"{"a":26500.4,"b":"0.00012","c":true}"#.utf8)
        try t.withUnsafeBytes { raw in
            let d = try JSONDocument(validating: raw)
            #expect(d.root["a"]?.decimal == FixedDecimal("26500.4"))
            #expect(d.root["b"]?.decimal == FixedDecimal("0.00012"))
            #expect(d.root["c"]?.decimal == nil)
        }
    }
}

@Suite("InlineText")
struct InlineTextTests {
    /// Found by the venue fuzzer: cutting a long string read one byte past the storage.
    @Test(arguments: [63, 64, 65, 66, 100])
    func longStringsAreCutOnACharacterBoundary(_ asciiPrefix: Int) throws {
        let text = String(repeating: "a", count: asciiPrefix) + "é€😀" + String(repeating: "z", count: 10)
        let json = Array("\"\(text)\"".utf8)
        try json.withUnsafeBytes { raw in
            let doc = try JSONDocument(validating: raw)
            let t = try #require(InlineText(json: doc.root))
            #expect(t.count <= InlineText.capacity)
            #expect(t.truncated == (text.utf8.count > InlineText.capacity))
            #expect(String(validating: t.withBytes { Array($0) }, as: UTF8.self) != nil)   // never a split character
            #expect(text.hasPrefix(t.description))
            let fromBytes = Array(text.utf8).withUnsafeBytes { InlineText(bytes: $0) }
            #expect(fromBytes == t)
        }
    }
}

@Suite("InlineTextPack")
struct InlineTextPackTests {
    func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func fieldsReadBackAsTheInlineTextsTheyWere() {
        var p = InlineTextPack()
        let texts = ["OQCLML-BW3P3-BUCMWZ", "", "2023-09-27T15:37:36.486423Z", String(repeating: "é", count: 40)]
        for (f, s) in texts.enumerated() { bytes(s).withUnsafeBytes { p.set(f * 2, bytes: $0) } }
        for (f, s) in texts.enumerated() {
            let expected = bytes(s).withUnsafeBytes { InlineText(bytes: $0) }
            #expect(p[f * 2] == expected)
            #expect(p[f * 2]?.truncated == expected.truncated)
            #expect(p[f * 2 + 1] == nil)
        }
        #expect(p[6]?.truncated == true)                    // 80 bytes of "é": cut to 64, on a character boundary
        #expect(p.contains(2) && !p.contains(3))
        p[2] = nil
        #expect(p[2] == nil && !p.contains(2))
        p[2] = InlineText("again")
        #expect(p[2]?.description == "again")
    }

    /// More than the inline bytes: the rest goes to the heap box, nothing is lost, copies stay apart.
    @Test func textsBeyondTheInlineBytesAreKept() {
        var p = InlineTextPack()
        let long = (0..<8).map { f in String(repeating: Character(String(UnicodeScalar(UInt8(97 + f)))), count: 60) }
        for (f, s) in long.enumerated() { p[f] = InlineText(s) }     // 480 bytes: more than 160
        let copy = p
        p[7] = InlineText("changed")
        for f in 0..<7 { #expect(p[f]?.description == long[f]) }
        #expect(p[7]?.description == "changed")
        #expect(copy[7]?.description == long[7])                     // the copy is not touched by the change
    }

    @Test func equalityIsByFieldNotByLayout() {
        var a = InlineTextPack(), b = InlineTextPack()
        a[0] = InlineText("x"); a[1] = InlineText("y")
        b[1] = InlineText("y"); b[0] = InlineText("x")               // other order: other offsets
        #expect(a == b && a.hashValue == b.hashValue)
        b[1] = InlineText("z")
        #expect(a != b)
        b[1] = nil
        #expect(a != b)
    }
}
