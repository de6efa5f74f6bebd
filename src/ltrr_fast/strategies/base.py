"""The strategy protocol: parsed query, quota and deadline in; candidates out.

A strategy is one small class with one job. It returns catalog doc ids
(dense ``uint32`` positions in the shared :class:`~ltrr_fast.index.catalog.Catalog`),
their scores, best first, and a float32 matrix of its own per-candidate
features named by :attr:`Strategy.feature_names`. Strategies never call each
other; the engine runs them, each under a deadline, through :func:`run_strategy`,
which turns a late or failing strategy into an empty, labelled result instead
of a failed request.
"""

from __future__ import annotations

import abc
import logging
import time
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from ltrr_fast.understanding.parsed import ParsedQuery

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Candidates:
    """Candidates from one strategy, best first.

    Attributes
    ----------
    doc_ids : numpy.ndarray of uint32, shape (n,)
        Catalog doc ids, distinct.
    scores : numpy.ndarray of float32, shape (n,)
        The strategy's own scores, non-increasing.
    features : numpy.ndarray of float32, shape (n, n_features)
        Per-candidate features named by the strategy's ``feature_names``.
    """

    doc_ids: np.ndarray
    scores: np.ndarray
    features: np.ndarray

    def __len__(self) -> int:
        return int(self.doc_ids.shape[0])

    @classmethod
    def empty(cls, n_features: int = 0) -> Candidates:
        """No candidates."""
        return cls(
            np.zeros(0, dtype=np.uint32),
            np.zeros(0, dtype=np.float32),
            np.zeros((0, n_features), dtype=np.float32),
        )

    @classmethod
    def from_arrays(
        cls, doc_ids: np.ndarray, scores: np.ndarray, features: np.ndarray | None = None
    ) -> Candidates:
        """Build from arrays, coercing dtypes and checking shapes."""
        doc_ids = np.ascontiguousarray(doc_ids, dtype=np.uint32)
        scores = np.ascontiguousarray(scores, dtype=np.float32)
        if doc_ids.ndim != 1 or scores.shape != doc_ids.shape:
            raise ValueError(
                f"doc_ids and scores must be 1-d of one length, got shapes "
                f"{doc_ids.shape} and {scores.shape}"
            )
        if features is None:
            features = np.zeros((doc_ids.shape[0], 0), dtype=np.float32)
        features = np.ascontiguousarray(features, dtype=np.float32)
        if features.ndim != 2 or features.shape[0] != doc_ids.shape[0]:
            raise ValueError(
                f"features must have shape ({doc_ids.shape[0]}, n_features), got {features.shape}"
            )
        return cls(doc_ids, scores, features)


class Strategy(abc.ABC):
    """A candidate generator: one arm of the bandit.

    Subclasses set :attr:`name` and :attr:`feature_names` and implement
    :meth:`retrieve`. ``retrieve`` should check ``deadline`` between steps
    that can take long and return what it has when it passes.
    """

    #: Unique name, used in traces, logs and as the bandit's arm name.
    name: ClassVar[str] = ""
    #: Names of the columns of :attr:`Candidates.features`.
    feature_names: tuple[str, ...] = ()

    @abc.abstractmethod
    def retrieve(self, query: ParsedQuery, quota: int, deadline: float) -> Candidates:
        """Return at most ``quota`` candidates for ``query``.

        Parameters
        ----------
        query : ParsedQuery
            The understood query.
        quota : int
            Largest number of candidates wanted, at least 1.
        deadline : float
            Absolute time on the :func:`time.perf_counter` clock by which the
            answer is due.
        """


@dataclass(frozen=True)
class StrategyResult:
    """What running one strategy gave: its candidates and how it went.

    Attributes
    ----------
    name : str
        The strategy's name.
    candidates : Candidates
        Empty when the strategy failed or was cut.
    status : str
        ``"ok"``, ``"cut"`` (answered after its deadline; the answer is
        dropped) or ``"failed"`` (raised; ``error`` says what).
    seconds : float
        Wall time spent.
    error : str
        The exception text when ``status == "failed"``.
    """

    name: str
    candidates: Candidates
    status: str
    seconds: float
    error: str = field(default="")


def run_strategy(
    strategy: Strategy, query: ParsedQuery, quota: int, deadline: float
) -> StrategyResult:
    """Run one strategy so that neither lateness nor an exception escapes.

    A strategy that raises gives ``status="failed"`` (logged at warning
    level); one that answers after ``deadline`` gives ``status="cut"``. Both
    come back with no candidates, so the request still answers.
    """
    n_features = len(strategy.feature_names)
    start = time.perf_counter()
    try:
        candidates = strategy.retrieve(query, quota, deadline)
    except Exception as exc:  # a failing strategy must never fail the request
        logger.warning("strategy %s failed: %s", strategy.name, exc, exc_info=True)
        seconds = time.perf_counter() - start
        return StrategyResult(
            strategy.name, Candidates.empty(n_features), "failed", seconds, repr(exc)
        )
    end = time.perf_counter()
    if end > deadline:
        return StrategyResult(strategy.name, Candidates.empty(n_features), "cut", end - start)
    if len(candidates) > quota:
        candidates = Candidates(
            candidates.doc_ids[:quota], candidates.scores[:quota], candidates.features[:quota]
        )
    return StrategyResult(strategy.name, candidates, "ok", end - start)
