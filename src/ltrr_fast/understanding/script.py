"""Cheap script detection from Unicode ranges and a small language guess.

Both look only at the characters and words of the query, never at a model; the language guess
returns ``None`` whenever the evidence is thin.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

#: Scripts :func:`detect_script` can return, in the order of the query features' one-hot.
SCRIPTS: tuple[str, ...] = (
    "latin",
    "greek",
    "cyrillic",
    "arabic",
    "hebrew",
    "devanagari",
    "thai",
    "cjk",
    "other",
    "none",
)

# (first code point, last code point, script), sorted and disjoint.
_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x005A, "latin"),
    (0x0061, 0x007A, "latin"),
    (0x00C0, 0x024F, "latin"),
    (0x0250, 0x02AF, "latin"),
    (0x0370, 0x03FF, "greek"),
    (0x0400, 0x052F, "cyrillic"),
    (0x0590, 0x05FF, "hebrew"),
    (0x0600, 0x06FF, "arabic"),
    (0x0750, 0x077F, "arabic"),
    (0x0900, 0x097F, "devanagari"),
    (0x0E00, 0x0E7F, "thai"),
    (0x1100, 0x11FF, "cjk"),  # Hangul Jamo
    (0x1E00, 0x1EFF, "latin"),
    (0x1F00, 0x1FFF, "greek"),
    (0x2E80, 0x2FDF, "cjk"),
    (0x3040, 0x30FF, "cjk"),  # kana
    (0x3100, 0x31FF, "cjk"),
    (0x3400, 0x4DBF, "cjk"),
    (0x4E00, 0x9FFF, "cjk"),
    (0xAC00, 0xD7AF, "cjk"),  # Hangul syllables
    (0xF900, 0xFAFF, "cjk"),
    (0xFF21, 0xFF3A, "latin"),  # fullwidth Latin
    (0xFF41, 0xFF5A, "latin"),
    (0xFF66, 0xFF9F, "cjk"),  # halfwidth katakana
    (0x20000, 0x2FA1F, "cjk"),
)
_STARTS = [r[0] for r in _RANGES]


def char_script(char: str) -> str | None:
    """Script of one character, ``"other"`` for letters of unlisted scripts, None for the rest."""
    code = ord(char)
    i = bisect.bisect_right(_STARTS, code) - 1
    if i >= 0 and code <= _RANGES[i][1]:
        return _RANGES[i][2]
    return "other" if char.isalpha() else None


def detect_script(text: str) -> str:
    """The dominant script of a text: the one most of its letters belong to.

    Digits, punctuation and symbols count for nothing; a text without letters gives ``"none"``.
    Ties go to the script listed first in :data:`SCRIPTS`.
    """
    if text.isascii():
        return "latin" if any(c.isalpha() for c in text) else "none"
    counts: dict[str, int] = {}
    for char in text:
        script = char_script(char)
        if script is not None:
            counts[script] = counts.get(script, 0) + 1
    if not counts:
        return "none"
    return max(SCRIPTS, key=lambda s: (counts.get(s, 0), -SCRIPTS.index(s)))


# A handful of very frequent function words per language; enough to tell a query's language
# when it has one, and silent otherwise.
_WORD_LISTS: dict[str, str] = {
    "en": "the and of to in for with my you your me i is are love songs song",
    "es": "el la los las y de del en con mi tu que por para canciones amor",
    "fr": "le la les et de du des en avec mon ma tu que pour chansons amour",
    "de": "der die das und von mit ich du ist nicht ein eine lieder liebe",
    "pt": "o a os as e de do da em com meu minha voce que para musicas amor",
    "it": "il lo la gli le e di del della con mio mia tu che per canzoni amore",
}
_FUNCTION_WORDS = {lang: frozenset(words.split()) for lang, words in _WORD_LISTS.items()}
_SCRIPT_LANGUAGE = {"greek": "el", "hebrew": "he", "thai": "th", "devanagari": "hi"}


def guess_language(text: str, tokens: Sequence[str], script: str) -> str | None:
    """Best guess at the language of a query (ISO 639-1), or None when unsure.

    Scripts used by one main language decide alone (Greek, Hebrew, Thai, Devanagari). Kana
    means Japanese and Hangul Korean; Han alone is left undecided. Cyrillic with letters only
    Ukrainian uses gives ``"uk"``, with letters only Russian uses ``"ru"``. Latin text needs
    function words of one language to outnumber those of every other.
    """
    if script in _SCRIPT_LANGUAGE:
        return _SCRIPT_LANGUAGE[script]
    if script == "cjk":
        if any(0x3040 <= ord(c) <= 0x30FF for c in text):
            return "ja"
        if any(0xAC00 <= ord(c) <= 0xD7AF or 0x1100 <= ord(c) <= 0x11FF for c in text):
            return "ko"
        return None
    if script == "cyrillic":
        lowered = text.lower()
        ukrainian = any(c in "іїєґ" for c in lowered)
        russian = any(c in "ыэъё" for c in lowered)
        if ukrainian != russian:
            return "uk" if ukrainian else "ru"
        return None
    if script != "latin" or not tokens:
        return None
    scores = {lang: sum(t in words for t in tokens) for lang, words in _FUNCTION_WORDS.items()}
    ranked = sorted(scores.items(), key=lambda item: -item[1])
    best, best_score = ranked[0]
    if best_score == 0 or best_score == ranked[1][1]:
        return None
    return best
