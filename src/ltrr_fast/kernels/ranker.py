"""Linear ranker kernels: scoring, pairwise and LambdaRank gradients, one optimiser step.

Rows of one query (a *group*) sit next to each other; ``indptr`` marks group ``g`` as rows
``indptr[g]:indptr[g + 1]``, as in CSR storage. A model is a weight vector ``w`` and a row's
score is ``x . w``; only differences of scores within a group matter.

For every pair ``(i, j)`` of one group with ``label[i] > label[j]`` the loss is
``weight[i] * delta_ij * log(1 + exp(-sigma * (s_i - s_j)))``, where ``weight[i]`` is the
weight of the preferred row (1, or an inverse propensity of examination when learning from
clicks) and ``delta_ij`` is 1 (pairwise, RankNet) or, for LambdaRank, the change in nDCG
that swapping ``i`` and ``j`` in the current ranking would cause, with gain ``2^label - 1``,
discount ``1 / log2(2 + rank)`` and the ideal DCG of the group's top ``truncation`` as
normaliser. Only pairs with at least one row ranked above ``truncation`` count. The current
ranking orders rows by decreasing score, ties by row order.

With ``click_pairs`` the pairs are instead every ``(i, j)``, ``j != i``, with ``label[i] > 0``
(a clicked row against every other row, clicked or not), and the LambdaRank gain difference
becomes ``2^label[i] - 1``. Weighted by ``1 / examination`` of the clicked row, this loss is an
unbiased estimate of the same loss over relevance (Joachims et al., 2017), which the graded
pairs are not: a pair of two clicked rows is dropped there, more often for rows seen less.

A group of one row, or whose labels are all equal, or (LambdaRank) whose labels are all zero,
has no pair and adds nothing to the loss or the gradient.

Kernels trust their inputs: shapes, dtypes and finiteness are checked by the caller.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

#: Optimisers of :func:`ranker_step`.
OPT_SGD = 0
OPT_ADAGRAD = 1


@njit(cache=True, nogil=True, fastmath=True)
def _dot(x: np.ndarray, w: np.ndarray) -> float:
    acc = 0.0
    for k in range(x.shape[0]):
        acc += x[k] * w[k]
    return acc


@njit(cache=True, nogil=True)
def linear_scores(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Scores ``X @ w`` of every row, on one thread.

    Parameters
    ----------
    X : (n_rows, d) float32 or float64
    w : (d,) float64

    Returns
    -------
    (n_rows,) float64
    """
    out = np.empty(X.shape[0])
    for row in range(X.shape[0]):
        out[row] = _dot(X[row], w)
    return out


@njit(cache=True, nogil=True, parallel=True)
def linear_scores_parallel(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    """:func:`linear_scores` with rows spread over threads, for large batches."""
    out = np.empty(X.shape[0])
    for row in prange(X.shape[0]):
        out[row] = _dot(X[row], w)
    return out


@njit(cache=True, nogil=True)
def _softplus(z: float) -> float:
    # log(1 + exp(z)) without overflow for large z
    if z > 0.0:
        return z + math.log1p(math.exp(-z))
    return math.log1p(math.exp(z))


@njit(cache=True, nogil=True)
def _group_lambdas(
    scores: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray,
    start: int,
    end: int,
    sigma: float,
    use_ndcg: bool,
    truncation: int,
    click_pairs: bool,
    lambdas: np.ndarray,
) -> float:
    n = end - start
    if n < 2:
        return 0.0

    # Current ranking: decreasing score, ties by row order (mergesort is stable).
    order = np.argsort(-scores[start:end], kind="mergesort")
    rank = np.empty(n, dtype=np.int64)
    for r in range(n):
        rank[order[r]] = r

    inv_max_dcg = 1.0
    if use_ndcg:
        ideal = np.sort(labels[start:end])[::-1]
        max_dcg = 0.0
        for r in range(min(n, truncation)):
            max_dcg += (2.0 ** ideal[r] - 1.0) / math.log2(r + 2.0)
        if max_dcg <= 0.0:
            return 0.0
        inv_max_dcg = 1.0 / max_dcg

    loss = 0.0
    for i in range(n):
        label_i = labels[start + i]
        if click_pairs and label_i <= 0.0:
            continue
        for j in range(n):
            if click_pairs:
                if j == i:
                    continue
            elif label_i <= labels[start + j]:
                continue
            if min(rank[i], rank[j]) >= truncation:
                continue
            diff = scores[start + i] - scores[start + j]
            delta = 1.0
            if use_ndcg:
                gain = (2.0**label_i) - (1.0 if click_pairs else 2.0 ** labels[start + j])
                discount = 1.0 / math.log2(rank[i] + 2.0) - 1.0 / math.log2(rank[j] + 2.0)
                delta = abs(gain * discount) * inv_max_dcg
            pair_weight = weights[start + i] * delta
            # d/d(diff) of log(1 + exp(-sigma diff)) is -sigma / (1 + exp(sigma diff))
            lam = sigma * pair_weight / (1.0 + math.exp(min(sigma * diff, 700.0)))
            lambdas[start + i] -= lam
            lambdas[start + j] += lam
            loss += pair_weight * _softplus(-sigma * diff)
    return loss


@njit(cache=True, nogil=True)
def pair_lambdas(
    scores: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray,
    indptr: np.ndarray,
    sigma: float,
    use_ndcg: bool,
    truncation: int,
    click_pairs: bool = False,
) -> tuple[np.ndarray, float]:
    """Gradient of the pairwise (or LambdaRank) loss with respect to every row's score.

    Parameters
    ----------
    scores : (n_rows,) float64, current scores
    labels : (n_rows,) float64, grades or clicks (higher is better)
    weights : (n_rows,) float64, weight of each row when it is the preferred one of a pair
    indptr : (n_groups + 1,) int64, group boundaries
    sigma : steepness of the logistic pair loss, > 0
    use_ndcg : weight pairs by their nDCG change (LambdaRank) or not (pairwise)
    truncation : pairs count only when one row is ranked above this position
    click_pairs : pair each positive row with every other row (see the module docstring)

    Returns
    -------
    lambdas : (n_rows,) float64, d loss / d score
    loss : float, the loss at ``scores``
    """
    lambdas = np.zeros(scores.shape[0])
    loss = 0.0
    for g in range(indptr.shape[0] - 1):
        loss += _group_lambdas(
            scores,
            labels,
            weights,
            indptr[g],
            indptr[g + 1],
            sigma,
            use_ndcg,
            truncation,
            click_pairs,
            lambdas,
        )
    return lambdas, loss


@njit(cache=True, nogil=True)
def ranker_step(
    X: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray,
    indptr: np.ndarray,
    w: np.ndarray,
    grad_sq: np.ndarray,
    learning_rate: float,
    l2: float,
    sigma: float,
    use_ndcg: bool,
    truncation: int,
    optimizer: int,
    click_pairs: bool = False,
) -> float:
    """One gradient step of a linear ranker on a mini-batch of groups, in place.

    The gradient is ``X^T lambdas + l2 * w`` (lambdas from :func:`pair_lambdas` at the
    current scores), summed per group over differences from the group's first row, so
    columns constant within a group get exactly zero gradient. With ``optimizer == OPT_SGD``
    the step is ``learning_rate * gradient``; with ``OPT_ADAGRAD`` the squared gradient is
    accumulated in ``grad_sq`` and each weight moves by
    ``learning_rate * g / (sqrt(grad_sq) + 1e-12)``, except where ``g`` is zero.

    Returns
    -------
    float
        The loss before the step (the L2 term excluded).
    """
    d = X.shape[1]
    scores = linear_scores(X, w)
    lambdas, loss = pair_lambdas(
        scores, labels, weights, indptr, sigma, use_ndcg, truncation, click_pairs
    )

    # Within a group the lambdas sum to zero, so X^T lambdas equals the sum of
    # lambda * (x - x_first) over the group's rows. The differences are exactly zero on a
    # column that is constant in the group (query features), where summing lambda * x would
    # leave a rounding residue that AdaGrad's normalisation blows up into a full step.
    grad = np.zeros(d)
    for g in range(indptr.shape[0] - 1):
        first = indptr[g]
        for row in range(first + 1, indptr[g + 1]):
            lam = lambdas[row]
            if lam != 0.0:
                for k in range(d):
                    grad[k] += lam * (np.float64(X[row, k]) - np.float64(X[first, k]))

    for k in range(d):
        g = grad[k] + l2 * w[k]
        if g == 0.0:
            continue
        if optimizer == OPT_ADAGRAD:
            grad_sq[k] += g * g
            w[k] -= learning_rate * g / (math.sqrt(grad_sq[k]) + 1e-12)
        else:
            w[k] -= learning_rate * g
    return loss
