"""The vector index: exact and HNSW search against numpy, filters, replace semantics, bad input,
persistence and threads (CASES 6-9, 17, 20)."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest

from ltrr_fast.datasets.music import load_spotify
from ltrr_fast.index.embedding import LSAEmbedder
from ltrr_fast.index.vectors import FORMAT_VERSION, VectorFormatError, VectorIndex


def brute_force(data: np.ndarray, ids: np.ndarray, query: np.ndarray, k: int, metric: str):
    """Exact top-k by numpy: (doc ids, distances), ties by smaller doc id."""
    data = data.astype(np.float64)
    query = query.astype(np.float64)
    if metric == "cos":
        d = 1 - data @ query / (np.linalg.norm(data, axis=1) * np.linalg.norm(query))
    elif metric == "ip":
        d = 1 - data @ query
    else:
        d = ((data - query) ** 2).sum(axis=1)
    order = np.lexsort((ids, d))[:k]
    return ids[order], d[order]


def random_index(n=300, dim=16, metric="cos", seed=0, **kw):
    rng = np.random.default_rng(seed)
    data = rng.normal(size=(n, dim)).astype(np.float32)
    ids = rng.permutation(10 * n)[:n].astype(np.uint32)
    index = VectorIndex(dim, metric, **kw)
    index.add_batch(ids, data)
    return index, ids, data, rng


@pytest.mark.parametrize("metric", ["cos", "ip", "l2sq"])
@pytest.mark.parametrize("k", [1, 10, 400])
def test_exact_search_matches_numpy_when_small(metric, k):
    index, ids, data, rng = random_index(metric=metric)
    for _ in range(10):
        query = rng.normal(size=16).astype(np.float32)
        hits = index.search(query, k)
        want_ids, want_d = brute_force(data, ids, query, k, metric)
        assert len(hits) == min(k, len(ids))
        np.testing.assert_allclose(hits.distances, want_d, rtol=1e-4, atol=1e-4)
        assert set(hits.doc_ids.tolist()) == set(want_ids.tolist())


@pytest.fixture(scope="module")
def spotify_vectors():
    music = load_spotify()
    fields = {"title": music.titles, "artist": music.artists, "album": music.albums}
    embedder = LSAEmbedder(64, seed=0).fit(fields)
    vectors = embedder.embed_fields(fields)
    keep = np.flatnonzero(np.any(vectors, axis=1))
    return keep.astype(np.uint32), vectors[keep]


def test_hnsw_recall_at_10_is_at_least_095_on_spotify_lsa_vectors(spotify_vectors):
    ids, vectors = spotify_vectors
    index = VectorIndex(vectors.shape[1], exact_threshold=0)
    index.add_batch(ids, vectors)
    rng = np.random.default_rng(1)
    queries = vectors[rng.choice(len(ids), 300, replace=False)]
    queries = queries + 0.05 * rng.normal(size=queries.shape).astype(np.float32)
    found = index.search_batch(queries, 10)
    hits = 0
    for i, query in enumerate(queries):
        # A returned id counts when its true distance is within the exact 10th distance
        # (the catalog holds duplicate tracks whose vectors tie).
        _, want_d = brute_force(vectors, ids, query, 10, "cos")
        got = found[i]
        true_d = 1 - vectors[np.searchsorted(ids, got.doc_ids)] @ query / np.linalg.norm(query)
        hits += int((true_d <= want_d[-1] + 1e-5).sum())
    recall = hits / (10 * len(queries))
    assert recall >= 0.95, recall


def test_filtered_search_is_exact_for_small_sets_and_never_leaves_the_filter():
    index, ids, data, rng = random_index(n=3000, exact_threshold=0)
    query = rng.normal(size=16).astype(np.float32)
    allowed = ids[::40]
    hits = index.search(query, 10, allowed=allowed)
    want, _ = brute_force(data[::40], allowed, query, 10, "cos")
    assert hits.doc_ids.tolist() == want.tolist()
    mask = np.zeros(int(ids.max()) + 1, dtype=bool)
    mask[ids[::2]] = True  # a broad filter goes through the graph with over-fetching
    broad = index.search_batch(rng.normal(size=(20, 16)).astype(np.float32), 10, allowed=mask)
    assert mask[broad.doc_ids].all() and np.diff(broad.indptr).tolist() == [10] * 20
    assert len(index.search(query, 5, allowed=[10**6])) == 0


def test_re_adding_a_removed_key_returns_promptly_and_replaces():
    # CASES 6 and 7: add/remove/add of one key must not hang; a doc id is never held twice.
    rng = np.random.default_rng(2)
    v = rng.normal(size=(3, 8)).astype(np.float32)
    index = VectorIndex(8)
    done = threading.Event()

    def sequence():
        index.add(42, v[0])
        index.delete(42)
        index.add(42, v[0])
        index.add(42, v[0])
        done.set()

    worker = threading.Thread(target=sequence, daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert done.is_set(), "add/delete/add of one key did not return within 10 s"
    assert len(index) == 1 and index.search(v[0], 5).doc_ids.tolist() == [42]
    for exact in (True, False):
        index = VectorIndex(8, exact_threshold=0 if not exact else 100)
        index.add_batch([1, 2, 3], v)
        for d in (2, 1, 3):
            assert index.delete(d)
        assert len(index) == 0 and not index.delete(2)
        index.add_batch([3, 1, 2], v[[2, 0, 1]])
        assert len(index) == 3 and index.doc_ids().tolist() == [1, 2, 3]
        for d in (1, 2, 3):
            assert index.search(v[d - 1], 3).doc_ids[0] == d


def test_a_later_duplicate_in_a_batch_wins():
    index = VectorIndex(2, "l2sq")
    index.add_batch([5, 6, 5], [[0, 0], [1, 1], [9, 9]])
    assert len(index) == 2
    np.testing.assert_array_equal(index.get([5]), [[9, 9]])


@pytest.mark.parametrize(
    "doc_ids, vectors, error, message",
    [
        (
            [1, 2],
            [np.ones(8), np.ones(7)],
            ValueError,
            r"dimension 8, got rows of lengths \[7, 8\]",
        ),
        ([1, 2], np.ones((2, 9)), ValueError, "dimension 8, got 9"),
        ([1, 2], [np.ones(8), np.zeros(8)], ValueError, "row 1 is all zero"),
        ([1, 2], [np.ones(8), np.full(8, np.nan)], ValueError, "row 1 holds NaN"),
        ([1, 2], [np.ones(8), np.full(8, np.inf)], ValueError, "row 1 holds NaN or infinite"),
        ([1, 2], [np.ones(8), np.full(8, 1e300)], ValueError, "overflows float32"),
        ([1], np.ones((2, 8)), ValueError, "1 doc ids but 2 vectors"),
        (["a"], np.ones((1, 8)), TypeError, "doc_ids must be integers"),
        ([1.5], np.ones((1, 8)), TypeError, "doc_ids must be integers"),
        ([-1], np.ones((1, 8)), ValueError, r"\[0, 2\*\*32 - 1\]"),
        ([2**32], np.ones((1, 8)), ValueError, "got 4294967296"),
        ([1], np.array([["a"] * 8]), TypeError, "must hold numbers"),
    ],
)
def test_bad_vectors_are_refused_and_nothing_is_partly_inserted(doc_ids, vectors, error, message):
    # CASES 8 and 9.
    index = VectorIndex(8)
    index.add(7, np.arange(1, 9))
    with pytest.raises(error, match=message):
        index.add_batch(doc_ids, vectors)
    assert index.doc_ids().tolist() == [7]
    np.testing.assert_array_equal(index.get([7])[0], np.arange(1, 9))


def test_queries_of_the_wrong_dimension_or_zero_norm_are_refused():
    index = VectorIndex(8)
    index.add(1, np.ones(8))
    with pytest.raises(ValueError, match="dimension 8, got 9"):
        index.search(np.ones(9))
    for dtype in (np.float64, np.float32):  # float32 takes the lean single-query path
        with pytest.raises(ValueError, match="all zero"):
            index.search(np.zeros(8, dtype))
        with pytest.raises(ValueError, match="NaN or infinite"):
            index.search(np.full(8, np.nan, dtype))
        with pytest.raises(ValueError, match="NaN or infinite"):
            index.search(np.r_[np.ones(7), np.inf].astype(dtype))
    huge = np.full(8, 3e38, np.float32)  # finite, though its squared norm overflows
    assert index.search(huge, 1).doc_ids.tolist() == [1]
    with pytest.raises(ValueError, match="dimension 8, got 7"):
        index.add(2, np.ones(7))
    # Under inner product and L2 a zero vector is a point like any other: no NaN anywhere.
    for metric in ("ip", "l2sq"):
        other = VectorIndex(4, metric)
        other.add_batch([0, 1, 2], [[0, 0, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0]])
        hits = other.search(np.zeros(4), 3)
        assert len(hits) == 3 and np.isfinite(hits.distances).all()


def test_a_failed_add_rolls_back_and_keeps_the_replaced_vector(monkeypatch):
    index = VectorIndex(4, "l2sq")
    index.add_batch([1, 2], [[1, 0, 0, 0], [0, 1, 0, 0]])
    real_add = index.usearch_index.add

    def failing_add(keys, vectors, **kw):
        real_add(keys[:1], vectors[:1], **kw)
        raise RuntimeError("out of memory")

    monkeypatch.setattr(index.usearch_index, "add", failing_add)
    with pytest.raises(RuntimeError, match="out of memory"):
        index.add_batch([2, 3], [[9, 9, 9, 9], [8, 8, 8, 8]])
    monkeypatch.undo()
    assert index.doc_ids().tolist() == [1, 2] and len(index) == 2
    np.testing.assert_array_equal(index.get([2]), [[0, 1, 0, 0]])
    assert 3 not in index and index.search(np.array([8.0, 8, 8, 8]), 3).doc_ids.tolist() == [2, 1]


def test_save_and_load_round_trip_and_refuse_mismatches(tmp_path):
    index, ids, _, rng = random_index(n=500, metric="ip", exact_threshold=0)
    index.delete(int(ids[0]))
    path = tmp_path / "vectors.ltrrv"
    index.save(path)
    assert os.listdir(tmp_path) == ["vectors.ltrrv"]  # the temporary beside it is gone
    loaded = VectorIndex.load(path, dim=16, metric="dot")
    assert loaded.metric == "ip" and len(loaded) == 499 and int(ids[0]) not in loaded
    queries = rng.normal(size=(5, 16)).astype(np.float32)
    a, b = index.search_batch(queries, 10), loaded.search_batch(queries, 10)
    assert a.doc_ids.tolist() == b.doc_ids.tolist()
    with pytest.raises(ValueError, match="dimension 16, expected 8"):
        VectorIndex.load(path, dim=8)
    with pytest.raises(ValueError, match="metric 'ip', expected 'cos'"):
        VectorIndex.load(path, metric="cos")


def test_corrupt_truncated_foreign_and_future_files_raise(tmp_path):
    index, *_ = random_index(n=50)
    path = tmp_path / "v.ltrrv"
    index.save(path)
    raw = bytearray(path.read_bytes())
    cases = {
        "flipped": raw[:-10] + bytes([raw[-10] ^ 0xFF]) + raw[-9:],
        "truncated": raw[: len(raw) // 2],
        "header only": raw[:20],
        "foreign": b"not a vector index at all" * 10,
        "future": raw[:8] + (FORMAT_VERSION + 1).to_bytes(4, "little") + raw[12:],
    }
    for name, content in cases.items():
        bad = tmp_path / f"{name}.ltrrv"
        bad.write_bytes(bytes(content))
        with pytest.raises(VectorFormatError) as caught:
            VectorIndex.load(bad)
        if name == "future":
            assert f"format version {FORMAT_VERSION + 1} not supported" in str(caught.value)
    with pytest.raises(OSError):
        VectorIndex.load(tmp_path / "missing.ltrrv")


def test_an_empty_index_saves_loads_and_takes_adds(tmp_path):
    # CASE 17.
    path = tmp_path / "empty.ltrrv"
    VectorIndex(4).save(path)
    loaded = VectorIndex.load(path)
    assert len(loaded) == 0 and len(loaded.search(np.ones(4), 3)) == 0
    loaded.add(3, np.ones(4))
    loaded.save(path)
    assert VectorIndex.load(path).doc_ids().tolist() == [3]


def test_threads_adding_listing_saving_and_deleting_see_only_live_ids(tmp_path):
    # CASE 20: every listed id is live, nothing crashes, and saved snapshots are consistent.
    dim = 8
    index = VectorIndex(dim, exact_threshold=200)
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(100_000, dim)).astype(np.float32)
    index.add_batch(np.arange(100), vectors[:100])
    stop = time.perf_counter() + 2.0
    errors: list[BaseException] = []

    def adder():
        next_id = 100
        try:
            while time.perf_counter() < stop and next_id < len(vectors):
                index.add_batch(np.arange(next_id, next_id + 5), vectors[next_id : next_id + 5])
                next_id += 5
        except Exception as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    def lister():
        old = 0
        try:
            while time.perf_counter() < stop:
                ids = index.doc_ids()
                assert len(np.unique(ids)) == len(ids)
                index.get(ids)  # KeyError if a listed id were not live
                assert len(index) >= len(ids) - 0  # adds only grow it meanwhile
                index.save(tmp_path / "snap.ltrrv")
                snap = VectorIndex.load(tmp_path / "snap.ltrrv")
                assert len(snap) == len(snap.doc_ids())
                index.delete(old)
                index.search(vectors[old], 3)
                old += 1
        except Exception as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=adder), threading.Thread(target=lister)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert len(index) == len(index.doc_ids())


def test_bad_constructor_and_search_arguments_are_named():
    with pytest.raises(ValueError, match="unknown metric 'hamming'"):
        VectorIndex(4, "hamming")
    with pytest.raises(ValueError, match="dim must be >= 1, got 0"):
        VectorIndex(0)
    with pytest.raises(TypeError, match="dim must be an int, got float"):
        VectorIndex(4.0)
    index = VectorIndex(4)
    index.add(1, np.ones(4))
    with pytest.raises(ValueError, match="k must be >= 0"):
        index.search(np.ones(4), -1)
    with pytest.raises(KeyError, match="doc id 9 has no vector"):
        index.get([1, 9])
    with pytest.raises(ValueError, match="mask must be 1-d"):
        index.search(np.ones(4), 1, allowed=np.ones((2, 2), dtype=bool))
