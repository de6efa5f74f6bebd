"""Hybrid LinUCB: features shared by every arm plus features of each arm's own.

The model of arm a's reward for shared features z (length k) and arm features x (length d) is
``z . beta + x . theta_a``: beta is learnt from every arm's feedback, theta_a from arm a's
alone. It is the ridge regression on the stacked feature vector ``[z, x in arm a's block]``,
solved blockwise so each decision and update costs O(d^2 k + k^2 d) per arm rather than a
solve over all arms' blocks at once (Li, Chu, Langford and Schapire, 2010).

State, all float64: ``A0`` (k, k), ``b0`` (k,); per arm ``A`` (n_arms, d, d), ``B``
(n_arms, d, k), ``b`` (n_arms, d). Kernels trust their inputs.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def hybrid_scores(
    A0: np.ndarray,
    b0: np.ndarray,
    A: np.ndarray,
    B: np.ndarray,
    b: np.ndarray,
    Z: np.ndarray,
    X: np.ndarray,
    alpha: float,
) -> np.ndarray:
    """Upper confidence scores, (n_contexts, n_arms).

    ``Z`` is (n_contexts, n_arms, k): the features whose coefficients every arm shares, for
    each arm (e.g. the strategy's own description, so arms with alike descriptions learn
    from each other); ``X`` is (n_contexts, n_arms, d): the features with per-arm
    coefficients.
    """
    n_arms = A.shape[0]
    A0_inv = np.linalg.inv(A0)
    beta = A0_inv @ b0
    out = np.empty((Z.shape[0], n_arms))
    for a in range(n_arms):
        A_inv = np.linalg.inv(A[a])
        theta = A_inv @ (b[a] - B[a] @ beta)
        # Pieces of the variance that do not depend on the context.
        M = A_inv @ B[a]  # (d, k)
        C = A0_inv @ M.T  # (k, d)
        for row in range(Z.shape[0]):
            z = Z[row, a]
            x = X[row, a]
            Cx = C @ x
            s = z @ (A0_inv @ z) - 2.0 * (z @ Cx) + x @ (A_inv @ x) + (M.T @ x) @ Cx
            out[row, a] = z @ beta + x @ theta + alpha * np.sqrt(max(s, 0.0))
    return out


@njit(cache=True, nogil=True)
def hybrid_update(
    A0: np.ndarray,
    b0: np.ndarray,
    A: np.ndarray,
    B: np.ndarray,
    b: np.ndarray,
    arm: int,
    z: np.ndarray,
    x: np.ndarray,
    reward: float,
) -> None:
    """Add one (shared features, arm features, reward) observation of an arm, in place."""
    A_inv = np.linalg.inv(A[arm])
    A0 += B[arm].T @ A_inv @ B[arm]
    b0 += B[arm].T @ A_inv @ b[arm]
    A[arm] += np.outer(x, x)
    B[arm] += np.outer(x, z)
    b[arm] += reward * x
    A_inv = np.linalg.inv(A[arm])
    A0 += np.outer(z, z) - B[arm].T @ A_inv @ B[arm]
    b0 += reward * z - B[arm].T @ A_inv @ b[arm]
