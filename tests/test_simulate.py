"""The main job's simulation on a real collection: replayable, consistent, reported."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ltrr_fast.cli import main
from ltrr_fast.evaluation.report import write_report
from ltrr_fast.evaluation.simulate import SimulationSettings, simulate


@pytest.fixture(scope="module")
def run():
    return simulate(SimulationSettings("cisi", rounds=120, budget=60, seed=3))


def test_a_seed_replays_the_simulation(run):
    again = simulate(SimulationSettings("cisi", rounds=120, budget=60, seed=3))
    for metric in ("recall", "ndcg", "rr"):
        for name, values in getattr(run, metric).items():
            assert np.array_equal(values, getattr(again, metric)[name], equal_nan=True), name
    assert np.array_equal(run.chosen, again.chosen)
    assert np.array_equal(run.reward, again.reward)


def test_measurements_are_consistent(run):
    names = list(run.recall)
    assert {"static union", "LTR&R", "oracle", *run.strategies} <= set(names)
    for name in names:
        values = run.recall[name]
        assert ((values >= 0) & (values <= 1)).all(), name
        ndcg = run.ndcg[name][~np.isnan(run.ndcg[name])]
        assert ((ndcg >= 0) & (ndcg <= 1 + 1e-9)).all(), name
    # The oracle picks, per round, the best of the fixed sets (singles included), so no
    # fixed set the result keeps beats it in any round.
    fixed = [n for n in names if n not in ("LTR&R", "oracle", "static union")]
    best_fixed = np.max([run.recall[n] for n in fixed], axis=0)
    assert (run.recall["oracle"] >= best_fixed - 1e-12).all()
    assert np.isclose(run.recall["oracle"], best_fixed).mean() > 0.5
    # The engine drew from 1 to n_chosen strategies every round.
    assert (run.chosen.sum(axis=1) >= 1).all()
    assert (run.chosen.sum(axis=1) <= run.settings.n_chosen).all()
    assert run.latency_ms.shape == (120,) and (run.latency_ms > 0).all()


def test_the_report_has_metrics_a_summary_and_plots(run, tmp_path):
    summary = write_report(run, tmp_path)
    text = summary.read_text()
    assert "| LTR&R |" in text and "| oracle |" in text
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert {row["policy"] for row in metrics["after_learning"]} == set(run.recall)
    assert metrics["cumulative_reward"] == run.reward.sum() <= run.settings.rounds
    pytest.importorskip("matplotlib")
    for name in ("learning_curves.png", "regret.png", "strategy_choice.png", "latency.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_command_refuses_bad_settings(capsys):
    with pytest.raises(SystemExit):
        main(["simulate", "--rounds", "0"])
    assert "expected a whole number >= 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["simulate", "--budget", "1", "--n-chosen", "2"])
    with pytest.raises(ValueError, match="collection must be one of"):
        SimulationSettings("trec")
