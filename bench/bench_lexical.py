"""Lexical retrieval benchmarks: ltrr_fast vs bm25s vs tantivy, side by side in one run.

Groups (``benchmark.group``) hold the engines compared against each other:

* ``build | <corpus>``: raw documents to a searchable index. Work unit: documents.
* ``single k=<k> | <corpus>``: the query set, one query per call. Work unit: queries.
* ``batch k=<k> | <corpus>``: the query set in one call (tantivy: loop, it has no batch API).

Each timed round processes the whole document set or the whole query set; ``extra_info``
carries ``work_items`` so per-query / per-doc figures follow from the round time
(see ``bench/summarize.py``). Our engine receives raw query strings (analysis inside the timed
region); bm25s and tantivy receive our analyzer's tokens, prepared outside the timed region.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import engines

K_VALUES = (10, 1000)
LARGE_CORPUS = 100_000  # above this many docs, fewer rounds


def _build_rounds(bundle: Any, rounds: dict[str, int]) -> int:
    return rounds["build_large" if bundle.corpus.n_docs > LARGE_CORPUS else "build_small"]


def _search_rounds(bundle: Any, rounds: dict[str, int]) -> int:
    return rounds["search_large" if bundle.corpus.n_docs > LARGE_CORPUS else "search"]


def _record(
    benchmark: Any,
    bundle: Any,
    env_info: dict[str, Any],
    *,
    engine: str,
    variant: str,
    threads: int,
    work_unit: str,
    work_items: int,
    k: int | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    info = benchmark.extra_info
    # other load on the machine skews timings: keep the 1-minute load average next to them
    info["loadavg_1m_after"] = round(os.getloadavg()[0], 2)
    info.update(
        engine=engine,
        variant=variant,
        threads=threads,
        work_unit=work_unit,
        work_items=work_items,
        corpus=bundle.corpus.name,
        bm25="lucene k1=1.2 b=0.75",
    )
    if k is not None:
        info["k"] = k
    info.update(env_info)
    info.update(bundle.info())
    if extra:
        info.update(extra)


# --------------------------------------------------------------------------------------------
# Index build (documents/second, tokenising included)
# --------------------------------------------------------------------------------------------

BUILD_VARIANTS = ("ours", "bm25s", "bm25s_pretok", "tantivy_1t", "tantivy_mt")


@pytest.mark.parametrize("variant", BUILD_VARIANTS)
def test_build(
    benchmark: Any,
    bundle: Any,
    variant: str,
    env_info: dict[str, Any],
    rounds: dict[str, int],
    bm25s_warm: None,
) -> None:
    corpus = bundle.corpus
    benchmark.group = f"build | {corpus.name}"
    cores = engines.n_cores()
    extra: dict[str, Any] = {}
    offer_as: str | None = None
    fn: Callable[[], Any]
    if variant == "ours":
        if not bundle.has_ours:
            pytest.skip("ltrr_fast is not importable yet")
        engine, threads, input_desc = "ltrr_fast", 1, "raw text, our analyzer"
        fn = lambda: engines.build_ours(corpus.doc_ids, corpus.docs)
        offer_as = "ours"
    elif variant == "bm25s":
        engine, threads, input_desc = "bm25s", 1, "raw text, bm25s.tokenize (lower, no stopwords)"
        docs = corpus.docs
        fn = lambda: engines.build_bm25s_from_text(docs)
    elif variant == "bm25s_pretok":
        engine, threads, input_desc = "bm25s", 1, "our tokens as list[list[str]] (no tokenising)"
        toks = bundle.doc_tokens
        fn = lambda: engines.build_bm25s_from_tokens(toks)
        offer_as = "bm25s"
    else:
        threads = 1 if variant == "tantivy_1t" else cores
        engine, input_desc = "tantivy", "our tokens whitespace-joined, whitespace tokenizer"
        texts = bundle.joined_docs
        fn = lambda: engines.build_tantivy(texts, threads)
        offer_as = "tantivy" if threads == 1 else None
        extra["tantivy_writer"] = {
            "num_threads": threads,
            "heap_bytes": engines.TANTIVY_HEAP_BYTES,
        }
    extra["input"] = input_desc
    n_rounds = _build_rounds(bundle, rounds)
    result = benchmark.pedantic(fn, rounds=n_rounds, iterations=1, warmup_rounds=0)
    if variant.startswith("tantivy"):
        extra["tantivy_segments"] = result.num_segments
    if variant == "ours":
        assert len(result) == corpus.n_docs
    _record(
        benchmark,
        bundle,
        env_info,
        engine=engine,
        variant=variant,
        threads=threads,
        work_unit="doc",
        work_items=corpus.n_docs,
        extra=extra,
    )
    if offer_as is not None:
        bundle.offer(offer_as, result)
    del result


# --------------------------------------------------------------------------------------------
# Single-query search (one query per call)
# --------------------------------------------------------------------------------------------

SINGLE_VARIANTS = ("ours", "bm25s", "tantivy")


def _latency_summary(lat_ns: list[list[int]]) -> dict[str, float]:
    arr = np.asarray([x for run in lat_ns for x in run], dtype=np.float64) / 1e3
    if arr.size == 0:
        return {}
    return {
        "p50_us": float(np.percentile(arr, 50)),
        "p90_us": float(np.percentile(arr, 90)),
        "p99_us": float(np.percentile(arr, 99)),
        "max_us": float(arr.max()),
        "mean_us": float(arr.mean()),
    }


@pytest.mark.parametrize("k", K_VALUES)
@pytest.mark.parametrize("variant", SINGLE_VARIANTS)
def test_single(
    benchmark: Any,
    bundle: Any,
    variant: str,
    k: int,
    env_info: dict[str, Any],
    rounds: dict[str, int],
    bm25s_warm: None,
) -> None:
    corpus = bundle.corpus
    benchmark.group = f"single k={k} | {corpus.name}"
    agreement = bundle.agreement  # builds the indexes and checks them, untimed
    lat: list[list[int]] = []
    clock = time.perf_counter_ns
    call: Callable[[Any], Any]
    if variant == "ours":
        idx, params = bundle.ours, engines.ours_params()
        items: list[Any] = list(bundle.query_texts)
        engine = "ltrr_fast"

        def call(q: Any) -> Any:
            return idx.search(q, k=k, params=params)

    elif variant == "bm25s":
        retriever = bundle.bm25s
        items = [[toks] for toks in bundle.query_tokens]
        engine = "bm25s"

        def call(q: Any) -> Any:
            return retriever.retrieve(q, k=k, n_threads=1, show_progress=False)

    else:
        tant = bundle.tantivy
        items = list(bundle.query_tokens)
        engine = "tantivy"

        def call(q: Any) -> Any:
            return tant.search(q, k)

    def run() -> None:
        times: list[int] = []
        for q in items:
            t0 = clock()
            call(q)
            times.append(clock() - t0)
        lat.append(times)

    benchmark.pedantic(run, rounds=_search_rounds(bundle, rounds), iterations=1, warmup_rounds=1)
    extra: dict[str, Any] = {
        "per_query_latency": _latency_summary(lat[1:]),
        "agreement_top10": agreement,
    }
    if variant == "bm25s":
        extra["bm25s_backend"] = engines.bm25s_backend()
    if variant == "tantivy":
        extra["tantivy_segments"] = bundle.tantivy.num_segments
    _record(
        benchmark,
        bundle,
        env_info,
        engine=engine,
        variant=f"{variant}_single",
        threads=1,
        work_unit="query",
        work_items=len(items),
        k=k,
        extra=extra,
    )


# --------------------------------------------------------------------------------------------
# Batched search (the whole query set per call)
# --------------------------------------------------------------------------------------------

BATCH_VARIANTS = ("ours_1t", "ours_mt", "bm25s_1t", "bm25s_mt", "tantivy_loop")


@pytest.mark.parametrize("k", K_VALUES)
@pytest.mark.parametrize("variant", BATCH_VARIANTS)
def test_batch(
    benchmark: Any,
    bundle: Any,
    variant: str,
    k: int,
    env_info: dict[str, Any],
    rounds: dict[str, int],
    bm25s_warm: None,
) -> None:
    corpus = bundle.corpus
    benchmark.group = f"batch k={k} | {corpus.name}"
    agreement = bundle.agreement
    cores = engines.n_cores()
    threads = 1 if variant.endswith("_1t") or variant == "tantivy_loop" else cores
    fn: Callable[[], Any]
    if variant.startswith("ours"):
        idx, params = bundle.ours, engines.ours_params()
        queries = list(bundle.query_texts)
        engine = "ltrr_fast"

        def fn() -> Any:
            return idx.search_batch(queries, k=k, params=params, n_threads=threads)

    elif variant.startswith("bm25s"):
        retriever = bundle.bm25s
        q_toks = list(bundle.query_tokens)
        engine = "bm25s"

        def fn() -> Any:
            return engines.bm25s_retrieve(retriever, q_toks, k=k, n_threads=threads)

    else:
        tant = bundle.tantivy
        q_toks = list(bundle.query_tokens)
        engine = "tantivy"

        def fn() -> Any:
            return [tant.search(toks, k) for toks in q_toks]

    benchmark.pedantic(fn, rounds=_search_rounds(bundle, rounds), iterations=1, warmup_rounds=1)
    extra: dict[str, Any] = {"agreement_top10": agreement}
    if engine == "bm25s":
        extra["bm25s_backend"] = engines.bm25s_backend()
    if engine == "tantivy":
        extra["tantivy_segments"] = bundle.tantivy.num_segments
    _record(
        benchmark,
        bundle,
        env_info,
        engine=engine,
        variant=variant,
        threads=threads,
        work_unit="query",
        work_items=corpus.n_queries,
        k=k,
        extra=extra,
    )
