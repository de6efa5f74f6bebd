"""The query feature vector handed to the bandit and the ranker.

The layout is versioned: :data:`FEATURE_VERSION` changes whenever a name is added, removed or
reordered, so a model trained on one layout is never fed another. Names depend on the slot
fields of the understanding that built them (two columns per field).

Version 1, in order:

``bias``
    Always 1 (lets linear models learn an intercept).
``n_tokens``, ``n_chars``, ``mean_token_chars``
    Words, characters of the normalised query, and their ratio.
``has_digit``
    1 when any word holds a digit.
``slots_<field>``, ``confidence_<field>``
    Per slot field: slots found and the best confidence among them (0 when none).
``best_confidence``
    Best slot confidence over all fields.
``slot_coverage``
    Share of the query's words covered by the chosen (non-overlapping) slots.
``fuzzy_slot``
    1 when a chosen slot matched with typos (confidence below 1).
``intent_entity``, ``intent_broad``, ``intent_unknown``
    One-hot intent.
``script_<script>``
    One-hot script, in :data:`~ltrr_fast.understanding.script.SCRIPTS` order.
``language_known``
    1 when the language guess is not None.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ltrr_fast.understanding.parsed import Slot
from ltrr_fast.understanding.script import SCRIPTS

#: Version of the feature layout below.
FEATURE_VERSION = 1
#: Intents, in the order of the one-hot.
INTENTS: tuple[str, ...] = ("entity", "broad", "unknown")


def feature_names(slot_fields: Sequence[str]) -> tuple[str, ...]:
    """Names of the query features for an understanding with these slot fields."""
    names = ["bias", "n_tokens", "n_chars", "mean_token_chars", "has_digit"]
    for name in slot_fields:
        names += [f"slots_{name}", f"confidence_{name}"]
    names += ["best_confidence", "slot_coverage", "fuzzy_slot"]
    names += [f"intent_{i}" for i in INTENTS]
    names += [f"script_{s}" for s in SCRIPTS]
    names.append("language_known")
    return tuple(names)


def chosen_slots(slots: Sequence[Slot]) -> list[Slot]:
    """Greedy non-overlapping slots: best first, each taken when its span is still free."""
    taken: list[Slot] = []
    used: set[int] = set()
    for slot in slots:
        span = set(range(slot.start, slot.end))
        if not span & used:
            taken.append(slot)
            used |= span
    return taken


def query_features(
    tokens: Sequence[str],
    slots: Sequence[Slot],
    chosen: Sequence[Slot],
    intent: str,
    script: str,
    language: str | None,
    slot_fields: Sequence[str],
) -> np.ndarray:
    """The feature vector (float32) named by :func:`feature_names` for ``slot_fields``."""
    n_tokens = len(tokens)
    n_chars = sum(len(t) for t in tokens) + max(0, n_tokens - 1)
    values = [
        1.0,
        float(n_tokens),
        float(n_chars),
        n_chars / n_tokens if n_tokens else 0.0,
        float(any(c.isdigit() for t in tokens for c in t)),
    ]
    for name in slot_fields:
        confidences = [s.confidence for s in slots if s.field == name]
        values += [float(len(confidences)), max(confidences, default=0.0)]
    covered = sum(s.end - s.start for s in chosen)
    values += [
        max((s.confidence for s in slots), default=0.0),
        covered / n_tokens if n_tokens else 0.0,
        float(any(s.confidence < 1.0 for s in chosen)),
    ]
    values += [float(intent == i) for i in INTENTS]
    values += [float(script == s) for s in SCRIPTS]
    values.append(float(language is not None))
    return np.asarray(values, dtype=np.float32)
