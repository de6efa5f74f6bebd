"""Position-based click model, and learning from its clicks on CISI and Vaswani."""

from __future__ import annotations

import numpy as np
import pytest

from ltrr_fast.evaluation.click_models import PositionBasedModel, click_experiment


def test_position_based_model_click_rates_match_examination_times_attractiveness():
    model = PositionBasedModel.power_law(5, eta=1.0, click_relevant=0.9, click_irrelevant=0.1)
    grades = np.array([0, 1, 0, 2, 1])
    expected = np.array([1, 1 / 2, 1 / 3, 1 / 4, 1 / 5]) * np.array([0.1, 0.9, 0.1, 0.9, 0.9])
    np.testing.assert_allclose(model.click_probability(grades), expected)
    rng = np.random.default_rng(0)
    n = 40_000
    rates = np.mean([model.clicks(grades, rng) for _ in range(n)], axis=0)
    np.testing.assert_allclose(rates, expected, atol=4 * np.sqrt(0.25 / n))


def test_position_based_model_never_clicks_past_its_last_position():
    model = PositionBasedModel([1.0, 1.0], click_relevant=1.0, click_irrelevant=1.0)
    clicks = model.clicks(np.ones(4), np.random.default_rng(1))
    assert clicks.tolist() == [1.0, 1.0, 0.0, 0.0]


def test_position_based_model_replays_the_same_clicks_when_seeded_alike():
    model = PositionBasedModel.power_law(10, eta=0.5)
    grades = np.arange(10) % 2
    a = [model.clicks(grades, np.random.default_rng(7)) for _ in range(3)]
    b = [model.clicks(grades, np.random.default_rng(7)) for _ in range(3)]
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "kwargs",
    [{"examination": [1.5]}, {"examination": []}, {"examination": [1.0], "click_relevant": 2}],
)
def test_position_based_model_rejects_probabilities_out_of_range(kwargs):
    with pytest.raises(ValueError):
        PositionBasedModel(**kwargs)


@pytest.fixture(scope="module", params=["cisi", "vaswani"])
def collection_candidates(request):
    from ltrr_fast.datasets import load_ir
    from ltrr_fast.ranking.collection import collection_candidates as build

    try:
        collection = load_ir(request.param)
    except FileNotFoundError as error:
        pytest.skip(f"shared data missing: {error}")
    return build(collection, depth=20, n_threads=1)


def test_bias_corrected_ranker_beats_uncorrected_and_bm25_when_learning_from_pbm_clicks(
    collection_candidates,
):
    # Examination 1 / (rank + 1), click 1.0 on relevant and 0.1 on non-relevant results;
    # 50,000 sessions; nDCG@10 on every query after learning; seed 0.
    result = click_experiment(collection_candidates, seed=0)
    assert result.ndcg_corrected > result.ndcg_uncorrected
    assert result.ndcg_corrected > result.ndcg_bm25
    assert result.n_clicks > 10_000


def test_click_experiment_replays_bit_for_bit_when_seeded_alike(collection_candidates):
    a = click_experiment(collection_candidates, n_sessions=2000, evaluate_on="held_out", seed=3)
    b = click_experiment(collection_candidates, n_sessions=2000, evaluate_on="held_out", seed=3)
    assert a == b
