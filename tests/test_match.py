"""Batched match features agree with the one-pair function and a plain Levenshtein."""

from __future__ import annotations

import numpy as np

from ltrr_fast.ranking.match import levenshtein_python, match_arrays, match_features


def test_batched_match_features_equal_the_pairwise_ones():
    rng = np.random.default_rng(0)
    alphabet = list("abcé Ö  xyz")
    texts = ["", "  ", "Love Story", "love  story", "LOVE STORY!"]
    texts += ["".join(rng.choice(alphabet, size=int(rng.integers(0, 12)))) for _ in range(200)]
    for query in ["love story", "", "Ab c", "é"]:
        exact, distance, similarity = match_arrays(query, texts)
        for i, text in enumerate(texts):
            want = match_features(query, text)
            assert (exact[i], distance[i]) == want[:2], (query, text)
            assert similarity[i] == want[2]
            q, t = " ".join(query.casefold().split()), " ".join(text.casefold().split())
            assert distance[i] == levenshtein_python(q, t)
