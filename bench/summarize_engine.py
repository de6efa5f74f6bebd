"""Markdown table of a bench_engine.py run: search latency percentiles per engine and catalog.

python bench/summarize_engine.py bench/results/engine.json
"""

from __future__ import annotations

import json
import sys


def main(path: str) -> None:
    with open(path, encoding="utf-8") as handle:
        report = json.load(handle)
    print(f"Machine: {report['machine_info'].get('cpu', {}).get('brand_raw', '?')}, one core\n")
    print("| catalog | items | engine | p50 ms | p99 ms | mean ms | strategies |")
    print("|---|---:|---|---:|---:|---:|---|")
    for bench in sorted(report["benchmarks"], key=lambda b: b["group"]):
        info = bench["extra_info"]
        print(
            f"| {info['collection']} | {info['n_items']:,} | {info['engine']} | "
            f"{info['p50_ms']:.2f} | {info['p99_ms']:.2f} | {info['mean_ms']:.2f} | "
            f"{', '.join(info['strategies'])} |"
        )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "bench/results/engine.json")
