"""Saving and loading: exact round trips, old files, and clear errors for bad files."""

from __future__ import annotations

import json
import math
import pathlib
import random
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ltrr_fast.index import BM25Params, Filter, IndexFormatError, LexicalIndex

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
HEADER = 8 + 4 + 4 + 8 + 4
WORDS = [
    "love",
    "song",
    "rock",
    "pop",
    "night",
    "day",
    "heart",
    "fire",
    "rain",
    "blue",
    "red",
    "gold",
    "star",
]


def random_index(seed: int, n_docs: int = 300) -> LexicalIndex:
    rng = random.Random(seed)
    index = LexicalIndex(fields=("title", "text"), stopwords="en", stemmer="english")
    for i in range(n_docs):
        doc_id = f"d{rng.randrange(n_docs // 2)}"  # repeats replace earlier docs
        index.add(
            doc_id,
            {
                "title": " ".join(rng.choices(WORDS, k=rng.randint(0, 3))),
                "text": " ".join(rng.choices(WORDS, k=rng.randint(0, 12))),
            },
            static_score=rng.random() * 100,
            attributes={"genre": rng.choice(["pop", "rock", "jazz"])},
        )
        if rng.random() < 0.2:
            index.delete(f"d{rng.randrange(n_docs // 2)}")
    return index


def snapshot(index: LexicalIndex) -> list[tuple[list[str], list[float]]]:
    params = BM25Params(field_weights={"title": 3.0}, prior_weight=0.05)
    out = []
    for flt in (None, Filter.attr("genre", "pop"), ~Filter.attr("genre", "rock")):
        for query in WORDS + ["love song", "red gold star", "nothing"]:
            hits = index.search(query, k=20, params=params, filter=flt)
            out.append((hits.ids, hits.scores.tolist()))
    return out


def test_save_and_load_give_identical_results_after_adds_replaces_and_deletes(tmp_path):
    index = random_index(seed=1)
    path = tmp_path / "index.ltrr"
    index.save(path)
    loaded = LexicalIndex.load(path)
    assert len(loaded) == len(index)
    assert loaded.fields == index.fields
    assert snapshot(loaded) == snapshot(index)
    assert [p.name for p in tmp_path.iterdir()] == ["index.ltrr"]  # no temporary left behind


def test_loaded_index_keeps_learning_like_the_original(tmp_path):
    index = random_index(seed=2)
    index.save(tmp_path / "a.ltrr")
    loaded = LexicalIndex.load(tmp_path / "a.ltrr")
    for ix in (index, loaded):
        ix.add("new", {"title": "love love", "text": "brand new song"})
        ix.delete("d3")
    assert snapshot(loaded) == snapshot(index)


def test_deleted_docs_leave_no_trace_in_scores_and_survive_a_round_trip(tmp_path):
    # CASES 5: df and lengths of deleted docs must go, before and after save/load.
    index = LexicalIndex()
    index.add_batch(["d1", "d2", "d3"], ["tok", "tok", "tok"])
    index.delete("d2")
    index.delete("d3")
    s1 = index.search("tok", k=1).scores[0]
    index.save(tmp_path / "x.ltrr")
    s2 = LexicalIndex.load(tmp_path / "x.ltrr").search("tok", k=1).scores[0]
    fresh = LexicalIndex()
    fresh.add("d1", "tok")
    s0 = fresh.search("tok", k=1).scores[0]
    lucene_idf = math.log(1 + (1 - 1 + 0.5) / (1 + 0.5))
    expected = lucene_idf * 1 / (1 + 1.2 * (1 - 0.75 + 0.75 * 1 / 1))
    assert s1 == s2 == s0 > 0
    assert s0 == pytest.approx(expected, rel=1e-6)


def test_terms_whose_postings_became_empty_round_trip(tmp_path):
    # CASES 11: two empty posting lists written back to back read back as empty.
    index = LexicalIndex()
    index.add_batch(["x", "y", "z"], ["a", "b", "c"])
    index.delete("x")
    index.delete("y")
    index.compact()
    index.save(tmp_path / "e.ltrr")
    loaded = LexicalIndex.load(tmp_path / "e.ltrr")
    assert loaded.search("a").ids == [] and loaded.search("b").ids == []
    assert loaded.search("c").ids == ["z"]
    loaded.add("x", "a")
    assert loaded.search("a").ids == ["x"]


def test_empty_index_saves_loads_searches_and_grows(tmp_path):
    # CASES 17.
    LexicalIndex(fields=("title", "text")).save(tmp_path / "empty.ltrr")
    loaded = LexicalIndex.load(tmp_path / "empty.ltrr")
    assert len(loaded) == 0 and loaded.fields == ("title", "text")
    assert len(loaded.search("anything")) == 0
    loaded.add("a", {"title": "anything"})
    loaded.save(tmp_path / "empty.ltrr")
    assert LexicalIndex.load(tmp_path / "empty.ltrr").search("anything").ids == ["a"]


def test_index_saved_by_format_version_1_loads_with_the_same_results():
    # CASES 18: a file written by an earlier build, kept in the fixtures.
    sys.path.insert(0, str(FIXTURES))
    try:
        import make_lexical_v1 as maker
    finally:
        sys.path.pop(0)
    loaded = LexicalIndex.load(FIXTURES / "lexical_v1.ltrr")
    expected = json.loads((FIXTURES / "lexical_v1.json").read_text())
    got = maker.results(loaded)
    assert got.keys() == expected.keys()
    for key in expected:
        assert [i for i, _ in got[key]] == [i for i, _ in expected[key]], key
        assert [s for _, s in got[key]] == pytest.approx([s for _, s in expected[key]], rel=1e-6)


def test_future_format_version_is_refused_by_name(tmp_path):
    data = bytearray((FIXTURES / "lexical_v1.ltrr").read_bytes())
    data[8:12] = struct.pack("<I", 99)
    (tmp_path / "future.ltrr").write_bytes(bytes(data))
    with pytest.raises(IndexFormatError, match="format version 99 is not supported"):
        LexicalIndex.load(tmp_path / "future.ltrr")


@pytest.mark.parametrize(
    "mangle, message",
    [
        (lambda b: b[: len(b) // 2], "truncated"),
        (lambda b: b + b"junk", "truncated or has trailing data"),
        (lambda b: b[:40] + bytes([b[40] ^ 0xFF]) + b[41:], "checksum"),
        (lambda b: b"PK\x03\x04" + b[4:], "not an ltrr_fast lexical index"),
        (lambda b: b"", "not an ltrr_fast lexical index"),
        (lambda b: b"hello world, this is text and not an index", "not an ltrr_fast"),
    ],
)
def test_corrupt_truncated_or_foreign_files_raise_a_python_error(tmp_path, mangle, message):
    good = (FIXTURES / "lexical_v1.ltrr").read_bytes()
    path = tmp_path / "bad.ltrr"
    path.write_bytes(mangle(good))
    with pytest.raises(IndexFormatError, match=message):
        LexicalIndex.load(path)


def test_missing_file_or_directory_raises_os_error(tmp_path):
    with pytest.raises(OSError):
        LexicalIndex.load(tmp_path / "nope.ltrr")
    with pytest.raises(OSError):
        LexicalIndex().save(tmp_path / "no" / "such" / "dir.ltrr")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_corrupted_payload_with_a_valid_checksum_never_crashes(tmp_path_factory, data):
    good = bytearray((FIXTURES / "lexical_v1.ltrr").read_bytes())
    payload = good[HEADER:]
    n_flips = data.draw(st.integers(1, 8))
    for _ in range(n_flips):
        at = data.draw(st.integers(0, len(payload) - 1))
        payload[at] = data.draw(st.integers(0, 255))
    good[24:28] = struct.pack("<I", zlib.crc32(bytes(payload)))
    path = tmp_path_factory.mktemp("fuzz") / "f.ltrr"
    path.write_bytes(bytes(good[:HEADER] + payload))
    try:
        loaded = LexicalIndex.load(path)
    except IndexFormatError:
        return
    # A mutation that still parses must give a usable index.
    loaded.search("love", k=5)
    loaded.add("fresh", "love")
    assert "fresh" in loaded


def test_saved_index_loads_adds_and_searches_in_a_new_process(tmp_path):
    index = random_index(seed=3)
    index.save(tmp_path / "p.ltrr")
    expected = index.search("love song", k=5).ids
    script = f"""
import json
from ltrr_fast.index import LexicalIndex
ix = LexicalIndex.load({str(tmp_path / "p.ltrr")!r})
before = ix.search("love song", k=5).ids
ix.add("brand-new", {{"title": "zebra"}})
print(json.dumps([before, ix.search("zebra").ids]))
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    before, added = json.loads(out)
    assert before == expected and added == ["brand-new"]


def test_doc_ids_stay_stable_across_save_and_load(tmp_path):
    index = random_index(seed=4)
    index.save(tmp_path / "s.ltrr")
    loaded = LexicalIndex.load(tmp_path / "s.ltrr")
    hits = index.search("love", k=50)
    assert np.array_equal(loaded.search("love", k=50).doc_ids, hits.doc_ids)
    assert loaded.external_ids(hits.doc_ids) == hits.ids


def test_index_pickles_and_deep_copies_through_the_file_format():
    import copy
    import pickle

    index = random_index(seed=5)
    for clone in (pickle.loads(pickle.dumps(index)), copy.deepcopy(index)):
        assert snapshot(clone) == snapshot(index)
        clone.add("only-in-clone", {"title": "zebra"})
        assert "only-in-clone" not in index
