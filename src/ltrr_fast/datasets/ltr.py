"""Learning-to-rank feature collections in LibSVM form (LightGBM's lambdarank example).

The data lives in the shared data directory (see :func:`ltrr_fast.datasets.data_root`), folder
``ltr_lightgbm_lambdarank``: ``rank.train`` and ``rank.test`` hold one row per line,
``label index:value ...`` without a query id, and ``rank.train.query`` / ``rank.test.query``
give the size of each query's run of consecutive rows.
"""

from __future__ import annotations

import logging
import pathlib
from dataclasses import dataclass

import numpy as np

from ltrr_fast.datasets.ir import data_root

logger = logging.getLogger(__name__)

#: Folder of LightGBM's lambdarank example under the data root.
LAMBDARANK_FOLDER = "ltr_lightgbm_lambdarank"


@dataclass
class LTRSplit:
    """Rows of one split of a learning-to-rank collection, grouped by query.

    Attributes
    ----------
    X : (n_rows, n_features) float32
        Dense features; a feature absent from a LibSVM line is 0, column ``j`` holds index
        ``j`` (so column 0 is unused when indices start at 1, as LightGBM reads them).
    labels : (n_rows,) int32
        Relevance grades.
    groups : (n_queries,) int64
        Number of consecutive rows of each query.
    path : pathlib.Path
        The LibSVM file the rows came from.
    """

    X: np.ndarray
    labels: np.ndarray
    groups: np.ndarray
    path: pathlib.Path

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return int(self.X.shape[0])

    @property
    def n_queries(self) -> int:
        """Number of queries."""
        return int(self.groups.shape[0])

    @property
    def indptr(self) -> np.ndarray:
        """Group boundaries: query ``q`` owns rows ``indptr[q]:indptr[q + 1]``."""
        return np.concatenate(([0], np.cumsum(self.groups))).astype(np.int64)


def _parse_libsvm(path: pathlib.Path) -> tuple[list[int], list[dict[int, float]]]:
    labels: list[int] = []
    rows: list[dict[int, float]] = []
    with path.open(encoding="ascii") as handle:
        for line_no, line in enumerate(handle, start=1):
            parts = line.split()
            if not parts:
                continue
            try:
                labels.append(int(float(parts[0])))
                row: dict[int, float] = {}
                for item in parts[1:]:
                    if item.startswith("qid:"):
                        continue
                    index, value = item.split(":", 1)
                    row[int(index)] = float(value)
            except ValueError as error:
                raise ValueError(
                    f"{path}:{line_no}: expected 'label index:value ...', got {line[:60]!r}"
                ) from error
            rows.append(row)
    return labels, rows


def read_libsvm_ranking(
    path: str | pathlib.Path, query_path: str | pathlib.Path, n_features: int | None = None
) -> LTRSplit:
    """Read a LibSVM ranking file and its group-size file into dense arrays.

    Parameters
    ----------
    path : str or path
        LibSVM rows ``label index:value ...`` (a ``qid:`` item is skipped).
    query_path : str or path
        One group size per line; the sizes must add up to the number of rows.
    n_features : int, optional
        Width of the matrix; by default the largest index seen plus one.

    Returns
    -------
    LTRSplit

    Raises
    ------
    ValueError
        If a line is malformed, an index is negative or not below ``n_features``, or the
        group sizes do not add up to the number of rows.
    """
    path = pathlib.Path(path)
    query_path = pathlib.Path(query_path)
    labels, rows = _parse_libsvm(path)
    groups = np.loadtxt(query_path, dtype=np.int64, ndmin=1)
    if int(groups.sum()) != len(rows) or (groups < 0).any():
        raise ValueError(
            f"{query_path}: group sizes must be >= 0 and add up to the {len(rows)} rows of "
            f"{path.name}, got sizes adding up to {int(groups.sum())}"
        )

    max_index = max((max(row) for row in rows if row), default=-1)
    min_index = min((min(row) for row in rows if row), default=0)
    width = max_index + 1 if n_features is None else n_features
    if min_index < 0 or max_index >= width:
        raise ValueError(
            f"{path}: feature indices must lie in [0, {width}), got [{min_index}, {max_index}]"
        )

    X = np.zeros((len(rows), width), dtype=np.float32)
    for i, row in enumerate(rows):
        if row:
            X[i, list(row)] = list(row.values())
    logger.debug("%s: %d rows, %d queries, %d columns", path.name, len(rows), len(groups), width)
    return LTRSplit(X=X, labels=np.asarray(labels, dtype=np.int32), groups=groups, path=path)


def load_lightgbm_lambdarank() -> tuple[LTRSplit, LTRSplit]:
    """Load LightGBM's lambdarank example: 3,005 train rows (201 queries), 768 test rows (50).

    Both splits get the same width (the largest feature index of either plus one, 301), so a
    model trained on one scores the other.

    Returns
    -------
    (LTRSplit, LTRSplit)
        The train and the test split.

    Raises
    ------
    FileNotFoundError
        If the data directory or one of the four files is missing.
    """
    folder = data_root() / LAMBDARANK_FOLDER
    files = [folder / name for name in ("rank.train", "rank.train.query")]
    files += [folder / name for name in ("rank.test", "rank.test.query")]
    for path in files:
        if not path.is_file():
            raise FileNotFoundError(f"LightGBM lambdarank example: missing file {path}")

    train = read_libsvm_ranking(files[0], files[1])
    test = read_libsvm_ranking(files[2], files[3])
    width = max(train.X.shape[1], test.X.shape[1])
    for split in (train, test):
        if split.X.shape[1] < width:
            pad = np.zeros((split.n_rows, width - split.X.shape[1]), dtype=np.float32)
            split.X = np.hstack([split.X, pad])
    return train, test
