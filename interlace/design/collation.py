"""Level order of character data: an approximation of ICU root collation.

R's ``factor()`` sorts character levels with the session's collation, which is
ICU's root collation in a typical UTF-8 R session (``LC_COLLATE=C.UTF-8`` and
``en_US.UTF-8`` agree on Latin text).  Python's ``sorted()`` uses code points,
which puts ``"B"`` before ``"a"``.  This module builds a sort key that follows
the Unicode Collation Algorithm for the common cases:

* primary level: whitespace < punctuation and symbols (in ICU's root order)
  < digits < letters, letters compared without case or accents
  (``é`` sorts with ``e``, ``ß`` as ``ss``);
* secondary level: accents (unaccented first), compared left to right;
* tertiary level: lower case before upper case.

If PyICU is importable its root collator is used instead, so the rarer cases
(other scripts, contractions) are exact too.  ``collation="C"`` gives R's
``LC_COLLATE=C`` order (code points of the UTF-8 bytes).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from typing import Literal

Collation = Literal["icu", "C"]

# ICU root order of the ASCII whitespace, punctuation and symbols (verified in R 4.2.2, ICU root).
_VARIABLE_ORDER = "\t\n\v\f\r _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$"
_VARIABLE_WEIGHT = {ch: i + 1 for i, ch in enumerate(_VARIABLE_ORDER)}
_DIGIT_BASE = 100
_LETTER_BASE = 200
_OTHER_BASE = 1000
_EXPANSIONS = {"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE"}

_Key = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]


def _elements(text: str) -> list[tuple[int, int, int]]:
    """Collation elements ``(primary, secondary, tertiary)`` of ``text``."""
    out: list[tuple[int, int, int]] = []
    for ch in unicodedata.normalize("NFD", text):
        expanded = _EXPANSIONS.get(ch)
        if expanded is not None:
            # an expansion differs from its spelled-out form at the tertiary level only
            out.extend((_primary(c), 0, 4 if c.isupper() else 3) for c in expanded)
            continue
        if unicodedata.combining(ch):
            if out:
                p, s, t = out[-1]
                out[-1] = (p, s * 1000 + ord(ch) % 1000 + 1, t)
            continue
        out.append((_primary(ch), 0, 1 if not ch.isupper() else 2))
    return out


def _primary(ch: str) -> int:
    """Primary weight of one base character."""
    if ch in _VARIABLE_WEIGHT:
        return _VARIABLE_WEIGHT[ch]
    if "0" <= ch <= "9":
        return _DIGIT_BASE + ord(ch) - ord("0")
    low = ch.lower()
    if "a" <= low <= "z":
        return _LETTER_BASE + ord(low) - ord("a")
    return _OTHER_BASE + ord(low)


def icu_sort_key(text: str) -> _Key:
    """Sort key approximating ICU root collation (tertiary strength).

    Parameters
    ----------
    text
        The string to order.

    Returns
    -------
    tuple
        Primary, secondary and tertiary weight sequences; compare keys with ``<``.
    """
    elements = _elements(text)
    return (
        tuple(p for p, _, _ in elements),
        tuple(s for _, s, _ in elements),
        tuple(t for _, _, t in elements),
    )


def _pyicu_key() -> Callable[[str], object] | None:
    """The root collator of PyICU when it is installed."""
    try:
        import icu
    except ImportError:
        return None
    collator = icu.Collator.createInstance(icu.Locale.getRoot())
    key: Callable[[str], object] = collator.getSortKey
    return key


def sort_levels(values: Iterable[str], collation: Collation = "icu") -> list[str]:
    """Sort distinct strings as R's ``sort(unique(x))`` does.

    Parameters
    ----------
    values
        Distinct strings.
    collation
        ``"icu"`` (a UTF-8 R session, the default) or ``"C"`` (``LC_COLLATE=C``).

    Returns
    -------
    list of str
        The strings in R's level order; ties at every level keep code-point order.
    """
    items = sorted(set(values))
    if collation == "C":
        return sorted(items, key=lambda s: s.encode("utf-8"))
    pyicu = _pyicu_key()
    if pyicu is not None:
        return sorted(items, key=lambda s: (pyicu(s), s))
    return sorted(items, key=lambda s: (icu_sort_key(s), s))
