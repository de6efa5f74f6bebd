"""Off-policy estimators on synthetic logs whose true target value is known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ltrr_fast.bandit import doubly_robust, ips, snips

N_ACTIONS = 5
MEANS = np.array([0.05, 0.10, 0.30, 0.20, 0.60])  # Bernoulli reward of each action
TARGET = np.array([0.05, 0.05, 0.20, 0.10, 0.60])  # target policy, context-free


def logs(n: int, seed: int):
    rng = np.random.default_rng(seed)
    logging = rng.dirichlet(np.ones(N_ACTIONS)) * 0.5 + 0.5 / N_ACTIONS  # all positive
    actions = rng.choice(N_ACTIONS, size=n, p=logging)
    rewards = (rng.random(n) < MEANS[actions]).astype(float)
    return rewards, logging[actions], TARGET[actions], actions


TRUE_VALUE = float(TARGET @ MEANS)


@pytest.mark.parametrize("estimator", [ips, snips])
def test_weighted_estimators_recover_the_true_value_and_cover_it(estimator):
    rewards, logged, target, _ = logs(50_000, seed=1)
    est = estimator(rewards, logged, target, n_bootstrap=300, seed=2)
    assert est.ci_low <= TRUE_VALUE <= est.ci_high
    assert abs(est.value - TRUE_VALUE) < 0.01
    assert est.n_rounds == 50_000


def test_doubly_robust_with_a_good_model_is_tighter_than_ips():
    rewards, logged, target, actions = logs(20_000, seed=3)
    q = MEANS + 0.01  # nearly right reward model
    dr = doubly_robust(
        rewards,
        logged,
        target,
        q[actions],
        np.full(len(rewards), TARGET @ q),
        n_bootstrap=300,
        seed=4,
    )
    plain = ips(rewards, logged, target, n_bootstrap=300, seed=4)
    assert dr.ci_low <= TRUE_VALUE <= dr.ci_high
    # Reward noise remains, so the gain is bounded: expect a clearly narrower interval.
    assert (dr.ci_high - dr.ci_low) < 0.8 * (plain.ci_high - plain.ci_low)


def test_doubly_robust_stays_unbiased_with_a_wrong_model():
    rewards, logged, target, actions = logs(50_000, seed=5)
    q = np.full(N_ACTIONS, 0.5)  # wrong model: the propensities carry it
    dr = doubly_robust(
        rewards,
        logged,
        target,
        q[actions],
        np.full(len(rewards), TARGET @ q),
        n_bootstrap=200,
        seed=6,
    )
    assert abs(dr.value - TRUE_VALUE) < 0.015


def test_estimates_and_intervals_replay_bit_for_bit_with_the_same_seed():
    rewards, logged, target, _ = logs(2_000, seed=7)
    assert ips(rewards, logged, target, seed=9) == ips(rewards, logged, target, seed=9)


@pytest.mark.parametrize(
    "logged, target, error, message",
    [
        ([0.5, 0.0], [0.5, 0.5], ValueError, "must lie in \\(0, 1\\]"),
        ([0.5, -0.2], [0.5, 0.5], ValueError, "must lie in \\(0, 1\\]"),
        ([0.5, math.nan], [0.5, 0.5], ValueError, "must be finite"),
        ([0.5, 1.5], [0.5, 0.5], ValueError, "must lie in \\(0, 1\\]"),
        (None, [0.5, 0.5], TypeError, "logged_propensities is missing"),
        ([0.5, 0.5], [0.5, 2.0], ValueError, "target_propensities\\[1\\]"),
        ([0.5], [0.5, 0.5], ValueError, "1 rounds, expected 2"),
        (["a", "b"], [0.5, 0.5], TypeError, "must hold numbers"),
    ],
)
def test_bad_propensities_get_a_clear_error(logged, target, error, message):
    for estimator in (ips, snips):
        with pytest.raises(error, match=message):
            estimator([1.0, 0.0], logged, target)


def test_empty_logs_are_refused():
    with pytest.raises(ValueError, match="no logged rounds"):
        ips([], [], [])
