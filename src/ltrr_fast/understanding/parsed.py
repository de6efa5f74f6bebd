"""The parsed query: what query understanding hands to every strategy."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Slot:
    """A span of the query matched to a catalog attribute value.

    Attributes
    ----------
    field : str
        Catalog field or attribute the value belongs to, e.g. ``"artist"``.
    value : str
        The catalog value as stored, e.g. ``"Taylor Swift"``.
    start, end : int
        Token span ``[start, end)`` of the normalised query that matched.
    confidence : float
        In ``[0, 1]``; 1 for an exact match, lower for fuzzy ones.
    """

    field: str
    value: str
    start: int
    end: int
    confidence: float


@dataclass(frozen=True)
class ParsedQuery:
    """A query after normalisation, detection and slot matching.

    Attributes
    ----------
    text : str
        The query as the user typed it.
    normalized : str
        Case-folded, accent-folded text with punctuation and runs of
        whitespace collapsed to single spaces.
    tokens : tuple of str
        Words of ``normalized``.
    script : str
        Dominant writing system, e.g. ``"latin"``, ``"cyrillic"``, ``"cjk"``.
    language : str or None
        Best guess at the language (ISO 639-1), ``None`` when unsure.
    slots : tuple of Slot
        Matched catalog values, best first.
    intent : str
        ``"entity"`` when the query names a specific item or artist,
        ``"broad"`` for a topic or category, ``"unknown"`` otherwise.
    features : numpy.ndarray of float32
        Query features for the bandit and the ranker, named by the
        understanding module's feature names.
    user : str or None
        Who asked, when known (personal results use it).
    time : float or None
        When the query was asked, in epoch seconds; strategies that decay
        what they learnt use it instead of the wall clock, so replays agree.
    """

    text: str
    normalized: str
    tokens: tuple[str, ...]
    script: str = "latin"
    language: str | None = None
    slots: tuple[Slot, ...] = ()
    intent: str = "unknown"
    features: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    user: str | None = None
    time: float | None = None

    def slot_values(self, field_name: str) -> tuple[str, ...]:
        """Values matched for one field, best first."""
        return tuple(s.value for s in self.slots if s.field == field_name)
