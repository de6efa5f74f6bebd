"""Query normalisation through the compiled analyzer, so queries and index agree.

Normalising folds case and Latin and Greek accents, splits on anything that is not a letter or
a digit and collapses whitespace, exactly as :class:`~ltrr_fast.index.LexicalIndex` tokenises
text when it has no stop words and no stemmer. Runs of Han, kana and Hangul become overlapping
bigrams, as in the index.
"""

from __future__ import annotations

import logging
import threading

from ltrr_fast.index import LexicalIndex

logger = logging.getLogger(__name__)

_local = threading.local()


def _analyzer() -> LexicalIndex:
    # One empty index per thread: tokenize only reads, but keeping them apart costs nothing.
    analyzer = getattr(_local, "analyzer", None)
    if analyzer is None:
        analyzer = LexicalIndex(fields=("text",), stopwords=None, stemmer=None)
        _local.analyzer = analyzer
    return analyzer


def tokenize(text: str) -> list[str]:
    """Words of a text: case- and accent-folded, split on every non-word character.

    Parameters
    ----------
    text : str
        Any text; malformed input (lone surrogates) is refused.

    Returns
    -------
    list of str

    Raises
    ------
    TypeError
        When ``text`` is not a str.
    ValueError
        When ``text`` holds a lone surrogate.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be str, got {type(text).__name__}")
    return _analyzer().tokenize(text)


def normalize(text: str) -> str:
    """The normalised form of a text: its :func:`tokenize` words joined by single spaces.

    ``normalize("  Café  DEL-Mar!! ")`` is ``"cafe del mar"``. Memory tables and slot values are
    keyed by this form.
    """
    return " ".join(tokenize(text))
