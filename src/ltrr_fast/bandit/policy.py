"""A contextual bandit over retrieval strategies: which to draw from, and how many candidates each.

Each strategy is an arm with a linear model of its reward. ``model="disjoint"`` (LinUCB with
one model per arm) learns each arm from its own feedback; ``model="hybrid"`` adds
coefficients shared by every arm over per-arm *action features* (what the strategy is, how
it has done), so a new strategy that resembles known ones starts from what they taught. A
decision for one context:

1. scores every arm by its upper confidence bound (``exploration="ucb"``) or by one draw from
   its posterior (``exploration="thompson"``, linear Thompson sampling; disjoint model only);
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

A disjoint decision is one compiled call (scoring, choice, quotas and propensities); random
numbers come from buffers refilled from the policy's seeded generator, so a seed replays.
The hybrid model re-solves each arm's small system per decision (O(d^3) per arm), which is
slower; it suits a handful of arms and modest dimensions.
"""

from __future__ import annotations

import ast
import io
import math
from collections.abc import Mapping, Sequence

import numpy as np

from ltrr_fast.kernels import hybrid_scores, hybrid_update, linucb_theta, refactor_inverses
from ltrr_fast.kernels.linucb import linucb_scores
from ltrr_fast.kernels.select import choose_by_score, thompson_decide, ucb_decide, ucb_update

FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
EXPLORATIONS = ("ucb", "thompson")
MODELS = ("disjoint", "hybrid")
_BUFFER = 4096  # random numbers drawn from the generator at a time


class Decision:
    """One decision: the arms chosen, their quotas, and every arm's inclusion probability.

    Attributes
    ----------
    arms : tuple of str
        Chosen strategies, best score first.
    quotas : tuple of int
        Candidates to take from each chosen strategy; they sum to the budget.
    propensities : dict of str to float
        Every arm: the probability that it was included.
    scores : dict of str to float
        Every arm: its score (upper confidence bound, or posterior draw).
    propensity_array, score_array : numpy.ndarray
        The same in the policy's arm order, without building dicts.
    """

    __slots__ = ("_names", "arms", "propensity_array", "quotas", "score_array")

    def __init__(
        self,
        names: tuple[str, ...],
        chosen: np.ndarray,
        quotas: np.ndarray,
        propensities: np.ndarray,
        scores: np.ndarray,
    ) -> None:
        self._names = names
        self.arms = tuple([names[i] for i in chosen.tolist()])
        self.quotas = tuple(quotas.tolist())
        self.propensity_array = propensities
        self.score_array = scores

    @property
    def propensities(self) -> dict[str, float]:
        return dict(zip(self._names, self.propensity_array.tolist()))

    @property
    def scores(self) -> dict[str, float]:
        return dict(zip(self._names, self.score_array.tolist()))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Decision):
            return NotImplemented
        return (
            self._names == other._names
            and self.arms == other.arms
            and self.quotas == other.quotas
            and np.array_equal(self.propensity_array, other.propensity_array)
            and np.array_equal(self.score_array, other.score_array)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Decision(arms={self.arms}, quotas={self.quotas})"


class StrategyPolicy:
    """LinUCB or linear Thompson sampling with an epsilon mix, choosing strategies per context.

    Parameters
    ----------
    arms
        Strategy names.
    n_features
        Context dimension (features with per-arm coefficients).
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
    model
        ``"disjoint"`` (one model per arm) or ``"hybrid"`` (plus coefficients shared by every
        arm over ``n_action_features`` action features passed to :meth:`decide` and
        :meth:`update`). Hybrid works with ``exploration="ucb"`` only.
    n_action_features
        Length of each arm's action-feature vector; hybrid model only.
    quota_temperature
        Temperature of the softmax that splits the budget over the chosen arms' scores; 1
        splits nearly evenly when scores are close, 0.1 gives the best arm most of it.
    n_propensity_draws
        Posterior draws used to estimate inclusion probabilities under Thompson sampling.
    ridge
        Prior precision of every arm's model; a new arm starts from it.
    refactor_every
        Updates between Cholesky refactorings of the inverses (disjoint model).
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
        model: str = "disjoint",
        n_action_features: int = 0,
        quota_temperature: float = 1.0,
        n_propensity_draws: int = 256,
        ridge: float = 1.0,
        refactor_every: int = 10_000,
        seed: int = 0,
    ) -> None:
        arms = list(arms)
        if not arms or len(set(arms)) != len(arms) or not all(isinstance(a, str) for a in arms):
            raise ValueError(f"arms must be distinct strategy names, got {arms!r}")
        _check_count(n_features, "n_features", 1)
        _check_count(n_chosen, "n_chosen", 1)
        if n_chosen > len(arms):
            raise ValueError(f"n_chosen must lie in [1, {len(arms)}], got {n_chosen}")
        _check_count(budget, "budget", n_chosen)
        if not (alpha >= 0 and math.isfinite(alpha)):
            raise ValueError(f"alpha must be finite and >= 0, got {alpha}")
        if not 0 <= epsilon <= 1:
            raise ValueError(f"epsilon must lie in [0, 1], got {epsilon}")
        if exploration not in EXPLORATIONS:
            raise ValueError(f"exploration must be one of {EXPLORATIONS}, got {exploration!r}")
        if model not in MODELS:
            raise ValueError(f"model must be one of {MODELS}, got {model!r}")
        if model == "hybrid":
            _check_count(n_action_features, "n_action_features (hybrid model)", 1)
            if exploration != "ucb":
                raise ValueError("the hybrid model supports exploration='ucb' only")
        elif n_action_features != 0:
            raise ValueError("n_action_features applies to model='hybrid' only")
        _check_count(n_propensity_draws, "n_propensity_draws", 1)
        if not (ridge > 0 and math.isfinite(ridge)):
            raise ValueError(f"ridge must be finite and > 0, got {ridge}")
        if not (quota_temperature > 0 and math.isfinite(quota_temperature)):
            raise ValueError(f"quota_temperature must be finite and > 0, got {quota_temperature}")
        _check_count(refactor_every, "refactor_every", 0)
        self.n_features = n_features
        self.n_chosen = n_chosen
        self.budget = budget
        self.alpha = float(alpha)
        self.epsilon = float(epsilon)
        self.exploration = exploration
        self.model = model
        self.n_action_features = n_action_features
        self.n_propensity_draws = int(n_propensity_draws)
        self.quota_temperature = float(quota_temperature)
        self.ridge = float(ridge)
        self.refactor_every = int(refactor_every)
        self._arms = arms
        self._names = tuple(arms)
        self._index = {a: i for i, a in enumerate(arms)}
        d, k, n_arms = n_features, n_action_features, len(arms)
        self._A = np.tile(np.eye(d) * self.ridge, (n_arms, 1, 1))
        self._A_inv = np.tile(np.eye(d) / self.ridge, (n_arms, 1, 1))
        self._b = np.zeros((n_arms, d))
        self._theta = np.zeros((n_arms, d))
        # Hybrid model: shared block A0, b0 and per-arm cross terms B.
        self._A0 = np.eye(k) * self.ridge
        self._b0 = np.zeros(k)
        self._B = np.zeros((n_arms, d, k))
        self._n_updates = 0
        self._rng = np.random.default_rng(seed)
        self._uniforms = np.empty(0)
        self._upos = 0
        self._normals = np.empty(0)
        self._npos = 0

    @property
    def arms(self) -> tuple[str, ...]:
        return self._names

    # Decisions

    def scores(self, context: object, action_features: object = None) -> np.ndarray:
        """Upper confidence score of every arm for one context (no randomness used)."""
        x = self._context(context)
        if self.model == "hybrid":
            return self._hybrid_scores(x, self._action_features(action_features))
        return linucb_scores(self._A_inv, self._theta, x[None, :], self.alpha)[0]

    def decide(self, context: object, action_features: object = None) -> Decision:
        """Choose strategies and quotas for one context.

        ``action_features`` is an (n_arms, n_action_features) array in :attr:`arms` order,
        required by the hybrid model and refused by the disjoint one.
        """
        x = self._context(context)
        if self.model == "hybrid":
            z = self._action_features(action_features)
        elif action_features is not None:
            raise ValueError("action_features apply to model='hybrid' only")
        n_arms, m = len(self._arms), self.n_chosen
        scores = np.empty(n_arms)
        propensities = np.empty(n_arms)
        chosen = np.empty(m, dtype=np.int64)
        quotas = np.empty(m, dtype=np.int64)
        upos = self._upos
        if upos + 1 + m > self._uniforms.shape[0]:
            self._uniforms = self._rng.random(max(_BUFFER, 1 + m))
            upos = 0
        if self.model == "hybrid":
            scores[:] = self._hybrid_scores(x, z)
            upos = choose_by_score(
                scores, self.epsilon, self.budget, self.quota_temperature, self._uniforms, upos,
                chosen, quotas,
                propensities,
            )  # fmt: skip
        elif self.exploration == "ucb":
            upos = ucb_decide(
                self._A_inv, self._theta, x, self.alpha, self.epsilon, self.budget,
                self.quota_temperature, self._uniforms, upos, scores, chosen, quotas,
                propensities,
            )  # fmt: skip
        else:
            normals, npos = self._draw_normals((1 + self.n_propensity_draws) * n_arms)
            upos, self._npos = thompson_decide(
                self._A_inv, self._theta, x, self.alpha, self.epsilon, self.budget,
                self.quota_temperature, self.n_propensity_draws, self._uniforms, upos,
                normals, npos,
                scores, chosen, quotas, propensities,
            )  # fmt: skip
        if upos < 0:
            raise ValueError("context holds NaN or infinite values")
        self._upos = upos
        return Decision(self._names, chosen, quotas, propensities, scores)

    def _hybrid_scores(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        n_arms = len(self._arms)
        X = np.broadcast_to(x, (1, n_arms, x.shape[0])).copy()
        return hybrid_scores(
            self._A0, self._b0, self._A, self._B, self._b, z[None], X, self.alpha
        )[0]

    def _draw_normals(self, n: int) -> tuple[np.ndarray, int]:
        if self._npos + n > self._normals.shape[0]:
            self._normals = self._rng.standard_normal(max(_BUFFER, 4 * n))
            self._npos = 0
        return self._normals, self._npos

    # Learning

    def update(
        self,
        context: object,
        rewards: Mapping[str, float],
        action_features: object = None,
    ) -> None:
        """Learn from one request: the reward of each strategy that was drawn from.

        Rewards must lie in [0, 1]; one event may credit several arms (each is one
        observation of that arm for this context). The whole event is checked first; a
        rejected event changes nothing. The hybrid model needs the same ``action_features``
        the decision saw.
        """
        x = self._context(context)
        if not isinstance(rewards, Mapping) or not rewards:
            raise ValueError("rewards must be a non-empty dict of strategy name to reward")
        arms = np.empty(len(rewards), dtype=np.int64)
        values = np.empty(len(rewards))
        for r, (arm, reward) in enumerate(rewards.items()):
            index = self._index.get(arm)
            if index is None:
                raise ValueError(f"unknown arm {arm!r}; the policy has {self._arms}")
            if isinstance(reward, bool) or not isinstance(reward, (int, float, np.number)):
                raise TypeError(f"reward of {arm!r} must be a number, got {reward!r}")
            if not 0.0 <= reward <= 1.0:
                raise ValueError(f"reward of {arm!r} must lie in [0, 1], got {reward}")
            arms[r] = index
            values[r] = reward
        if self.model == "hybrid":
            z = self._action_features(action_features)
            for index, reward in zip(arms.tolist(), values.tolist()):
                hybrid_update(
                    self._A0, self._b0, self._A, self._B, self._b, index, z[index], x, reward
                )
            self._n_updates += len(arms)
            return
        if action_features is not None:
            raise ValueError("action_features apply to model='hybrid' only")
        before = self._n_updates
        if ucb_update(self._A, self._A_inv, self._b, self._theta, arms, x, values) < 0:
            raise ValueError("context holds NaN or infinite values")
        self._n_updates += len(arms)
        every = self.refactor_every
        if every > 0 and self._n_updates // every != before // every:
            refactor_inverses(self._A, self._A_inv)
            linucb_theta(self._A_inv, self._b, self._theta)

    # Arms

    def add_arm(self, name: str) -> None:
        """Add a strategy; it starts from the prior (and, hybrid, from the shared model)."""
        if not isinstance(name, str) or name in self._index:
            raise ValueError(f"arm name must be a new str, got {name!r}")
        d, k = self.n_features, self.n_action_features
        self._arms.append(name)
        self._names = tuple(self._arms)
        self._index[name] = len(self._arms) - 1
        self._A = np.concatenate([self._A, np.eye(d)[None] * self.ridge])
        self._A_inv = np.concatenate([self._A_inv, np.eye(d)[None] / self.ridge])
        self._b = np.concatenate([self._b, np.zeros((1, d))])
        self._theta = np.concatenate([self._theta, np.zeros((1, d))])
        self._B = np.concatenate([self._B, np.zeros((1, d, k))])

    def remove_arm(self, name: str) -> None:
        """Remove a strategy and what was learnt about it alone."""
        if name not in self._index:
            raise ValueError(f"unknown arm {name!r}; the policy has {self._arms}")
        if len(self._arms) <= self.n_chosen:
            raise ValueError(f"cannot go below n_chosen = {self.n_chosen} arms")
        i = self._index[name]
        del self._arms[i]
        self._names = tuple(self._arms)
        self._index = {a: j for j, a in enumerate(self._arms)}
        for attr in ("_A", "_A_inv", "_b", "_theta", "_B"):
            setattr(self, attr, np.delete(getattr(self, attr), i, axis=0))

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
            theta=self._theta,
            A0=self._A0,
            b0=self._b0,
            B=self._B,
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
                    self.n_action_features,
                    self._upos,
                    self._npos,
                    self.quota_temperature,
                ],
                dtype=np.float64,
            ),
            uniforms=self._uniforms,
            normals=self._normals,
            rng=np.array(repr(state)),
            exploration=np.array(self.exploration),
            model=np.array(self.model),
            n_propensity_draws=np.array(self.n_propensity_draws),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> StrategyPolicy:
        """Restore a policy saved with :meth:`to_bytes` (format 1 or 2)."""
        try:
            saved = np.load(io.BytesIO(data), allow_pickle=False)
            version = int(saved["format_version"])
        except Exception as error:  # noqa: BLE001 - any unreadable input is a format error
            raise ValueError(f"not a saved StrategyPolicy: {error}") from None
        if version not in READABLE_VERSIONS:
            raise ValueError(
                f"policy format version {version} is not supported; this build reads "
                f"{READABLE_VERSIONS}"
            )
        settings = saved["settings"].tolist()
        if len(settings) == 8:  # format 1
            settings += [0.0, 0.0, 0.0, 1.0]
        (n_features, n_chosen, budget, alpha, epsilon, ridge, refactor_every, n_updates) = (
            settings[:8]
        )
        n_action_features, upos, npos = (int(v) for v in settings[8:11])
        quota_temperature = float(settings[11]) if len(settings) > 11 else 1.0
        model = str(saved["model"]) if "model" in saved else "disjoint"
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
            model=model,
            n_action_features=n_action_features,
            quota_temperature=quota_temperature,
            n_propensity_draws=int(saved["n_propensity_draws"]),
        )
        policy._A = saved["A"].copy()
        policy._A_inv = saved["A_inv"].copy()
        policy._b = saved["b"].copy()
        if version >= 2:
            policy._theta = saved["theta"].copy()
            policy._A0 = saved["A0"].copy()
            policy._b0 = saved["b0"].copy()
            policy._B = saved["B"].copy()
            policy._uniforms = saved["uniforms"].copy()
            policy._normals = saved["normals"].copy()
            policy._upos, policy._npos = upos, npos
        else:
            policy._theta = np.zeros_like(policy._b)
            linucb_theta(policy._A_inv, policy._b, policy._theta)
        policy._n_updates = int(n_updates)
        policy._rng.bit_generator.state = ast.literal_eval(str(saved["rng"]))
        return policy

    # Input

    def _context(self, context: object) -> np.ndarray:
        x = context
        if not (
            type(x) is np.ndarray
            and x.dtype == np.float64
            and x.flags.c_contiguous
            and x.shape == (self.n_features,)
        ):
            x = np.ascontiguousarray(context, dtype=np.float64)
            if x.shape != (self.n_features,):
                raise ValueError(f"context must have shape ({self.n_features},), got {x.shape}")
        # The fused disjoint kernels check finiteness themselves.
        fused = self.model == "disjoint" and self.exploration == "ucb"
        if not fused and not np.isfinite(x).all():
            raise ValueError("context holds NaN or infinite values")
        return x

    def _action_features(self, action_features: object) -> np.ndarray:
        if self.model != "hybrid":
            raise ValueError("action_features apply to model='hybrid' only")
        if action_features is None:
            raise ValueError(
                f"the hybrid model needs action_features of shape "
                f"({len(self._arms)}, {self.n_action_features})"
            )
        z = np.ascontiguousarray(action_features, dtype=np.float64)
        if z.shape != (len(self._arms), self.n_action_features):
            raise ValueError(
                f"action_features must have shape ({len(self._arms)}, "
                f"{self.n_action_features}), got {z.shape}"
            )
        if not np.isfinite(z).all():
            raise ValueError("action_features hold NaN or infinite values")
        return z


def _check_count(value: object, name: str, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
