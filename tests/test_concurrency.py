"""Threads adding, deleting, saving and searching one index at once (CASES 20, 21)."""

from __future__ import annotations

import gc
import random
import threading
import time
import tracemalloc

from ltrr_fast.index import LexicalIndex

WORDS = ["love", "song", "rock", "pop", "night", "day", "heart", "fire", "rain", "blue"]


def test_concurrent_writers_readers_and_saves_stay_consistent(tmp_path):
    index = LexicalIndex()
    index.add_batch([f"seed{i}" for i in range(200)], ["love song"] * 200)
    stop = time.monotonic() + 3.0
    errors: list[BaseException] = []

    def guard(fn):
        def run():
            try:
                fn()
            except BaseException as error:  # noqa: BLE001 - reported by the main thread
                errors.append(error)

        return run

    @guard
    def writer():
        rng = random.Random(1)
        i = 0
        while time.monotonic() < stop:
            index.add(f"w{i}", " ".join(rng.choices(WORDS, k=5)))
            if i > 10:
                index.delete(f"w{rng.randrange(i)}")
            i += 1

    @guard
    def reader():
        while time.monotonic() < stop:
            hits = index.search("love song rain", k=20)
            assert all(hits.ids), "a listed id was deleted"
            batch = index.search_batch(["love", "rain fire", "pop"], k=10, n_threads=2)
            assert len(batch) == 3
            assert len(index) > 0

    @guard
    def saver():
        n = 0
        while time.monotonic() < stop:
            path = tmp_path / f"snap{n % 2}.ltrr"
            index.save(path)
            snap = LexicalIndex.load(path)
            # A snapshot is self-consistent: every doc holds some of WORDS, so a query of all
            # of them finds each live doc exactly once.
            hits = snap.search(" ".join(WORDS), k=len(snap) + 10)
            assert len(hits) == len(snap) == len(set(hits.ids)) and all(hits.ids)
            n += 1

    threads = [threading.Thread(target=t) for t in (writer, reader, reader, saver)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_memory_levels_off_when_the_same_id_is_replaced_many_times():
    index = LexicalIndex()
    gc.collect()
    tracemalloc.start()
    try:
        for i in range(1_000):
            index.add("same", f"version {i} love song")
        first = tracemalloc.get_traced_memory()[0]
        for i in range(10_000):
            index.add("same", f"version {i} love song")
            if i % 2:
                index.delete("same")
        last = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    # Python-side allocations do not grow with the number of rounds.
    assert last - first < 256 * 1024
    assert len(index) in (0, 1)
    assert index.search("love").ids in ([], ["same"])
