"""LambdaMARTRanker: label mapping (CASES 14), groups (CASES 15), persistence, and the
reproduction of LightGBM's own result on its lambdarank example."""

from __future__ import annotations

import numpy as np
import pytest

from ltrr_fast.evaluation import ndcg_at_k
from ltrr_fast.ranking import LambdaMARTRanker, OnlineRanker, load_ranker, map_labels

lightgbm = pytest.importorskip("lightgbm", reason="LambdaMART needs the ltr extra (lightgbm)")

SMALL = {"min_data_in_leaf": 1, "min_sum_hessian_in_leaf": 1e-3, "bagging_fraction": 1.0}


def toy(seed: int = 0, n_groups: int = 30, size: int = 6, d: int = 4):
    rng = np.random.default_rng(seed)
    X = rng.random((n_groups * size, d)).astype(np.float32)
    labels = np.floor(4 * X[:, 0] + rng.random(X.shape[0])).astype(np.float64)
    return X, labels, np.full(n_groups, size)


def run_of(scores: np.ndarray, labels: np.ndarray, indptr: np.ndarray):
    """Ranked row ids per query and grades, for the project's metrics."""
    run, qrels = {}, {}
    for q in range(len(indptr) - 1):
        lo, hi = indptr[q], indptr[q + 1]
        order = np.argsort(-scores[lo:hi], kind="stable")
        run[str(q)] = [str(row) for row in order]
        qrels[str(q)] = {str(row): int(grade) for row, grade in enumerate(labels[lo:hi])}
    return run, qrels


def test_lambdamart_rejects_click_counts_with_our_error_when_labels_exceed_30():
    # CASES 14: raw click counts such as 72 must never reach LightGBM unmapped.
    X, labels, groups = toy()
    labels[3] = 72
    ranker = LambdaMARTRanker(X.shape[1], params=SMALL, num_boost_round=5)
    with pytest.raises(ValueError, match=r"integers in \[0, 30\].*label_transform='log2'"):
        ranker.fit(X, labels, groups)
    assert ranker.booster is None


@pytest.mark.parametrize("transform", ["log2", "clip", "dense"])
def test_lambdamart_trains_when_click_counts_are_mapped_into_range(transform):
    X, _, groups = toy()
    counts = 7 * np.floor(10 * X[:, 0] ** 2)  # 10 distinct counts up to 63
    ranker = LambdaMARTRanker(
        X.shape[1], params=SMALL, num_boost_round=10, label_transform=transform
    )
    ranker.fit(X, counts, groups)
    scores = ranker.score(X)
    assert np.corrcoef(scores, X[:, 0])[0, 1] > 0.5


def test_map_labels_keeps_order_and_range_when_labels_are_counts():
    counts = np.array([0, 1, 3, 72, 5000, 2**40], dtype=np.float64)
    np.testing.assert_array_equal(map_labels(counts, "log2", 30), [0, 1, 2, 6, 12, 30])
    np.testing.assert_array_equal(map_labels(counts, "clip", 30), [0, 1, 3, 30, 30, 30])
    np.testing.assert_array_equal(map_labels(counts, "dense", 30), [0, 1, 2, 3, 4, 5])
    with pytest.raises(ValueError, match=">= 0"):
        map_labels(np.array([-1.0]), "log2", 30)
    with pytest.raises(ValueError, match="not whole"):
        map_labels(np.array([0.5]), "none", 30)
    with pytest.raises(ValueError, match="distinct labels"):
        map_labels(np.arange(40.0), "dense", 30)


def test_lambdamart_drops_empty_groups_when_groups_are_5_0_3():
    # CASES 15: groups=[5, 0, 3] train like [5, 3], never reaching LightGBM with a 0.
    X, labels, _ = toy(n_groups=1, size=8)
    with_empty = LambdaMARTRanker(X.shape[1], params=SMALL, num_boost_round=5)
    with_empty.fit(X, labels, [5, 0, 3])
    without = LambdaMARTRanker(X.shape[1], params=SMALL, num_boost_round=5)
    without.fit(X, labels, [5, 3])
    np.testing.assert_array_equal(with_empty.score(X), without.score(X))


def test_lambdamart_trains_without_error_when_groups_are_single_rows_or_all_equal_labels():
    # CASES 15: such groups have no pair; they train and add zero gradient.
    X, labels, _ = toy(n_groups=4, size=5)
    labels[5:10] = 2.0  # group 1: all equal
    X_more = np.vstack([X, X[:3]])
    labels_more = np.concatenate([labels, [4.0, 0.0, 1.0]])
    groups = [5, 5, 5, 5]
    padded = LambdaMARTRanker(X.shape[1], params=SMALL, num_boost_round=5)
    padded.fit(X_more, labels_more, [*groups, 1, 1, 1])
    assert np.isfinite(padded.score(X)).all()
    # Every tree leaf value comes from pairs; with only pairless groups nothing is learned.
    pairless = LambdaMARTRanker(X.shape[1], params=SMALL, num_boost_round=5)
    pairless.fit(X[5:10], labels[5:10], [1, 1, 3])
    assert np.ptp(pairless.score(X)) == 0.0


BAD = {
    "nan feature": (lambda X, y, g: (np.where(X > 0.9, np.nan, X), y, g), "finite"),
    "wrong width": (lambda X, y, g: (X[:, :2], y, g), "feature columns"),
    "groups do not add up": (lambda X, y, g: (X, y, [*g, 1]), "add up"),
    "all groups empty": (lambda X, y, g: (X[:0], y[:0], [0, 0]), "every group is empty"),
    "negative label": (lambda X, y, g: (X, -y - 1, g), ">= 0"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_lambdamart_raises_and_keeps_its_model_when_input_is_bad(case):
    X, labels, groups = toy()
    ranker = LambdaMARTRanker(X.shape[1], params=SMALL, num_boost_round=5).fit(X, labels, groups)
    before = ranker.score(X)
    booster = ranker.booster
    mangle, message = BAD[case]
    with pytest.raises(ValueError, match=message):
        ranker.fit(*mangle(X, labels, list(groups)))
    assert ranker.booster is booster
    np.testing.assert_array_equal(ranker.score(X), before)


def test_lambdamart_save_and_load_give_identical_scores(tmp_path):
    X, labels, groups = toy()
    ranker = LambdaMARTRanker(X.shape[1], params=SMALL, num_boost_round=8).fit(X, labels, groups)
    path = tmp_path / "lambdamart.bin"
    ranker.save(path)
    loaded = load_ranker(path)
    assert isinstance(loaded, LambdaMARTRanker)
    np.testing.assert_array_equal(loaded.score(X), ranker.score(X))
    assert loaded.rank(X, groups).tolist() == ranker.rank(X, groups).tolist()
    with pytest.raises(ValueError, match="not a 'online_linear'"):
        OnlineRanker.load(path)


def test_lambdamart_and_online_ranker_are_interchangeable_behind_the_ranker_interface():
    X, labels, groups = toy()
    for ranker in (
        LambdaMARTRanker(X.shape[1], params=SMALL, num_boost_round=5),
        OnlineRanker(X.shape[1]),
    ):
        order = ranker.fit(X, labels, groups).rank(X, groups)
        assert sorted(order.tolist()) == list(range(X.shape[0]))


@pytest.fixture(scope="module")
def lambdarank_sample():
    from ltrr_fast.datasets.ltr import LAMBDARANK_FOLDER, load_lightgbm_lambdarank

    try:
        train, test = load_lightgbm_lambdarank()
    except FileNotFoundError as error:
        pytest.skip(f"shared data missing: {error}")
    return train, test, train.path.parent, LAMBDARANK_FOLDER


def test_lambdamart_reproduces_lightgbm_test_ndcg_when_trained_on_its_example(lambdarank_sample):
    train, test, folder, _ = lambdarank_sample
    ours = LambdaMARTRanker(train.X.shape[1]).fit(train.X, train.labels, train.groups)

    # LightGBM on its own, from its files, with the same parameters.
    from ltrr_fast.ranking.lambdamart import DEFAULT_PARAMS

    params = {**DEFAULT_PARAMS, "metric": "ndcg", "eval_at": [10]}
    direct_train = lightgbm.Dataset(str(folder / "rank.train"))
    direct_test = lightgbm.Dataset(str(folder / "rank.test"), reference=direct_train)
    record: dict = {}
    direct = lightgbm.train(
        params,
        direct_train,
        num_boost_round=100,
        valid_sets=[direct_test],
        callbacks=[lightgbm.record_evaluation(record)],
    )
    # Same trees, same test scores: LightGBM's own nDCG@10 (0.7423 with its exponential gain)
    # is then reproduced exactly, and so is any other measure of the scores.
    direct_scores = direct.predict(str(folder / "rank.test"))
    np.testing.assert_array_equal(ours.score(test.X), direct_scores)
    assert ours.booster.num_trees() == direct.num_trees() == 100
    assert record["valid_0"]["ndcg@10"][-1] > 0.7

    run, qrels = run_of(ours.score(test.X), test.labels, test.indptr)
    direct_run, _ = run_of(direct_scores, test.labels, test.indptr)
    assert ndcg_at_k(run, qrels, 10).mean == ndcg_at_k(direct_run, qrels, 10).mean > 0.7


def test_online_ranker_reaches_90_percent_of_lambdamart_when_rows_are_perfect_clicks(
    lambdarank_sample,
):
    train, test, _, _ = lambdarank_sample
    lambdamart = LambdaMARTRanker(train.X.shape[1]).fit(train.X, train.labels, train.groups)
    online = OnlineRanker(train.X.shape[1], learning_rate=0.03, seed=0)
    online.fit(train.X, train.labels, train.groups, epochs=20)
    reference = ndcg_at_k(*run_of(lambdamart.score(test.X), test.labels, test.indptr), 10).mean
    ours = ndcg_at_k(*run_of(online.score(test.X), test.labels, test.indptr), 10).mean
    assert ours >= 0.9 * reference
