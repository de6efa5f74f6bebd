"""Off-policy estimates of the bts policy from uniform-random logs of the Open Bandit Dataset."""

from __future__ import annotations

import numpy as np
import pytest

from ltrr_fast.datasets import data_root
from ltrr_fast.datasets.obd import load_obd
from ltrr_fast.evaluation.obd_ope import policy_frequencies, validate


def _have_data() -> bool:
    try:
        return (data_root() / "bandit_open_bandit_dataset_sample").is_dir()
    except FileNotFoundError:
        return False


pytestmark = pytest.mark.skipif(not _have_data(), reason="shared data directory not found")


def test_loader_reads_ten_thousand_rows_with_uniform_random_propensities():
    log = load_obd("random", "all")
    assert len(log) == 10_000 and log.n_items == 80 and log.n_positions == 3
    assert np.allclose(log.propensities, 1 / 80)
    assert set(np.unique(log.clicks)) <= {0.0, 1.0}
    freq = policy_frequencies(load_obd("bts", "all"))
    assert freq.shape == (3, 80) and np.allclose(freq.sum(axis=1), 1.0)


@pytest.mark.parametrize("campaign", ["all", "men", "women"])
def test_estimates_from_random_logs_bracket_the_on_policy_click_rate(campaign):
    result = validate(campaign, n_bootstrap=400, seed=1)
    truth = result.on_policy_value
    for name, est in result.estimates.items():
        assert est.ci_low <= truth <= est.ci_high, (name, est, truth)
    # Clicks are sparse (about 40 in 10,000 rows), so errors of tens of percent are expected;
    # a wrong weighting would be off by orders of magnitude.
    assert max(result.relative_errors().values()) < 0.5
