"""Thin adapters over the engines compared in the lexical benchmarks.

Every engine gets the same tokens: the output of our analyzer (``LexicalIndex.tokenize``), given
to bm25s as ``list[list[str]]`` and to tantivy as whitespace-joined text indexed with tantivy's
``whitespace`` tokenizer (no lowercasing, no length filter, no stemming: the tokens pass through
unchanged). Scoring is BM25, Lucene variant, k1=1.2, b=0.75 everywhere (tantivy hard-codes
exactly these values and the Lucene idf; it also quantises document lengths to one byte).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import os
import platform
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

K1 = 1.2
B = 0.75
TANTIVY_TOKENIZER = "ws_pretokenized"
TANTIVY_HEAP_BYTES = 2_000_000_000  # per writer; a large heap keeps 1M docs in few segments

_FALLBACK_TOKEN = re.compile(r"\w+")


# --------------------------------------------------------------------------------------------
# Environment
# --------------------------------------------------------------------------------------------


def cpu_model() -> str:
    """CPU model name from ``/proc/cpuinfo`` (falls back to ``platform.processor()``)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def n_cores() -> int:
    """Cores usable by this process (affinity-aware)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


def mem_total_gib() -> float | None:
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def hardware_info() -> dict[str, Any]:
    return {
        "cpu_model": cpu_model(),
        "n_cores": n_cores(),
        "os_cpu_count": os.cpu_count(),
        "mem_total_gib": mem_total_gib(),
        "machine": platform.machine(),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def library_versions() -> dict[str, str | None]:
    names = ["ltrr_fast", "numpy", "bm25s", "tantivy", "numba", "scipy", "PyStemmer"]
    versions = {name: _version(name) for name in names}
    versions["pytest-benchmark"] = _version("pytest-benchmark")
    if versions["ltrr_fast"] is None and ours_available():
        mod = importlib.import_module("ltrr_fast")
        versions["ltrr_fast"] = str(getattr(mod, "__version__", "dev"))
    return versions


def ours_build_info() -> dict[str, Any]:
    """Which build of our engine ran: module path, digest of the compiled core, repo state."""
    info: dict[str, Any] = {}
    if not ours_available():
        return info
    core = importlib.import_module("ltrr_fast._core")
    path = str(getattr(core, "__file__", ""))
    info["core_path"] = path
    try:
        with open(path, "rb") as fh:
            info["core_sha256"] = hashlib.sha256(fh.read()).hexdigest()[:16]
        info["core_mtime"] = os.path.getmtime(path)
    except OSError:
        pass
    repo = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain", "--", "csrc", "src"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        ).stdout.strip()
        info["git_head"] = head or None
        info["csrc_src_uncommitted_changes"] = len(dirty.splitlines()) if dirty else 0
    except (OSError, subprocess.SubprocessError):
        pass
    return info


def numba_available() -> bool:
    try:
        importlib.import_module("numba")
    except ImportError:
        return False
    return True


# --------------------------------------------------------------------------------------------
# Ours
# --------------------------------------------------------------------------------------------


def ours_available() -> bool:
    try:
        importlib.import_module("ltrr_fast.index")
    except ImportError:
        return False
    return True


def new_ours_index() -> Any:
    """An empty single-field index with a plain analyzer (no stopwords, no stemming)."""
    from ltrr_fast.index import LexicalIndex

    return LexicalIndex(fields=("text",), stopwords=None, stemmer=None)


def ours_params() -> Any:
    from ltrr_fast.index import BM25Params

    return BM25Params(variant="lucene", k1=K1, b=B)


def build_ours(doc_ids: Sequence[str], docs: Sequence[str]) -> Any:
    """Index raw text with our analyzer (tokenising included)."""
    idx = new_ours_index()
    idx.add_batch(list(doc_ids), {"text": list(docs)})
    return idx


def fallback_tokenize(text: str) -> list[str]:
    """Stand-in analyzer used only when ltrr_fast is not importable (peer-only dev runs)."""
    return _FALLBACK_TOKEN.findall(text.lower())


def tokenize_all(
    texts: Sequence[str], tokenizer: Any, interned: dict[str, str] | None = None
) -> list[list[str]]:
    """Tokenise every text; equal tokens share one ``str`` object to keep memory low."""
    canon = {} if interned is None else interned
    setdefault = canon.setdefault
    return [[setdefault(t, t) for t in tokenizer(text)] for text in texts]


# --------------------------------------------------------------------------------------------
# bm25s
# --------------------------------------------------------------------------------------------


def bm25s_backend() -> str:
    return "numba" if numba_available() else "numpy"


def new_bm25s() -> Any:
    import bm25s

    return bm25s.BM25(method="lucene", k1=K1, b=B, backend=bm25s_backend())


def build_bm25s_from_tokens(doc_tokens: list[list[str]]) -> Any:
    retriever = new_bm25s()
    retriever.index(doc_tokens, show_progress=False)
    return retriever


def build_bm25s_from_text(docs: list[str]) -> Any:
    """bm25s's own pipeline: its regex tokenizer (lowercase, no stopwords) then index."""
    import bm25s

    tokenized = bm25s.tokenize(docs, lower=True, stopwords=None, show_progress=False)
    retriever = new_bm25s()
    retriever.index(tokenized, show_progress=False)
    return retriever


def bm25s_retrieve(
    retriever: Any, query_tokens: list[list[str]], k: int, n_threads: int
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k doc indices and scores, shape ``(n_queries, k)``."""
    res = retriever.retrieve(
        query_tokens, k=k, n_threads=n_threads, show_progress=False, return_as="tuple"
    )
    return res.documents, res.scores


def warm_up_bm25s() -> None:
    """Trigger numba JIT compilation (index builder and scorers) outside timed regions."""
    toks = [["aa", "bb", "cc"], ["bb", "dd"], ["aa", "ee", "ee"], ["ff"]]
    retriever = build_bm25s_from_tokens(toks)
    for n_threads in (1, max(2, n_cores())):
        bm25s_retrieve(retriever, [["aa", "bb"], ["ee"]], k=2, n_threads=n_threads)


# --------------------------------------------------------------------------------------------
# tantivy
# --------------------------------------------------------------------------------------------


class TantivyEngine:
    """A tantivy index with one whitespace-tokenised text field and a u64 ``id`` fast field.

    The text field is indexed with frequencies but without positions (``index_option="freq"``),
    which is all BM25 needs and what our index and bm25s store as well.
    """

    def __init__(self) -> None:
        import tantivy

        self._t = tantivy
        sb = tantivy.SchemaBuilder()
        sb.add_unsigned_field("id", fast=True)
        sb.add_text_field("text", tokenizer_name=TANTIVY_TOKENIZER, index_option="freq")
        self.schema = sb.build()
        self.index = tantivy.Index(self.schema)  # in RAM
        analyzer = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build()
        self.index.register_tokenizer(TANTIVY_TOKENIZER, analyzer)
        self.searcher: Any = None

    def add_all(
        self, texts: Sequence[str], num_threads: int, heap: int = TANTIVY_HEAP_BYTES
    ) -> None:
        t = self._t
        writer = self.index.writer(heap_size=heap, num_threads=num_threads)
        document = t.Document
        add = writer.add_document
        for i, text in enumerate(texts):
            doc = document()
            doc.add_unsigned("id", i)
            doc.add_text("text", text)
            add(doc)
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()
        self.searcher = self.index.searcher()

    @property
    def num_segments(self) -> int:
        return int(self.searcher.num_segments)

    def query(self, tokens: Sequence[str]) -> Any:
        """OR of term queries (BM25 summed over the terms, as in our engine and bm25s)."""
        t = self._t
        should = t.Occur.Should
        schema = self.schema
        term = t.Query.term_query
        return t.Query.boolean_query(
            [(should, term(schema, "text", tok, index_option="freq")) for tok in tokens]
        )

    def search(self, tokens: Sequence[str], k: int) -> Any:
        return self.searcher.search(self.query(tokens), limit=k, count=False)

    def top_ids(self, tokens: Sequence[str], k: int) -> tuple[list[int], list[float]]:
        hits = self.search(tokens, k).hits
        ids = self.searcher.fast_field_values("id", [addr for _, addr in hits])
        return [int(i) for i in ids], [float(s) for s, _ in hits]


def build_tantivy(texts: Sequence[str], num_threads: int) -> TantivyEngine:
    engine = TantivyEngine()
    engine.add_all(texts, num_threads=num_threads)
    return engine
