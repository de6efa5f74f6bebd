"""LinUCB kernels against plain numpy with explicit inverses."""

from __future__ import annotations

import numpy as np
import pytest

from ltrr_fast.kernels import (
    linear_ts_scores,
    linucb_fit_batch,
    linucb_scores,
    linucb_scores_parallel,
    linucb_theta,
    linucb_update,
    linucb_update_batch,
    refactor_inverses,
)


def fresh(n_arms: int, d: int, ridge: float = 1.0):
    A = np.tile(np.eye(d) * ridge, (n_arms, 1, 1))
    A_inv = np.tile(np.eye(d) / ridge, (n_arms, 1, 1))
    return A, A_inv, np.zeros((n_arms, d)), np.zeros((n_arms, d))


def reference_scores(A, b, X, alpha):
    out = np.empty((X.shape[0], A.shape[0]))
    for k in range(A.shape[0]):
        inv = np.linalg.inv(A[k])
        theta = inv @ b[k]
        var = np.einsum("ni,ij,nj->n", X, inv, X)
        out[:, k] = X @ theta + alpha * np.sqrt(var)
    return out


@pytest.mark.parametrize("n_arms, d", [(1, 1), (4, 8), (8, 16), (3, 64)])
def test_scores_and_updates_match_numpy_on_a_random_stream(n_arms, d):
    rng = np.random.default_rng(n_arms * 100 + d)
    A, A_inv, b, theta = fresh(n_arms, d)
    for step in range(300):
        x = rng.normal(size=d)
        arm = int(rng.integers(n_arms))
        linucb_update(A, A_inv, b, theta, arm, x, float(rng.random()))
    X = rng.normal(size=(50, d))
    expected = reference_scores(A, b, X, alpha=0.7)
    assert np.allclose(linucb_scores(A_inv, theta, X, 0.7), expected, rtol=1e-8, atol=1e-10)
    assert np.allclose(linucb_scores_parallel(A_inv, theta, X, 0.7), expected, rtol=1e-8)
    fresh_theta = np.zeros_like(theta)
    linucb_theta(A_inv, b, fresh_theta)
    assert np.allclose(fresh_theta, theta, rtol=1e-9, atol=1e-12)
    for k in range(n_arms):
        assert np.allclose(A_inv[k], np.linalg.inv(A[k]), rtol=1e-8, atol=1e-10)


def test_batch_update_equals_the_same_updates_one_by_one():
    rng = np.random.default_rng(3)
    n_arms, d, n = 5, 12, 400
    arms = rng.integers(n_arms, size=n)
    X = rng.normal(size=(n, d))
    rewards = rng.random(n)
    one = fresh(n_arms, d)
    many = fresh(n_arms, d)
    for arm, x, r in zip(arms, X, rewards):
        linucb_update(*one, int(arm), x, float(r))
    linucb_update_batch(*many, arms, X, rewards)
    for a, b in zip(one, many):
        assert np.array_equal(a, b)


def test_batch_fit_equals_the_ridge_regression_and_leaves_untouched_arms_alone():
    rng = np.random.default_rng(5)
    n_arms, d, n = 6, 10, 300
    arms = rng.choice([0, 2, 3, 5], size=n)  # arms 1 and 4 get no rows
    X = rng.normal(size=(n, d))
    rewards = rng.random(n)
    state = fresh(n_arms, d, ridge=2.0)
    warm = rng.normal(size=(20, d))
    for x in warm:  # some history first, so the fit adds to it
        linucb_update(*state, 1, x, 0.5)
    before = [a.copy() for a in state]
    linucb_fit_batch(*state, arms, X, rewards)
    A, A_inv, _, theta = state
    for k in range(n_arms):
        rows = arms == k
        if not rows.any():
            for got, old in zip(state, before):
                assert np.array_equal(got[k], old[k])
            continue
        expected_A = 2.0 * np.eye(d) + X[rows].T @ X[rows]
        assert np.allclose(A[k], expected_A)
        assert np.allclose(A_inv[k], np.linalg.inv(expected_A), atol=1e-12)
        assert np.allclose(theta[k], np.linalg.solve(expected_A, X[rows].T @ rewards[rows]))


def test_inverse_stays_positive_definite_over_a_long_correlated_stream():
    # 20,000 updates, d = 60, strongly correlated and often duplicated contexts.
    rng = np.random.default_rng(11)
    n_arms, d = 2, 60
    A, A_inv, b, theta = fresh(n_arms, d)
    basis = rng.normal(size=(5, d))
    pool = rng.normal(size=(40, 5)) @ basis + 1e-3 * rng.normal(size=(40, d))
    for step in range(20_000):
        x = pool[rng.integers(len(pool))]
        linucb_update(A, A_inv, b, theta, step % n_arms, x, float(rng.random()))
        if step % 2_000 == 1_999:
            refactor_inverses(A, A_inv)
    refactor_inverses(A, A_inv)
    for k in range(n_arms):
        assert np.array_equal(A_inv[k], A_inv[k].T)
        np.linalg.cholesky(A_inv[k])  # raises unless positive definite
        assert np.allclose(A_inv[k] @ A[k], np.eye(d), atol=1e-6)
    linucb_theta(A_inv, b, theta)
    scores = linucb_scores(A_inv, theta, rng.normal(size=(100, d)), 1.0)
    assert np.isfinite(scores).all()


def test_refactor_recovers_an_inverse_that_drifted():
    rng = np.random.default_rng(5)
    A, A_inv, b, theta = fresh(3, 10)
    for _ in range(200):
        linucb_update(A, A_inv, b, theta, int(rng.integers(3)), rng.normal(size=10), 1.0)
    A_inv += 1e-3 * rng.normal(size=A_inv.shape)  # damage it
    refactor_inverses(A, A_inv)
    for k in range(3):
        assert np.allclose(A_inv[k], np.linalg.inv(A[k]), rtol=1e-9, atol=1e-12)


def test_thompson_draws_follow_the_posterior_of_each_arms_reward():
    rng = np.random.default_rng(21)
    n_arms, d = 3, 6
    A, A_inv, b, theta = fresh(n_arms, d)
    for _ in range(100):
        linucb_update(A, A_inv, b, theta, int(rng.integers(n_arms)), rng.random(d), 1.0)
    x = rng.random(d)
    n = 40_000
    X = np.tile(x, (n, 1))
    Z = rng.standard_normal((n, n_arms))
    draws = linear_ts_scores(A_inv, theta, X, 0.5, Z)
    for k in range(n_arms):
        inv = np.linalg.inv(A[k])
        mean = x @ inv @ b[k]
        sd = 0.5 * np.sqrt(x @ inv @ x)
        assert draws[:, k].mean() == pytest.approx(mean, abs=4 * sd / np.sqrt(n))
        assert draws[:, k].std() == pytest.approx(sd, rel=0.03)
    # With Z = 0 a draw is the posterior mean: the same as LinUCB with alpha = 0.
    zero = linear_ts_scores(A_inv, theta, X[:5], 0.5, np.zeros((5, n_arms)))
    assert np.allclose(zero, linucb_scores(A_inv, theta, X[:5], 0.0))


def test_batched_scores_agree_across_block_sizes_and_paths():
    # 130 contexts: two full blocks on the symmetric path, then 2 on the row-by-row path.
    rng = np.random.default_rng(12)
    n_arms, d = 3, 20
    A, A_inv, b, theta = fresh(n_arms, d)
    for _ in range(200):
        linucb_update(A, A_inv, b, theta, int(rng.integers(n_arms)), rng.normal(size=d), 1.0)
    X = rng.normal(size=(130, d))
    expected = reference_scores(A, b, X, alpha=0.4)
    for kernel in (linucb_scores, linucb_scores_parallel):
        assert np.allclose(kernel(A_inv, theta, X, 0.4), expected, rtol=1e-8, atol=1e-10)
    one_by_one = np.vstack([linucb_scores(A_inv, theta, x[None, :], 0.4) for x in X])
    assert np.allclose(one_by_one, expected, rtol=1e-8, atol=1e-10)
