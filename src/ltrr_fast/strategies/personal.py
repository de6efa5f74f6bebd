"""Personal strategy: items near what this user acted on before.

The user's vector is the normalised, optionally recency-weighted mean of the vectors of the
items in their history; candidates are its nearest neighbours in the vector index. The
history is kept here, fed by :meth:`PersonalStrategy.record`; the user comes from the parsed
query's ``user`` field, or is named directly through :meth:`PersonalStrategy.retrieve_for`.
"""

from __future__ import annotations

import threading
import time
from collections import deque

import numpy as np

from ltrr_fast.index.vectors import VectorIndex
from ltrr_fast.strategies.base import Candidates, Strategy
from ltrr_fast.understanding.parsed import ParsedQuery


class PersonalStrategy(Strategy):
    """Nearest neighbours of the user's taste vector; nothing for users without history.

    Parameters
    ----------
    index : VectorIndex
        Item vectors keyed by catalog doc id.
    max_history : int
        Most recent actions kept per user.
    half_life : float, optional
        Recency weighting: an action ``half_life`` actions older counts half as much.
        ``None`` weighs every kept action alike.
    exclude_seen : bool
        Leave out items already in the user's history.

    Notes
    -----
    Items of the history that have no vector (deleted, or never embedded) are skipped.
    Features: similarity to the user vector and the number of actions it was built from.
    """

    name = "personal"
    feature_names = ("personal_similarity", "personal_history_size")

    def __init__(
        self,
        index: VectorIndex,
        *,
        max_history: int = 100,
        half_life: float | None = None,
        exclude_seen: bool = True,
    ) -> None:
        if not isinstance(index, VectorIndex):
            raise TypeError(f"index must be a VectorIndex, got {type(index).__name__}")
        if isinstance(max_history, bool) or not isinstance(max_history, int) or max_history < 1:
            raise ValueError(f"max_history must be an int >= 1, got {max_history!r}")
        if half_life is not None and not (
            isinstance(half_life, (int, float))
            and not isinstance(half_life, bool)
            and half_life > 0
        ):
            raise ValueError(f"half_life must be a number > 0 or None, got {half_life!r}")
        self.index = index
        self.max_history = max_history
        self.half_life = None if half_life is None else float(half_life)
        self.exclude_seen = bool(exclude_seen)
        self._history: dict[str, deque[tuple[int, float]]] = {}
        self._lock = threading.Lock()

    # History

    def record(self, user_id: str, doc_id: int, weight: float = 1.0) -> None:
        """Note that a user acted on an item (the newest action last)."""
        if not isinstance(user_id, str) or not user_id:
            raise TypeError(f"user_id must be a non-empty str, got {user_id!r}")
        if isinstance(doc_id, bool) or not isinstance(doc_id, (int, np.integer)) or doc_id < 0:
            raise TypeError(f"doc_id must be a catalog doc id (int >= 0), got {doc_id!r}")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight > 0:
            raise ValueError(f"weight must be a number > 0, got {weight!r}")
        with self._lock:
            events = self._history.get(user_id)
            if events is None:
                events = self._history[user_id] = deque(maxlen=self.max_history)
            events.append((int(doc_id), float(weight)))

    def state(self) -> dict:
        """Every user's history, JSON-serialisable, for :meth:`load_state`."""
        with self._lock:
            return {user: [list(e) for e in events] for user, events in self._history.items()}

    def load_state(self, state: dict) -> None:
        """Replace the histories with those of :meth:`state`."""
        history = {
            str(user): deque(
                ((int(doc_id), float(w)) for doc_id, w in events), maxlen=self.max_history
            )
            for user, events in state.items()
        }
        with self._lock:
            self._history = history

    def history(self, user_id: str) -> np.ndarray:
        """Doc ids the user acted on, oldest first (``uint32``)."""
        with self._lock:
            events = list(self._history.get(user_id, ()))
        return np.asarray([d for d, _ in events], dtype=np.uint32)

    def forget(self, user_id: str) -> bool:
        """Drop a user's history; returns False when there was none."""
        with self._lock:
            return self._history.pop(user_id, None) is not None

    def user_vector(self, user_id: str) -> np.ndarray | None:
        """The user's L2-normalised taste vector, or None without usable history."""
        with self._lock:
            events = list(self._history.get(user_id, ()))
        if not events:
            return None
        doc_ids = np.asarray([d for d, _ in events], dtype=np.int64)
        weights = np.asarray([w for _, w in events], dtype=np.float64)
        if self.half_life is not None:
            age = np.arange(len(events) - 1, -1, -1, dtype=np.float64)
            weights = weights * 0.5 ** (age / self.half_life)
        has_vector = np.asarray([int(d) in self.index for d in doc_ids.tolist()], dtype=bool)
        if not has_vector.any():
            return None
        try:
            vectors = self.index.get(doc_ids[has_vector])
        except KeyError:  # deleted between the check and the read
            return None
        vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        mean = weights[has_vector] @ vectors
        norm = np.linalg.norm(mean)
        if not np.isfinite(norm) or norm < 1e-9:
            return None
        return (mean / norm).astype(np.float32)

    # Retrieval

    def retrieve(self, query: ParsedQuery, quota: int, deadline: float) -> Candidates:
        """Neighbours of the query's user (``query.user``); none when the query names no user."""
        user = query.user
        if not user:
            return Candidates.empty(len(self.feature_names))
        return self.retrieve_for(user, quota, deadline)

    def retrieve_for(self, user_id: str, quota: int, deadline: float) -> Candidates:
        """Neighbours of one user's taste vector, at most ``quota``."""
        vector = self.user_vector(user_id)
        if vector is None or quota < 1 or time.perf_counter() > deadline:
            return Candidates.empty(len(self.feature_names))
        history = self.history(user_id)
        seen = np.unique(history) if self.exclude_seen else np.zeros(0, np.uint32)
        hits = self.index.search(vector, quota + seen.shape[0])
        keep = ~np.isin(hits.doc_ids, seen)
        doc_ids, scores = hits.doc_ids[keep][:quota], hits.scores[keep][:quota]
        size = np.full(doc_ids.shape[0], history.shape[0], np.float32)
        return Candidates.from_arrays(doc_ids, scores, np.stack([scores, size], axis=1))
