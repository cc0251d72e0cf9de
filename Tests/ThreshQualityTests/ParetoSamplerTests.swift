import Testing
import Foundation
import ThreshCore
@testable import ThreshQuality

@Suite struct ParetoSamplerTests {
    /// 10^6 documents per score bucket: the keep rate is within 4 standard errors of (2 − s)^−9.
    @Test(arguments: [0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
    func keepRatesFollowTheClosedForm(score: Double) {
        let sampler = ParetoSampler(alpha: 9, seed: 7)
        let n = 1_000_000
        var kept = 0
        let source = "cc-\(score)"
        for i in 0..<n where sampler.decide(score: score, source: source, id: String(i)).keep { kept += 1 }
        let p = pow(2 - score, -9.0)
        let rate = Double(kept) / Double(n)
        let standardError = (p * (1 - p) / Double(n)).squareRoot()
        if score == 1 {
            #expect(kept == n)  // 1 − s = 0 and every draw is positive
        } else {
            #expect(abs(rate - p) <= 4 * standardError, "score \(score): rate \(rate), expected \(p) ± \(standardError)")
        }
    }

    @Test func decisionsDependOnlyOnSeedSourceAndId() {
        let a = ParetoSampler(seed: 42), b = ParetoSampler(seed: 42), c = ParetoSampler(seed: 43)
        let ids = (0..<1000).map { "doc-\($0)" }
        let forward = ids.map { a.draw(source: "cc", id: $0) }
        let backward = ids.reversed().map { b.draw(source: "cc", id: $0) }.reversed()
        #expect(forward == Array(backward))
        #expect(forward != ids.map { c.draw(source: "cc", id: $0) })
        #expect(a.draw(source: "ab", id: "c") != a.draw(source: "a", id: "bc"))
        // Lomax draws are non-negative with mean 1/(α − 1).
        let mean = forward.reduce(0, +) / Double(forward.count)
        #expect(forward.allSatisfy { $0 >= 0 } && abs(mean - 0.125) < 0.02)
    }

    @Test func keepProbabilityIsTheClosedForm() {
        let s = ParetoSampler(alpha: 9)
        #expect(s.keepProbability(score: 0) == 1.0 / 512)
        #expect(s.keepProbability(score: 1) == 1)
        #expect(s.keepProbability(score: 1.5) == 1)
    }
}
