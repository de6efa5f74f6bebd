"""Query understanding: from raw text to a :class:`ParsedQuery` for every strategy.

One pass normalises the text with the index's analyzer, detects the script, guesses the
language, matches spans to catalog values, decides the intent and builds the feature vector.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from ltrr_fast.index.catalog import Catalog
from ltrr_fast.understanding.features import (
    FEATURE_VERSION,
    chosen_slots,
    feature_names,
    query_features,
)
from ltrr_fast.understanding.normalize import tokenize
from ltrr_fast.understanding.parsed import ParsedQuery
from ltrr_fast.understanding.script import detect_script, guess_language
from ltrr_fast.understanding.slots import SlotMatcher

logger = logging.getLogger(__name__)

#: Queries are cut to this many characters and words before matching, bounding the work.
MAX_QUERY_CHARS = 512
MAX_QUERY_TOKENS = 32
#: A field whose values each cover at least this many items on average is a category field.
CATEGORY_ITEMS_PER_VALUE = 10.0


class QueryUnderstanding:
    """Parses queries against the values of a catalog.

    Parameters
    ----------
    matcher : SlotMatcher
        Finds catalog values in queries.
    category_fields : sequence of str
        Slot fields that name categories (genres, playlists); the others name entities
        (artists, albums, titles).
    entity_threshold : float
        Least confidence for an entity slot to make the intent ``"entity"``.
    category_threshold : float
        Least confidence for a category slot to make the intent ``"broad"``.

    Notes
    -----
    Intent: ``"entity"`` when a chosen (non-overlapping, best first) slot of an entity field
    reaches ``entity_threshold``; otherwise ``"broad"`` when a chosen category slot reaches
    ``category_threshold``; otherwise ``"unknown"``.
    """

    feature_version = FEATURE_VERSION

    def __init__(
        self,
        matcher: SlotMatcher,
        *,
        category_fields: Sequence[str] = (),
        entity_threshold: float = 0.6,
        category_threshold: float = 0.45,
    ) -> None:
        if not isinstance(matcher, SlotMatcher):
            raise TypeError(f"matcher must be a SlotMatcher, got {type(matcher).__name__}")
        unknown = sorted(set(category_fields) - set(matcher.fields))
        if unknown:
            raise ValueError(
                f"category_fields {unknown} are not slot fields; known: {list(matcher.fields)}"
            )
        self.matcher = matcher
        self.slot_fields = matcher.fields
        self.category_fields = tuple(category_fields)
        self.entity_threshold = float(entity_threshold)
        self.category_threshold = float(category_threshold)
        self.feature_names = feature_names(self.slot_fields)

    @classmethod
    def from_catalog(
        cls,
        catalog: Catalog,
        slot_fields: Sequence[str] | None = None,
        *,
        separators: Mapping[str, str] | None = None,
        category_fields: Sequence[str] | None = None,
        **options: Any,
    ) -> QueryUnderstanding:
        """Build from the live items of a catalog.

        Parameters
        ----------
        catalog : Catalog
            Source of the slot values.
        slot_fields : sequence of str, optional
            Attribute keys or text fields whose values become slots; every attribute key by
            default. An attribute contributes each of its values; a text field its whole text,
            or the pieces between ``separators[field]`` when given.
        separators : mapping of str to str, optional
            Splits a text field that joins several values, e.g. ``{"playlist": " | "}``.
        category_fields : sequence of str, optional
            Slot fields naming categories. By default, the fields whose values each cover at
            least ten items on average.
        **options
            Passed on: ``min_confidence``, ``max_per_field``, ``max_slots`` to
            :class:`SlotMatcher`; ``entity_threshold``, ``category_threshold`` to the
            constructor.
        """
        if not isinstance(catalog, Catalog):
            raise TypeError(f"catalog must be a Catalog, got {type(catalog).__name__}")
        if slot_fields is None:
            slot_fields = catalog.attribute_keys
        if isinstance(slot_fields, str):
            raise TypeError("slot_fields must be a sequence of names, not a single str")
        separators = dict(separators or {})
        live = catalog.live_mask()
        values: dict[str, list[str]] = {}
        for name in slot_fields:
            if name in catalog.attribute_keys:
                column = catalog.attributes(name)
                values[name] = [v for i, vs in enumerate(column) if live[i] for v in vs]
            elif name in catalog.text_fields:
                sep = separators.get(name)
                texts = [t for i, t in enumerate(catalog.texts(name)) if live[i]]
                values[name] = [p for t in texts for p in t.split(sep)] if sep else texts
            else:
                raise ValueError(
                    f"slot field {name!r} is neither an attribute nor a text field of the "
                    f"catalog; attributes: {list(catalog.attribute_keys)}, "
                    f"text fields: {list(catalog.text_fields)}"
                )
        matcher_options = {
            k: options.pop(k)
            for k in ("min_confidence", "max_per_field", "max_slots")
            if k in options
        }
        matcher = SlotMatcher(values, **matcher_options)
        if category_fields is None:
            n_live = max(1, int(live.sum()))
            category_fields = []
            for name, vs in values.items():
                n_distinct = len(set(vs))
                if (
                    n_distinct
                    and len(vs) / n_distinct >= CATEGORY_ITEMS_PER_VALUE
                    and (n_distinct < n_live)
                ):
                    category_fields.append(name)
        logger.info(
            "query understanding over %d values of %s (categories: %s)",
            matcher.n_values,
            list(slot_fields),
            list(category_fields),
        )
        return cls(matcher, category_fields=category_fields, **options)

    def parse(self, text: str) -> ParsedQuery:
        """Understand one query.

        Parameters
        ----------
        text : str
            The query as typed. Longer queries are cut to 512 characters and 32 words.

        Returns
        -------
        ParsedQuery

        Raises
        ------
        TypeError
            When ``text`` is not a str.
        ValueError
            When ``text`` holds a lone surrogate (not valid Unicode).
        """
        if not isinstance(text, str):
            raise TypeError(f"query must be str, got {type(text).__name__}")
        cut = text[:MAX_QUERY_CHARS]
        tokens = tuple(tokenize(cut)[:MAX_QUERY_TOKENS])
        script = detect_script(cut)
        language = guess_language(cut, tokens, script)
        slots = tuple(self.matcher.match(tokens))
        chosen = chosen_slots(slots)
        intent = self._intent(chosen)
        features = query_features(
            tokens, slots, chosen, intent, script, language, self.slot_fields
        )
        return ParsedQuery(
            text=text,
            normalized=" ".join(tokens),
            tokens=tokens,
            script=script,
            language=language,
            slots=slots,
            intent=intent,
            features=features,
        )

    def _intent(self, chosen: Sequence[Any]) -> str:
        categories = self.category_fields
        if any(
            s.field not in categories and s.confidence >= self.entity_threshold for s in chosen
        ):
            return "entity"
        if any(s.field in categories and s.confidence >= self.category_threshold for s in chosen):
            return "broad"
        return "unknown"
