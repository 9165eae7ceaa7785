"""Mask personal data in dialogue text before it reaches a model or an output file.

Usage::

    text, counts = mask_pii("card 4111 1111 1111 1111, call +44 20 7946 0958")
    # -> "card [CARD], call [PHONE]",  Counter({"card": 1, "phone": 1})

Kinds (applied in this order, so a number is counted once):

- ``email``: ``local@domain.tld``.
- ``card``: a run of 13-19 digits, optionally grouped by single spaces or dashes, that passes
  the Luhn check. Runs of several groups are also searched for a Luhn-valid window of whole
  groups (``"card 4111 1111 1111 1111 2 times"``). A 16-digit order number that fails the
  check stays as it is.
- ``phone``: ``+`` and 8-15 digits in any grouping (``+44 20 7946 0958``, ``+1-202-555-0143``);
  9-15 digits grouped by spaces, dots, dashes or brackets (``(555) 123-4567``,
  ``07700 900123``, ``555.987.6543``); the local ``555-0199`` shape; an ungrouped run of
  10-13 digits that starts with ``0`` or follows a word such as "call", "phone", "mobile",
  "text" or "WhatsApp". Numbers glued to a letter, ``#``, ``/`` or ``-`` (``ORD-2024-0512``,
  ``#5551234567``) are treated as identifiers, not phones.
- ``address``: a house number and one to three capitalised words ending in a street word
  (``42 Elm Street``, ``17 Harbour Rd``).

Prices (``$12.50``, ``7.99``), times (``12:30``, ``7.45pm``), dates (``2024-05-12``) and
durations are left alone: they have too few digits or the wrong shape. Names are *not*
detected; logs are expected to be anonymised for names already.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable

__all__ = ["DEFAULT_KINDS", "PII_KINDS", "PLACEHOLDERS", "luhn_valid", "mask_pii"]

#: every kind the masker knows, in the order it applies them
PII_KINDS: tuple[str, ...] = ("email", "card", "phone", "address")
#: kinds masked unless the caller narrows them
DEFAULT_KINDS: frozenset[str] = frozenset(PII_KINDS)
#: what each kind is replaced with; no digits, so a later pass cannot pick them up
PLACEHOLDERS: dict[str, str] = {
    "email": "[EMAIL]",
    "card": "[CARD]",
    "phone": "[PHONE]",
    "address": "[ADDRESS]",
}

_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
# a maximal run of digit groups joined by one space or one dash
_DIGIT_RUN = re.compile(r"(?<!\d)\d+(?:[ -]\d+)*(?!\d)")
_GROUP = re.compile(r"\d+")
# a phone-like span: optional "+" or "(", digits and separators, ending on a digit (or ")")
_PHONE_SPAN = re.compile(r"(?<![\w@#/.+\-])(?:\(?\+|\()?\d(?:[ .\-]?\(?\d\)?)*\d\)?(?![\w])")
_PHONE_CUE = re.compile(
    r"\b(?:phone|mobile|cell|tel|telephone|call|ring|text|sms|whats ?app|contact|reach)\b"
    r"[^\d\n]{0,25}$",
    re.IGNORECASE,
)
_LOCAL7 = re.compile(r"\d{3}-\d{4}")
_DECIMAL = re.compile(r"\d+\.\d{1,2}")
_STREET_WORDS = (
    "Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Boulevard|Blvd|Way|Court|Ct|Place|Pl|"
    "Terrace|Close|Crescent|Square|Sq|Highway|Hwy|Parkway|Row|Walk|Gardens"
)
_ADDRESS = re.compile(
    rf"(?<![\w#/-])\d{{1,5}}[A-Za-z]?,?\s+(?:[A-Z][A-Za-z'-]+\s+){{1,3}}(?:{_STREET_WORDS})\b\.?"
)


def luhn_valid(digits: str) -> bool:
    """Luhn (mod 10) check of a string of digits, as used by payment card numbers.

    Example: ``luhn_valid("4111111111111111") is True``; changing the last digit breaks it.
    """
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card_window(run: str) -> tuple[int, int] | None:
    """Character span of the longest Luhn-valid 13-19 digit window of whole groups in ``run``."""
    groups = [(m.start(), m.end()) for m in _GROUP.finditer(run)]
    best: tuple[int, int] | None = None
    for i in range(len(groups)):
        for j in range(len(groups) - 1, i - 1, -1):
            start, end = groups[i][0], groups[j][1]
            digits = re.sub(r"\D", "", run[start:end])
            if 13 <= len(digits) <= 19 and luhn_valid(digits):
                if best is None or end - start > best[1] - best[0]:
                    best = (start, end)
                break  # longer windows from this start were tried first
    return best


def _mask_cards(text: str, counts: Counter[str]) -> str:
    def repl(m: re.Match[str]) -> str:
        run = m.group(0)
        if sum(ch.isdigit() for ch in run) < 13:
            return run
        window = _card_window(run)
        if window is None:
            return run
        counts["card"] += 1
        return run[: window[0]] + PLACEHOLDERS["card"] + run[window[1] :]

    return _DIGIT_RUN.sub(repl, text)


def _is_phone(span: str, before: str) -> bool:
    """Whether a phone-shaped ``span`` (see ``_PHONE_SPAN``) is a phone number.

    Args:
        span: the matched text.
        before: the text preceding it (for cue words like "call me on").
    """
    n = sum(ch.isdigit() for ch in span)
    if "+" in span:
        return 8 <= n <= 15
    if span.count("(") != span.count(")"):
        return False
    if any(ch in span for ch in " .-()"):
        if _LOCAL7.fullmatch(span):
            return True
        if _DECIMAL.fullmatch(span):
            return False
        return 9 <= n <= 15
    return 10 <= n <= 13 and (span[0] == "0" or bool(_PHONE_CUE.search(before[-40:])))


def _mask_phones(text: str, counts: Counter[str]) -> str:
    def repl(m: re.Match[str]) -> str:
        if not _is_phone(m.group(0), text[: m.start()]):
            return m.group(0)
        counts["phone"] += 1
        return PLACEHOLDERS["phone"]

    return _PHONE_SPAN.sub(repl, text)


def _mask_regex(pattern: re.Pattern[str], kind: str) -> Callable[[str, Counter[str]], str]:
    def masker(text: str, counts: Counter[str]) -> str:
        out, n = pattern.subn(PLACEHOLDERS[kind], text)
        counts[kind] += n
        return out

    return masker


_MASKERS: dict[str, Callable[[str, Counter[str]], str]] = {
    "email": _mask_regex(_EMAIL, "email"),
    "card": _mask_cards,
    "phone": _mask_phones,
    "address": _mask_regex(_ADDRESS, "address"),
}


def mask_pii(text: str, kinds: Iterable[str] = DEFAULT_KINDS) -> tuple[str, Counter[str]]:
    """Replace personal data in ``text`` by placeholders such as ``[PHONE]``.

    Args:
        text: any text (a dialogue turn, a model answer).
        kinds: which of :data:`PII_KINDS` to mask.

    Returns:
        (masked text, count of masked strings per kind; kinds with none are absent).

    Raises:
        ValueError: an unknown kind.
    """
    wanted = set(kinds)
    unknown = wanted - set(PII_KINDS)
    if unknown:
        raise ValueError(f"unknown PII kinds {sorted(unknown)}; choose from {list(PII_KINDS)}")
    counts: Counter[str] = Counter()
    for kind in PII_KINDS:
        if kind in wanted:
            text = _MASKERS[kind](text, counts)
    return text, +counts
