"""Markdown table of a bench_bandit.py run: rounds per second and regret per engine and size.

python bench/summarize_bandit.py bench/results/bandit.json
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict


def main(path: str) -> None:
    with open(path, encoding="utf-8") as handle:
        report = json.load(handle)
    groups: dict[str, list[tuple[str, float, float | None]]] = defaultdict(list)
    for bench in report["benchmarks"]:
        info = bench["extra_info"]
        median = bench["stats"]["median"]
        if "rounds" in info:
            rate = info["rounds"] / median
            groups[bench["group"]].append((info["engine"], rate, info["regret_per_round"]))
        else:
            groups[bench["group"]].append((info["engine"], info["contexts"] / median, None))
    print(f"Machine: {report['machine_info'].get('cpu', {}).get('brand_raw', '?')}")
    for group, rows in groups.items():
        print(f"\n### {group}\n")
        unit = "rounds/s" if rows[0][2] is not None else "contexts/s"
        print(f"| engine | {unit} | mean regret over the first rounds |")
        print("|---|---:|---:|")
        for engine, rate, regret in sorted(rows, key=lambda r: -r[1]):
            shown = "-" if regret is None else f"{regret:.4f}"
            print(f"| {engine} | {rate:,.0f} | {shown} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "bench/results/bandit.json")
