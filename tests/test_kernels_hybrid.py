"""Hybrid LinUCB against the ridge regression it solves blockwise."""

from __future__ import annotations

import numpy as np

from ltrr_fast.kernels.hybrid import hybrid_scores, hybrid_update


def stacked(z: np.ndarray, x: np.ndarray, arm: int, n_arms: int) -> np.ndarray:
    """[z, 0, ..., x in arm's block, ..., 0]."""
    d = x.shape[0]
    out = np.zeros(z.shape[0] + n_arms * d)
    out[: z.shape[0]] = z
    out[z.shape[0] + arm * d : z.shape[0] + (arm + 1) * d] = x
    return out


def test_hybrid_scores_equal_the_joint_ridge_regression_and_its_variance():
    rng = np.random.default_rng(4)
    n_arms, k, d, alpha = 3, 4, 5, 0.8
    A0, b0 = np.eye(k), np.zeros(k)
    A = np.tile(np.eye(d), (n_arms, 1, 1))
    B = np.zeros((n_arms, d, k))
    b = np.zeros((n_arms, d))
    rows, targets = [], []
    for _ in range(200):
        z, arm = rng.random(k), int(rng.integers(n_arms))
        x = rng.random(d)
        r = float(rng.random())
        hybrid_update(A0, b0, A, B, b, arm, z, x, r)
        rows.append(stacked(z, x, arm, n_arms))
        targets.append(r)
    # Reference: ridge regression with unit prior on the stacked features, solved directly.
    F = np.array(rows)
    G = F.T @ F + np.eye(F.shape[1])
    w = np.linalg.solve(G, F.T @ np.array(targets))
    G_inv = np.linalg.inv(G)

    Z = rng.random((7, n_arms, k))
    X = rng.random((7, n_arms, d))
    got = hybrid_scores(A0, b0, A, B, b, Z, X, alpha)
    for row in range(7):
        for arm in range(n_arms):
            f = stacked(Z[row, arm], X[row, arm], arm, n_arms)
            expected = f @ w + alpha * np.sqrt(f @ G_inv @ f)
            assert np.isclose(got[row, arm], expected, rtol=1e-7, atol=1e-9)
