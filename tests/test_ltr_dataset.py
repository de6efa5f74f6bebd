"""The LightGBM lambdarank example loader, checked against the data's README and LightGBM."""

from __future__ import annotations

import numpy as np
import pytest

from ltrr_fast.datasets.ltr import load_lightgbm_lambdarank, read_libsvm_ranking


@pytest.fixture(scope="module")
def splits():
    try:
        return load_lightgbm_lambdarank()
    except FileNotFoundError as error:
        pytest.skip(f"shared data missing: {error}")


def test_lambdarank_sample_has_the_documented_rows_queries_and_labels(splits):
    train, test = splits
    assert (train.n_rows, train.n_queries, test.n_rows, test.n_queries) == (3005, 201, 768, 50)
    assert np.bincount(train.labels).tolist() == [645, 1211, 858, 222, 69]
    assert train.X.shape[1] == test.X.shape[1] == 301
    assert train.X.dtype == np.float32 and train.indptr[-1] == train.n_rows
    used = np.flatnonzero((np.vstack([train.X, test.X]) != 0).any(axis=0))
    assert used.size <= 218 and used.min() >= 1


def test_lambdarank_sample_equals_lightgbm_reading_the_same_file(splits):
    lightgbm = pytest.importorskip("lightgbm")
    train, _ = splits
    dataset = lightgbm.Dataset(str(train.path), params={"verbose": -1}).construct()
    np.testing.assert_array_equal(dataset.get_label(), train.labels)
    np.testing.assert_array_equal(np.diff(dataset.get_field("group")), train.groups)


def test_read_libsvm_raises_when_groups_do_not_add_up(tmp_path):
    rows = tmp_path / "rows"
    rows.write_text("1 1:0.5 3:1\n0 2:0.25\n2 qid:7 1:1\n")
    sizes = tmp_path / "rows.query"
    sizes.write_text("2\n2\n")
    with pytest.raises(ValueError, match="add up to the 3 rows"):
        read_libsvm_ranking(rows, sizes)
    sizes.write_text("2\n1\n")
    split = read_libsvm_ranking(rows, sizes)
    np.testing.assert_array_equal(split.X, [[0, 0.5, 0, 1], [0, 0, 0.25, 0], [0, 1, 0, 0]])
    assert split.labels.tolist() == [1, 0, 2]


def test_read_libsvm_raises_naming_the_line_when_a_row_is_malformed(tmp_path):
    rows = tmp_path / "rows"
    rows.write_text("1 1:0.5\n0 2=0.25\n")
    sizes = tmp_path / "rows.query"
    sizes.write_text("2\n")
    with pytest.raises(ValueError, match="rows:2"):
        read_libsvm_ranking(rows, sizes)
