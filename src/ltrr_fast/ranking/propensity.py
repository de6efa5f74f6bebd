"""Position bias: the probability that a user examines the result shown at each position.

Clicks on a ranked list mix relevance with examination: a result low in the list is clicked
less partly because it is seen less. Under the position-based model, a click at position ``k``
happens with probability ``examination[k] * attractiveness``; weighting each click by
``1 / examination[k]`` (inverse propensity scoring) makes the expected weighted click of a
result independent of where it was shown.

The examination probabilities are either configured (:meth:`PositionBias.power_law`, or given
outright) or estimated from randomised swaps of adjacent results
(:meth:`PositionBias.from_adjacent_swaps`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

logger = logging.getLogger(__name__)


class PositionBias:
    """Examination probability per position (0-based), used to weight clicks.

    Parameters
    ----------
    propensities : sequence of float
        ``propensities[k]`` is the examination probability of position ``k``, in (0, 1].
        Positions past the end take the last value.
    max_weight : float, optional
        Clip inverse-propensity weights at this value (lowers variance, adds bias).
    """

    def __init__(
        self, propensities: Sequence[float] | np.ndarray, max_weight: float | None = None
    ):
        arr = np.asarray(propensities, dtype=np.float64)
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(f"propensities must be a non-empty 1-D sequence, got {arr.shape}")
        if not (np.isfinite(arr).all() and (arr > 0).all() and (arr <= 1).all()):
            raise ValueError(
                f"propensities must lie in (0, 1], got min {arr.min()} and max {arr.max()}"
            )
        if max_weight is not None and not max_weight >= 1.0:
            raise ValueError(f"max_weight must be >= 1 or None, got {max_weight}")
        self.propensities = arr
        self.max_weight = None if max_weight is None else float(max_weight)

    def __repr__(self) -> str:
        shown = ", ".join(f"{p:.3f}" for p in self.propensities[:5])
        return f"PositionBias([{shown}{', ...' if self.propensities.size > 5 else ''}])"

    @classmethod
    def power_law(
        cls, n_positions: int, eta: float = 1.0, max_weight: float | None = None
    ) -> PositionBias:
        """``propensity[k] = (1 / (k + 1)) ** eta`` for ``k = 0 .. n_positions - 1``."""
        if n_positions < 1:
            raise ValueError(f"n_positions must be >= 1, got {n_positions}")
        if not (np.isfinite(eta) and eta >= 0):
            raise ValueError(f"eta must be finite and >= 0, got {eta}")
        ranks = np.arange(1, n_positions + 1, dtype=np.float64)
        return cls(ranks**-eta, max_weight=max_weight)

    @classmethod
    def from_adjacent_swaps(
        cls,
        top_positions: Sequence[int] | np.ndarray,
        clicks_top: Sequence[float] | np.ndarray,
        clicks_bottom: Sequence[float] | np.ndarray,
        n_positions: int,
        max_weight: float | None = None,
    ) -> PositionBias:
        """Estimate examination from impressions whose results at ``k`` and ``k + 1`` were
        shown in a random order.

        A fair coin decides which of two neighbouring results goes on top, so both positions
        hold results of the same expected attractiveness, and the ratio of clicks at ``k + 1``
        to clicks at ``k`` estimates ``examination[k + 1] / examination[k]``. Chaining the
        ratios from position 0 (whose examination is taken as 1) gives every position.

        Parameters
        ----------
        top_positions : array of int
            For each randomised impression, ``k``: the upper position of the swapped pair.
        clicks_top, clicks_bottom : array of float
            Clicks (0/1 or counts) at positions ``k`` and ``k + 1`` of that impression.
        n_positions : int
            Positions to estimate; every ``k < n_positions - 1`` needs clicks at ``k``.

        Returns
        -------
        PositionBias

        Raises
        ------
        ValueError
            On mismatched lengths, positions out of range, negative clicks, or a pair
            ``(k, k + 1)`` without any click at ``k``.
        """
        pos = np.asarray(top_positions)
        top = np.asarray(clicks_top, dtype=np.float64)
        bottom = np.asarray(clicks_bottom, dtype=np.float64)
        if not (pos.ndim == 1 and top.shape == pos.shape and bottom.shape == pos.shape):
            raise ValueError(
                "top_positions, clicks_top and clicks_bottom must be 1-D of one length, got "
                f"{pos.shape}, {top.shape}, {bottom.shape}"
            )
        if pos.size and not np.issubdtype(pos.dtype, np.integer):
            raise TypeError(f"top_positions must be integers, got dtype {pos.dtype}")
        if pos.size and (pos.min() < 0 or pos.max() > n_positions - 2):
            raise ValueError(f"top_positions must lie in [0, {n_positions - 2}]")
        if not (np.isfinite(top).all() and np.isfinite(bottom).all()) or (
            (top < 0).any() or (bottom < 0).any()
        ):
            raise ValueError("clicks must be finite and >= 0")

        clicks_at_top = np.bincount(pos, weights=top, minlength=n_positions - 1)
        clicks_below = np.bincount(pos, weights=bottom, minlength=n_positions - 1)
        lacking = np.flatnonzero(clicks_at_top == 0)
        if lacking.size:
            raise ValueError(
                f"no click at the upper position of swapped pairs at positions {lacking[:5]}; "
                "log more randomised swaps there before estimating"
            )
        ratios = clicks_below / clicks_at_top
        propensities = np.concatenate(([1.0], np.cumprod(ratios)))
        # Sampling noise can push a ratio past 1 or to 0; keep the estimate a probability.
        propensities = np.clip(propensities, 1e-6, 1.0)
        logger.debug("examination estimated from %d swapped impressions", pos.size)
        return cls(propensities, max_weight=max_weight)

    def propensity(self, positions: Sequence[int] | np.ndarray) -> np.ndarray:
        """Examination probability of each 0-based position (past the end: the last value)."""
        pos = np.asarray(positions)
        if pos.size and (not np.issubdtype(pos.dtype, np.integer) or pos.min() < 0):
            raise ValueError("positions must be non-negative integers")
        return self.propensities[np.minimum(pos, self.propensities.size - 1)]

    def weights(self, positions: Sequence[int] | np.ndarray) -> np.ndarray:
        """Inverse-propensity weights ``1 / propensity``, clipped at ``max_weight``."""
        weights = 1.0 / self.propensity(positions)
        if self.max_weight is not None:
            weights = np.minimum(weights, self.max_weight)
        return weights
