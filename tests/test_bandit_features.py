"""Rewards from graded feedback, context and action features, and the hybrid policy."""

from __future__ import annotations

import datetime as dt
import itertools
import math

import numpy as np
import pytest

from ltrr_fast.bandit import StrategyPolicy
from ltrr_fast.bandit.features import (
    SOURCE_KINDS,
    ActionFeatures,
    ContextFeatures,
    UserSummary,
    query_kind,
)
from ltrr_fast.bandit.rewards import RewardConfig, strategy_rewards
from ltrr_fast.kernels import hybrid_scores

# Rewards


def test_a_strategy_earns_the_best_grade_among_the_items_it_retrieved():
    candidates = {"lexical": [1, 2, 3], "fuzzy": [3, 9], "memory": np.array([5], np.uint32)}
    actions = [(3, "click"), (9, "play"), (9, "click"), (7, "play")]
    rewards = strategy_rewards(candidates, actions)
    assert rewards == {"lexical": 0.5, "fuzzy": 1.0, "memory": 0.0}
    custom = RewardConfig({"click": 0.2, "play": 0.6})
    assert strategy_rewards(candidates, actions, custom) == {
        "lexical": 0.2,
        "fuzzy": 0.6,
        "memory": 0.0,
    }
    assert strategy_rewards(candidates, []) == dict.fromkeys(candidates, 0.0)


@pytest.mark.parametrize(
    "grades, message",
    [({"play": 1.5}, r"\[0, 1\]"), ({"skip": -0.1}, r"\[0, 1\]"), ({}, "non-empty")],
)
def test_grades_outside_the_unit_interval_are_refused(grades, message):
    with pytest.raises(ValueError, match=message):
        RewardConfig(grades)


def test_an_unknown_action_kind_is_named():
    with pytest.raises(ValueError, match="unknown action kind 'share'.*click"):
        strategy_rewards({"lexical": [1]}, [(1, "share")])


def test_one_event_crediting_two_arms_is_two_observations():
    # A feedback event that credits two arms is applied as one observation of each.
    one = StrategyPolicy(["a", "b", "c", "d"], 3, seed=1)
    two = StrategyPolicy(["a", "b", "c", "d"], 3, seed=1)
    x = np.array([0.2, 0.5, 1.0])
    one.update(x, {"b": 1.0, "d": 0.0})
    two.update(x, {"b": 1.0})
    two.update(x, {"d": 0.0})
    assert np.allclose(one.scores(x), two.scores(x))


@pytest.mark.parametrize("rewards", [[-0.2, -0.3], [0.0, 0.0], [1e6, 1.0]])
def test_propensities_stay_a_valid_distribution_and_out_of_range_rewards_are_refused(rewards):
    policy = StrategyPolicy(["a", "b", "c"], 2, n_chosen=1, epsilon=0.3)
    x = np.array([1.0, 0.5])
    for reward in rewards:
        if 0.0 <= reward <= 1.0:
            policy.update(x, {"a": reward})
        else:
            with pytest.raises(ValueError, match=r"\[0, 1\]"):
                policy.update(x, {"a": reward})
    p = policy.decide(x).propensity_array
    assert np.isfinite(p).all() and (p >= 0).all() and (p <= 1).all()
    assert p.sum() == pytest.approx(1.0, abs=1e-9)


# Context features


def test_context_features_lay_out_time_and_user_as_documented():
    features = ContextFeatures(["n_tokens", "n_slots"], extra={"const": lambda q, t, u: 2.0})
    when = dt.datetime(2026, 12, 4, 18, 0, tzinfo=dt.timezone.utc)  # a Friday
    user = UserSummary(n_actions=9, last_action_time=when.timestamp() - 3 * 86_400)
    x = features([2.0, 1.0], when.timestamp(), user)
    named = dict(zip(features.names, x))
    assert len(x) == features.n_features == 10
    assert named["bias"] == 1.0 and named["query.n_tokens"] == 2.0 and named["const"] == 2.0
    assert named["hour_sin"] == pytest.approx(math.sin(2 * math.pi * 18 / 24))
    assert named["weekday_cos"] == pytest.approx(math.cos(2 * math.pi * when.weekday() / 7))
    assert named["user_history"] == pytest.approx(math.log(10) / math.log(1001))
    assert named["user_recency"] == pytest.approx(math.exp(-3 / 30))
    local = ContextFeatures([], utc_offset_hours=-6)(np.zeros(0), when.timestamp())
    assert local[1] == pytest.approx(math.sin(2 * math.pi * 12 / 24))
    anonymous = features([2.0, 1.0], when.timestamp())
    assert anonymous[features.names.index("user_history")] == 0.0


def test_context_features_refuse_wrong_width_and_non_finite_values():
    features = ContextFeatures(["n_tokens"], extra={"bad": lambda q, t, u: math.nan})
    with pytest.raises(ValueError, match=r"shape \(1,\)"):
        features([1.0, 2.0], 0.0)
    with pytest.raises(ValueError, match="not finite: \\['bad'\\]"):
        features([1.0], 0.0)
    with pytest.raises(ValueError, match="distinct"):
        ContextFeatures(["n"], extra={"bias": lambda q, t, u: 1.0})


def test_action_features_smooth_rewards_per_kind_of_query():
    actions = ActionFeatures({"lexical": "lexical", "semantic": "vector"})
    kind = query_kind("entity", 2)
    for reward in (1.0, 1.0, 0.0):
        actions.observe("lexical", kind, reward, n_returned=50, quota=100)
    m = actions.matrix(["semantic", "lexical"], kind)
    n = len(SOURCE_KINDS)
    assert m[0, SOURCE_KINDS.index("vector")] == 1.0 and m[1, SOURCE_KINDS.index("lexical")] == 1
    assert m[1, n] == pytest.approx((2.0 + 1.0) / (3.0 + 2.0))  # Beta(1, 1) posterior mean
    assert m[0, n] == pytest.approx(0.5)  # nothing seen yet: the prior mean
    assert m[1, n + 1] == pytest.approx(0.5) and m[0, n + 1] == 1.0
    assert actions.matrix(["lexical"], query_kind("broad", 5))[0, n] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="unknown strategy 'typo'"):
        actions.matrix(["typo"], kind)
    with pytest.raises(ValueError, match="must be one of"):
        actions.add("ann", "hnsw")


# Hybrid policy


def hybrid_policy(seed: int = 0, **settings) -> StrategyPolicy:
    return StrategyPolicy(
        ["a", "b", "c"], 2, model="hybrid", n_action_features=2, seed=seed, **settings
    )


def test_hybrid_decisions_score_with_the_hybrid_kernel():
    policy = hybrid_policy(epsilon=0.0, n_chosen=1)
    rng = np.random.default_rng(0)
    Z = rng.random((3, 2))
    for _ in range(50):
        x = rng.random(2)
        decision = policy.decide(x, Z)
        policy.update(x, {decision.arms[0]: float(rng.random())}, Z)
    x = rng.random(2)
    expected = hybrid_scores(
        policy._A0,
        policy._b0,
        policy._A,
        policy._B,
        policy._b,
        Z[None],
        np.tile(x, (1, 3, 1)),
        1.0,
    )[0]
    decision = policy.decide(x, Z)
    assert np.allclose(decision.score_array, expected)
    assert decision.arms[0] == "abc"[int(np.argmax(expected))]


def test_a_new_arm_like_a_good_one_starts_ahead_under_the_hybrid_model():
    # Rewards depend only on the action features: arms described [1, 0] pay, [0, 1] do not.
    policy = StrategyPolicy(
        ["good", "bad"], 1, model="hybrid", n_action_features=2, n_chosen=1, alpha=0.1
    )
    Z = np.array([[1.0, 0.0], [0.0, 1.0]])
    x = np.ones(1)
    for t in range(200):
        arm = ["good", "bad"][t % 2]
        policy.update(x, {arm: 1.0 if arm == "good" else 0.0}, Z)
    policy.add_arm("good_twin")
    policy.add_arm("bad_twin")
    Z4 = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    scores = dict(zip(policy.arms, policy.scores(x, Z4)))
    assert scores["good_twin"] > scores["bad_twin"] + 0.3
    # The disjoint model has nothing to carry over: both newcomers score the prior.
    disjoint = StrategyPolicy(["good", "bad"], 1, n_chosen=1, alpha=0.1)
    for t in range(200):
        arm = ["good", "bad"][t % 2]
        disjoint.update(x, {arm: 1.0 if arm == "good" else 0.0})
    disjoint.add_arm("good_twin")
    disjoint.add_arm("bad_twin")
    plain = dict(zip(disjoint.arms, disjoint.scores(x)))
    assert plain["good_twin"] == plain["bad_twin"]


def test_hybrid_policy_replays_after_save_and_load():
    policy = hybrid_policy(seed=3, epsilon=0.3)
    rng = np.random.default_rng(1)
    Z = rng.random((3, 2))
    for _ in range(30):
        x = rng.random(2)
        policy.update(x, {policy.decide(x, Z).arms[0]: float(rng.random())}, Z)
    copy = StrategyPolicy.from_bytes(policy.to_bytes())
    for _ in range(20):
        x = rng.random(2)
        assert policy.decide(x, Z) == copy.decide(x, Z)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda p: p.decide([0.1, 0.2]), r"needs action_features of shape \(3, 2\)"),
        (lambda p: p.decide([0.1, 0.2], np.ones((3, 3))), r"shape \(3, 2\), got \(3, 3\)"),
        (lambda p: p.decide([0.1, 0.2], np.full((3, 2), np.nan)), "NaN"),
        (lambda p: p.update([0.1, 0.2], {"a": 1.0}), "needs action_features"),
        (lambda p: p.decide([0.1, math.inf], np.ones((3, 2))), "NaN or infinite"),
    ],
)
def test_hybrid_policy_refuses_bad_input_and_keeps_its_state(call, message):
    policy = hybrid_policy()
    before = policy.to_bytes()
    with pytest.raises(ValueError, match=message):
        call(policy)
    assert policy.to_bytes() == before


def test_model_settings_that_do_not_fit_are_refused():
    with pytest.raises(ValueError, match="ucb"):
        StrategyPolicy(["a", "b"], 2, model="hybrid", n_action_features=2, exploration="thompson")
    with pytest.raises(ValueError, match="n_action_features"):
        StrategyPolicy(["a", "b"], 2, model="hybrid")
    with pytest.raises(ValueError, match="hybrid"):
        StrategyPolicy(["a", "b"], 2).decide([0.0, 1.0], np.ones((2, 2)))


# Exploration draws


def test_exploring_draws_every_subset_equally_often():
    policy = StrategyPolicy(list("abcde"), 2, n_chosen=2, epsilon=1.0, seed=11)
    x = np.array([0.3, 0.7])
    counts = dict.fromkeys(itertools.combinations("abcde", 2), 0)
    n = 20_000
    for _ in range(n):
        counts[tuple(sorted(policy.decide(x).arms))] += 1
    expected = n / len(counts)
    chi2 = sum((c - expected) ** 2 / expected for c in counts.values())
    assert chi2 < 30  # 9 degrees of freedom: p < 0.001 beyond 27.9


def test_a_rank_discount_pays_more_for_ranking_the_wanted_item_higher():
    candidates = {"early": [7, 1, 2], "late": [1, 2, 3, 4, 5, 6, 7], "none": [9]}
    rewards = strategy_rewards(candidates, [(7, "play")], rank_discount=True)
    assert rewards["early"] == pytest.approx(1.0)  # rank 1: 1 / log2(2)
    assert rewards["late"] == pytest.approx(1.0 / math.log2(8))
    assert rewards["none"] == 0.0
    assert strategy_rewards(candidates, [(7, "play")])["late"] == 1.0


def test_shared_rewards_split_an_item_among_the_strategies_that_found_it():
    candidates = {"a": [1, 2], "b": [2, 3], "c": [3, 4], "d": [5]}
    rewards = strategy_rewards(candidates, [(2, "play"), (4, "click")], share=True)
    assert rewards == {"a": 0.5, "b": 0.5, "c": 0.5, "d": 0.0}
    alone = strategy_rewards({"a": [1, 2], "d": [5]}, [(2, "play")], share=True)
    assert alone == {"a": 1.0, "d": 0.0}
