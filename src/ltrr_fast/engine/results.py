"""What a search returns: ranked items, a request id and a trace of how they were found."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Item:
    """One ranked item.

    Attributes
    ----------
    id : str
        External id of the item.
    score : float
        The ranker's score (higher is better).
    sources : dict of str to tuple of (int, float)
        Strategy name to (1-based rank, score) in that strategy's candidates.
    """

    id: str
    score: float
    sources: dict[str, tuple[int, float]]


@dataclass(frozen=True)
class StrategyTrace:
    """How one strategy did on a request."""

    name: str
    chosen: bool  # drawn from by the bandit (else a shadow run, off the response path)
    propensity: float  # probability the bandit would include it
    quota: int  # candidates asked for (0 when not chosen)
    status: str  # "ok", "cut" (missed its deadline), "failed", "pending" (shadow still running)
    n_candidates: int
    latency_ms: float
    error: str = ""


@dataclass(frozen=True)
class Trace:
    """What happened inside one search.

    Attributes
    ----------
    strategies : tuple of StrategyTrace
        Every strategy the bandit chose, best first, then the shadow runs.
    latency_ms : dict of str to float
        Wall time per stage: ``understand``, ``select``, ``retrieve``, ``rank``, ``total``.
    deadline_hit : tuple of str
        Strategies cut at their deadline.
    shadow : bool
        Whether the unchosen strategies also ran, off the response path.
    n_candidates : int
        Size of the union that was ranked.
    """

    strategies: tuple[StrategyTrace, ...]
    latency_ms: dict[str, float]
    deadline_hit: tuple[str, ...]
    shadow: bool
    n_candidates: int
    intent: str = "unknown"
    slots: tuple[tuple[str, str, float], ...] = field(default=())


@dataclass(frozen=True)
class SearchResult:
    """A ranked answer and its request id (pass it to :meth:`Engine.feedback`)."""

    request_id: str
    items: tuple[Item, ...]
    trace: Trace

    @property
    def ids(self) -> list[str]:
        """External ids, best first."""
        return [item.id for item in self.items]

    def __len__(self) -> int:
        return len(self.items)
