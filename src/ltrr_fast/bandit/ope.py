"""Off-policy evaluation: estimate a target policy's value from logs of another policy.

Each logged round holds the reward of the action taken, the probability the logging policy gave
that action (its propensity) and the probability the target policy gives the same action. The
estimators reweight logged rewards by ``w = target / logged``:

- IPS (inverse propensity scoring): ``mean(w * r)``; unbiased when every action the target
  may take had a positive logging propensity.
- SNIPS (self-normalised IPS): ``sum(w * r) / sum(w)``; slightly biased, far lower variance.
- DR (doubly robust): ``mean(q_target + w * (r - q_logged))`` with a reward model ``q``;
  unbiased if either the propensities or the reward model are right.

Confidence intervals come from a seeded percentile bootstrap over rounds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Estimate:
    """A policy value with a bootstrap confidence interval."""

    value: float
    ci_low: float
    ci_high: float
    n_rounds: int
    confidence: float


def _array(name: str, values: object, n: int | None = None) -> np.ndarray:
    if values is None:
        raise TypeError(f"{name} is missing; expected an array of numbers")
    array = np.asarray(values)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers, got dtype {array.dtype}")
    array = array.astype(np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-d, got shape {array.shape}")
    if n is not None and array.shape[0] != n:
        raise ValueError(f"{name} has {array.shape[0]} rounds, expected {n}")
    if not np.isfinite(array).all():
        i = int(np.flatnonzero(~np.isfinite(array))[0])
        raise ValueError(f"{name}[{i}] is {array[i]}; every value must be finite")
    return array


def _weights(logged: object, target: object, n: int) -> np.ndarray:
    logged_p = _array("logged_propensities", logged, n)
    target_p = _array("target_propensities", target, n)
    bad = (logged_p <= 0) | (logged_p > 1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"logged_propensities[{i}] = {logged_p[i]}; propensities must lie in (0, 1] "
            "(a zero propensity means the logging policy never took that action)"
        )
    bad = (target_p < 0) | (target_p > 1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"target_propensities[{i}] = {target_p[i]}; expected a value in [0, 1]")
    return target_p / logged_p


def _rounds(
    rewards: object, logged_propensities: object, target_propensities: object
) -> tuple[np.ndarray, np.ndarray]:
    """Checked rewards and importance weights of the logged rounds."""
    r = _array("rewards", rewards)
    if r.shape[0] == 0:
        raise ValueError("no logged rounds to estimate from")
    return r, _weights(logged_propensities, target_propensities, r.shape[0])


def _estimate(
    statistic: Callable[[np.ndarray], float],
    n: int,
    n_bootstrap: int,
    confidence: float,
    seed: int,
) -> Estimate:
    """The statistic over all n rounds, with a percentile bootstrap interval."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    if n_bootstrap < 1:
        raise ValueError(f"n_bootstrap must be >= 1, got {n_bootstrap}")
    rng = np.random.default_rng(seed)
    samples = np.array([statistic(rng.integers(0, n, size=n)) for _ in range(n_bootstrap)])
    tail = (1 - confidence) / 2
    low, high = float(np.quantile(samples, tail)), float(np.quantile(samples, 1 - tail))
    return Estimate(statistic(np.arange(n)), low, high, n, confidence)


def ips(
    rewards: object,
    logged_propensities: object,
    target_propensities: object,
    *,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Estimate:
    """Inverse propensity scoring estimate of the target policy's value."""
    r, w = _rounds(rewards, logged_propensities, target_propensities)
    wr = w * r
    return _estimate(lambda idx: float(wr[idx].mean()), len(r), n_bootstrap, confidence, seed)


def snips(
    rewards: object,
    logged_propensities: object,
    target_propensities: object,
    *,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Estimate:
    """Self-normalised IPS estimate of the target policy's value."""
    r, w = _rounds(rewards, logged_propensities, target_propensities)
    if w.sum() <= 0:
        raise ValueError("the target policy gives probability 0 to every logged action")

    def statistic(idx: np.ndarray) -> float:
        total = w[idx].sum()
        return float((w[idx] * r[idx]).sum() / total) if total > 0 else 0.0

    return _estimate(statistic, len(r), n_bootstrap, confidence, seed)


def doubly_robust(
    rewards: object,
    logged_propensities: object,
    target_propensities: object,
    predicted_rewards: object,
    target_expected_rewards: object,
    *,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Estimate:
    """Doubly robust estimate of the target policy's value.

    Parameters
    ----------
    predicted_rewards
        The reward model's prediction for each logged (context, action).
    target_expected_rewards
        The reward model's expectation under the target policy for each logged context,
        ``sum_a target(a | x) * q(x, a)``.
    """
    r, w = _rounds(rewards, logged_propensities, target_propensities)
    n = r.shape[0]
    q_logged = _array("predicted_rewards", predicted_rewards, n)
    q_target = _array("target_expected_rewards", target_expected_rewards, n)
    terms = q_target + w * (r - q_logged)
    return _estimate(lambda idx: float(terms[idx].mean()), n, n_bootstrap, confidence, seed)
