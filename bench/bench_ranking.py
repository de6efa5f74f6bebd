"""Ranking layer: rows scored per second and updates per second, beside LightGBM's predict, and
the quality figures of the ranking proof recorded with them.

Scoring: the 768 test rows of LightGBM's lambdarank example (301 float32 features) tiled to
ROWS rows, scored by our linear kernels (one thread, and spread over threads), by
``OnlineRanker.score`` (input validation included), and by LightGBM's predict of the
100-tree LambdaMART model trained on the example (one thread, and all threads). Updates:
``OnlineRanker.update`` on one impression of 20 rows (301 features), and the gradient kernel on
a mini-batch of 16 such groups. Quality (timed once, recorded in ``extra_info``): LightGBM's
test nDCG@10 through our wrapper and directly, the online ranker's on the same rows, and the
click experiment on CISI and Vaswani. Run:

    pytest bench/bench_ranking.py -p no:cacheprovider --benchmark-json bench/results/ranking.json
    python bench/bench_ranking.py bench/results/ranking.json > bench/results/ranking.md
"""

from __future__ import annotations

import json
import os
import platform
import sys
from collections import defaultdict

import numpy as np
import pytest

from ltrr_fast.kernels.ranker import (
    OPT_ADAGRAD,
    linear_scores,
    linear_scores_parallel,
    ranker_step,
)
from ltrr_fast.ranking import LambdaMARTRanker, OnlineRanker

ROWS = int(os.environ.get("LTRR_BENCH_RANK_ROWS", "100000"))
GROUP = 20

pytestmark = pytest.mark.filterwarnings("default")


@pytest.fixture(scope="module")
def sample():
    from ltrr_fast.datasets.ltr import load_lightgbm_lambdarank

    try:
        return load_lightgbm_lambdarank()
    except FileNotFoundError as error:
        pytest.skip(f"shared data missing: {error}")


@pytest.fixture(scope="module")
def models(sample):
    pytest.importorskip("lightgbm")
    train, _ = sample
    lambdamart = LambdaMARTRanker(train.X.shape[1]).fit(train.X, train.labels, train.groups)
    online = OnlineRanker(train.X.shape[1], learning_rate=0.03, seed=0)
    online.fit(train.X, train.labels, train.groups, epochs=20)
    return lambdamart, online


@pytest.fixture(scope="module")
def rows(sample):
    _, test = sample
    reps = -(-ROWS // test.n_rows)
    return np.ascontiguousarray(np.tile(test.X, (reps, 1))[:ROWS])


def info(benchmark, engine: str, **extra) -> None:
    benchmark.extra_info.update(
        engine=engine,
        machine=platform.processor() or platform.machine(),
        cores=os.cpu_count(),
        **extra,
    )


# -- scoring ---------------------------------------------------------------------------------


def test_score_kernel_one_thread(benchmark, models, rows):
    w = models[1].weights
    benchmark.group = f"score {rows.shape[0]} rows x {rows.shape[1]} features"
    info(benchmark, "ltrr_fast linear kernel, 1 thread", rows=rows.shape[0])
    benchmark(linear_scores, rows, w)


def test_score_kernel_parallel(benchmark, models, rows):
    w = models[1].weights
    linear_scores_parallel(rows, w)
    benchmark.group = f"score {rows.shape[0]} rows x {rows.shape[1]} features"
    info(benchmark, f"ltrr_fast linear kernel, {os.cpu_count()} threads", rows=rows.shape[0])
    benchmark(linear_scores_parallel, rows, w)


def test_score_online_ranker(benchmark, models, rows):
    benchmark.group = f"score {rows.shape[0]} rows x {rows.shape[1]} features"
    info(benchmark, "ltrr_fast OnlineRanker.score (validated)", rows=rows.shape[0])
    benchmark(models[1].score, rows)


def test_score_lightgbm_one_thread(benchmark, models, rows):
    booster = models[0].booster
    benchmark.group = f"score {rows.shape[0]} rows x {rows.shape[1]} features"
    info(benchmark, "LightGBM predict (100 trees), 1 thread", rows=rows.shape[0])
    benchmark.pedantic(booster.predict, args=(rows,), kwargs={"num_threads": 1}, rounds=5)


def test_score_lightgbm_all_threads(benchmark, models, rows):
    booster = models[0].booster
    benchmark.group = f"score {rows.shape[0]} rows x {rows.shape[1]} features"
    info(benchmark, f"LightGBM predict (100 trees), {os.cpu_count()} threads", rows=rows.shape[0])
    benchmark.pedantic(booster.predict, args=(rows,), kwargs={"num_threads": 0}, rounds=5)


# -- updates ---------------------------------------------------------------------------------


def test_update_one_impression(benchmark, sample):
    train, _ = sample
    X = train.X[:GROUP]
    clicks = np.zeros(GROUP)
    clicks[[2, 7]] = 1.0
    ranker = OnlineRanker(train.X.shape[1])
    benchmark.group = f"updates, {train.X.shape[1]} features"
    info(benchmark, f"OnlineRanker.update, {GROUP} rows shown", updates=1)
    benchmark(ranker.update, X, clicks)


def test_update_kernel_mini_batch(benchmark, sample):
    train, _ = sample
    n_groups = 16
    X = np.ascontiguousarray(train.X[: n_groups * GROUP])
    labels = train.labels[: n_groups * GROUP].astype(np.float64)
    indptr = np.arange(0, (n_groups + 1) * GROUP, GROUP, dtype=np.int64)
    weights = np.ones(X.shape[0])
    w = np.zeros(X.shape[1])
    grad_sq = np.zeros(X.shape[1])
    args = (X, labels, weights, indptr, w, grad_sq, 0.03, 0.0, 1.0, True, 30, OPT_ADAGRAD)
    ranker_step(*args)
    benchmark.group = f"updates, {train.X.shape[1]} features"
    info(benchmark, f"ranker_step kernel, {n_groups} groups of {GROUP}", updates=n_groups)
    benchmark(ranker_step, *args)


# -- quality ---------------------------------------------------------------------------------


def _ndcg10(scores, split) -> float:
    from ltrr_fast.evaluation import ndcg_at_k

    run, qrels = {}, {}
    for q in range(split.n_queries):
        lo, hi = split.indptr[q], split.indptr[q + 1]
        order = np.argsort(-scores[lo:hi], kind="stable")
        run[str(q)] = [str(row) for row in order]
        qrels[str(q)] = {str(row): int(g) for row, g in enumerate(split.labels[lo:hi])}
    return ndcg_at_k(run, qrels, 10).mean


def test_quality_lambdarank_example(benchmark, sample):
    lightgbm = pytest.importorskip("lightgbm")
    from ltrr_fast.ranking.lambdamart import DEFAULT_PARAMS

    train, test = sample
    folder = train.path.parent
    out = {}

    def run():
        out["ours"] = LambdaMARTRanker(train.X.shape[1]).fit(train.X, train.labels, train.groups)

    benchmark.group = "quality: LightGBM lambdarank example"
    benchmark.pedantic(run, rounds=1, iterations=1)
    record: dict = {}
    direct_train = lightgbm.Dataset(str(folder / "rank.train"))
    direct_test = lightgbm.Dataset(str(folder / "rank.test"), reference=direct_train)
    direct = lightgbm.train(
        {**DEFAULT_PARAMS, "metric": "ndcg", "eval_at": [10]},
        direct_train,
        num_boost_round=100,
        valid_sets=[direct_test],
        callbacks=[lightgbm.record_evaluation(record)],
    )
    ours_scores = out["ours"].score(test.X)
    direct_scores = direct.predict(str(folder / "rank.test"))
    online = OnlineRanker(train.X.shape[1], learning_rate=0.03, seed=0)
    online.fit(train.X, train.labels, train.groups, epochs=20)
    wrapper = _ndcg10(ours_scores, test)
    info(
        benchmark,
        "LambdaMART wrapper fit (100 trees)",
        lightgbm_own_ndcg10_direct=record["valid_0"]["ndcg@10"][-1],
        max_abs_score_diff_wrapper_vs_direct=float(np.abs(ours_scores - direct_scores).max()),
        ndcg10_wrapper=wrapper,
        ndcg10_direct=_ndcg10(direct_scores, test),
        ndcg10_online=_ndcg10(online.score(test.X), test),
        online_ratio=_ndcg10(online.score(test.X), test) / wrapper,
    )


@pytest.mark.parametrize("name", ["cisi", "vaswani"])
@pytest.mark.parametrize("evaluate_on", ["all", "held_out"])
def test_quality_click_experiment(benchmark, name, evaluate_on):
    from ltrr_fast.datasets import load_ir
    from ltrr_fast.evaluation.click_models import click_experiment
    from ltrr_fast.ranking.collection import collection_candidates

    try:
        candidates = collection_candidates(load_ir(name), depth=20)
    except FileNotFoundError as error:
        pytest.skip(f"shared data missing: {error}")
    out = {}

    def run():
        out["result"] = click_experiment(candidates, evaluate_on=evaluate_on, seed=0)

    benchmark.group = "quality: learning from PBM clicks"
    benchmark.pedantic(run, rounds=1, iterations=1)
    result = out["result"]
    info(
        benchmark,
        f"{name}, evaluated on {evaluate_on}",
        ndcg10_bm25=result.ndcg_bm25,
        ndcg10_uncorrected=result.ndcg_uncorrected,
        ndcg10_corrected=result.ndcg_corrected,
        sessions=result.n_sessions,
        clicks=result.n_clicks,
    )


# -- report ----------------------------------------------------------------------------------


def summarize(path: str) -> str:
    """Markdown tables of a run of this file."""
    with open(path, encoding="utf-8") as handle:
        report = json.load(handle)
    cpu = report["machine_info"].get("cpu", {})
    commit = report.get("commit_info", {}).get("id", "?")[:7]
    lines = [
        "Ranking layer benchmark (`bench/bench_ranking.py`); medians over rounds.",
        "",
        f"Machine: {cpu.get('brand_raw', '?')}, {cpu.get('count', '?')} cores; commit {commit}.",
    ]
    groups: dict[str, list[dict]] = defaultdict(list)
    for bench in report["benchmarks"]:
        groups[bench["group"]].append(bench)
    for group, benches in groups.items():
        lines += ["", f"### {group}", ""]
        if group.startswith("score"):
            lines += ["| engine | median | rows/s |", "|---|---:|---:|"]
            for b in sorted(benches, key=lambda b: b["stats"]["median"]):
                median = b["stats"]["median"]
                rate = b["extra_info"]["rows"] / median
                lines.append(
                    f"| {b['extra_info']['engine']} | {median * 1e3:.2f} ms | {rate:,.0f} |"
                )
        elif group.startswith("updates"):
            lines += ["| engine | median | updates/s | groups/s |", "|---|---:|---:|---:|"]
            for b in benches:
                median = b["stats"]["median"]
                groups_per_s = b["extra_info"]["updates"] / median
                lines.append(
                    f"| {b['extra_info']['engine']} | {median * 1e6:.1f} us | {1 / median:,.0f} "
                    f"| {groups_per_s:,.0f} |"
                )
        elif "lambdarank" in group:
            for b in benches:
                e = b["extra_info"]
                lines += [
                    "| measure | value |",
                    "|---|---:|",
                    (
                        f"| LightGBM's own test nDCG@10 (direct, its gain 2^l - 1) | "
                        f"{e['lightgbm_own_ndcg10_direct']:.4f} |"
                    ),
                    (
                        f"| max abs score difference, wrapper vs direct | "
                        f"{e['max_abs_score_diff_wrapper_vs_direct']:.3g} |"
                    ),
                    f"| nDCG@10 (trec_eval form), wrapper | {e['ndcg10_wrapper']:.4f} |",
                    f"| nDCG@10 (trec_eval form), LightGBM direct | {e['ndcg10_direct']:.4f} |",
                    f"| nDCG@10 (trec_eval form), online ranker | {e['ndcg10_online']:.4f} |",
                    f"| online / LambdaMART | {e['online_ratio']:.3f} |",
                    f"| LambdaMART fit time | {b['stats']['median']:.2f} s |",
                ]
        else:
            lines += [
                "| collection, evaluation | BM25F | uncorrected | IPS-corrected | clicks | time |",
                "|---|---:|---:|---:|---:|---:|",
            ]
            for b in benches:
                e = b["extra_info"]
                lines.append(
                    f"| {e['engine']} | {e['ndcg10_bm25']:.4f} | {e['ndcg10_uncorrected']:.4f} "
                    f"| {e['ndcg10_corrected']:.4f} | {e['clicks']:,} "
                    f"| {b['stats']['median']:.1f} s |"
                )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(summarize(sys.argv[1] if len(sys.argv) > 1 else "bench/results/ranking.json"))
