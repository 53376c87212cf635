"""One way to turn a place name into a lookup key, shared by the gazetteer generator and the matcher.

Why: "MÜNCHEN", "München" and "Munchen" must find the same city, "Straße" the same as "Strasse", and
"Saint-Étienne" the same as "Saint Etienne". Both sides (scripts/build_gazetteer.py writing the data
file, the resolver reading calendar text) fold with these functions, so a key written is a key found.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# A word: letters/digits, with inner apostrophes ("King's", "L'Aquila") kept together.
TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_SPECIAL = str.maketrans(
    {
        "ø": "o",
        "Ø": "o",
        "ł": "l",
        "Ł": "l",
        "đ": "d",
        "Đ": "d",
        "æ": "ae",
        "œ": "oe",
        "ı": "i",
        "’": "'",
        "þ": "th",
        "ð": "d",
    }
)


@lru_cache(maxsize=65536)
def fold_word(word: str) -> str:
    """Case- and accent-free form of one word: "Zürich" -> "zurich", "Łódź" -> "lodz"."""
    decomposed = unicodedata.normalize("NFKD", word.translate(_SPECIAL))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def fold(text: str) -> str:
    """The lookup key of a whole name: its folded words joined by single spaces."""
    return " ".join(fold_word(word) for word in TOKEN.findall(text))
