"""Built-in stop word lists, selected by name."""

from __future__ import annotations

from collections.abc import Iterable

# Common English function words: articles, pronouns, auxiliaries, prepositions, conjunctions.
ENGLISH: frozenset[str] = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
    ]
)

LISTS: dict[str, frozenset[str]] = {"en": ENGLISH, "english": ENGLISH}


def resolve_stopwords(stopwords: str | Iterable[str] | None) -> list[str]:
    """Turn a list name ("en") or an iterable of words into a sorted list of words."""
    if stopwords is None:
        return []
    if isinstance(stopwords, str):
        try:
            return sorted(LISTS[stopwords.lower()])
        except KeyError:
            raise ValueError(
                f"unknown stop word list {stopwords!r}; expected one of {sorted(LISTS)} "
                "or an iterable of words"
            ) from None
    words = list(stopwords)
    for word in words:
        if not isinstance(word, str):
            raise TypeError(f"stop words must be str, got {type(word).__name__}")
    return sorted(set(words))
