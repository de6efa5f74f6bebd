"""Seeded randomised truncated SVD of a sparse matrix, with numpy and scipy only."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import scipy.sparse as sp


def randomized_svd(matrix: sp.csr_matrix, rank: int, n_iter: int, seed: int) -> np.ndarray:
    """Top ``rank`` right singular vectors, shape ``(rank, n_features)`` (Halko et al., 2011).

    Orthonormalisation is Cholesky QR and the small SVD goes through the Gram matrix, so the
    dense work is matrix products on thin matrices, run on one BLAS thread when threadpoolctl
    is installed (many threads on such small products mostly wait on each other).
    """
    with _one_blas_thread():
        rng = np.random.default_rng(seed)
        matrix = matrix.astype(np.float64)
        n_sketch = min(rank + 10, min(matrix.shape))
        basis = _orthonormal(matrix @ rng.standard_normal((matrix.shape[1], n_sketch)))
        for _ in range(n_iter):
            basis = _orthonormal(matrix @ _orthonormal(matrix.T @ basis))
        small = np.asarray((matrix.T @ basis).T)  # (n_sketch, n_features)
        eigenvalues, eigenvectors = np.linalg.eigh(small @ small.T)
        order = np.argsort(eigenvalues)[::-1][:rank]
        singular = np.sqrt(np.maximum(eigenvalues[order], 1e-30))
        components = (eigenvectors[:, order].T @ small) / singular[:, None]
    # Fix each sign so the largest entry is positive: the result does not depend on the sketch.
    signs = np.sign(components[np.arange(rank), np.argmax(np.abs(components), axis=1)])
    return np.ascontiguousarray(components * signs[:, None], dtype=np.float32)


def _orthonormal(block: np.ndarray) -> np.ndarray:
    """An orthonormal basis of a tall block's columns (Cholesky QR, twice for accuracy)."""
    for _ in range(2):
        gram = block.T @ block
        gram[np.diag_indices_from(gram)] += 1e-12 * max(float(np.trace(gram)), 1e-30)
        upper = np.linalg.cholesky(gram).T
        block = np.linalg.solve(upper.T, block.T).T
    return block


class _one_blas_thread:
    """Limit BLAS to one thread inside the block when threadpoolctl is installed."""

    def __enter__(self) -> None:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            self._limits = None
            return
        self._limits = threadpool_limits(limits=1, user_api="blas")

    def __exit__(self, *exc: object) -> None:
        if self._limits is not None:
            self._limits.restore_original_limits()
