"""Query understanding: normalisation, script and language, slots, intent, features."""

from __future__ import annotations

from ltrr_fast.understanding.parsed import ParsedQuery, Slot

__all__ = ["ParsedQuery", "Slot"]
