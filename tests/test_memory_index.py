"""The query-to-entity memory: cold start, replacement by observations, decay, persistence."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from ltrr_fast.index.catalog import Catalog
from ltrr_fast.strategies import run_strategy
from ltrr_fast.strategies.memory import (
    MEMORY_FORMAT_VERSION,
    MemoryFormatError,
    MemoryIndex,
    MemoryStrategy,
)
from ltrr_fast.understanding import ParsedQuery
from ltrr_fast.understanding.predicted import QueryTemplate

DAY = 86400.0
TEMPLATES = (
    QueryTemplate("{artist} {title}", 0.5),
    QueryTemplate("{title}", 0.3),
    QueryTemplate("{artist}", 0.2),
)


def song_catalog() -> Catalog:
    catalog = Catalog(("title", "artist"), ("genre",), ("popularity",))
    catalog.add(
        [
            {
                "id": "s0",
                "fields": {"title": "Love Story", "artist": "Taylor Swift"},
                "static": {"popularity": 80},
            },
            {
                "id": "s1",
                "fields": {"title": "Shake It Off", "artist": "Taylor Swift"},
                "static": {"popularity": 100},
            },
            {
                "id": "s2",
                "fields": {"title": "Love Story", "artist": "Indila"},
                "static": {"popularity": 60},
            },
            {
                "id": "s3",
                "fields": {"title": "Halo", "artist": "Beyoncé"},
                "static": {"popularity": 90},
            },
        ]
    )
    return catalog


def memory(**options) -> MemoryIndex:
    return MemoryIndex.from_catalog(song_catalog(), TEMPLATES, **options)


def predicted(rate: float, popularity: float) -> float:
    return rate * (0.5 + 0.5 * popularity / 100.0)


def test_cold_start_predicts_queries_from_item_fields():
    mem = memory()
    assert mem.prediction("Taylor Swift Love Story", 0) == pytest.approx(predicted(0.5, 80))
    assert mem.prediction("beyonce", 3) == pytest.approx(predicted(0.2, 90))
    assert mem.prediction("beyonce", 0) is None and mem.prediction("unheard of", 0) is None
    doc_ids, scores, features = mem.lookup("love story", 10, now=0.0)
    # Both "Love Story" songs, the more popular first, scored by their predictions.
    assert doc_ids.tolist() == [0, 2]
    assert scores.tolist() == pytest.approx([predicted(0.3, 80), predicted(0.3, 60)])
    assert features[:, 1:].sum() == 0  # no impressions, no actions yet


def test_cold_start_keeps_the_best_items_per_query():
    mem = memory(max_items_per_query=1)
    assert mem.lookup("taylor swift", 10, now=0.0)[0].tolist() == [1]  # the more popular
    with pytest.raises(ValueError, match="max_items_per_query must be >= 1"):
        memory(max_items_per_query=0)


def test_score_is_the_beta_posterior_mean_centred_on_the_prediction():
    mem = memory(prior_strength=10.0, half_life=np.inf)
    mem.record("love story", [0, 2], impressions=[20, 4], actions=[1, 3], now=0.0)
    doc_ids, scores, features = mem.lookup("Love Story!", 10, now=5.0)
    expected = {
        0: (1 + predicted(0.3, 80) * 10) / (20 + 10),
        2: (3 + predicted(0.3, 60) * 10) / (4 + 10),
    }
    assert doc_ids.tolist() == [2, 0]
    assert scores.tolist() == pytest.approx([expected[2], expected[0]], rel=1e-6)
    np.testing.assert_allclose(
        features, [[predicted(0.3, 60), 4, 3], [predicted(0.3, 80), 20, 1]], rtol=1e-6
    )


def test_observations_replace_the_prediction_as_impressions_grow():
    mem = memory(half_life=np.inf)
    now = 0.0
    for _ in range(200):
        mem.record("taylor swift", [0, 1], impressions=1, actions=[1, 0], now=now)
        now += 1.0
    doc_ids, scores, _ = mem.lookup("taylor swift", 10, now=now)
    # Predicted order was Shake It Off first; users only ever act on Love Story.
    assert doc_ids.tolist() == [0, 1]
    assert scores[0] == pytest.approx(1.0, abs=0.05) and scores[1] == pytest.approx(0.0, abs=0.01)


def test_a_query_that_reached_an_item_elsewhere_adds_a_pair_with_the_default_prior():
    mem = memory(default_prior=0.02, prior_strength=10.0)
    mem.record("sad songs", 3, impressions=2, actions=1, now=0.0)
    doc_ids, scores, features = mem.lookup("SAD songs", 5, now=0.0)
    assert doc_ids.tolist() == [3]
    assert scores[0] == pytest.approx((1 + 0.02 * 10) / (2 + 10))
    assert features[0].tolist() == pytest.approx([0.02, 2, 1])
    assert mem.n_observed == 1


def test_counts_decay_with_the_half_life():
    mem = memory(prior_strength=10.0, half_life=DAY)
    mem.record("halo", 3, impressions=8, actions=4, now=0.0)
    _, scores, features = mem.lookup("halo", 1, now=DAY)
    assert features[0, 1:].tolist() == pytest.approx([4, 2])
    assert scores[0] == pytest.approx((2 + predicted(0.3, 90) * 10) / (4 + 10))
    # A later record decays what was there before adding to it.
    mem.record("halo", 3, impressions=1, actions=1, now=2 * DAY)
    _, _, features = mem.lookup("halo", 1, now=2 * DAY)
    assert features[0, 1:].tolist() == pytest.approx([8 / 4 + 1, 4 / 4 + 1])


def test_save_and_load_round_trip_exactly(tmp_path):
    mem = memory(half_life=DAY)
    mem.record("love story", [0, 2], impressions=[5, 3], actions=[1, 2], now=10.0)
    mem.record("brand new query", 1, impressions=2, actions=2, now=20.0)
    path = tmp_path / "memory.q2e"
    mem.save(path)
    again = MemoryIndex.load(path)
    assert os.listdir(tmp_path) == ["memory.q2e"]  # no temporary file left behind
    for query in ("love story", "brand new query", "taylor swift", "halo", "nothing"):
        for a, b in zip(mem.lookup(query, 10, now=50.0), again.lookup(query, 10, now=50.0)):
            assert np.array_equal(a, b)
    assert (again.n_queries, again.n_predictions, again.n_observed) == (
        mem.n_queries,
        mem.n_predictions,
        mem.n_observed,
    )
    assert again.half_life == DAY
    MemoryIndex(half_life=np.inf).save(path)  # replaces the file; no decay survives the trip
    assert MemoryIndex.load(path).half_life == np.inf


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda data: b"NOTAMEMORY" + data[10:], "not a memory file"),
        (lambda data: data[: len(data) // 2], "truncated or corrupt"),
        (lambda data: data[:-1] + bytes([data[-1] ^ 0xFF]), "truncated or corrupt"),
        (
            lambda data: data[:8] + (MEMORY_FORMAT_VERSION + 1).to_bytes(4, "little") + data[12:],
            "format version",
        ),
        (lambda data: b"", "not a memory file"),
    ],
)
def test_a_damaged_file_raises_a_clear_error(tmp_path, damage, message):
    path = tmp_path / "memory.q2e"
    memory().save(path)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(MemoryFormatError, match=message):
        MemoryIndex.load(path)


def test_a_missing_file_raises_oserror(tmp_path):
    with pytest.raises(OSError):
        MemoryIndex.load(tmp_path / "absent.q2e")


@pytest.mark.parametrize(
    "args, kwargs, error, message",
    [
        (("halo", 3), {"impressions": 1, "actions": 2}, ValueError, "0 <= actions <= impressions"),
        (("halo", 3), {"impressions": -1, "actions": -1}, ValueError, "0 <= actions"),
        (("halo", 3), {"impressions": np.nan}, ValueError, "finite counts"),
        (("halo", [3, 1]), {"impressions": [1, 2, 3]}, ValueError, "arrays of 2 numbers"),
        (("halo", 1.5), {}, TypeError, "doc_ids must be an int"),
        (("halo", -1), {}, ValueError, r"doc_ids must lie in \[0, 2\*\*32 - 1\]"),
        ((b"halo", 3), {}, TypeError, "query must be str"),
        (("?!", 3), {}, ValueError, "no words to remember"),
        (("halo", 3), {"now": float("nan")}, ValueError, "now must be finite"),
        (("halo", 3), {"now": "today"}, TypeError, "now must be a number of seconds"),
    ],
)
def test_record_refuses_bad_input(args, kwargs, error, message):
    kwargs.setdefault("now", 0.0)
    mem = memory()
    with pytest.raises(error, match=message):
        mem.record(*args, **kwargs)
    assert mem.n_observed == 0


@pytest.mark.parametrize(
    "options, error, message",
    [
        ({"prior_strength": 0}, ValueError, "prior_strength must be a positive"),
        ({"half_life": -1.0}, ValueError, "half_life must be a positive"),
        ({"default_prior": 1.0}, ValueError, r"default_prior must lie in \(0, 1\)"),
        ({"prior_strength": "10"}, TypeError, "prior_strength must be a number"),
    ],
)
def test_memory_refuses_bad_parameters(options, error, message):
    with pytest.raises(error, match=message):
        MemoryIndex(**options)


def test_memory_strategy_answers_from_the_memory_at_its_clock():
    mem = memory(half_life=DAY)
    mem.record("halo", 3, impressions=10, actions=10, now=0.0)
    clock = [0.0]
    strategy = MemoryStrategy(mem, clock=lambda: clock[0])
    query = ParsedQuery(text="Halo", normalized="halo", tokens=("halo",))
    fresh = run_strategy(strategy, query, 5, time.perf_counter() + 5)
    clock[0] = 30 * DAY
    stale = run_strategy(strategy, query, 5, time.perf_counter() + 5)
    assert fresh.status == stale.status == "ok"
    assert fresh.candidates.doc_ids.tolist() == stale.candidates.doc_ids.tolist() == [3]
    assert fresh.candidates.scores[0] == pytest.approx((10 + predicted(0.3, 90) * 10) / 20)
    assert stale.candidates.scores[0] == pytest.approx(predicted(0.3, 90), rel=1e-3)
    assert fresh.candidates.features.shape == (1, len(strategy.feature_names))
    empty = ParsedQuery(text="", normalized="", tokens=())
    assert len(run_strategy(strategy, empty, 5, time.perf_counter() + 5).candidates) == 0
    with pytest.raises(TypeError, match="memory must be a MemoryIndex"):
        MemoryStrategy({})
