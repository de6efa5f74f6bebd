"""Summarise a pytest-benchmark JSON from ``bench_lexical.py`` as markdown.

Usage: ``python bench/summarize.py bench/results/lexical.json [-o bench/results/lexical.md]``

Every figure is derived from the median round time. A round processes ``work_items`` documents
(build) or queries (search), so ``per item = median / work_items`` and
``throughput = work_items / median``. The ratio column is ``ours throughput / peer throughput``
(> 1 means ltrr_fast is faster), taken against our variant with the same thread count when one
exists in the group, else against our single-thread variant.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

OURS = "ltrr_fast"


def _fmt_time(seconds: float) -> str:
    if seconds >= 1.0:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


def _fmt_rate(rate: float) -> str:
    if rate >= 1e6:
        return f"{rate / 1e6:.2f} M"
    if rate >= 1e3:
        return f"{rate / 1e3:.1f} k"
    return f"{rate:.1f}"


def _group_key(group: str) -> tuple[str, int, int]:
    kind, _, corpus = group.partition(" | ")
    order = {"build": 0, "single": 1, "batch": 2}
    head = kind.split()[0] if kind else ""
    m = re.search(r"k=(\d+)", kind)
    return (corpus, order.get(head, 9), int(m.group(1)) if m else 0)


def rows_by_group(data: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for bench in data.get("benchmarks", []):
        info = bench.get("extra_info", {})
        median = float(bench["stats"]["median"])
        items = int(info.get("work_items", 1)) or 1
        row = {
            "name": bench.get("name", ""),
            "engine": info.get("engine", "?"),
            "variant": info.get("variant", bench.get("name", "")),
            "threads": info.get("threads", "?"),
            "rounds": int(bench["stats"].get("rounds", 0)),
            "median": median,
            "items": items,
            "unit": info.get("work_unit", "item"),
            "per_item": median / items,
            "rate": items / median if median > 0 else float("inf"),
            "latency": info.get("per_query_latency") or {},
            "info": info,
        }
        groups.setdefault(bench.get("group") or "ungrouped", []).append(row)
    return dict(sorted(groups.items(), key=lambda kv: _group_key(kv[0])))


def _ours_for(rows: list[dict[str, Any]], threads: Any) -> dict[str, Any] | None:
    ours = [r for r in rows if r["engine"] == OURS]
    for r in ours:
        if r["threads"] == threads:
            return r
    for r in ours:
        if r["threads"] == 1:
            return r
    return ours[0] if ours else None


def group_table(rows: list[dict[str, Any]]) -> list[str]:
    unit = rows[0]["unit"]
    has_lat = any(r["latency"] for r in rows)
    head = [
        "variant",
        "engine",
        "threads",
        "rounds",
        "median / round",
        f"per {unit}",
        f"{'queries' if unit == 'query' else unit + 's'}/s",
    ]
    if has_lat:
        head += ["p50", "p99"]
    head += ["ours / peer (speed)", "load 1m"]
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for r in sorted(rows, key=lambda r: r["median"]):
        ref = _ours_for(rows, r["threads"])
        if r["engine"] == OURS or ref is None:
            ratio = "-"
        else:
            ratio = f"{r['median'] / ref['median']:.2f}x (vs {ref['variant']})"
        cells = [
            r["variant"],
            r["engine"],
            str(r["threads"]),
            str(r["rounds"]),
            _fmt_time(r["median"]),
            _fmt_time(r["per_item"]),
            _fmt_rate(r["rate"]),
        ]
        if has_lat:
            lat = r["latency"]
            cells += [
                _fmt_time(lat["p50_us"] / 1e6) if "p50_us" in lat else "-",
                _fmt_time(lat["p99_us"] / 1e6) if "p99_us" in lat else "-",
            ]
        load = r["info"].get("loadavg_1m_after")
        cells += [ratio, "-" if load is None else f"{load:.2f}"]
        out.append("| " + " | ".join(cells) + " |")
    return out


def _first_info(data: dict[str, Any], corpus: str, key: str) -> Any:
    for bench in data.get("benchmarks", []):
        info = bench.get("extra_info", {})
        if info.get("corpus") == corpus and key in info:
            return info[key]
    return None


def summarize(data: dict[str, Any], note: str | None = None) -> str:
    lines = ["# Lexical benchmarks: ltrr_fast vs bm25s vs tantivy", ""]
    if note:
        lines += [f"> {note}", ""]
    benches = data.get("benchmarks", [])
    info0 = benches[0].get("extra_info", {}) if benches else {}
    hw = info0.get("hardware", {})
    if hw:
        lines.append(
            f"Hardware: {hw.get('cpu_model')}, {hw.get('n_cores')} cores, "
            f"{hw.get('mem_total_gib')} GiB RAM, Linux {hw.get('kernel')}, "
            f"Python {hw.get('python')}."
        )
    versions = info0.get("versions", {})
    if versions:
        lines.append("Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".")
    build = info0.get("ours_build", {})
    if build:
        lines.append(
            f"ltrr_fast build: git {build.get('git_head')} "
            f"(+{build.get('csrc_src_uncommitted_changes', '?')} uncommitted files in csrc/src), "
            f"core sha256 {build.get('core_sha256')}."
        )
    if data.get("datetime"):
        lines.append(f"Run: {data['datetime']}.")
    lines += [
        "",
        (
            "BM25 Lucene variant, k1=1.2, b=0.75; every engine indexes the same tokens "
            "(our analyzer's output). Figures are medians over rounds."
        ),
        "",
    ]

    corpora = sorted({b.get("extra_info", {}).get("corpus") for b in benches} - {None})
    if corpora:
        lines += [
            "## Corpora",
            "",
            "| corpus | docs | queries | tokens | mean doc len | vocab | mean query terms |",
            "|---|---|---|---|---|---|---|",
        ]
        for name in corpora:
            st = _first_info(data, name, "corpus_stats") or {}
            lines.append(
                f"| {name} | {st.get('n_docs', '?'):,} | {st.get('n_queries', '?'):,} | "
                f"{st.get('total_tokens', 0):,} | {st.get('mean_doc_len', 0):.1f} | "
                f"{st.get('vocab_size', 0):,} | {st.get('mean_query_terms', 0):.2f} |"
            )
        lines += [
            "",
            "## Top-10 agreement with bm25s (untimed check)",
            "",
            (
                "| corpus | engine | exact same set | mean overlap | tie-adjusted | "
                "within 1% of cut-off | max abs score diff |"
            ),
            "|---|---|---|---|---|---|---|",
        ]
        for name in corpora:
            agr = _first_info(data, name, "agreement_top10") or {}
            for key, val in agr.items():
                if not isinstance(val, dict):
                    continue
                diff = val.get("max_abs_score_diff")
                lines.append(
                    f"| {name} | {key.replace('_vs_bm25s', '')} | "
                    f"{val['exact_set_fraction']:.3f} | {val['mean_overlap']:.3f} | "
                    f"{val['tie_adjusted_fraction']:.3f} | "
                    f"{val.get('within_1pct_of_cutoff_fraction', float('nan')):.3f} | "
                    f"{'-' if diff is None else f'{diff:.2e}'} |"
                )
        lines.append("")

    for group, rows in rows_by_group(data).items():
        lines += [f"## {group}", ""]
        lines += group_table(rows)
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json_path", type=Path)
    parser.add_argument("-o", "--output", type=Path, default=None)
    parser.add_argument("--note", default=None, help="a caveat printed under the title")
    args = parser.parse_args(argv)
    text = summarize(json.loads(args.json_path.read_text(encoding="utf-8")), note=args.note)
    if args.output is None:
        sys.stdout.write(text + "\n")
    else:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
