"""A contextual bandit over retrieval strategies: which to draw from, and how many candidates each.

Each strategy is an arm with its own linear model of the reward (disjoint LinUCB). A decision
for one context:

1. scores every arm by its upper confidence bound (``exploration="ucb"``) or by one draw from
   its posterior (``exploration="thompson"``, linear Thompson sampling);
2. with probability ``1 - epsilon`` takes the ``n_chosen`` best arms, otherwise ``n_chosen`` arms
   drawn uniformly without replacement, so the chance that arm ``a`` is included is exactly
   ``(1 - epsilon) * [a among the best] + epsilon * n_chosen / n_arms``;
3. splits the candidate budget over the chosen arms in proportion to a softmax of their scores
   (at least one candidate each).

The decision logs each arm's inclusion probability and quota, so the logs support off-policy
evaluation; with ``epsilon = 0`` the policy is deterministic and logs 1 and 0 honestly.

Under Thompson sampling an arm's inclusion probability has no closed form: it is estimated from
``n_propensity_draws`` further posterior draws (standard error at most
``0.5 / sqrt(n_propensity_draws)``), so logged propensities are estimates there, exact under UCB.

Limitation: hybrid LinUCB (features shared across arms) is not offered yet.
"""

from __future__ import annotations

import ast
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ltrr_fast.kernels import (
    linear_ts_scores,
    linucb_scores,
    linucb_theta,
    linucb_update,
    refactor_inverses,
)

FORMAT_VERSION = 1
EXPLORATIONS = ("ucb", "thompson")


@dataclass(frozen=True)
class Decision:
    """One decision: the arms chosen, their quotas, and every arm's inclusion probability."""

    arms: tuple[str, ...]  # chosen, best score first
    quotas: tuple[int, ...]  # candidates to take from each chosen arm
    propensities: dict[str, float]  # every arm: probability it was included
    scores: dict[str, float]  # every arm: upper confidence score


class StrategyPolicy:
    """Disjoint LinUCB with an epsilon mix, choosing a subset of strategies per context.

    Parameters
    ----------
    arms
        Strategy names.
    n_features
        Context dimension.
    n_chosen
        Strategies drawn from per request (at least 1, at most the number of arms).
    budget
        Total candidates shared by the chosen strategies.
    alpha
        Weight of the confidence term.
    epsilon
        Probability of choosing uniformly at random instead of by score.
    exploration
        ``"ucb"`` (scores are upper confidence bounds, weighted by ``alpha``) or ``"thompson"``
        (scores are posterior draws, spread by ``alpha``).
    n_propensity_draws
        Posterior draws used to estimate inclusion probabilities under Thompson sampling.
    ridge
        Prior precision of every arm's model; a new arm starts from it.
    refactor_every
        Updates between Cholesky refactorings of each arm's inverse.
    seed
        Seed of the policy's random generator; decisions replay exactly for a seed.
    """

    def __init__(
        self,
        arms: Sequence[str],
        n_features: int,
        *,
        n_chosen: int = 2,
        budget: int = 200,
        alpha: float = 1.0,
        epsilon: float = 0.1,
        exploration: str = "ucb",
        n_propensity_draws: int = 256,
        ridge: float = 1.0,
        refactor_every: int = 10_000,
        seed: int = 0,
    ) -> None:
        arms = list(arms)
        if not arms or len(set(arms)) != len(arms) or not all(isinstance(a, str) for a in arms):
            raise ValueError(f"arms must be distinct strategy names, got {arms!r}")
        if isinstance(n_features, bool) or not isinstance(n_features, int) or n_features < 1:
            raise ValueError(f"n_features must be a positive int, got {n_features!r}")
        if not 1 <= n_chosen <= len(arms):
            raise ValueError(f"n_chosen must lie in [1, {len(arms)}], got {n_chosen}")
        if budget < n_chosen:
            raise ValueError(f"budget must be at least n_chosen ({n_chosen}), got {budget}")
        if not (alpha >= 0 and math.isfinite(alpha)):
            raise ValueError(f"alpha must be finite and >= 0, got {alpha}")
        if not 0 <= epsilon <= 1:
            raise ValueError(f"epsilon must lie in [0, 1], got {epsilon}")
        if exploration not in EXPLORATIONS:
            raise ValueError(f"exploration must be one of {EXPLORATIONS}, got {exploration!r}")
        if n_propensity_draws < 1:
            raise ValueError(f"n_propensity_draws must be >= 1, got {n_propensity_draws}")
        if not (ridge > 0 and math.isfinite(ridge)):
            raise ValueError(f"ridge must be finite and > 0, got {ridge}")
        self.n_features = n_features
        self.n_chosen = n_chosen
        self.budget = budget
        self.alpha = float(alpha)
        self.epsilon = float(epsilon)
        self.exploration = exploration
        self.n_propensity_draws = int(n_propensity_draws)
        self.ridge = float(ridge)
        self.refactor_every = int(refactor_every)
        self._arms = arms
        d = n_features
        self._A = np.tile(np.eye(d) * self.ridge, (len(arms), 1, 1))
        self._A_inv = np.tile(np.eye(d) / self.ridge, (len(arms), 1, 1))
        self._b = np.zeros((len(arms), d))
        self._theta = np.zeros((len(arms), d))
        self._n_updates = 0
        self._rng = np.random.default_rng(seed)

    @property
    def arms(self) -> tuple[str, ...]:
        return tuple(self._arms)

    # Decisions

    def scores(self, context: object) -> np.ndarray:
        """Upper confidence score of every arm for one context."""
        x = self._context(context)
        return linucb_scores(self._A_inv, self._theta, x[None, :], self.alpha)[0]

    def decide(self, context: object) -> Decision:
        """Choose strategies and quotas for one context."""
        x = self._context(context)
        n_arms, m = len(self._arms), min(self.n_chosen, len(self._arms))
        if self.exploration == "thompson":
            z = self._rng.standard_normal((1, n_arms))
            scores = linear_ts_scores(self._A_inv, self._theta, x[None, :], self.alpha, z)[0]
        else:
            scores = linucb_scores(self._A_inv, self._theta, x[None, :], self.alpha)[0]
        # Best m by score; ties go to the earlier arm so the choice is deterministic.
        best = np.argsort(-scores, kind="stable")[:m]
        if self._rng.random() < self.epsilon:
            chosen = self._rng.choice(n_arms, size=m, replace=False)
        else:
            chosen = best
        chosen = chosen[np.argsort(-scores[chosen], kind="stable")]
        propensity = (1 - self.epsilon) * self._best_probability(x, best, m)
        propensity += self.epsilon * m / n_arms
        return Decision(
            arms=tuple(self._arms[i] for i in chosen),
            quotas=tuple(self._quotas(scores[chosen])),
            propensities={a: float(p) for a, p in zip(self._arms, propensity)},
            scores={a: float(s) for a, s in zip(self._arms, scores)},
        )

    def _best_probability(self, x: np.ndarray, best: np.ndarray, m: int) -> np.ndarray:
        """Probability that each arm is among the m best by score."""
        n_arms = len(self._arms)
        if self.exploration == "ucb":
            in_best = np.zeros(n_arms)
            in_best[best] = 1.0
            return in_best
        n = self.n_propensity_draws
        z = self._rng.standard_normal((n, n_arms))
        draws = linear_ts_scores(self._A_inv, self._theta, np.tile(x, (n, 1)), self.alpha, z)
        top = np.argsort(-draws, axis=1, kind="stable")[:, :m]
        return np.bincount(top.ravel(), minlength=n_arms) / n

    def _quotas(self, chosen_scores: np.ndarray) -> list[int]:
        m = len(chosen_scores)
        shifted = chosen_scores - chosen_scores.max()
        weights = np.exp(shifted) / np.exp(shifted).sum()
        spare = self.budget - m
        quotas = 1 + np.floor(weights * spare).astype(int)
        # Hand out what rounding left, best arms first.
        for i in range(self.budget - int(quotas.sum())):
            quotas[i % m] += 1
        return quotas.tolist()

    # Learning

    def update(self, context: object, rewards: dict[str, float]) -> None:
        """Learn from one request: the reward of each strategy that was drawn from.

        Rewards must lie in [0, 1]. The whole event is checked first; a rejected event
        changes nothing.
        """
        x = self._context(context)
        if not isinstance(rewards, dict) or not rewards:
            raise ValueError("rewards must be a non-empty dict of strategy name to reward")
        rows = []
        for arm, reward in rewards.items():
            if arm not in self._arms:
                raise ValueError(f"unknown arm {arm!r}; the policy has {self._arms}")
            if isinstance(reward, bool) or not isinstance(reward, (int, float, np.number)):
                raise TypeError(f"reward of {arm!r} must be a number, got {reward!r}")
            if not 0.0 <= float(reward) <= 1.0:
                raise ValueError(f"reward of {arm!r} must lie in [0, 1], got {reward}")
            rows.append((self._arms.index(arm), float(reward)))
        for index, reward in rows:
            linucb_update(self._A, self._A_inv, self._b, self._theta, index, x, reward)
            self._n_updates += 1
            if self.refactor_every > 0 and self._n_updates % self.refactor_every == 0:
                refactor_inverses(self._A, self._A_inv)
                linucb_theta(self._A_inv, self._b, self._theta)

    # Arms

    def add_arm(self, name: str) -> None:
        """Add a strategy; it starts from the prior."""
        if not isinstance(name, str) or name in self._arms:
            raise ValueError(f"arm name must be a new str, got {name!r}")
        d = self.n_features
        self._arms.append(name)
        self._A = np.concatenate([self._A, np.eye(d)[None] * self.ridge])
        self._A_inv = np.concatenate([self._A_inv, np.eye(d)[None] / self.ridge])
        self._b = np.concatenate([self._b, np.zeros((1, d))])
        self._theta = np.concatenate([self._theta, np.zeros((1, d))])

    def remove_arm(self, name: str) -> None:
        """Remove a strategy and what was learnt about it."""
        if name not in self._arms:
            raise ValueError(f"unknown arm {name!r}; the policy has {self._arms}")
        if len(self._arms) <= self.n_chosen:
            raise ValueError(f"cannot go below n_chosen = {self.n_chosen} arms")
        i = self._arms.index(name)
        del self._arms[i]
        self._A = np.delete(self._A, i, axis=0)
        self._A_inv = np.delete(self._A_inv, i, axis=0)
        self._b = np.delete(self._b, i, axis=0)
        self._theta = np.delete(self._theta, i, axis=0)

    # Persistence

    def to_bytes(self) -> bytes:
        """Everything needed to continue exactly where this policy is, RNG state included."""
        buffer = io.BytesIO()
        state = self._rng.bit_generator.state
        np.savez(
            buffer,
            format_version=np.array(FORMAT_VERSION),
            arms=np.array(self._arms),
            A=self._A,
            A_inv=self._A_inv,
            b=self._b,
            settings=np.array(
                [
                    self.n_features,
                    self.n_chosen,
                    self.budget,
                    self.alpha,
                    self.epsilon,
                    self.ridge,
                    self.refactor_every,
                    self._n_updates,
                ],
                dtype=np.float64,
            ),
            rng=np.array(repr(state)),
            exploration=np.array(self.exploration),
            n_propensity_draws=np.array(self.n_propensity_draws),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> StrategyPolicy:
        """Restore a policy saved with :meth:`to_bytes`."""
        try:
            saved = np.load(io.BytesIO(data), allow_pickle=False)
            version = int(saved["format_version"])
        except Exception as error:  # noqa: BLE001 - any unreadable input is a format error
            raise ValueError(f"not a saved StrategyPolicy: {error}") from None
        if version != FORMAT_VERSION:
            raise ValueError(
                f"policy format version {version} is not supported; this build reads "
                f"{FORMAT_VERSION}"
            )
        (n_features, n_chosen, budget, alpha, epsilon, ridge, refactor_every, n_updates) = saved[
            "settings"
        ].tolist()
        policy = cls(
            [str(a) for a in saved["arms"]],
            int(n_features),
            n_chosen=int(n_chosen),
            budget=int(budget),
            alpha=alpha,
            epsilon=epsilon,
            ridge=ridge,
            refactor_every=int(refactor_every),
            exploration=str(saved["exploration"]),
            n_propensity_draws=int(saved["n_propensity_draws"]),
        )
        policy._A = saved["A"].copy()
        policy._A_inv = saved["A_inv"].copy()
        policy._b = saved["b"].copy()
        policy._theta = np.zeros_like(policy._b)
        linucb_theta(policy._A_inv, policy._b, policy._theta)
        policy._n_updates = int(n_updates)
        policy._rng.bit_generator.state = ast.literal_eval(str(saved["rng"]))
        return policy

    # Input

    def _context(self, context: object) -> np.ndarray:
        x = np.asarray(context, dtype=np.float64)
        if x.shape != (self.n_features,):
            raise ValueError(f"context must have shape ({self.n_features},), got {x.shape}")
        if not np.isfinite(x).all():
            raise ValueError("context holds NaN or infinite values")
        return np.ascontiguousarray(x)
