"""String match features between a query and a candidate's fields: exact match, edit distance.

Texts are compared after case folding and collapsing runs of whitespace. The edit distance is
Levenshtein's (insertions, deletions and substitutions of one character each cost 1). It
comes from rapidfuzz when that is installed (the ``ltr`` extra) and from the plain dynamic
programme below otherwise; both give the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

try:
    from rapidfuzz import process as _rf_process
    from rapidfuzz.distance import Levenshtein as _rf_levenshtein
except ImportError:  # pragma: no cover - exercised when rapidfuzz is absent
    _rf_levenshtein = None
    _rf_process = None


def normalise(text: str) -> str:
    """Case-folded text with runs of whitespace collapsed to one space, ends stripped."""
    return " ".join(text.casefold().split())


def levenshtein_python(a: str, b: str) -> int:
    """Levenshtein distance by the two-row dynamic programme, O(len(a) * len(b))."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]


def levenshtein(a: str, b: str) -> int:
    """Levenshtein distance between two strings (rapidfuzz when available)."""
    if _rf_levenshtein is not None:
        return int(_rf_levenshtein.distance(a, b))
    return levenshtein_python(a, b)


def match_features(query: str, field_text: str) -> tuple[float, float, float]:
    """Exact match, edit distance and similarity of a query and one field's text.

    Parameters
    ----------
    query, field_text : str
        Raw texts; both are normalised with :func:`normalise` first.

    Returns
    -------
    (exact, distance, similarity) : tuple of float
        ``exact`` is 1.0 when the normalised texts are equal and non-empty, else 0.0;
        ``distance`` the Levenshtein distance; ``similarity`` is
        ``1 - distance / max(len(query), len(field))`` in [0, 1] (0 when both are empty).
    """
    q = normalise(query)
    f = normalise(field_text)
    longest = max(len(q), len(f))
    if longest == 0:
        return 0.0, 0.0, 0.0
    distance = levenshtein(q, f)
    return float(q == f), float(distance), 1.0 - distance / longest


def match_arrays(query: str, field_texts: Sequence[str]) -> tuple[np.ndarray, ...]:
    """:func:`match_features` of one query against many texts at once, as arrays.

    Returns ``(exact, distance, similarity)``, float64 arrays of ``len(field_texts)``; the
    distances come from one batched rapidfuzz call when rapidfuzz is installed.
    """
    q = normalise(query)
    texts = [normalise(t or "") for t in field_texts]
    n = len(texts)
    if _rf_process is not None and n:
        distance = _rf_process.cdist(
            [q], texts, scorer=_rf_levenshtein.distance, dtype=np.int32, workers=1
        )[0].astype(np.float64)
    else:
        distance = np.array([levenshtein(q, t) for t in texts], dtype=np.float64)
    lengths = np.fromiter((len(t) for t in texts), dtype=np.float64, count=n)
    longest = np.maximum(lengths, len(q))
    exact = np.fromiter((float(t == q and bool(q)) for t in texts), dtype=np.float64, count=n)
    similarity = np.where(longest > 0, 1.0 - distance / np.maximum(longest, 1.0), 0.0)
    distance = np.where(longest > 0, distance, 0.0)
    return exact, distance, similarity
