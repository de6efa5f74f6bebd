"""Regressions for faults a user found by trying to break the index."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest

from ltrr_fast.index import BM25Params, Filter, IndexFormatError, LexicalIndex


def small() -> LexicalIndex:
    index = LexicalIndex(fields=("title", "text"))
    index.add_batch(
        ["a", "b", "c"],
        [{"title": "apple pie"}, {"title": "apple", "text": "tart"}, {"text": "pear"}],
        attributes=[{"g": "x"}, {"g": "y"}, {"g": ["x", "z"]}],
    )
    return index


def test_save_refuses_to_replace_a_link_and_never_follows_one(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("important")
    link = tmp_path / "out.ltrr"
    os.symlink(victim, link)
    with pytest.raises(OSError, match="not a regular file"):
        small().save(link)
    assert victim.read_text() == "important" and link.is_symlink()


def test_save_refuses_a_directory_and_keeps_a_files_permissions(tmp_path):
    with pytest.raises(OSError, match="not a regular file"):
        small().save(tmp_path)
    path = tmp_path / "x.ltrr"
    small().save(path)
    os.chmod(path, 0o600)
    small().save(path)
    assert (os.stat(path).st_mode & 0o777) == 0o600


def test_concurrent_saves_to_one_path_all_succeed_and_readers_see_whole_files(tmp_path):
    path = tmp_path / "same.ltrr"
    small().save(path)
    stop = time.monotonic() + 2.0
    errors: list[BaseException] = []

    def saver(index: LexicalIndex) -> None:
        try:
            while time.monotonic() < stop:
                index.save(path)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    def loader() -> None:
        try:
            while time.monotonic() < stop:
                assert len(LexicalIndex.load(path)) in (3, 4)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    other = small()
    other.add("d", "plum")
    threads = [
        threading.Thread(target=f, args=a)
        for f, a in ((saver, (small(),)), (saver, (other,)), (loader, ()))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    assert [p.name for p in tmp_path.iterdir()] == ["same.ltrr"]


def test_paths_with_a_nul_byte_are_refused(tmp_path):
    with pytest.raises(ValueError, match="NUL"):
        small().save(str(tmp_path / "x") + "\x00y")
    with pytest.raises(ValueError, match="NUL"):
        LexicalIndex.load(str(tmp_path / "x") + "\x00y")


def test_saving_the_same_index_twice_writes_the_same_bytes(tmp_path):
    index = small()
    index.save(tmp_path / "1.ltrr")
    index.save(tmp_path / "2.ltrr")
    assert (tmp_path / "1.ltrr").read_bytes() == (tmp_path / "2.ltrr").read_bytes()


def test_filter_any_of_refuses_a_bare_string_and_filters_have_no_truth_value():
    with pytest.raises(TypeError, match="iterable of values"):
        Filter.any_of("g", "red")
    with pytest.raises(TypeError, match="no truth value"):
        Filter.attr("g", "x") and Filter.attr("g", "y")
    assert sorted(small().search("apple pear", filter=Filter.any_of("g", ["y", "z"])).ids) == [
        "b",
        "c",
    ]


def test_greek_final_sigma_invisible_joiners_and_cyrillic_letters():
    index = LexicalIndex()
    assert index.tokenize("ΌΣΟΣ όσος") == ["οσοσ", "οσοσ"]
    assert index.tokenize("co\u00adop co\u200dop co\u200cop") == ["coop"] * 3
    assert index.tokenize("йод ёлка") == ["йод", "ёлка"]  # letters of their own, kept


def test_bm25_params_ignore_later_changes_to_the_callers_dict():
    index = small()
    weights = {"title": 1.0}
    params = BM25Params(field_weights=weights)
    before = index.search("apple", params=params).scores.tolist()
    weights["title"] = 100.0
    assert index.search("apple", params=params).scores.tolist() == before
    with pytest.raises(TypeError, match="field_weights must map"):
        BM25Params(field_weights=[1.0, 2.0])
    with pytest.raises(TypeError, match="params must be a BM25Params"):
        index.search("apple", params={"k1": 1.0})
    with pytest.raises(TypeError, match="exhaustive must be a bool"):
        BM25Params(exhaustive="no")


def test_uncallable_progress_is_refused_before_anything_is_indexed():
    index = LexicalIndex()
    with pytest.raises(TypeError, match="progress must be callable"):
        index.add_batch(["a", "b"], ["x y", "y z"], progress=True)
    assert len(index) == 0


def test_huge_k_returns_every_match():
    index = small()
    for k in (2**40, 2**63, 2**70):
        assert sorted(index.search("apple", k=k).ids) == ["a", "b"]


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda ix: ix.internal_id(None), TypeError, "doc_id must be str"),
        (lambda ix: ix.delete("\ud800"), ValueError, "lone surrogate"),
        (lambda ix: ix.add("d", "x", static_score="5"), TypeError, "static_score must be"),
        (lambda ix: ix.add("d", "x", static_score=None), TypeError, "static_score must be"),
        (lambda ix: ix.external_ids([1.7]), TypeError, "must be integers"),
        (lambda ix: ix.doc_freq("apple", field="nope"), ValueError, "unknown field"),
        (lambda ix: ix.search_batch(["x"])["0"], TypeError, "indexed by int"),
        (lambda ix: ix.search_batch(["x"], n_threads=2**31), ValueError, "n_threads"),
    ],
)
def test_more_bad_input_gets_clear_errors(call, error, message):
    index = small()
    with pytest.raises(error, match=message):
        call(index)
    assert len(index) == 3
    assert "\udfff" not in index


def test_fields_beyond_the_limit_are_refused_by_name():
    with pytest.raises(ValueError, match="at most 256 fields"):
        LexicalIndex(fields=[f"f{i}" for i in range(257)])


def test_a_file_whose_terms_lack_postings_is_refused(tmp_path):
    # Terms come before postings; a term count above the posting count cannot be real.
    import struct
    import zlib

    index = LexicalIndex()
    index.save(tmp_path / "e.ltrr")
    data = bytearray((tmp_path / "e.ltrr").read_bytes())
    payload = data[28:]
    # An empty index ends with: n_terms (u64 0), n_postings (u64 0), n_attributes (u64 0).
    payload[-24:-16] = struct.pack("<Q", 1)
    payload[-16:] = b"\x00" * 16
    payload[-16:-16] = struct.pack("<I", 1) + b"a"  # the term "a", after its count
    data[16:24] = struct.pack("<Q", len(payload))
    data[24:28] = struct.pack("<I", zlib.crc32(bytes(payload)))
    (tmp_path / "bad.ltrr").write_bytes(bytes(data[:28] + payload))
    with pytest.raises(IndexFormatError, match="terms without postings"):
        LexicalIndex.load(tmp_path / "bad.ltrr")
    assert np.array_equal(LexicalIndex.load(tmp_path / "e.ltrr").search("a").doc_ids, [])
