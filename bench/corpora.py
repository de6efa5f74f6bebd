"""Corpora for the lexical benchmarks: Vaswani (real) and a seeded synthetic Zipf corpus.

Nothing is written into the repository. The synthetic generator keeps an optional cache of the
drawn token ids under ``/tmp`` (``LTRR_BENCH_CACHE``); the data itself is regenerated bit-for-bit
from the seed when the cache is absent.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

DATA_DIR = Path(os.environ.get("LTRR_DATA_DIR", "/work/shared/data"))
VASWANI_DIR = DATA_DIR / "ir_vaswani_npl"
CACHE_DIR = Path(os.environ.get("LTRR_BENCH_CACHE", "/tmp/ltrr_bench_cache"))

DEFAULT_ZIPF_DOCS = 1_000_000
DEFAULT_ZIPF_VOCAB = 200_000
DEFAULT_ZIPF_EXPONENT = 1.1
DEFAULT_ZIPF_MEAN_LEN = 50.0
DEFAULT_ZIPF_LEN_SIGMA = 0.6
DEFAULT_ZIPF_QUERIES = 1_000
DEFAULT_SEED = 20240611

_ALPHABET = 26
_MIN_WORD_LEN = 2  # keeps every word a token for "\w\w+"-style tokenizers (bm25s default)


@dataclass
class Corpus:
    """Documents and queries of one benchmark corpus (one text field)."""

    name: str
    doc_ids: list[str]
    docs: list[str]
    query_ids: list[str]
    queries: list[str]
    meta: dict[str, object] = field(default_factory=dict)

    @property
    def n_docs(self) -> int:
        return len(self.docs)

    @property
    def n_queries(self) -> int:
        return len(self.queries)


def bench_docs_from_env(default: int = DEFAULT_ZIPF_DOCS) -> int:
    """Synthetic corpus size: ``LTRR_BENCH_DOCS`` (accepts ``50_000`` or ``5e4``) or default."""
    raw = os.environ.get("LTRR_BENCH_DOCS", "").strip()
    if not raw:
        return default
    value = int(float(raw.replace("_", "")))
    if value < 1:
        raise ValueError(f"LTRR_BENCH_DOCS must be positive, got {raw!r}")
    return value


# --------------------------------------------------------------------------------------------
# Vaswani
# --------------------------------------------------------------------------------------------


def load_vaswani(root: Path | str = VASWANI_DIR) -> Corpus:
    """Load Vaswani NPL: 11,429 docs (title is always empty, kept for generality), 93 queries."""
    root = Path(root)
    doc_ids: list[str] = []
    docs: list[str] = []
    with open(root / "corpus.jsonl", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            doc_ids.append(str(rec["id"]))
            title = rec.get("title") or ""
            docs.append(f"{title} {rec['text']}".strip() if title else rec["text"])
    query_ids: list[str] = []
    queries: list[str] = []
    with open(root / "queries.jsonl", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            query_ids.append(str(rec["id"]))
            queries.append(rec["text"])
    meta: dict[str, object] = {"source": str(root), "kind": "real"}
    return Corpus("vaswani", doc_ids, docs, query_ids, queries, meta)


# --------------------------------------------------------------------------------------------
# Synthetic Zipf corpus
# --------------------------------------------------------------------------------------------


def pseudo_word_matrix(n_words: int) -> np.ndarray:
    """Deterministic pseudo-words as a zero-padded ``uint8`` matrix of shape ``(n, max_len)``.

    Rank ``r`` maps to the ``r``-th lowercase base-26 string in (length, lexicographic) order,
    starting at length 2: ``aa, ab, ..., zz, aaa, ...``. Frequent ranks thus get short words,
    like natural language. All words are distinct and contain only ``a-z``.
    """
    if n_words < 1:
        raise ValueError("n_words must be positive")
    ranks = np.arange(n_words, dtype=np.int64)
    lengths = np.empty(n_words, dtype=np.int64)
    offsets = ranks.copy()
    length = _MIN_WORD_LEN
    start = 0
    while start < n_words:
        block = _ALPHABET**length
        stop = min(start + block, n_words)
        lengths[start:stop] = length
        offsets[start:stop] -= start
        start = stop
        length += 1
    max_len = int(lengths.max())
    out = np.zeros((n_words, max_len), dtype=np.uint8)
    rem = offsets.copy()
    # fill from the last character backwards: digit j (from the right) of the offset
    for j in range(max_len):
        col_from_right = j
        digit = (rem % _ALPHABET).astype(np.uint8)
        rem //= _ALPHABET
        pos = lengths - 1 - col_from_right
        valid = pos >= 0
        out[np.nonzero(valid)[0], pos[valid]] = digit[valid] + ord("a")
    return out


def pseudo_words(n_words: int) -> list[str]:
    """The pseudo-words of :func:`pseudo_word_matrix` as Python strings."""
    mat = pseudo_word_matrix(n_words)
    return [row.tobytes().rstrip(b"\0").decode("ascii") for row in mat]


def zipf_cdf(vocab_size: int, exponent: float) -> np.ndarray:
    """Cumulative distribution of a finite Zipf law ``p(r) ~ r^-s`` over ranks ``1..V``."""
    weights = np.arange(1, vocab_size + 1, dtype=np.float64) ** (-exponent)
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    return cdf


def _draw_ranks(rng: np.random.Generator, cdf: np.ndarray, size: int) -> np.ndarray:
    """Inverse-CDF draws of 0-based Zipf ranks (int32)."""
    out = np.empty(size, dtype=np.int32)
    chunk = 1 << 23
    for start in range(0, size, chunk):
        stop = min(start + chunk, size)
        u = rng.random(stop - start)
        idx = np.searchsorted(cdf, u, side="right")
        np.minimum(idx, cdf.size - 1, out=idx)
        out[start:stop] = idx
    return out


def _draw_doc_lengths(
    rng: np.random.Generator, n_docs: int, mean_len: float, sigma: float
) -> np.ndarray:
    """Lognormal doc lengths with the given mean (in tokens), clipped to ``[1, 20*mean]``."""
    mu = np.log(mean_len) - 0.5 * sigma * sigma
    lengths = np.rint(rng.lognormal(mean=mu, sigma=sigma, size=n_docs))
    return np.clip(lengths, 1, int(20 * mean_len)).astype(np.int64)


def _draw_queries(
    rng: np.random.Generator,
    cdf: np.ndarray,
    present: np.ndarray,
    n_queries: int,
    min_terms: int,
    max_terms: int,
) -> list[np.ndarray]:
    """Queries of ``min..max`` distinct terms drawn from the same Zipf law.

    Draws are honest Zipf draws (frequent, stopword-like ranks included); a draw is rejected only
    if the rank never occurs in the corpus or repeats a term already in the query.
    """
    n_terms = rng.integers(min_terms, max_terms + 1, size=n_queries)
    queries: list[np.ndarray] = []
    for want in n_terms.tolist():
        chosen: list[int] = []
        while len(chosen) < want:
            for r in _draw_ranks(rng, cdf, 4 * want).tolist():
                if present[r] and r not in chosen:
                    chosen.append(r)
                    if len(chosen) == want:
                        break
        queries.append(np.asarray(chosen, dtype=np.int32))
    return queries


def _join_tokens(word_mat: np.ndarray, ranks: np.ndarray, lengths: np.ndarray) -> list[str]:
    """Vectorised ``" ".join`` of each doc's words; returns one string per doc."""
    n_tok = ranks.size
    width = word_mat.shape[1] + 1
    buf = np.zeros((n_tok, width), dtype=np.uint8)
    buf[:, :-1] = word_mat[ranks]
    buf[:, -1] = ord(" ")
    ends = np.cumsum(lengths) - 1
    buf[ends, -1] = ord("\n")
    flat = buf[buf != 0]
    text = flat.tobytes().decode("ascii")
    docs = text.split("\n")
    docs.pop()  # trailing empty string after the final newline
    return docs


def _cache_key(params: dict[str, object]) -> str:
    blob = json.dumps(params, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def make_zipf_corpus(
    n_docs: int | None = None,
    vocab_size: int = DEFAULT_ZIPF_VOCAB,
    exponent: float = DEFAULT_ZIPF_EXPONENT,
    mean_len: float = DEFAULT_ZIPF_MEAN_LEN,
    len_sigma: float = DEFAULT_ZIPF_LEN_SIGMA,
    n_queries: int = DEFAULT_ZIPF_QUERIES,
    query_terms: tuple[int, int] = (2, 5),
    seed: int = DEFAULT_SEED,
    use_cache: bool = True,
) -> Corpus:
    """Seeded synthetic corpus: Zipf(s) term draws over pseudo-words, lognormal doc lengths.

    ``n_docs`` defaults to ``LTRR_BENCH_DOCS`` or 1,000,000. Documents are space-joined
    lowercase pseudo-words, so any lowercase/whitespace/word tokenizer yields the same tokens.
    """
    if n_docs is None:
        n_docs = bench_docs_from_env()
    params: dict[str, object] = {
        "n_docs": n_docs,
        "vocab_size": vocab_size,
        "exponent": exponent,
        "mean_len": mean_len,
        "len_sigma": len_sigma,
        "n_queries": n_queries,
        "query_terms": list(query_terms),
        "seed": seed,
        "version": 1,
    }
    cache_path = CACHE_DIR / f"zipf_{_cache_key(params)}.npz"
    ranks: np.ndarray | None = None
    if use_cache and cache_path.exists():
        try:
            with np.load(cache_path) as z:
                ranks, lengths = z["ranks"], z["lengths"]
                q_flat, q_ptr = z["q_flat"], z["q_ptr"]
        except (OSError, KeyError, ValueError):
            ranks = None
    if ranks is None:
        rng = np.random.default_rng(seed)
        cdf = zipf_cdf(vocab_size, exponent)
        lengths = _draw_doc_lengths(rng, n_docs, mean_len, len_sigma)
        ranks = _draw_ranks(rng, cdf, int(lengths.sum()))
        present = np.bincount(ranks, minlength=vocab_size) > 0
        qs = _draw_queries(rng, cdf, present, n_queries, query_terms[0], query_terms[1])
        q_flat = np.concatenate(qs).astype(np.int32)
        q_ptr = np.concatenate([[0], np.cumsum([q.size for q in qs])]).astype(np.int64)
        if use_cache:
            CACHE_DIR.mkdir(parents=True, exist_ok=True)
            tmp = cache_path.with_suffix(f".{os.getpid()}.tmp.npz")
            np.savez(tmp, ranks=ranks, lengths=lengths, q_flat=q_flat, q_ptr=q_ptr)
            os.replace(tmp, cache_path)

    word_mat = pseudo_word_matrix(vocab_size)
    docs: list[str] = []
    doc_chunk = 200_000
    tok_start = 0
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    for d0 in range(0, n_docs, doc_chunk):
        d1 = min(d0 + doc_chunk, n_docs)
        tok_start, tok_stop = int(offsets[d0]), int(offsets[d1])
        docs.extend(_join_tokens(word_mat, ranks[tok_start:tok_stop], lengths[d0:d1]))
    words = pseudo_words(vocab_size)
    queries = [
        " ".join(words[r] for r in q_flat[q_ptr[i] : q_ptr[i + 1]].tolist())
        for i in range(q_ptr.size - 1)
    ]
    doc_ids = [str(i) for i in range(n_docs)]
    query_ids = [f"q{i}" for i in range(len(queries))]
    meta: dict[str, object] = dict(params)
    meta.update(
        kind="synthetic",
        total_tokens=int(lengths.sum()),
        distinct_terms=int(np.count_nonzero(np.bincount(ranks, minlength=vocab_size))),
        mean_doc_len=float(lengths.mean()),
    )
    return Corpus(f"zipf{n_docs}", doc_ids, docs, query_ids, queries, meta)


def corpus_stats(
    corpus: Corpus, doc_tokens: list[list[str]], query_tokens: list[list[str]]
) -> dict[str, object]:
    """Sizes of a corpus as seen through a tokenizer (for ``benchmark.extra_info``)."""
    lens = np.fromiter((len(t) for t in doc_tokens), dtype=np.int64, count=len(doc_tokens))
    vocab: set[str] = set()
    for toks in doc_tokens:
        vocab.update(toks)
    qlens = [len(t) for t in query_tokens]
    return {
        "corpus": corpus.name,
        "n_docs": corpus.n_docs,
        "n_queries": corpus.n_queries,
        "total_tokens": int(lens.sum()),
        "mean_doc_len": float(lens.mean()) if lens.size else 0.0,
        "max_doc_len": int(lens.max()) if lens.size else 0,
        "vocab_size": len(vocab),
        "mean_query_terms": float(np.mean(qlens)) if qlens else 0.0,
        "text_bytes": int(sum(len(d) for d in corpus.docs)),
    }
