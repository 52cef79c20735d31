#!/usr/bin/env python3
"""Every venue's order round trip against its raw floors, in alternating rounds (kraken, binance, binance-sbe, gateway, quotes,
then again), so drift on this noisy machine hits every venue alike. Prints each run's JSON line, then a markdown
table of the medians over the rounds; writes one percentile plot per venue (its last round) into the output folder.

    scripts/bench-venues.py [--rounds 5] [--count 20000] [--out bench-out] [extra tradewire bench arguments...]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

VENUES = ["kraken", "binance", "binance-sbe", "gateway", "quotes"]
FIELDS = [("p50_us", "p50 µs", "{:.1f}"), ("p999_us", "p99.9 µs", "{:.1f}"), ("floor_spin_p50_us", "spin floor p50 µs", "{:.1f}"),
          ("ratio_spin_p50", "ratio spin p50", "{:.3f}"), ("ratio_spin_p999", "ratio spin p99.9", "{:.3f}"),
          ("ratio_blocking_p50", "ratio blocking p50", "{:.3f}"), ("own_p50_us", "own p50 µs", "{:.2f}"),
          ("decode_p50_us", "decode p50 µs", "{:.2f}"), ("encode_p50_ns", "encode p50 ns", "{:.0f}"),
          ("sign_p50_ns", "sign p50 ns", "{:.0f}"), ("sbe_decode_p50_ns", "SBE decode p50 ns", "{:.0f}")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--count", type=int, default=20000)
    ap.add_argument("--out", default="bench-out")
    ap.add_argument("--tradewire", default=".build/release/tradewire")
    args, extra = ap.parse_known_args()
    os.makedirs(args.out, exist_ok=True)
    runs = {v: [] for v in VENUES}
    for r in range(args.rounds):
        for v in VENUES:
            cmd = [args.tradewire, "bench", "--venue", v, "--floor", "--count", str(args.count), "--json"] + extra
            if r == args.rounds - 1:
                cmd += ["--svg", os.path.join(args.out, f"venue-{v}.svg")]
            out = subprocess.run(cmd, capture_output=True, text=True)
            if out.returncode != 0:
                sys.exit(f"{' '.join(cmd)} failed:\n{out.stdout}\n{out.stderr}")
            line = out.stdout.strip().splitlines()[-1]
            print(f"round {r + 1} {v}: {line}", flush=True)
            runs[v].append(json.loads(line))
    print()
    print(f"Medians over {args.rounds} alternating rounds, {args.count} round trips each ({' '.join(extra) or 'defaults'}):")
    print()
    print("| venue | " + " | ".join(h for _, h, _ in FIELDS) + " |")
    print("|---|" + "---|" * len(FIELDS))
    for v in VENUES:
        cells = []
        for key, _, fmt in FIELDS:
            values = [run[key] for run in runs[v] if key in run]
            cells.append(fmt.format(statistics.median(values)) if values else "–")
        print(f"| {v} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
