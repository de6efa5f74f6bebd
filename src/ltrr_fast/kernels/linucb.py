"""Disjoint LinUCB: batched arm scoring and rank-one updates of per-arm inverse covariances.

Each arm k keeps ``A[k] = I * ridge + sum x x^T`` over the contexts it was updated with, its
inverse ``A_inv[k]``, ``b[k] = sum reward * x`` and ``theta[k] = A_inv[k] @ b[k]``, refreshed
for the one arm an update touches by a recursive least-squares step. Scoring a context x gives
``x . theta_k + alpha * sqrt(x^T A_inv[k] x)`` with ``theta_k = A_inv[k] b[k]``. Updates keep
``A_inv`` current with the Sherman-Morrison formula, O(d^2) per update instead of an O(d^3)
inverse; :func:`refactor_inverses` recomputes the inverses from ``A`` through a Cholesky
factorisation, which callers run periodically so rounding cannot drift the inverse away from
symmetric positive definite over millions of updates.

Kernels trust their inputs: shapes and dtypes are checked by the policy that calls them.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, nogil=True)
def linucb_theta(A_inv: np.ndarray, b: np.ndarray, theta: np.ndarray) -> None:
    """theta[k] = A_inv[k] @ b[k] for every arm, in place."""
    for k in range(b.shape[0]):
        _arm_theta(A_inv, b, theta, k)


@njit(cache=True, nogil=True, fastmath=True)
def _arm_theta(A_inv: np.ndarray, b: np.ndarray, theta: np.ndarray, k: int) -> None:
    d = b.shape[1]
    for i in range(d):
        acc = 0.0
        for j in range(d):
            acc += A_inv[k, i, j] * b[k, j]
        theta[k, i] = acc


@njit(cache=True, nogil=True, fastmath=True)
def _mean_var(A_inv: np.ndarray, theta: np.ndarray, x: np.ndarray, k: int) -> tuple[float, float]:
    """x . theta[k] and x^T A_inv[k] x: the posterior mean and variance of arm k's reward.

    The full product is used although A_inv[k] is symmetric: its contiguous inner loop
    vectorises, and measured faster than a triangle's loops of varying length.
    """
    d = x.shape[0]
    mean = 0.0
    var = 0.0
    for i in range(d):
        mean += x[i] * theta[k, i]
        acc = 0.0
        for j in range(d):
            acc += A_inv[k, i, j] * x[j]
        var += x[i] * acc
    return mean, max(var, 0.0)


@njit(cache=True, nogil=True, fastmath=True)
def _score_block(
    A_inv: np.ndarray, theta: np.ndarray, X: np.ndarray, alpha: float, lo: int, hi: int,
    out: np.ndarray,
) -> None:  # fmt: skip
    """Scores of rows [lo, hi) of X, arm by arm so each arm's inverse stays in cache.

    ``u = x^T A_inv[k]`` is accumulated one row of ``A_inv[k]`` at a time (an axpy whose
    inner loop vectorises), then ``var = u . x``.
    """
    d = X.shape[1]
    u = np.empty(d)
    for k in range(theta.shape[0]):
        for row in range(lo, hi):
            u[:] = 0.0
            mean = 0.0
            for i in range(d):
                xi = X[row, i]
                mean += xi * theta[k, i]
                for j in range(d):
                    u[j] += xi * A_inv[k, i, j]
            var = 0.0
            for j in range(d):
                var += u[j] * X[row, j]
            out[row, k] = mean + alpha * np.sqrt(max(var, 0.0))


@njit(cache=True, nogil=True, fastmath=True)
def _score_block_triangle(
    A_inv: np.ndarray, theta: np.ndarray, X: np.ndarray, alpha: float, lo: int, hi: int,
    out: np.ndarray,
) -> None:  # fmt: skip
    """Scores of rows [lo, hi) of X using A_inv's symmetry: half the multiply-adds.

    The block's contexts are transposed so the innermost loops run over contexts (a fixed,
    contiguous length that vectorises); ``x^T A x = sum_i x_i (A_ii x_i + 2 sum_{j>i} A_ij x_j)``
    reads only the upper triangle. Worth it from a few dozen contexts up.
    """
    d = X.shape[1]
    m = hi - lo
    XT = np.empty((d, m))
    for r in range(m):
        for i in range(d):
            XT[i, r] = X[lo + r, i]
    partial = np.empty(m)
    quad = np.empty(m)
    mean = np.empty(m)
    for k in range(theta.shape[0]):
        quad[:] = 0.0
        mean[:] = 0.0
        for i in range(d):
            partial[:] = 0.0
            for j in range(i + 1, d):
                a = A_inv[k, i, j]
                for r in range(m):
                    partial[r] += a * XT[j, r]
            diagonal = A_inv[k, i, i]
            coefficient = theta[k, i]
            for r in range(m):
                xi = XT[i, r]
                quad[r] += xi * (diagonal * xi + 2.0 * partial[r])
                mean[r] += xi * coefficient
        for r in range(m):
            out[lo + r, k] = mean[r] + alpha * np.sqrt(max(quad[r], 0.0))


#: Contexts per block of the batched kernels.
BLOCK = 64


@njit(cache=True, nogil=True)
def _score_rows(
    A_inv: np.ndarray, theta: np.ndarray, X: np.ndarray, alpha: float, lo: int, hi: int,
    out: np.ndarray,
) -> None:  # fmt: skip
    if hi - lo >= 16:
        _score_block_triangle(A_inv, theta, X, alpha, lo, hi, out)
    else:
        _score_block(A_inv, theta, X, alpha, lo, hi, out)


@njit(cache=True, nogil=True)
def linucb_scores(A_inv: np.ndarray, theta: np.ndarray, X: np.ndarray, alpha: float) -> np.ndarray:
    """Upper confidence scores of every arm for every context, on one thread.

    Parameters
    ----------
    A_inv : (n_arms, d, d) float64, the inverse covariance of each arm
    theta : (n_arms, d) float64, each arm's coefficients ``A_inv[k] @ b[k]``
    X : (n_contexts, d) float64
    alpha : exploration weight, >= 0

    Returns
    -------
    (n_contexts, n_arms) float64
    """
    n = X.shape[0]
    out = np.empty((n, theta.shape[0]))
    for lo in range(0, n, BLOCK):
        _score_rows(A_inv, theta, X, alpha, lo, min(n, lo + BLOCK), out)
    return out


@njit(cache=True, nogil=True)
def linear_ts_scores(
    A_inv: np.ndarray, theta: np.ndarray, X: np.ndarray, scale: float, Z: np.ndarray
) -> np.ndarray:
    """Linear Thompson sampling scores: one posterior draw of every arm's reward per context.

    For a context x the posterior of ``x . theta_k`` is normal with mean ``x . theta[k]`` and
    variance ``scale^2 x^T A_inv[k] x``, so a draw is ``mean + scale * sqrt(var) * Z[row, k]``
    with ``Z`` standard normal, supplied by the caller so draws replay from its seed.

    Returns
    -------
    (n_contexts, n_arms) float64
    """
    out = np.empty((X.shape[0], theta.shape[0]))
    for row in range(X.shape[0]):
        for k in range(theta.shape[0]):
            mean, var = _mean_var(A_inv, theta, X[row], k)
            out[row, k] = mean + scale * np.sqrt(var) * Z[row, k]
    return out


@njit(cache=True, nogil=True, parallel=True)
def linucb_scores_parallel(
    A_inv: np.ndarray, theta: np.ndarray, X: np.ndarray, alpha: float
) -> np.ndarray:
    """:func:`linucb_scores` with blocks of 64 contexts spread over threads."""
    n = X.shape[0]
    out = np.empty((n, theta.shape[0]))
    n_blocks = (n + BLOCK - 1) // BLOCK
    for block in prange(n_blocks):
        _score_rows(A_inv, theta, X, alpha, block * BLOCK, min(n, block * BLOCK + BLOCK), out)
    return out


@njit(cache=True, nogil=True, fastmath=True)
def linucb_update(
    A: np.ndarray,
    A_inv: np.ndarray,
    b: np.ndarray,
    theta: np.ndarray,
    arm: int,
    x: np.ndarray,
    reward: float,
) -> None:
    """Add one (context, reward) observation to an arm, in place, theta included.

    With ``u = A_inv x`` before the update, Sherman-Morrison gives
    ``A_inv' = A_inv - u u^T / (1 + x . u)``, and the coefficients follow in O(d) as the
    recursive least-squares step ``theta' = theta + u (reward - x . theta) / (1 + x . u)``.
    :func:`refactor_inverses` callers refresh theta from ``A_inv b`` at each refactoring.
    """
    d = x.shape[0]
    u = np.empty(d)  # A_inv x
    for i in range(d):
        acc = 0.0
        for j in range(d):
            acc += A_inv[arm, i, j] * x[j]
        u[i] = acc
    denom = 1.0
    predicted = 0.0
    for i in range(d):
        denom += x[i] * u[i]
        predicted += x[i] * theta[arm, i]
    step = (reward - predicted) / denom
    for i in range(d):
        ui = u[i] / denom
        xi = x[i]
        for j in range(d):
            A_inv[arm, i, j] -= ui * u[j]
            A[arm, i, j] += xi * x[j]
        b[arm, i] += reward * xi
        theta[arm, i] += u[i] * step


@njit(cache=True, nogil=True)
def linucb_update_batch(
    A: np.ndarray,
    A_inv: np.ndarray,
    b: np.ndarray,
    theta: np.ndarray,
    arms: np.ndarray,
    X: np.ndarray,
    rewards: np.ndarray,
) -> None:
    """Apply observations in order, exactly as repeated :func:`linucb_update` calls."""
    for row in range(arms.shape[0]):
        linucb_update(A, A_inv, b, theta, arms[row], X[row], rewards[row])


@njit(cache=True, nogil=True)
def refactor_inverses(A: np.ndarray, A_inv: np.ndarray) -> None:
    """Recompute every arm's inverse from A by Cholesky factorisation, in place.

    The result is symmetric by construction.
    """
    n_arms, d, _ = A.shape
    identity = np.eye(d)
    for k in range(n_arms):
        L = np.linalg.cholesky(A[k])
        # Solve L Y = I, then L^T Z = Y: Z = A^-1.
        Y = np.linalg.solve(L, identity)
        Z = np.linalg.solve(L.T, Y)
        for i in range(d):
            for j in range(d):
                A_inv[k, i, j] = 0.5 * (Z[i, j] + Z[j, i])


@njit(cache=True, nogil=True)
def linucb_fit_batch(
    A: np.ndarray,
    A_inv: np.ndarray,
    b: np.ndarray,
    theta: np.ndarray,
    arms: np.ndarray,
    X: np.ndarray,
    rewards: np.ndarray,
) -> None:
    """Add a batch of observations at once: the same model as repeated updates.

    Each touched arm gets ``A += X_k^T X_k`` and ``b += X_k^T r_k`` (matrix products over its
    rows), then a fresh inverse by Cholesky factorisation and ``theta = A_inv b``: O(n d^2 +
    d^3) per arm instead of O(n d^2) rank-one steps with their bookkeeping, and exact up to
    rounding. Order within the batch does not matter, as for the regression it solves.
    """
    n_arms, d = b.shape
    counts = np.zeros(n_arms, dtype=np.int64)
    for row in range(arms.shape[0]):
        counts[arms[row]] += 1
    identity = np.eye(d)
    for k in range(n_arms):
        if counts[k] == 0:
            continue
        Xk = np.empty((counts[k], d))
        rk = np.empty(counts[k])
        r = 0
        for row in range(arms.shape[0]):
            if arms[row] == k:
                Xk[r] = X[row]
                rk[r] = rewards[row]
                r += 1
        A[k] += np.dot(Xk.T, Xk)
        b[k] += np.dot(Xk.T, rk)
        L = np.linalg.cholesky(A[k])
        Z = np.linalg.solve(L.T, np.linalg.solve(L, identity))
        for i in range(d):
            for j in range(d):
                A_inv[k, i, j] = 0.5 * (Z[i, j] + Z[j, i])
        _arm_theta(A_inv, b, theta, k)
