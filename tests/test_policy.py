"""The bandit over retrieval strategies: exact propensities, learning, persistence, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ltrr_fast.bandit import StrategyPolicy

ARMS = ["lexical", "fuzzy", "semantic", "memory"]


def trained(seed: int = 0, n: int = 300) -> StrategyPolicy:
    rng = np.random.default_rng(seed)
    policy = StrategyPolicy(ARMS, 3, n_chosen=2, budget=100, epsilon=0.2, seed=seed)
    for _ in range(n):
        x = rng.random(3)
        policy.update(x, {ARMS[int(rng.integers(4))]: float(rng.random())})
    return policy


def test_logged_inclusion_probabilities_match_observed_frequencies():
    policy = trained()
    x = np.array([0.3, 0.9, 0.1])
    n = 20_000
    counts = dict.fromkeys(ARMS, 0)
    for _ in range(n):
        decision = policy.decide(x)
        for arm in decision.arms:
            counts[arm] += 1
    for arm in ARMS:
        p = decision.propensities[arm]
        sigma = math.sqrt(p * (1 - p) / n) + 1e-9
        assert abs(counts[arm] / n - p) < 5 * sigma, (arm, counts[arm] / n, p)
    assert sum(decision.propensities.values()) == pytest.approx(policy.n_chosen)


def test_deterministic_policy_logs_one_and_zero():
    policy = StrategyPolicy(ARMS, 2, n_chosen=1, epsilon=0.0)
    decision = policy.decide([1.0, 0.0])
    assert sorted(decision.propensities.values()) == [0.0, 0.0, 0.0, 1.0]
    assert decision.propensities[decision.arms[0]] == 1.0


def test_quotas_fill_the_budget_and_no_subset_is_empty():
    policy = trained()
    rng = np.random.default_rng(1)
    for _ in range(200):
        decision = policy.decide(rng.random(3))
        assert len(decision.arms) == 2 and len(set(decision.arms)) == 2
        assert sum(decision.quotas) == 100 and min(decision.quotas) >= 1


def test_regret_on_a_linear_environment_is_far_below_random_and_sublinear():
    rng = np.random.default_rng(7)
    d, k, horizon = 5, 4, 4_000
    theta = rng.random((k, d))
    theta /= theta.sum(axis=1, keepdims=True)  # expected rewards in [0, 1]
    policy = StrategyPolicy(
        [f"a{i}" for i in range(k)], d, n_chosen=1, epsilon=0.0, alpha=0.5, seed=3
    )
    regret = np.zeros(horizon)
    random_regret = 0.0
    for t in range(horizon):
        x = rng.random(d)
        means = theta @ x
        arm = int(policy.decide(x).arms[0][1:])
        policy.update(x, {f"a{arm}": float(rng.random() < means[arm])})
        regret[t] = means.max() - means[arm]
        random_regret += means.max() - means.mean()
    total = regret.sum()
    assert total < 0.25 * random_regret
    first, second = regret[: horizon // 2].sum(), regret[horizon // 2 :].sum()
    assert second < 0.7 * first  # the policy keeps improving


def test_saved_policy_decides_and_learns_exactly_like_the_original():
    policy = trained(seed=4)
    copy = StrategyPolicy.from_bytes(policy.to_bytes())
    rng = np.random.default_rng(9)
    for _ in range(100):
        x = rng.random(3)
        a, b = policy.decide(x), copy.decide(x)
        assert a == b
        reward = {a.arms[0]: float(rng.random())}
        policy.update(x, reward)
        copy.update(x, reward)
    assert policy.to_bytes() == copy.to_bytes()


def test_new_arm_starts_from_the_prior_and_removed_arm_is_gone():
    policy = trained()
    policy.add_arm("popularity")
    x = np.array([0.5, 0.5, 0.5])
    assert policy.decide(x).scores["popularity"] == pytest.approx(policy.alpha * math.sqrt(x @ x))
    policy.remove_arm("fuzzy")
    assert "fuzzy" not in policy.arms and "fuzzy" not in policy.decide(x).propensities


@pytest.mark.parametrize(
    "context, rewards, error, message",
    [
        ([math.nan, 0, 0], {"lexical": 1.0}, ValueError, "NaN"),
        ([0.0, 0.0], {"lexical": 1.0}, ValueError, "shape \\(3,\\)"),
        ([0.0, 0.0, 0.0], {"nope": 1.0}, ValueError, "unknown arm"),
        ([0.0, 0.0, 0.0], {"lexical": 1.5}, ValueError, "\\[0, 1\\]"),
        ([0.0, 0.0, 0.0], {"lexical": -0.2}, ValueError, "\\[0, 1\\]"),
        ([0.0, 0.0, 0.0], {"lexical": 1.0, "fuzzy": 2.0}, ValueError, "\\[0, 1\\]"),
        ([0.0, 0.0, 0.0], {"lexical": True}, TypeError, "must be a number"),
        ([0.0, 0.0, 0.0], {}, ValueError, "non-empty"),
    ],
)
def test_bad_events_are_rejected_and_change_nothing(context, rewards, error, message):
    policy = trained()
    before = policy.to_bytes()
    with pytest.raises(error, match=message):
        policy.update(context, rewards)
    assert policy.to_bytes() == before


def test_foreign_bytes_and_bad_settings_are_refused():
    with pytest.raises(ValueError, match="not a saved StrategyPolicy"):
        StrategyPolicy.from_bytes(b"not a policy")
    with pytest.raises(ValueError, match="distinct"):
        StrategyPolicy(["a", "a"], 2)
    with pytest.raises(ValueError, match="n_chosen"):
        StrategyPolicy(["a", "b"], 2, n_chosen=3)
    with pytest.raises(ValueError, match="epsilon"):
        StrategyPolicy(["a", "b"], 2, epsilon=1.5)


def test_thompson_policy_learns_and_logs_estimated_inclusion_probabilities():
    rng = np.random.default_rng(8)
    d, k, horizon = 5, 4, 3_000
    theta = rng.random((k, d))
    theta /= theta.sum(axis=1, keepdims=True)
    names = [f"a{i}" for i in range(k)]
    policy = StrategyPolicy(
        names, d, n_chosen=1, epsilon=0.0, alpha=0.3, exploration="thompson", seed=2
    )
    regret = np.zeros(horizon)
    random_regret = 0.0
    for t in range(horizon):
        x = rng.random(d)
        means = theta @ x
        decision = policy.decide(x)
        arm = int(decision.arms[0][1:])
        assert sum(decision.propensities.values()) == pytest.approx(1.0)
        policy.update(x, {names[arm]: float(rng.random() < means[arm])})
        regret[t] = means.max() - means[arm]
        random_regret += means.max() - means.mean()
    # Thompson sampling explores longer than UCB here, but learns: well below random, and
    # less regret in the second half than in the first.
    assert regret.sum() < 0.6 * random_regret
    assert regret[horizon // 2 :].sum() < 0.8 * regret[: horizon // 2].sum()

    # Logged probabilities are Monte Carlo estimates of how often each arm is chosen.
    x = rng.random(d)
    n = 4_000
    counts = np.zeros(k)
    for _ in range(n):
        decision = policy.decide(x)
        counts[int(decision.arms[0][1:])] += 1
    logged = np.array([decision.propensities[a] for a in names])
    assert np.abs(counts / n - logged).max() < 0.1


def test_thompson_policy_replays_exactly_after_save_and_load():
    policy = StrategyPolicy(ARMS, 3, n_chosen=2, exploration="thompson", seed=5)
    rng = np.random.default_rng(3)
    for _ in range(50):
        x = rng.random(3)
        policy.update(x, {policy.decide(x).arms[0]: float(rng.random())})
    copy = StrategyPolicy.from_bytes(policy.to_bytes())
    for _ in range(20):
        x = rng.random(3)
        assert policy.decide(x) == copy.decide(x)
