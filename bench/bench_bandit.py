"""Contextual bandit throughput and regret: ours beside MABWiser's LinUCB and Vowpal Wabbit.

One seeded linear environment: K arms, d features, contexts uniform in [0, 1]^d, arm k's
expected reward ``x . theta_k`` with ``theta_k`` on the simplex, Bernoulli rewards. Every engine
plays the same stream one round at a time (decide, then learn), and its cumulative regret is
recorded beside its speed. Run:

    pytest bench/bench_bandit.py -p no:cacheprovider --benchmark-json bench/results/bandit.json
"""

from __future__ import annotations

import os
import platform
import warnings
from collections.abc import Callable

import numpy as np
import pytest

from ltrr_fast.bandit import StrategyPolicy
from ltrr_fast.kernels import (
    linucb_fit_batch,
    linucb_scores,
    linucb_scores_parallel,
    linucb_update,
)

SIZES = [(4, 16), (8, 16), (16, 16), (4, 64), (8, 64), (16, 64)]
ROUNDS_OURS = int(os.environ.get("LTRR_BENCH_BANDIT_ROUNDS", "20000"))
ROUNDS_PEERS = int(os.environ.get("LTRR_BENCH_BANDIT_PEER_ROUNDS", "2000"))

pytestmark = pytest.mark.filterwarnings("default")


def environment(n_arms: int, d: int, n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    theta = rng.random((n_arms, d))
    theta /= theta.sum(axis=1, keepdims=True)
    X = rng.random((n, d))
    means = X @ theta.T
    draws = rng.random((n, n_arms))
    return X, means, (draws < means).astype(float)


def play(choose: Callable[[int, np.ndarray], int], learn, X, means, rewards) -> np.ndarray:
    """Plays the stream; returns the regret of every round."""
    regret = np.empty(X.shape[0])
    for t in range(X.shape[0]):
        arm = choose(t, X[t])
        learn(t, X[t], arm, rewards[t, arm])
        regret[t] = means[t].max() - means[t, arm]
    return regret


def record(benchmark, n_arms: int, d: int, regret: np.ndarray, engine: str) -> None:
    n = regret.shape[0]
    benchmark.extra_info.update(
        engine=engine,
        rounds=n,
        cumulative_regret=float(regret.sum()),
        # Every engine plays at least the first ROUNDS_PEERS rounds of the same stream.
        regret_per_round=float(regret[:ROUNDS_PEERS].mean()),
        regret_rounds=min(n, ROUNDS_PEERS),
        machine=platform.processor() or platform.machine(),
        cores=os.cpu_count(),
    )


@pytest.mark.parametrize("n_arms, d", SIZES)
def test_ours_kernels(benchmark, n_arms, d):
    X, means, rewards = environment(n_arms, d, ROUNDS_OURS)
    out = {}

    def run():
        A = np.tile(np.eye(d), (n_arms, 1, 1))
        A_inv = A.copy()
        b = np.zeros((n_arms, d))
        theta = np.zeros((n_arms, d))

        def choose(t, x):
            return int(np.argmax(linucb_scores(A_inv, theta, x[None, :], 1.0)[0]))

        def learn(t, x, arm, r):
            linucb_update(A, A_inv, b, theta, arm, x, r)

        out["regret"] = play(choose, learn, X, means, rewards)

    benchmark.group = f"rounds K={n_arms} d={d}"
    benchmark.pedantic(run, rounds=3, iterations=1, warmup_rounds=1)
    record(benchmark, n_arms, d, out["regret"], "ltrr_fast kernels")


@pytest.mark.parametrize("n_arms, d", SIZES)
def test_ours_policy(benchmark, n_arms, d):
    X, means, rewards = environment(n_arms, d, ROUNDS_OURS)
    names = [f"a{i}" for i in range(n_arms)]
    out = {}

    def run():
        policy = StrategyPolicy(names, d, n_chosen=1, epsilon=0.0, alpha=1.0)

        def choose(t, x):
            return int(policy.decide(x).arms[0][1:])

        def learn(t, x, arm, r):
            policy.update(x, {names[arm]: r})

        out["regret"] = play(choose, learn, X, means, rewards)

    benchmark.group = f"rounds K={n_arms} d={d}"
    benchmark.pedantic(run, rounds=3, iterations=1, warmup_rounds=1)
    record(benchmark, n_arms, d, out["regret"], "ltrr_fast StrategyPolicy")


@pytest.mark.parametrize("n_arms, d", SIZES)
def test_mabwiser_linucb(benchmark, n_arms, d):
    mab = pytest.importorskip("mabwiser.mab")
    X, means, rewards = environment(n_arms, d, ROUNDS_PEERS)
    arms = list(range(n_arms))
    out = {}

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = mab.MAB(arms, mab.LearningPolicy.LinUCB(alpha=1.0), seed=0)
            # MABWiser needs a first fit; give it one round per arm, counted in the regret.
            model.fit(arms, [0.0] * n_arms, X[:n_arms])

            def choose(t, x):
                return int(model.predict(x[None, :]))

            def learn(t, x, arm, r):
                model.partial_fit([arm], [r], x[None, :])

            out["regret"] = play(choose, learn, X, means, rewards)

    benchmark.group = f"rounds K={n_arms} d={d}"
    benchmark.pedantic(run, rounds=3, iterations=1)
    record(benchmark, n_arms, d, out["regret"], "mabwiser LinUCB")


@pytest.mark.parametrize("n_arms, d", SIZES)
def test_vowpal_wabbit_cb_explore_adf(benchmark, n_arms, d):
    vw_module = pytest.importorskip("vowpalwabbit")
    X, means, rewards = environment(n_arms, d, ROUNDS_PEERS)
    out = {}

    def example(x, chosen=None, cost=0.0, prob=1.0):
        shared = "shared |u " + " ".join(f"f{i}:{v:.6f}" for i, v in enumerate(x))
        lines = [shared]
        for k in range(n_arms):
            label = f"0:{cost}:{prob} " if k == chosen else ""
            lines.append(f"{label}|a arm{k}")
        return lines

    def run():
        vw = vw_module.Workspace("--cb_explore_adf -q ua --epsilon 0.05 --quiet --random_seed 0")
        rng = np.random.default_rng(1)

        def choose(t, x):
            pmf = np.asarray(vw.predict(example(x)), dtype=float)
            pmf /= pmf.sum()
            arm = int(rng.choice(n_arms, p=pmf))
            choose.prob = float(pmf[arm])
            return arm

        def learn(t, x, arm, r):
            vw.learn(example(x, chosen=arm, cost=-r, prob=choose.prob))

        out["regret"] = play(choose, learn, X, means, rewards)
        vw.finish()

    benchmark.group = f"rounds K={n_arms} d={d}"
    benchmark.pedantic(run, rounds=3, iterations=1)
    record(benchmark, n_arms, d, out["regret"], "vowpal wabbit cb_explore_adf")


def fitted(n_arms: int, d: int, batch: int):
    X, _, rewards = environment(n_arms, d, batch)
    arms = np.arange(batch) % n_arms
    A = np.tile(np.eye(d), (n_arms, 1, 1))
    state = (A, A.copy(), np.zeros((n_arms, d)), np.zeros((n_arms, d)))
    linucb_fit_batch(*state, arms, X, rewards[np.arange(batch), arms])
    return state, X


@pytest.mark.parametrize("n_arms, d", [(8, 64)])
@pytest.mark.parametrize("batch", [1_000])
@pytest.mark.parametrize("threads", ["serial", "parallel"])
def test_batched_scoring(benchmark, n_arms, d, batch, threads):
    (_, A_inv, _, theta), X = fitted(n_arms, d, batch)
    kernel = linucb_scores_parallel if threads == "parallel" else linucb_scores
    kernel(A_inv, theta, X, 1.0)
    benchmark.group = f"batched scoring K={n_arms} d={d}"
    benchmark.extra_info.update(engine=f"ltrr_fast kernels ({threads})", contexts=batch)
    benchmark(kernel, A_inv, theta, X, 1.0)


@pytest.mark.parametrize("n_arms, d", [(8, 64)])
@pytest.mark.parametrize("batch", [1_000])
def test_batched_fit(benchmark, n_arms, d, batch):
    X, _, rewards = environment(n_arms, d, batch)
    arms = np.arange(batch) % n_arms
    r = rewards[np.arange(batch), arms]

    def run():
        A = np.tile(np.eye(d), (n_arms, 1, 1))
        linucb_fit_batch(A, A.copy(), np.zeros((n_arms, d)), np.zeros((n_arms, d)), arms, X, r)

    run()
    benchmark.group = f"batched fit K={n_arms} d={d}"
    benchmark.extra_info.update(engine="ltrr_fast linucb_fit_batch", contexts=batch)
    benchmark(run)


@pytest.mark.parametrize("n_arms, d", [(8, 64)])
@pytest.mark.parametrize("batch", [1_000])
def test_batched_mabwiser_fit(benchmark, n_arms, d, batch):
    mab = pytest.importorskip("mabwiser.mab")
    X, _, rewards = environment(n_arms, d, batch)
    arms = np.arange(batch) % n_arms
    r = rewards[np.arange(batch), arms]

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mab.MAB(list(range(n_arms)), mab.LearningPolicy.LinUCB(alpha=1.0), seed=0).fit(
                arms, r, X
            )

    benchmark.group = f"batched fit K={n_arms} d={d}"
    benchmark.extra_info.update(engine="mabwiser LinUCB fit", contexts=batch)
    benchmark(run)


@pytest.mark.parametrize("n_arms, d", [(8, 64)])
@pytest.mark.parametrize("batch", [1_000])
def test_batched_mabwiser_predict(benchmark, n_arms, d, batch):
    mab = pytest.importorskip("mabwiser.mab")
    X, _, rewards = environment(n_arms, d, batch)
    arms = list(range(n_arms))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = mab.MAB(arms, mab.LearningPolicy.LinUCB(alpha=1.0), seed=0)
        model.fit(
            np.arange(batch) % n_arms, rewards[np.arange(batch), np.arange(batch) % n_arms], X
        )
    benchmark.group = f"batched scoring K={n_arms} d={d}"
    benchmark.extra_info.update(engine="mabwiser LinUCB predict", contexts=batch)
    benchmark(model.predict, X)
