import Foundation
import Histogram

/// One client's recorded round trips in a bench run.
struct LatencySeries {
    let name: String
    let samples: [UInt64]      // ns
    var summary: LatencySummary { LatencySummary(samples) }

    /// A file-name-safe form of the name.
    var slug: String {
        String(name.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" })
            .split(separator: "-", omittingEmptySubsequences: true).joined(separator: "-")
    }

    /// Nanosecond samples in an HDR histogram (3 significant digits, up to 60 s).
    var histogram: Histogram<UInt64> {
        var h = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        for s in samples { _ = h.record(s) }
        return h
    }

    /// The HdrHistogram percentile distribution text (`.hgrm`), values in µs.
    var hgrm: String {
        var out = ""
        histogram.outputPercentileDistribution(to: &out, outputValueUnitScalingRatio: 1000)
        return out
    }
}

/// Latency against percentile, the classic HdrHistogram chart: the x axis is
/// 1/(1-percentile) on a log scale (50%, 90%, 99%, 99.9%, 99.99%), the y axis µs
/// on a log scale. One line per series; a self-contained SVG.
enum PercentilePlot {
    static func svg(_ series: [LatencySeries], title: String) -> String {
        let w = 990.0, h = 540.0, left = 80.0, right = 330.0, top = 50.0, bottom = 60.0
        let pw = w - left - right, ph = h - top - bottom
        let colors = ["#d62728", "#ff7f0e", "#1f77b4", "#2ca02c", "#9467bd", "#8c564b"]
        // Points: (percentile, µs) at HdrHistogram's percentile ticks, up to the largest
        // percentile the sample count resolves.
        let curves: [[(Double, Double)]] = series.map { s in
            let hist = s.histogram
            let n = Double(max(1, s.samples.count))
            let maxP = min(99.99, 100 * (1 - 1 / n))
            var pts: [(Double, Double)] = []
            var p = 0.0
            while p <= maxP {
                pts.append((p, Double(hist.valueAtPercentile(p)) / 1000))
                let remaining = 100 - p
                p += remaining / 20             // 20 steps per halving of what is left, finer toward the tail
                if remaining < 1e-9 { break }
            }
            pts.append((maxP, Double(hist.valueAtPercentile(maxP)) / 1000))
            return pts
        }
        let xMax = log10(1 / (1 - 99.99 / 100))
        let all = curves.flatMap { $0.map(\.1) }.filter { $0 > 0 }
        let yLo = pow(10, floor(log10(all.min() ?? 1)))
        let yHi = pow(10, ceil(log10(all.max() ?? 10)))
        func x(_ p: Double) -> Double { left + pw * log10(1 / (1 - min(p, 99.99) / 100)) / xMax }
        func y(_ us: Double) -> Double { top + ph * (1 - (log10(max(us, yLo)) - log10(yLo)) / (log10(yHi) - log10(yLo))) }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }

        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(w))" height="\(Int(h))" viewBox="0 0 \(Int(w)) \(Int(h))" \
        font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(f(left))" y="24" font-size="15">\(escape(title))</text>

        """
        // Grid: percentiles across, decades of µs up.
        for (p, label) in [(0.0, "0%"), (50.0, "50%"), (90.0, "90%"), (99.0, "99%"), (99.9, "99.9%"), (99.99, "99.99%")] {
            svg += "<line x1=\"\(f(x(p)))\" y1=\"\(f(top))\" x2=\"\(f(x(p)))\" y2=\"\(f(top + ph))\" stroke=\"#ddd\"/>"
            svg += "<text x=\"\(f(x(p)))\" y=\"\(f(top + ph + 18))\" text-anchor=\"middle\">\(label)</text>\n"
        }
        var decade = yLo
        while decade <= yHi * 1.0001 {
            for m in [1.0, 2.0, 5.0] where decade * m <= yHi * 1.0001 {
                let v = decade * m
                svg += "<line x1=\"\(f(left))\" y1=\"\(f(y(v)))\" x2=\"\(f(left + pw))\" y2=\"\(f(y(v)))\" stroke=\"\(m == 1 ? "#ccc" : "#eee")\"/>"
                svg += "<text x=\"\(f(left - 6))\" y=\"\(f(y(v) + 4))\" text-anchor=\"end\">\(v >= 1 ? String(Int(v)) : String(v))</text>\n"
            }
            decade *= 10
        }
        svg += "<text x=\"\(f(left + pw / 2))\" y=\"\(f(h - 14))\" text-anchor=\"middle\">percentile</text>\n"
        svg += "<text x=\"18\" y=\"\(f(top + ph / 2))\" transform=\"rotate(-90 18 \(f(top + ph / 2)))\" text-anchor=\"middle\">round trip (µs, log)</text>\n"
        for (i, (s, pts)) in zip(series, curves).enumerated() {
            let c = colors[i % colors.count]
            let d = pts.map { "\(f(x($0.0))),\(f(y($0.1)))" }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(c)\" stroke-width=\"2\" points=\"\(d)\"/>\n"
            let ly = top + 10 + Double(i) * 20
            svg += "<line x1=\"\(f(left + pw + 14))\" y1=\"\(f(ly))\" x2=\"\(f(left + pw + 34))\" y2=\"\(f(ly))\" stroke=\"\(c)\" stroke-width=\"3\"/>"
            svg += "<text x=\"\(f(left + pw + 40))\" y=\"\(f(ly + 4))\">\(escape(s.name))</text>\n"
        }
        svg += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(pw))\" height=\"\(f(ph))\" fill=\"none\" stroke=\"#888\"/>\n</svg>\n"
        return svg
    }

    private static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
