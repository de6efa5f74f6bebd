"""Embedders: the LSA transform, its SVD against scipy, persistence, and checked encoders."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import svds

from ltrr_fast.index.catalog import Catalog
from ltrr_fast.index.embedding import CallableEmbedder, Embedder, LSAEmbedder, embed_catalog
from ltrr_fast.index.randomized_svd import randomized_svd

TITLES = [
    "Love Story",
    "Shake It Off",
    "Love Me Do",
    "Lose Yourself",
    "Bohemian Rhapsody",
    "Killer Queen",
    "Love Song",
    "Shake It Up",
    "Queen of Hearts",
    "Yourself Alone",
]
ARTISTS = [
    "Taylor Swift",
    "Taylor Swift",
    "The Beatles",
    "Eminem",
    "Queen",
    "Queen",
    "Adele",
    "Selena Gomez",
    "Juice Newton",
    "Nobody",
]


def fitted(dim: int = 6, **kw) -> LSAEmbedder:
    return LSAEmbedder(dim, min_df=1, **kw).fit({"title": TITLES, "artist": ARTISTS})


def test_lsa_vectors_are_unit_length_deterministic_and_shared_by_items_and_queries():
    a, b = fitted(seed=3), fitted(seed=3)
    items = a.embed_fields({"title": TITLES, "artist": ARTISTS})
    assert items.shape == (10, 6) and items.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(items, axis=1), 1, atol=1e-5)
    np.testing.assert_array_equal(items, b.embed_fields({"title": TITLES, "artist": ARTISTS}))
    # A query is the same transform as an item holding its text in one field of weight 1.
    as_item = a.embed_fields({"title": ["queen killer"], "artist": [""]})
    np.testing.assert_allclose(a.embed(["queen killer"]), as_item, atol=1e-6)
    many = TITLES * 2  # more texts than the few-rows path takes: the sparse path
    one_by_one = np.concatenate([a.embed([t]) for t in many])
    np.testing.assert_allclose(one_by_one, a.embed(many), atol=1e-6)
    nearest = np.argmax(items @ a.embed(["killer queen"])[0])
    assert TITLES[nearest] == "Killer Queen"


def test_a_text_with_no_known_feature_gives_a_zero_row():
    embedder = fitted()
    vectors = embedder.embed(["", "zzzz qqqq", "love"])
    assert not vectors[0].any() and not vectors[1].any() and vectors[2].any()


def test_field_weights_change_what_counts():
    embedder = LSAEmbedder(4, min_df=1, char_ngrams=None).fit({"title": TITLES, "artist": ARTISTS})
    heavy = embedder.embed_fields(
        {"title": TITLES, "artist": ARTISTS}, field_weights={"artist": 0.0}
    )
    alone = embedder.embed_fields({"title": TITLES, "artist": [""] * 10})
    np.testing.assert_allclose(heavy, alone, atol=1e-6)


def test_randomized_svd_finds_the_top_singular_subspace_of_scipy():
    rng = np.random.default_rng(0)
    low = rng.normal(size=(400, 8)) @ rng.normal(size=(8, 300)) * np.linspace(3, 1, 300)
    matrix = sp.csr_matrix(low + 0.01 * sp.random(400, 300, density=0.05, random_state=1))
    components = randomized_svd(matrix, 8, n_iter=4, seed=0)
    _, s, vt = svds(matrix, k=8)
    # Same singular values, and the same subspace: projecting scipy's vectors loses nothing.
    got = np.sort(np.linalg.norm(matrix @ components.T, axis=0))[::-1]
    np.testing.assert_allclose(got, np.sort(s)[::-1], rtol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(vt @ components.T, axis=1), 1, atol=1e-4)
    np.testing.assert_allclose(components @ components.T, np.eye(8), atol=1e-5)


def test_lsa_save_and_load_give_the_same_vectors(tmp_path):
    embedder = fitted()
    path = tmp_path / "lsa.npz"
    embedder.save(path)
    loaded = LSAEmbedder.load(path)
    assert loaded.dim == embedder.dim and loaded.n_features == embedder.n_features
    np.testing.assert_array_equal(loaded.embed(["love queen"]), embedder.embed(["love queen"]))
    (tmp_path / "bad.npz").write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="not a saved LSA embedder"):
        LSAEmbedder.load(tmp_path / "bad.npz")
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match="not a saved LSA embedder"):
        LSAEmbedder.load(tmp_path / "other.npz")


def test_lsa_refuses_bad_use():
    with pytest.raises(ValueError, match="not fitted"):
        LSAEmbedder().embed(["x"])
    with pytest.raises(ValueError, match="dim must be >= 1, got 0"):
        LSAEmbedder(0)
    with pytest.raises(ValueError, match="needs words or character n-grams"):
        LSAEmbedder(char_ngrams=None, words=False)
    with pytest.raises(ValueError, match="min_df=5"):
        LSAEmbedder(min_df=5).fit(["a b", "c d"])
    with pytest.raises(ValueError, match="one text per item"):
        LSAEmbedder().fit({"title": ["a", "b"], "artist": ["c"]})
    with pytest.raises(TypeError, match=r"texts\[1\] must be str, got int"):
        fitted().embed(["a", 3])
    with pytest.raises(ValueError, match="unknown fields"):
        fitted().embed_fields({"title": ["a"]}, field_weights={"lyrics": 1.0})


def test_callable_embedder_checks_what_the_encoder_returns():
    calls = []

    def encode(texts):
        calls.append(len(texts))
        return [[len(t), 1.0, 0.0] for t in texts]

    embedder = CallableEmbedder(encode, batch_size=2)
    vectors = embedder.embed(["ab", "abc", "a"])
    assert calls == [2, 1] and embedder.dim == 3 and isinstance(embedder, Embedder)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1, rtol=1e-6)
    joined = embedder.embed_fields({"title": ["x"], "artist": ["yy"]})
    np.testing.assert_allclose(joined, embedder.embed(["x | yy"]))
    for bad, error, message in [
        (lambda t: np.ones((len(t), 4)), ValueError, "dimension 4, expected 3"),
        (lambda t: np.ones(len(t)), ValueError, r"shape \(1, dim\)"),
        (lambda t: np.full((len(t), 3), np.nan), ValueError, "NaN"),
        (lambda t: [["a", "b", "c"]] * len(t), TypeError, "2-d array of numbers"),
    ]:
        checked = CallableEmbedder(bad, dim=3)
        with pytest.raises(error, match=message):
            checked.embed(["x"])
    with pytest.raises(TypeError, match="encode must be callable"):
        CallableEmbedder("model")


def test_embed_catalog_skips_dead_and_textless_items():
    catalog = Catalog(("title", "artist"))
    catalog.add(
        [
            {"id": str(i), "fields": {"title": t, "artist": a}}
            for i, (t, a) in enumerate(zip(TITLES, ARTISTS))
        ]
        + [{"id": "empty"}]
    )
    catalog.delete("3")
    embedder = fitted()
    doc_ids, vectors = embed_catalog(catalog, embedder)
    assert doc_ids.tolist() == [0, 1, 2, 4, 5, 6, 7, 8, 9]
    np.testing.assert_allclose(
        vectors[3], embedder.embed_fields({"title": [TITLES[4]], "artist": [ARTISTS[4]]})[0]
    )
