"""Ranker kernels against a brute-force numpy reference and finite differences."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ltrr_fast.kernels.ranker import (
    OPT_ADAGRAD,
    OPT_SGD,
    linear_scores,
    linear_scores_parallel,
    pair_lambdas,
    ranker_step,
)


def reference_lambdas(scores, labels, weights, indptr, sigma, use_ndcg, truncation, clicks=False):
    """Every pair spelled out, one group at a time, with numpy and math only."""
    lambdas = np.zeros_like(scores)
    loss = 0.0
    for g in range(len(indptr) - 1):
        lo, hi = indptr[g], indptr[g + 1]
        s, y, w = scores[lo:hi], labels[lo:hi], weights[lo:hi]
        n = hi - lo
        # rank by decreasing score, ties by row order
        order = sorted(range(n), key=lambda i: (-s[i], i))
        rank = {row: r for r, row in enumerate(order)}
        ideal = sorted(y, reverse=True)[:truncation]
        max_dcg = sum((2.0**v - 1) / math.log2(r + 2) for r, v in enumerate(ideal))
        if use_ndcg and max_dcg == 0:
            continue
        for i in range(n):
            for j in range(n):
                preferred = (y[i] > 0 and i != j) if clicks else y[i] > y[j]
                if not preferred or min(rank[i], rank[j]) >= truncation:
                    continue
                delta = 1.0
                if use_ndcg:
                    gain = 2.0 ** y[i] - (1.0 if clicks else 2.0 ** y[j])
                    disc = 1 / math.log2(rank[i] + 2) - 1 / math.log2(rank[j] + 2)
                    delta = abs(gain * disc) / max_dcg
                diff = s[i] - s[j]
                lam = sigma * w[i] * delta / (1 + math.exp(sigma * diff))
                lambdas[lo + i] -= lam
                lambdas[lo + j] += lam
                loss += w[i] * delta * math.log1p(math.exp(-sigma * diff))
    return lambdas, loss


def random_batch(rng, n_groups=6, max_size=9, d=5, max_label=4):
    sizes = rng.integers(0, max_size + 1, size=n_groups)
    indptr = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
    n = int(indptr[-1])
    X = rng.normal(size=(n, d)).astype(np.float32)
    labels = rng.integers(0, max_label + 1, size=n).astype(np.float64)
    weights = rng.uniform(0.5, 3.0, size=n)
    return X, labels, weights, indptr


@pytest.mark.parametrize("clicks", [False, True])
@pytest.mark.parametrize("use_ndcg", [False, True])
@pytest.mark.parametrize("truncation", [1, 3, 1000])
@pytest.mark.parametrize("seed", range(5))
def test_pair_lambdas_equal_brute_force_when_batches_are_random(
    use_ndcg, truncation, seed, clicks
):
    rng = np.random.default_rng(seed)
    X, labels, weights, indptr = random_batch(rng, max_label=1 if clicks else 4)
    scores = rng.normal(size=X.shape[0])
    scores[::4] = 0.5  # some ties, broken by row order
    args = (scores, labels, weights, indptr, 1.3, use_ndcg, truncation)
    got, got_loss = pair_lambdas(*args, clicks)
    want, want_loss = reference_lambdas(*args, clicks)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert got_loss == pytest.approx(want_loss, rel=1e-12, abs=1e-12)


def test_pairwise_lambdas_are_the_gradient_of_the_loss_when_checked_by_finite_differences():
    rng = np.random.default_rng(7)
    _, labels, weights, indptr = random_batch(rng, n_groups=3, max_size=6)
    scores = rng.normal(size=labels.shape[0])
    lambdas, _ = pair_lambdas(scores, labels, weights, indptr, 0.8, False, 10**9)
    step = 1e-6
    for row in range(scores.shape[0]):
        up, down = scores.copy(), scores.copy()
        up[row] += step
        down[row] -= step
        loss_up = pair_lambdas(up, labels, weights, indptr, 0.8, False, 10**9)[1]
        loss_down = pair_lambdas(down, labels, weights, indptr, 0.8, False, 10**9)[1]
        assert lambdas[row] == pytest.approx((loss_up - loss_down) / (2 * step), abs=1e-6)


@pytest.mark.parametrize("optimizer", [OPT_SGD, OPT_ADAGRAD])
@pytest.mark.parametrize("use_ndcg", [False, True])
def test_ranker_step_equals_numpy_step_when_batches_are_random(optimizer, use_ndcg):
    rng = np.random.default_rng(3)
    X, labels, weights, indptr = random_batch(rng)
    w = rng.normal(size=X.shape[1])
    grad_sq = rng.uniform(0.0, 1.0, size=X.shape[1])
    w_want, grad_sq_want = w.copy(), grad_sq.copy()

    loss = ranker_step(
        X, labels, weights, indptr, w, grad_sq, 0.1, 0.01, 1.0, use_ndcg, 5, optimizer
    )

    scores = X.astype(np.float64) @ w_want
    lambdas, want_loss = reference_lambdas(scores, labels, weights, indptr, 1.0, use_ndcg, 5)
    grad = X.astype(np.float64).T @ lambdas + 0.01 * w_want
    if optimizer == OPT_ADAGRAD:
        grad_sq_want += grad**2
        w_want -= 0.1 * grad / (np.sqrt(grad_sq_want) + 1e-12)
    else:
        w_want -= 0.1 * grad
    np.testing.assert_allclose(w, w_want, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(grad_sq, grad_sq_want, rtol=1e-9)
    assert loss == pytest.approx(want_loss, rel=1e-9)


@pytest.mark.parametrize("use_ndcg", [False, True])
def test_ranker_step_adds_zero_gradient_when_groups_are_single_rows_or_all_equal(use_ndcg):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(7, 3)).astype(np.float32)
    labels = np.array([3.0, 1.0, 2.0, 2.0, 2.0, 0.0, 0.0])
    indptr = np.array([0, 1, 2, 5, 7], dtype=np.int64)  # singles, all-2 group, all-0 group
    w = rng.normal(size=3)
    grad_sq = np.zeros(3)
    before = w.copy()
    loss = ranker_step(
        X, labels, np.ones(7), indptr, w, grad_sq, 0.5, 0.0, 1.0, use_ndcg, 30, OPT_ADAGRAD
    )
    assert loss == 0.0
    np.testing.assert_array_equal(w, before)
    np.testing.assert_array_equal(grad_sq, 0.0)


def test_linear_scores_parallel_equals_serial_when_many_rows():
    rng = np.random.default_rng(5)
    X = rng.random((5000, 17)).astype(np.float32)
    w = rng.normal(size=17)
    serial = linear_scores(X, w)
    np.testing.assert_array_equal(linear_scores_parallel(X, w), serial)
    np.testing.assert_allclose(serial, X.astype(np.float64) @ w, rtol=1e-6)


def test_a_column_constant_within_every_group_gets_exactly_zero_gradient():
    # Query features are constant over a query's candidates: rounding must not turn their
    # zero gradient into an AdaGrad step (which normalises any non-zero gradient to full size).
    rng = np.random.default_rng(9)
    n_groups, size = 6, 9
    X = rng.normal(size=(n_groups * size, 4)).astype(np.float32)
    X[:, 2] = np.repeat(rng.uniform(5, 50, size=n_groups), size).astype(np.float32)
    labels = rng.integers(0, 3, size=n_groups * size).astype(np.float64)
    indptr = np.arange(0, n_groups * size + 1, size, dtype=np.int64)
    w = rng.normal(size=4)
    grad_sq = np.zeros(4)
    before = w.copy()
    ranker_step(
        X, labels, np.ones(len(labels)), indptr, w, grad_sq, 0.5, 0.0, 1.0, True, 30, OPT_ADAGRAD
    )
    assert w[2] == before[2] and grad_sq[2] == 0.0
    assert (w[[0, 1, 3]] != before[[0, 1, 3]]).all()
