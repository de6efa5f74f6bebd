"""ltrr: command line of the ltrr_fast learning-to-rank-and-retrieve engine."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

from ltrr_fast.datasets import IR_COLLECTIONS, IRCollection, load_ir
from ltrr_fast.evaluation import average_precision, ndcg_at_k, recall_at_k
from ltrr_fast.index import VARIANTS, BM25Params, LexicalIndex

logger = logging.getLogger(__name__)


def _build(collection: IRCollection, args: argparse.Namespace) -> tuple[LexicalIndex, float]:
    """One field, title then body, so the bm25s side-by-side scores the very same text."""
    index = LexicalIndex(stopwords=args.stopwords or None, stemmer=args.stemmer or None)
    texts = [f"{title}\n{text}" for title, text in zip(collection.titles, collection.texts)]
    start = time.perf_counter()
    index.add_batch(collection.doc_ids, {"text": texts})
    return index, time.perf_counter() - start


def _bm25s_run(
    index: LexicalIndex, collection: IRCollection, params: BM25Params, k: int
) -> dict[str, list[str]] | None:
    """Rank with bm25s on exactly our tokens, for a side-by-side figure."""
    try:
        import bm25s
    except ImportError:
        return None
    corpus = [
        index.tokenize(f"{title}\n{text}")
        for title, text in zip(collection.titles, collection.texts)
    ]
    retriever = bm25s.BM25(method=params.variant, k1=params.k1, b=params.b)
    retriever.index(corpus, show_progress=False)
    # bm25s cannot look up a token it never indexed; such tokens match nothing anyway.
    vocab = retriever.vocab_dict
    queries = [[t for t in index.tokenize(q) if t in vocab] for q in collection.queries]
    run: dict[str, list[str]] = {}
    for qid, tokens in zip(collection.query_ids, queries):
        if not tokens:
            run[qid] = []
            continue
        docs, scores = retriever.retrieve([tokens], k=k, show_progress=False, n_threads=1)
        run[qid] = [collection.doc_ids[int(d)] for d, s in zip(docs[0], scores[0]) if s > 0]
    return run


def evaluate(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Index each collection, answer its queries and measure quality and speed."""
    params = BM25Params(variant=args.variant, k1=args.k1, b=args.b)
    names = list(IR_COLLECTIONS) if args.collection == "all" else [args.collection]
    rows = []
    for name in names:
        print(f"[{name}] loading", file=sys.stderr, flush=True)
        collection = load_ir(name)
        index, build_seconds = _build(collection, args)
        print(f"[{name}] indexed {collection.n_docs:,} docs", file=sys.stderr, flush=True)

        queries = collection.queries
        start = time.perf_counter()
        hits = [index.search(q, args.k, params=params) for q in queries]
        single_seconds = time.perf_counter() - start
        start = time.perf_counter()
        index.search_batch(queries, args.k, params=params)
        batch_seconds = time.perf_counter() - start
        run = {qid: h.ids for qid, h in zip(collection.query_ids, hits)}

        row: dict[str, Any] = {
            "collection": name,
            "docs": collection.n_docs,
            "queries": len(queries),
            "index_docs_per_s": collection.n_docs / build_seconds,
            "ndcg@10": ndcg_at_k(run, collection.qrels, 10).mean,
            "map@100": average_precision(run, collection.qrels, 100).mean,
            "recall@100": recall_at_k(run, collection.qrels, 100).mean,
            "qps_single": len(queries) / single_seconds,
            "qps_batch": len(queries) / batch_seconds,
        }
        if not args.no_compare:
            print(f"[{name}] ranking with bm25s on the same tokens", file=sys.stderr, flush=True)
            peer = _bm25s_run(index, collection, params, args.k)
            if peer is not None:
                row["bm25s_ndcg@10"] = ndcg_at_k(peer, collection.qrels, 10).mean
        rows.append(row)
    return rows


def _print_table(rows: Sequence[dict[str, Any]]) -> None:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        cells = []
        for key in columns:
            value = row.get(key, "")
            if isinstance(value, float):
                value = f"{value:.4f}" if value < 10 else f"{value:,.0f}"
            cells.append(str(value))
        print("| " + " | ".join(cells) + " |")


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return value


def _unit(text: str) -> float:
    value = _non_negative(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}")
    return value


def _whole(text: str, low: int, message: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"{message}, got {value}")
    return value


def _positive_int(text: str) -> int:
    return _whole(text, 1, "expected a whole number >= 1")


class _ProgressBar:
    """A one-line progress bar on stderr: rounds done, rate and time left."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.started: float | None = None
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if self.started is None:  # the clock starts with the first round, after the build
            self.started = now - 1e-9
        if done < total and now - self.last < 0.2:
            return
        self.last = now
        elapsed = now - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        left = (total - done) / rate if rate > 0 else 0.0
        filled = int(30 * done / total)
        bar = "#" * filled + "." * (30 - filled)
        sys.stderr.write(
            f"\r{self.label} [{bar}] {done}/{total} {rate:,.0f} rounds/s, {left:,.0f} s left "
        )
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def simulate_command(args: argparse.Namespace) -> int:
    """``ltrr simulate``: the learning-to-rank-and-retrieve loop on real data, with a report."""
    from ltrr_fast.evaluation.report import write_report
    from ltrr_fast.evaluation.simulate import COLLECTIONS, SimulationSettings, simulate

    names = COLLECTIONS if args.collection == "all" else (args.collection,)
    for name in names:
        settings = SimulationSettings(
            collection=name,
            rounds=args.rounds,
            budget=args.budget,
            n_chosen=args.n_chosen,
            seed=args.seed,
            music_items=args.music_items,
            engine={"shadow_rate": args.shadow_rate},
        )
        sys.stderr.write(f"{name}: building the engine...\n")
        result = simulate(settings, progress=_ProgressBar(name))
        summary = write_report(result, os.path.join(args.out, name))
        print(summary.read_text(encoding="utf-8"))
        print(f"(report written to {summary.parent})\n")
    return 0


def _depth(text: str) -> int:
    return _whole(text, 10, "expected at least 10 (nDCG@10 needs it)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ltrr", description="Command line of the ltrr_fast retrieval engine."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    ev = commands.add_parser(
        "evaluate",
        help="index a test collection, answer its queries, report nDCG@10 and queries/second",
    )
    ev.add_argument("--collection", choices=[*IR_COLLECTIONS, "all"], default="all")
    ev.add_argument("--variant", choices=VARIANTS, default="lucene")
    ev.add_argument("--k1", type=_non_negative, default=1.2)
    ev.add_argument("--b", type=_unit, default=0.75)
    ev.add_argument("--k", type=_depth, default=100, help="depth of each ranking")
    ev.add_argument("--stemmer", default="english", help="Snowball language, '' for none")
    ev.add_argument("--stopwords", default="en", help="stop word list name, '' for none")
    ev.add_argument("--no-compare", action="store_true", help="skip the bm25s side-by-side")
    ev.add_argument("--json", help="also write the results to this JSON file")

    sim = commands.add_parser(
        "simulate",
        help="simulate users searching real data and learning to rank and retrieve; "
        "write a report with metrics and plots",
    )
    sim.add_argument("--collection", choices=["vaswani", "cisi", "music", "all"], default="all")
    sim.add_argument("--rounds", type=_positive_int, default=2000, help="searches to simulate")
    sim.add_argument("--budget", type=_positive_int, default=100, help="candidates per search")
    sim.add_argument("--n-chosen", type=_positive_int, default=2, help="strategies per search")
    sim.add_argument("--shadow-rate", type=_unit, default=0.3, help="share of shadow rounds")
    sim.add_argument("--music-items", type=_positive_int, help="use only the first N tracks")
    sim.add_argument("--seed", type=int, default=0)
    sim.add_argument("--out", default="reports", help="directory of the reports")

    args = parser.parse_args(argv)
    if args.command == "simulate":
        if args.budget < args.n_chosen:
            parser.error("--budget must be at least --n-chosen")
        return simulate_command(args)
    if args.json and not os.path.isdir(os.path.dirname(os.path.abspath(args.json))):
        parser.error(f"--json: the directory of {args.json!r} does not exist")
    try:
        LexicalIndex(stopwords=args.stopwords or None, stemmer=args.stemmer or None)
    except (ValueError, TypeError) as error:
        parser.error(str(error))
    rows = evaluate(args)
    _print_table(rows)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(rows, out, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
