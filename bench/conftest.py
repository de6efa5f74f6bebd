"""Session fixtures for the lexical benchmarks: each corpus is loaded, tokenised and indexed once.

Run with ``pytest bench/bench_lexical.py --benchmark-json bench/results/lexical.json``.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import time
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpora
import engines

CORPUS_NAMES = ("vaswani", "zipf")
TOP_CHECK = 10


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


class Bundle:
    """One corpus plus the lazily built (session-lifetime) index of every engine."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.setup_seconds: dict[str, float] = {}
        t0 = time.perf_counter()
        if key == "vaswani":
            self.corpus = corpora.load_vaswani()
        elif key == "zipf":
            self.corpus = corpora.make_zipf_corpus()
        else:
            raise ValueError(key)
        self.setup_seconds["load"] = time.perf_counter() - t0
        self.has_ours = engines.ours_available()
        self._offered: dict[str, Any] = {}

    # -- tokens ---------------------------------------------------------------------------

    @cached_property
    def _tokenizer(self) -> Any:
        if self.has_ours:
            return engines.new_ours_index().tokenize
        return engines.fallback_tokenize

    @cached_property
    def doc_tokens(self) -> list[list[str]]:
        t0 = time.perf_counter()
        toks = engines.tokenize_all(self.corpus.docs, self._tokenizer, self._interned)
        self.setup_seconds["tokenize_docs"] = time.perf_counter() - t0
        return toks

    @cached_property
    def _interned(self) -> dict[str, str]:
        return {}

    @cached_property
    def _raw_query_tokens(self) -> list[list[str]]:
        return engines.tokenize_all(self.corpus.queries, self._tokenizer, self._interned)

    @cached_property
    def strip_oov(self) -> bool:
        """Remove query terms absent from the corpus (for every engine) when our build crashes
        on them; such terms score nothing in any engine, so results are unchanged."""
        return self.has_ours and not ours_survives_oov_query()

    @cached_property
    def query_tokens(self) -> list[list[str]]:
        toks = self._raw_query_tokens
        if not self.strip_oov:
            return toks
        vocab: set[str] = set()
        for doc in self.doc_tokens:
            vocab.update(doc)
        kept = [[t for t in q if t in vocab] for q in toks]
        self.oov_terms_removed = sum(len(a) - len(b) for a, b in zip(toks, kept))
        return kept

    @cached_property
    def query_texts(self) -> list[str]:
        """Query strings given to our engine (raw text, or OOV-stripped tokens, see above)."""
        if not self.strip_oov:
            return list(self.corpus.queries)
        return [" ".join(q) for q in self.query_tokens]

    @cached_property
    def joined_docs(self) -> list[str]:
        """Whitespace-joined tokens for tantivy (reuses the raw text when it is identical)."""
        out: list[str] = []
        same = 0
        for raw, toks in zip(self.corpus.docs, self.doc_tokens):
            joined = " ".join(toks)
            if joined == raw:
                out.append(raw)
                same += 1
            else:
                out.append(joined)
        self.raw_equals_tokens_fraction = same / max(1, len(out))
        return out

    @cached_property
    def stats(self) -> dict[str, Any]:
        st = corpora.corpus_stats(self.corpus, self.doc_tokens, self.query_tokens)
        st["tokens_from"] = "ltrr_fast" if self.has_ours else "fallback-regex"
        if self.strip_oov:
            st["oov_query_terms_removed"] = getattr(self, "oov_terms_removed", None)
        st["corpus_meta"] = dict(self.corpus.meta)
        return st

    # -- indexes (built once; a build benchmark may hand over its last result) -------------

    def offer(self, name: str, obj: Any) -> None:
        if name not in self.__dict__ and name not in self._offered:
            self._offered[name] = obj

    def _timed(self, name: str, fn: Any) -> Any:
        if name in self._offered:
            return self._offered.pop(name)
        t0 = time.perf_counter()
        obj = fn()
        self.setup_seconds[f"build_{name}"] = time.perf_counter() - t0
        return obj

    @cached_property
    def ours(self) -> Any:
        if not self.has_ours:
            pytest.skip("ltrr_fast is not importable yet")
        corpus = self.corpus
        return self._timed("ours", lambda: engines.build_ours(corpus.doc_ids, corpus.docs))

    @cached_property
    def bm25s(self) -> Any:
        return self._timed("bm25s", lambda: engines.build_bm25s_from_tokens(self.doc_tokens))

    @cached_property
    def tantivy(self) -> engines.TantivyEngine:
        return self._timed("tantivy", lambda: engines.build_tantivy(self.joined_docs, 1))

    # -- correctness (not timed) -----------------------------------------------------------

    @cached_property
    def agreement(self) -> dict[str, Any]:
        """Top-10 agreement of ours and tantivy against bm25s on the whole query set."""
        t0 = time.perf_counter()
        q_toks = self.query_tokens
        k = min(TOP_CHECK, self.corpus.n_docs)
        b_docs, b_scores = engines.bm25s_retrieve(self.bm25s, q_toks, k=k, n_threads=1)
        ref: list[set[int]] = []
        ref_kth: list[float] = []
        for row_d, row_s in zip(b_docs, b_scores):
            keep = row_s > 0
            ref.append({int(d) for d in row_d[keep]})
            ref_kth.append(float(row_s[keep].min()) if keep.any() else 0.0)
        out: dict[str, Any] = {"k": k, "n_queries": len(q_toks), "reference": "bm25s"}

        def compare(name: str, got: list[list[int]]) -> None:
            exact = overlap = tie_ok = near_ok = 0.0
            for qi, docs in enumerate(got):
                a, r = set(docs), ref[qi]
                denom = max(len(a), len(r), 1)
                overlap += len(a & r) / denom
                if a == r:
                    exact += 1
                    tie_ok += 1
                    near_ok += 1
                    continue
                # do the sets differ only by docs whose bm25s score ties the cut-off score
                # (float32 noise, tol 1e-4) or is within 1% of it (tantivy quantises lengths)?
                full = self.bm25s.get_scores(q_toks[qi]) if q_toks[qi] else None
                if full is not None and len(a) == len(r):
                    kth = ref_kth[qi]
                    worst = min(float(full[d]) for d in a - r)
                    tie_ok += worst >= kth - 1e-4 * max(1.0, abs(kth))
                    near_ok += worst >= kth - 1e-2 * abs(kth)
            n = max(1, len(got))
            out[name] = {
                "exact_set_fraction": exact / n,
                "mean_overlap": overlap / n,
                "tie_adjusted_fraction": tie_ok / n,
                "within_1pct_of_cutoff_fraction": near_ok / n,
            }

        if self.has_ours:
            batch = self.ours.search_batch(
                self.query_texts, k=k, params=engines.ours_params(), n_threads=1
            )
            ours_docs = [self._ours_positions(batch[i]) for i in range(len(batch))]
            compare("ours_vs_bm25s", ours_docs)
            max_diff = 0.0
            for qi in range(len(batch)):
                hits = batch[qi]
                if len(hits.scores) and len(ours_docs[qi]) and q_toks[qi]:
                    full = self.bm25s.get_scores(q_toks[qi])
                    diff = np.abs(full[ours_docs[qi]] - np.asarray(hits.scores, dtype=np.float64))
                    max_diff = max(max_diff, float(diff.max()))
            out["ours_vs_bm25s"]["max_abs_score_diff"] = max_diff
        tant = [self.tantivy.top_ids(toks, k)[0] if toks else [] for toks in q_toks]
        compare("tantivy_vs_bm25s", tant)
        self.setup_seconds["agreement"] = time.perf_counter() - t0
        return out

    def _ours_positions(self, hits: Any) -> list[int]:
        """Our hits as corpus positions (doc ids are the decimal position for Zipf)."""
        pos = self._id_to_pos
        return [pos[x] for x in hits.ids]

    @cached_property
    def _id_to_pos(self) -> dict[str, int]:
        return {d: i for i, d in enumerate(self.corpus.doc_ids)}

    def info(self) -> dict[str, Any]:
        return {
            "corpus_stats": self.stats,
            "setup_seconds": {k: round(v, 3) for k, v in self.setup_seconds.items()},
        }


_OOV_PROBE = """
from ltrr_fast.index import LexicalIndex, BM25Params
idx = LexicalIndex(fields=("text",), stopwords=None, stemmer=None)
idx.add_batch(["a", "b"], {"text": ["alpha beta", "beta gamma"]})
p = BM25Params(variant="lucene", k1=1.2, b=0.75)
idx.search("beta zzzunknown", k=10, params=p)
idx.search_batch(["zzzunknown", "alpha"], k=10, params=p, n_threads=1)
"""


def ours_survives_oov_query() -> bool:
    """Probe, in a child process, that a query with an unknown term does not crash our build."""
    proc = subprocess.run(
        [sys.executable, "-c", _OOV_PROBE], capture_output=True, timeout=300, check=False
    )
    return proc.returncode == 0


def pytest_collection_modifyitems(config: Any, items: list[pytest.Item]) -> None:
    """Warnings from peer libraries must not fail a benchmark run (the project's pytest config
    turns warnings into errors for the unit tests)."""
    here = Path(__file__).resolve().parent
    for item in items:
        if Path(str(item.fspath)).resolve().parent == here:
            item.add_marker(pytest.mark.filterwarnings("default"))


@pytest.fixture(scope="session")
def env_info() -> dict[str, Any]:
    return {
        "hardware": engines.hardware_info(),
        "versions": engines.library_versions(),
        "ours_build": engines.ours_build_info(),
    }


@pytest.fixture(scope="session")
def bm25s_warm() -> None:
    engines.warm_up_bm25s()


@pytest.fixture(scope="session", params=CORPUS_NAMES)
def bundle(request: pytest.FixtureRequest) -> Any:
    b = Bundle(request.param)
    yield b
    del b
    gc.collect()


@pytest.fixture(scope="session")
def rounds() -> dict[str, int]:
    """Rounds per benchmark kind (env overrides); medians are quoted throughout."""
    return {
        "build_small": _env_int("LTRR_BENCH_BUILD_ROUNDS_SMALL", 5),
        "build_large": _env_int("LTRR_BENCH_BUILD_ROUNDS", 3),
        "search": _env_int("LTRR_BENCH_ROUNDS", 5),
        "search_large": _env_int("LTRR_BENCH_ROUNDS_LARGE", 3),
    }


def pytest_benchmark_update_machine_info(config: Any, machine_info: dict[str, Any]) -> None:
    machine_info["ltrr_hardware"] = engines.hardware_info()
    machine_info["ltrr_versions"] = engines.library_versions()
    machine_info["ltrr_ours_build"] = engines.ours_build_info()
