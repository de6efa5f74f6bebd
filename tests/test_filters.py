"""Filters against Python sets: every boolean combination selects exactly the right docs."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from ltrr_fast.index import Filter, LexicalIndex

GENRES = ["pop", "rock", "jazz"]
TAGS = ["a", "b", "c", "d"]


def build(seed: int, n_docs: int) -> tuple[LexicalIndex, dict[str, dict[str, set[str]]]]:
    rng = random.Random(seed)
    index = LexicalIndex()
    truth: dict[str, dict[str, set[str]]] = {}
    for i in range(n_docs):
        doc_id = f"d{rng.randrange(n_docs)}"  # repeats replace
        attrs = {"genre": {rng.choice(GENRES)}, "tag": set(rng.sample(TAGS, rng.randint(0, 3)))}
        index.add(
            doc_id,
            " ".join(rng.choices(["love", "song", "night"], k=rng.randint(1, 4))),
            attributes={k: sorted(v) for k, v in attrs.items()},
        )
        truth[doc_id] = attrs
        if rng.random() < 0.15:
            victim = f"d{rng.randrange(n_docs)}"
            index.delete(victim)
            truth.pop(victim, None)
    return index, truth


def filters(depth: int = 3) -> st.SearchStrategy:
    leaf = st.one_of(
        st.tuples(st.just("genre"), st.sampled_from(GENRES + ["none"])),
        st.tuples(st.just("tag"), st.sampled_from(TAGS)),
    )
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.tuples(st.just("and"), inner, inner),
            st.tuples(st.just("or"), inner, inner),
            st.tuples(st.just("not"), inner),
        ),
        max_leaves=6,
    )


def compile_filter(tree) -> Filter:
    op = tree[0]
    if op == "and":
        return compile_filter(tree[1]) & compile_filter(tree[2])
    if op == "or":
        return compile_filter(tree[1]) | compile_filter(tree[2])
    if op == "not":
        return ~compile_filter(tree[1])
    return Filter.attr(tree[0], tree[1])


def evaluate(tree, truth: dict[str, dict[str, set[str]]]) -> set[str]:
    op = tree[0]
    if op == "and":
        return evaluate(tree[1], truth) & evaluate(tree[2], truth)
    if op == "or":
        return evaluate(tree[1], truth) | evaluate(tree[2], truth)
    if op == "not":
        return set(truth) - evaluate(tree[1], truth)
    key, value = tree
    return {doc for doc, attrs in truth.items() if value in attrs[key]}


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 10_000), n_docs=st.integers(1, 120), tree=filters())
def test_filter_selects_exactly_the_docs_a_set_evaluation_selects(seed, n_docs, tree):
    index, truth = build(seed, n_docs)
    expected = evaluate(tree, truth)
    flt = compile_filter(tree)
    assert set(index.external_ids(index.filter_doc_ids(flt))) == expected
    # Every doc holds "love", "song" or "night": a query of all three finds each allowed doc.
    hits = index.search("love song night", k=len(index) + 5, filter=flt)
    assert set(hits.ids) == expected and len(hits.ids) == len(expected)
    batch = index.search_batch(["love song night"], k=len(index) + 5, filter=flt)
    assert batch[0].ids == hits.ids


def test_filtered_top_k_equals_the_unfiltered_ranking_restricted_to_the_filter():
    index, truth = build(seed=7, n_docs=400)
    flt = Filter.attr("genre", "pop") | Filter.attr("tag", "a")
    allowed = evaluate(("or", ("genre", "pop"), ("tag", "a")), truth)
    everything = index.search("love night", k=len(index))
    restricted = [i for i in everything.ids if i in allowed][:10]
    assert index.search("love night", k=10, filter=flt).ids == restricted
