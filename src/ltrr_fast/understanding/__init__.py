"""Query understanding: normalisation, script and language, slots, intent, features."""

from __future__ import annotations

from ltrr_fast.understanding.features import FEATURE_VERSION, INTENTS, feature_names
from ltrr_fast.understanding.normalize import normalize, tokenize
from ltrr_fast.understanding.parsed import ParsedQuery, Slot
from ltrr_fast.understanding.predicted import MUSIC_TEMPLATES, QueryTemplate, predict_queries
from ltrr_fast.understanding.script import SCRIPTS, detect_script, guess_language
from ltrr_fast.understanding.slots import SlotMatcher
from ltrr_fast.understanding.understand import QueryUnderstanding

__all__ = [
    "FEATURE_VERSION",
    "INTENTS",
    "MUSIC_TEMPLATES",
    "SCRIPTS",
    "ParsedQuery",
    "QueryTemplate",
    "QueryUnderstanding",
    "Slot",
    "SlotMatcher",
    "detect_script",
    "feature_names",
    "guess_language",
    "normalize",
    "predict_queries",
    "tokenize",
]
