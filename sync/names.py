"""Names as a matcher compares them: case, ё/е, spaces, hyphens and Latin look-alikes.

Register exports and card systems are typed by hand, often with a Latin "o" or "c"
inside a Cyrillic name, an "ё" written as "е", double spaces or a stray hyphen. Two
spellings that differ only so give the same key.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import lru_cache

#: Latin letters that look like Cyrillic ones, mapped to the Cyrillic letter (applied only
#: to words that hold Cyrillic letters, so a Latin name stays Latin).
LOOKALIKES = str.maketrans({
    "a": "а", "b": "в", "c": "с", "e": "е", "h": "н", "k": "к", "m": "м", "o": "о",
    "p": "р", "t": "т", "x": "х", "y": "у",
})
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_SPACES = re.compile(r"[\s\u00a0]+")


@lru_cache(maxsize=65536)
def normalize_name(text: str) -> str:
    """A comparison key for one name: lower case, ё→е, look-alikes made Cyrillic, single
    spaces, hyphens kept as one."""
    text = unicodedata.normalize("NFC", text).strip().lower()
    text = text.replace("ё", "е")
    text = re.sub(r"\s*[-‐‑–—]\s*", "-", text)
    text = _SPACES.sub(" ", text)
    words = []
    for word in text.split(" "):
        if _CYRILLIC.search(word):
            word = word.translate(LOOKALIKES)
        words.append(word)
    return " ".join(words)


def person_key(surname: str, first_name: str, birth_date: date | None) -> tuple[str, str,
                                                                                 date | None]:
    """What a fuzzy match compares: surname and first name normalised, and the birth date
    (the patronymic is left out: registers often lack it)."""
    return normalize_name(surname), normalize_name(first_name), birth_date


def match_key(surname: str, first_name: str, birth_date: date | None) -> str | None:
    """`person_key` as one string (stored with each pupil to find namesakes by index);
    None without a birth date, which matching never guesses without."""
    if birth_date is None:
        return None
    return "\x1f".join((normalize_name(surname), normalize_name(first_name),
                        birth_date.isoformat()))
