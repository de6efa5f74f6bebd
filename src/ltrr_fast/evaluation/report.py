"""Report of a simulation: metrics as JSON, a markdown summary and PNG plots.

Plots need matplotlib (``pip install 'ltrr-fast[report]'``); without it the JSON and the
markdown are still written and the summary says the plots were skipped.
"""

from __future__ import annotations

import json
import logging
import os
import pathlib
from typing import Any

import numpy as np

from ltrr_fast.evaluation.simulate import SimulationResult

logger = logging.getLogger(__name__)

_WINDOW = 100  # rounds in the moving averages of the learning curves


def write_report(result: SimulationResult, directory: str | os.PathLike[str]) -> pathlib.Path:
    """Write ``metrics.json``, ``summary.md`` and the plots; returns the summary's path."""
    out = pathlib.Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    rows = result.summary()
    settings = result.settings
    metrics = {
        "settings": {k: getattr(settings, k) for k in settings.__dataclass_fields__},
        "n_items": result.n_items,
        "strategies": list(result.strategies),
        "best_fixed_set": list(result.best_subset),
        "after_learning": rows,
        "first_half": result.summary(start=0, stop=settings.rounds // 2),
        "reward_rate": float(result.reward.mean()),
        "cumulative_reward": float(result.reward.sum()),
        "reward_rate_second_half": float(result.reward[settings.rounds // 2 :].mean()),
        "latency_ms": {
            "p50": float(np.percentile(result.latency_ms, 50)),
            "p99": float(np.percentile(result.latency_ms, 99)),
        },
        "choice_share_second_half": dict(
            zip(result.strategies, result.chosen[settings.rounds // 2 :].mean(axis=0).tolist())
        ),
        "build_seconds": result.build_seconds,
        "run_seconds": result.run_seconds,
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    plots = _plots(result, out)
    summary = out / "summary.md"
    summary.write_text(_markdown(result, metrics, plots), encoding="utf-8")
    return summary


def _markdown(result: SimulationResult, metrics: dict[str, Any], plots: list[str]) -> str:
    s = result.settings
    lines = [
        f"# Learning to rank and retrieve: {s.collection}",
        "",
        (
            f"{s.rounds:,} searches over {result.n_items:,} items, seed {s.seed}; budget "
            f"{s.budget} candidates, the engine draws from {s.n_chosen} of "
            f"{len(result.strategies)} strategies ({', '.join(result.strategies)}); clicks "
            f"from a position-based model (examination 1/(rank+1)^{s.eta:g}, click "
            f"{s.click_relevant:g} on relevant and {s.click_irrelevant:g} on other results)."
        ),
        "",
        (
            f"Means over the second half of the rounds (after learning). Every candidate set is "
            f"ranked by the engine's current ranker; the best fixed set "
            f"({' + '.join(result.best_subset)}) and the oracle are found in hindsight."
        ),
        "",
        "| policy | candidate recall@budget | nDCG@10 | MRR |",
        "|---|---:|---:|---:|",
    ]
    for row in metrics["after_learning"]:
        lines.append(
            f"| {row['policy']} | {row['recall']:.4f} | {row['ndcg@10']:.4f} | {row['mrr']:.4f} |"
        )
    lat = metrics["latency_ms"]
    share = ", ".join(f"{k} {v:.0%}" for k, v in metrics["choice_share_second_half"].items())
    lines += [
        "",
        (
            f"Engine latency per search (one thread, strategies run in turn): p50 "
            f"{lat['p50']:.2f} ms, p99 {lat['p99']:.2f} ms. Searches ending in a click on a "
            f"relevant result: {metrics['reward_rate']:.1%} overall "
            f"({metrics['cumulative_reward']:,.0f} searches), "
            f"{metrics['reward_rate_second_half']:.1%} in the second half. Strategies drawn "
            f"from in the second half: {share}."
        ),
        "",
        f"Built in {result.build_seconds:.1f} s, simulated in {result.run_seconds:.1f} s.",
        "",
    ]
    if plots:
        lines += [f"![{p}]({p})" for p in plots]
    else:
        lines.append("(Plots skipped: matplotlib is not installed.)")
    return "\n".join(lines) + "\n"


def _moving(values: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Rounds and the trailing moving average ending at each (rounds without a score,
    NaN, are left out of the average)."""
    window = max(1, min(window, values.shape[0]))
    kernel = np.ones(window)
    scored = ~np.isnan(values)
    sums = np.convolve(np.where(scored, values, 0.0), kernel, mode="valid")
    counts = np.convolve(scored.astype(float), kernel, mode="valid")
    rounds = np.arange(window - 1, values.shape[0])
    return rounds, np.divide(sums, counts, out=np.full_like(sums, np.nan), where=counts > 0)


def _plots(result: SimulationResult, out: pathlib.Path) -> list[str]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        logger.warning("matplotlib is not installed; plots skipped")
        return []
    names = list(result.recall)
    singles = [n for n in names if n in result.strategies]
    best_single = max(singles, key=lambda n: float(np.nanmean(result.recall[n])))
    shown = [best_single, "static union"]
    shown += [n for n in names if n.startswith("best fixed set")]
    shown += ["LTR&R", "oracle"]
    files = []

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, metric, label in (
        (axes[0], result.recall, "candidate recall@budget"),
        (axes[1], result.ndcg, "nDCG@10"),
    ):
        for name in shown:
            ax.plot(*_moving(metric[name], _WINDOW), label=name, lw=2 if name == "LTR&R" else 1)
        ax.set_xlabel(f"round (trailing average of {_WINDOW})")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=8)
    fig.suptitle(f"Learning curves, {result.settings.collection}")
    files.append(_save(plt, fig, out, "learning_curves.png"))

    fig, ax = plt.subplots(figsize=(6, 4))
    oracle = np.nan_to_num(result.recall["oracle"])
    for name in shown[:-1]:
        regret = np.cumsum(oracle - np.nan_to_num(result.recall[name]))
        ax.plot(regret, label=name, lw=2 if name == "LTR&R" else 1)
    ax.set_xlabel("round")
    ax.set_ylabel("cumulative recall regret against the oracle")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    files.append(_save(plt, fig, out, "regret.png"))

    fig, ax = plt.subplots(figsize=(6, 4))
    for i, name in enumerate(result.strategies):
        ax.plot(*_moving(result.chosen[:, i].astype(float), _WINDOW), label=name)
    ax.set_xlabel(f"round (trailing average of {_WINDOW})")
    ax.set_ylabel("share of searches drawing from the strategy")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    files.append(_save(plt, fig, out, "strategy_choice.png"))

    fig, ax = plt.subplots(figsize=(6, 4))
    latency = result.latency_ms
    top = float(np.percentile(latency, 99.5))
    ax.hist(np.clip(latency, 0, top), bins=60, color="tab:blue", alpha=0.8)
    for q, style in ((50, "--"), (99, ":")):
        value = float(np.percentile(latency, q))
        ax.axvline(value, color="k", ls=style, label=f"p{q} {value:.2f} ms")
    ax.set_xlabel("end-to-end search latency (ms)")
    ax.set_ylabel("searches")
    ax.legend()
    files.append(_save(plt, fig, out, "latency.png"))
    return files


def _save(plt, fig, out: pathlib.Path, name: str) -> str:
    """Lay out, write and close one figure; returns its file name."""
    fig.tight_layout()
    fig.savefig(out / name, dpi=110)
    plt.close(fig)
    return name
