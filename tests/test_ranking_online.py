"""OnlineRanker and PositionBias: learning, bias correction, persistence, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from ltrr_fast.evaluation.click_models import PositionBasedModel
from ltrr_fast.ranking import (
    CandidateFeatures,
    FeatureBuilder,
    OnlineRanker,
    PositionBias,
    RankerFormatError,
    load_ranker,
)


def synthetic_groups(seed: int, n_groups: int = 60, size: int = 8, d: int = 6):
    """Groups whose grade is a noisy linear function of the features."""
    rng = np.random.default_rng(seed)
    true_w = rng.normal(size=d)
    X = rng.normal(size=(n_groups * size, d)).astype(np.float32)
    utility = X @ true_w + rng.normal(scale=0.3, size=X.shape[0])
    labels = np.digitize(utility, [-1.0, 0.5, 1.5]).astype(np.float64)
    return X, labels, np.full(n_groups, size), true_w


def state(ranker: OnlineRanker):
    return (
        ranker.weights,
        ranker._grad_sq.copy(),
        ranker.n_updates,
        ranker._rng.bit_generator.state,
    )


@pytest.mark.parametrize("loss", ["lambdarank", "pairwise"])
@pytest.mark.parametrize("optimizer", ["adagrad", "sgd"])
def test_online_ranker_recovers_the_direction_of_the_true_weights_when_labels_are_linear(
    loss, optimizer
):
    X, labels, groups, true_w = synthetic_groups(0)
    ranker = OnlineRanker(X.shape[1], loss=loss, optimizer=optimizer, learning_rate=0.05)
    ranker.fit(X, labels, groups, epochs=10)
    w = ranker.weights
    cosine = w @ true_w / np.linalg.norm(w) / np.linalg.norm(true_w)
    assert cosine > 0.9


def test_online_ranker_learns_true_order_from_biased_clicks_only_when_corrected():
    # Two result kinds; the better one (feature 1) is always shown lower, where few look.
    rng = np.random.default_rng(1)
    model = PositionBasedModel([1.0, 0.1], click_relevant=1.0, click_irrelevant=0.0)
    X = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    attract = np.array([0.5, 0.9])  # click probability once examined
    corrected = OnlineRanker(2, position_bias=model.position_bias(), learning_rate=0.02)
    plain = OnlineRanker(2, learning_rate=0.02)
    for _ in range(4000):
        examined = rng.random(2) < model.examination
        clicks = (examined & (rng.random(2) < attract)).astype(float)
        if clicks.any():
            corrected.update(X, clicks)
            plain.update(X, clicks)
    assert corrected.rank(X).tolist() == [1, 0]
    assert plain.rank(X).tolist() == [0, 1]


def test_position_bias_from_adjacent_swaps_recovers_examination_when_pairs_are_randomised():
    rng = np.random.default_rng(2)
    truth = PositionBias.power_law(6, eta=1.0).propensities
    n = 60_000
    top = rng.integers(0, 5, size=n)
    attract = rng.uniform(0.2, 0.8, size=(n, 2))  # the pair's two results, in random order
    clicks_top = rng.random(n) < truth[top] * attract[:, 0]
    clicks_bottom = rng.random(n) < truth[top + 1] * attract[:, 1]
    estimate = PositionBias.from_adjacent_swaps(top, clicks_top, clicks_bottom, 6)
    np.testing.assert_allclose(estimate.propensities, truth, rtol=0.08)


def test_position_bias_rejects_when_a_pair_has_no_click_at_its_top():
    with pytest.raises(ValueError, match="no click at the upper position"):
        PositionBias.from_adjacent_swaps([0, 1], [1, 0], [1, 1], 3)


@pytest.mark.parametrize("bad", [[0.0, 0.5], [1.2], [], [np.nan]])
def test_position_bias_rejects_when_propensities_are_not_probabilities(bad):
    with pytest.raises(ValueError, match="propensities"):
        PositionBias(bad)


def test_position_bias_weights_clip_at_max_weight_and_extend_past_the_last_position():
    bias = PositionBias.power_law(3, eta=1.0, max_weight=2.5)
    np.testing.assert_allclose(bias.weights([0, 1, 2, 9]), [1.0, 2.0, 2.5, 2.5])


def test_online_ranker_save_and_load_continue_bit_for_bit(tmp_path):
    X, labels, groups, _ = synthetic_groups(3)
    bias = PositionBias.power_law(8, eta=0.7, max_weight=5.0)
    ranker = OnlineRanker(X.shape[1], position_bias=bias, seed=9).fit(X, labels, groups, epochs=2)
    path = tmp_path / "ranker.bin"
    ranker.save(path)
    loaded = load_ranker(path)
    assert isinstance(loaded, OnlineRanker)
    assert loaded.position_bias is not None and loaded.position_bias.max_weight == 5.0

    ranker.fit(X, labels, groups, epochs=2)
    loaded.fit(X, labels, groups, epochs=2)
    ranker.update(X[:8], np.eye(8)[3])
    loaded.update(X[:8], np.eye(8)[3])
    for a, b in zip(state(ranker), state(loaded)):
        np.testing.assert_equal(a, b)
    np.testing.assert_array_equal(ranker.score(X), loaded.score(X))


@pytest.mark.parametrize("damage", ["truncate", "flip", "magic"])
def test_ranker_load_raises_format_error_when_file_is_damaged(tmp_path, damage):
    path = tmp_path / "ranker.bin"
    OnlineRanker(4).save(path)
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[:-5]
    elif damage == "flip":
        data[-3] ^= 0xFF
    else:
        data[:8] = b"NOTARANK"
    path.write_bytes(bytes(data))
    with pytest.raises(RankerFormatError):
        load_ranker(path)


BAD_INPUTS = {
    "nan feature": (
        lambda X, y, g: (np.where(np.arange(X.size).reshape(X.shape) == 5, np.nan, X), y, g),
        "finite",
    ),
    "wrong width": (lambda X, y, g: (X[:, :-1], y, g), "feature columns"),
    "groups do not add up": (lambda X, y, g: (X, y, [*g[:-1], g[-1] + 1]), "add up"),
    "negative group": (lambda X, y, g: (X, y, [-1, *g[:-1], g[-1] + 1]), ">= 0"),
    "labels too short": (lambda X, y, g: (X, y[:-1], g), "labels"),
    "nan label": (lambda X, y, g: (X, np.where(np.arange(y.size) == 2, np.nan, y), g), "finite"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_online_ranker_raises_and_stays_untouched_when_input_is_bad(case):
    X, labels, groups, _ = synthetic_groups(4, n_groups=5)
    ranker = OnlineRanker(X.shape[1]).fit(X, labels, groups, epochs=1)
    before = state(ranker)
    mangle, message = BAD_INPUTS[case]
    bad_X, bad_labels, bad_groups = mangle(X, labels, list(groups))
    for call in (
        lambda: ranker.partial_fit(bad_X, bad_labels, bad_groups),
        lambda: ranker.fit(bad_X, bad_labels, bad_groups),
    ):
        with pytest.raises(ValueError, match=message):
            call()
    for a, b in zip(before, state(ranker)):
        np.testing.assert_equal(a, b)


def test_online_ranker_feedback_rejects_unknown_ids_and_stays_untouched():
    builder = FeatureBuilder(("lexical",))
    candidates = builder.build({"lexical": ([4, 9, 2], [3.0, 2.0, 1.0])})
    ranker = OnlineRanker(builder.n_features, schema=builder.schema)
    ranker.feedback(candidates, shown=[4, 9, 2], clicked=[9])
    before = state(ranker)
    with pytest.raises(ValueError, match="not among the candidates"):
        ranker.feedback(candidates, shown=[4, 7], clicked=[])
    with pytest.raises(ValueError, match="were not shown"):
        ranker.feedback(candidates, shown=[4, 9], clicked=[2])
    other = FeatureBuilder(("lexical", "fuzzy")).build({"lexical": ([4], [1.0])})
    with pytest.raises(ValueError, match="feature columns differ"):
        ranker.feedback(other, shown=[4], clicked=[4])
    with pytest.raises(ValueError, match="finite"):
        ranker.update(np.full((2, builder.n_features), np.nan), [1, 0])
    for a, b in zip(before, state(ranker)):
        np.testing.assert_equal(a, b)


def test_online_ranker_feedback_moves_the_clicked_candidate_up():
    builder = FeatureBuilder(("lexical", "memory_like"))
    candidates = builder.build(
        {"lexical": ([1, 2, 3], [3.0, 2.0, 1.0]), "memory_like": ([3], [1.0])}
    )
    ranker = OnlineRanker(builder.n_features, schema=builder.schema, learning_rate=0.1)
    for _ in range(30):
        ranker.feedback(candidates, shown=[1, 2, 3], clicked=[3])
    assert candidates.doc_ids[ranker.rank(candidates.X)[0]] == 3
    assert ranker.score_candidates(candidates).shape == (3,)


def test_rank_breaks_ties_by_row_order_within_each_group():
    ranker = OnlineRanker(2)  # all weights zero: every score ties
    X = np.ones((5, 2), dtype=np.float32)
    assert ranker.rank(X, groups=[3, 0, 2]).tolist() == [0, 1, 2, 3, 4]


def test_empty_groups_are_dropped_when_training():
    X, labels, _, _ = synthetic_groups(5, n_groups=2, size=4)
    a = OnlineRanker(X.shape[1]).partial_fit(X, labels, [4, 0, 4, 0])
    b = OnlineRanker(X.shape[1]).partial_fit(X, labels, [4, 4])
    assert a == b


@pytest.mark.parametrize(
    "kwargs",
    [{"loss": "listnet"}, {"optimizer": "adam"}, {"learning_rate": 0}, {"truncation": 0}],
)
def test_online_ranker_rejects_bad_configuration(kwargs):
    with pytest.raises(ValueError):
        OnlineRanker(3, **kwargs)


def test_candidate_features_type_is_exported():
    assert CandidateFeatures.__name__ == "CandidateFeatures"
