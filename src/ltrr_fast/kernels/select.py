"""Fused decisions: score every arm, choose a subset, split the budget, log propensities.

One call per decision keeps the interpreter out of the loop. Randomness comes from buffers of
uniform and standard normal numbers that the caller fills from its seeded generator; each
kernel consumes a fixed count per decision and returns the new read position, so decisions
replay exactly from the generator state, the buffers and the positions.

Selection rule shared by both kernels: with probability ``1 - epsilon`` the ``m`` best arms
by score (ties to the smaller arm index), otherwise ``m`` arms uniformly without replacement
(a partial Fisher-Yates shuffle). Chosen arms are listed best score first. The budget is split
in proportion to a softmax of the chosen arms' scores divided by a temperature (low values give
the best arm nearly everything), at least one candidate each, with the rounding remainder
handed out best arm first.

Kernels trust their inputs except the context, which they check for NaN and infinities
before anything is read from the buffers; they return -1 then and change nothing.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ltrr_fast.kernels.linucb import _mean_var, linucb_update


@njit(cache=True, nogil=True)
def _finite(x: np.ndarray) -> bool:
    for i in range(x.shape[0]):
        if not np.isfinite(x[i]):
            return False
    return True


@njit(cache=True, nogil=True)
def _top_m(scores: np.ndarray, m: int, out: np.ndarray) -> None:
    """Indices of the m largest scores, best first, ties to the smaller index."""
    n = scores.shape[0]
    taken = np.zeros(n, dtype=np.bool_)
    for r in range(m):
        best = -1
        for k in range(n):
            if not taken[k] and (best < 0 or scores[k] > scores[best]):
                best = k
        taken[best] = True
        out[r] = best


@njit(cache=True, nogil=True)
def _choose(
    scores: np.ndarray,
    m: int,
    epsilon: float,
    uniforms: np.ndarray,
    pos: int,
    best: np.ndarray,
    chosen: np.ndarray,
) -> None:
    """Fill best (top m) and chosen (epsilon mix), chosen sorted best score first."""
    n = scores.shape[0]
    _top_m(scores, m, best)
    if uniforms[pos] < epsilon:
        order = np.arange(n)
        for r in range(m):
            j = r + int(uniforms[pos + 1 + r] * (n - r))
            j = min(j, n - 1)
            order[r], order[j] = order[j], order[r]
        # Insertion sort of the m drawn arms by score, ties to the smaller index.
        for r in range(m):
            a = order[r]
            s = r
            while s > 0 and (
                scores[chosen[s - 1]] < scores[a]
                or (scores[chosen[s - 1]] == scores[a] and chosen[s - 1] > a)
            ):
                chosen[s] = chosen[s - 1]
                s -= 1
            chosen[s] = a
    else:
        for r in range(m):
            chosen[r] = best[r]


@njit(cache=True, nogil=True)
def _quotas(
    scores: np.ndarray, chosen: np.ndarray, budget: int, temperature: float, quotas: np.ndarray
) -> None:
    m = chosen.shape[0]
    top = scores[chosen[0]]
    for r in range(1, m):
        top = max(top, scores[chosen[r]])
    total = 0.0
    weights = np.empty(m)
    for r in range(m):
        weights[r] = np.exp((scores[chosen[r]] - top) / temperature)
        total += weights[r]
    spare = budget - m
    given = 0
    for r in range(m):
        quotas[r] = 1 + int(np.floor(weights[r] / total * spare))
        given += quotas[r]
    r = 0
    while given < budget:
        quotas[r % m] += 1
        given += 1
        r += 1


@njit(cache=True, nogil=True)
def choose_by_score(
    scores: np.ndarray,
    epsilon: float,
    budget: int,
    temperature: float,
    uniforms: np.ndarray,
    pos: int,
    chosen: np.ndarray,
    quotas: np.ndarray,
    propensities: np.ndarray,
) -> int:
    """Choose from given scores; consumes ``1 + m`` uniforms and returns the new position.

    Fills ``chosen`` and ``quotas`` (m, the length of ``chosen``) and ``propensities``
    (n_arms), the exact probability that each arm is included:
    ``(1 - epsilon) [arm among the best] + epsilon m / n_arms``.
    """
    n = scores.shape[0]
    m = chosen.shape[0]
    best = np.empty(m, dtype=np.int64)
    _choose(scores, m, epsilon, uniforms, pos, best, chosen)
    _quotas(scores, chosen, budget, temperature, quotas)
    for k in range(n):
        propensities[k] = epsilon * m / n
    for r in range(m):
        propensities[best[r]] += 1.0 - epsilon
    return pos + 1 + m


@njit(cache=True, nogil=True)
def ucb_decide(
    A_inv: np.ndarray,
    theta: np.ndarray,
    x: np.ndarray,
    alpha: float,
    epsilon: float,
    budget: int,
    temperature: float,
    uniforms: np.ndarray,
    pos: int,
    scores: np.ndarray,
    chosen: np.ndarray,
    quotas: np.ndarray,
    propensities: np.ndarray,
) -> int:
    """One disjoint LinUCB decision: scores then :func:`choose_by_score`; -1 on a bad x."""
    if not _finite(x):
        return -1
    for k in range(theta.shape[0]):
        mean, var = _mean_var(A_inv, theta, x, k)
        scores[k] = mean + alpha * np.sqrt(var)
    return choose_by_score(
        scores, epsilon, budget, temperature, uniforms, pos, chosen, quotas, propensities
    )


@njit(cache=True, nogil=True)
def thompson_decide(
    A_inv: np.ndarray,
    theta: np.ndarray,
    x: np.ndarray,
    scale: float,
    epsilon: float,
    budget: int,
    temperature: float,
    n_draws: int,
    uniforms: np.ndarray,
    pos: int,
    normals: np.ndarray,
    npos: int,
    scores: np.ndarray,
    chosen: np.ndarray,
    quotas: np.ndarray,
    propensities: np.ndarray,
) -> tuple[int, int]:
    """One linear Thompson sampling decision; returns the new (uniform, normal) positions.

    Scores are one posterior draw per arm, ``mean + scale * sd * z``. Inclusion probabilities
    have no closed form: the chance of being among the best is estimated from ``n_draws``
    further draws (computing each arm's mean and spread once), then mixed with epsilon exactly
    as under UCB. Consumes ``1 + m`` uniforms and ``(1 + n_draws) n_arms`` normals.
    """
    if not _finite(x):
        return -1, -1
    n = theta.shape[0]
    m = chosen.shape[0]
    means = np.empty(n)
    spreads = np.empty(n)
    for k in range(n):
        mean, var = _mean_var(A_inv, theta, x, k)
        means[k] = mean
        spreads[k] = scale * np.sqrt(var)
        scores[k] = mean + spreads[k] * normals[npos + k]
    npos += n
    best = np.empty(m, dtype=np.int64)
    _choose(scores, m, epsilon, uniforms, pos, best, chosen)
    _quotas(scores, chosen, budget, temperature, quotas)
    counts = np.zeros(n)
    draw = np.empty(n)
    top = np.empty(m, dtype=np.int64)
    for t in range(n_draws):
        for k in range(n):
            draw[k] = means[k] + spreads[k] * normals[npos + k]
        npos += n
        _top_m(draw, m, top)
        for r in range(m):
            counts[top[r]] += 1.0
    for k in range(n):
        propensities[k] = (1.0 - epsilon) * counts[k] / n_draws + epsilon * m / n
    return pos + 1 + m, npos


@njit(cache=True, nogil=True)
def ucb_update(
    A: np.ndarray,
    A_inv: np.ndarray,
    b: np.ndarray,
    theta: np.ndarray,
    arms: np.ndarray,
    x: np.ndarray,
    rewards: np.ndarray,
) -> int:
    """Credit one context to several arms; -1 and no change when x holds NaN or infinity."""
    if not _finite(x):
        return -1
    for r in range(arms.shape[0]):
        linucb_update(A, A_inv, b, theta, arms[r], x, rewards[r])
    return 0
