"""Validate the off-policy estimators on the Open Bandit Dataset sample.

The Bernoulli Thompson sampling ("bts") policy's click rate is estimated from the logs of the
uniform-random policy and compared with the rate observed when bts itself was logging. bts
does not look at the user, so its choice at a position is summarised by how often it showed
each item there: ``pi(item | position) = count(item, position) / count(position)`` over the
bts logs, the time average of its changing posterior. The doubly robust estimator's reward
model is each (item, position)'s smoothed click rate in the random logs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ltrr_fast.bandit import Estimate, doubly_robust, ips, snips
from ltrr_fast.datasets.obd import BanditLog, load_obd


@dataclass(frozen=True)
class OBDValidation:
    campaign: str
    on_policy_value: float
    estimates: dict[str, Estimate]

    def relative_errors(self) -> dict[str, float]:
        return {
            name: abs(est.value - self.on_policy_value) / self.on_policy_value
            for name, est in self.estimates.items()
        }


def policy_frequencies(log: BanditLog) -> np.ndarray:
    """(n_positions, n_items) frequency with which the logging policy showed each item."""
    counts = np.zeros((log.n_positions, log.n_items))
    np.add.at(counts, (log.positions, log.items), 1.0)
    return counts / counts.sum(axis=1, keepdims=True)


def click_model(log: BanditLog, prior_clicks: float = 1.0) -> np.ndarray:
    """(n_positions, n_items) click rate, shrunk toward each position's mean."""
    shown = np.zeros((log.n_positions, log.n_items))
    clicked = np.zeros_like(shown)
    np.add.at(shown, (log.positions, log.items), 1.0)
    np.add.at(clicked, (log.positions, log.items), log.clicks)
    position_rate = clicked.sum(axis=1, keepdims=True) / shown.sum(axis=1, keepdims=True)
    prior_views = prior_clicks / np.maximum(position_rate, 1e-12)
    return (clicked + prior_clicks) / (shown + prior_views)


def validate(campaign: str = "all", n_bootstrap: int = 1000, seed: int = 0) -> OBDValidation:
    """Estimate bts's click rate from random logs with IPS, SNIPS and DR."""
    random_log = load_obd("random", campaign)
    bts_log = load_obd("bts", campaign)
    target = policy_frequencies(bts_log)
    target_p = target[random_log.positions, random_log.items]
    q = click_model(random_log)
    predicted = q[random_log.positions, random_log.items]
    expected = (target * q).sum(axis=1)[random_log.positions]
    kwargs = {"n_bootstrap": n_bootstrap, "seed": seed}
    estimates = {
        "ips": ips(random_log.clicks, random_log.propensities, target_p, **kwargs),
        "snips": snips(random_log.clicks, random_log.propensities, target_p, **kwargs),
        "dr": doubly_robust(
            random_log.clicks, random_log.propensities, target_p, predicted, expected, **kwargs
        ),
    }
    return OBDValidation(campaign, float(bts_log.clicks.mean()), estimates)
