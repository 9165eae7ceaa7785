"""Tolerant parsers for the value quirks of the authors' release files.

Depending on how a release file was written (pyarrow, pandas, a CSV/JSON round trip), the same
field can arrive as a Python list, a numpy array, or the *string form* of a numpy array. All
parsers raise :class:`ValueError` with the offending value in the message.

Examples::

    parse_str_list("['Quick to anger'\\n 'Wants it fixed now']")  # ['Quick to anger', 'Wants it fixed now']
    parse_str_list(['a', 'b'])                                    # ['a', 'b']
    parse_float_list("[0.15 0.1  0.15 0.15 0.2 ]")                # [0.15, 0.1, 0.15, 0.15, 0.2]
    parse_flag("true")                                            # True
    complaint_key("Food not fresh/undercooked")                   # 'not_fresh'
"""

from __future__ import annotations

import ast
import re
from typing import Any

from .schema import COMPLAINT_TYPES

# A Python string literal, single- or double-quoted, with backslash escapes. numpy prints a
# string array as such literals separated by whitespace/newlines (no commas); a JSON list uses
# double quotes and commas. Both are matched token by token. (ast.literal_eval on the whole
# text would be wrong: adjacent literals 'a' 'b' silently concatenate to 'ab'.)
_STR_LITERAL = re.compile(r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*\"""", re.DOTALL)
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf", re.IGNORECASE)

_COMPLAINT_ALIASES: dict[str, str] = {}
for _key, _name in COMPLAINT_TYPES.items():
    for _alias in (_key, _key.replace("_", " "), _name):
        _COMPLAINT_ALIASES[_alias.lower()] = _key


def _is_sequence(value: Any) -> bool:
    """True for list/tuple/numpy arrays (anything iterable that is not a str/bytes/dict)."""
    if isinstance(value, str | bytes | dict):
        return False
    return hasattr(value, "__iter__") and hasattr(value, "__len__")


def parse_str_list(value: Any) -> list[str]:
    """A list of strings from a list, a numpy array or the string form of either.

    A plain string that does not look like a list (no leading ``[``) becomes a one-item list;
    ``""`` and ``"[]"`` give ``[]``.
    """
    if _is_sequence(value):
        return [str(v) for v in value]
    if not isinstance(value, str):
        raise ValueError(f"expected a list of strings, got {type(value).__name__} {value!r}")
    text = value.strip()
    if not text:
        return []
    if not text.startswith("["):
        return [text]
    if not text.endswith("]"):
        raise ValueError(f"unterminated list {value[:80]!r}")
    tokens = _STR_LITERAL.findall(text)
    leftover = _STR_LITERAL.sub("", text[1:-1]).replace(",", " ").strip()
    if leftover:
        raise ValueError(f"cannot parse list of strings {value[:80]!r} (stray {leftover[:20]!r})")
    return [str(ast.literal_eval(tok)) for tok in tokens]


def parse_float_list(value: Any) -> list[float]:
    """A list of floats from a list, a numpy array, ``"[0.15 0.1 ...]"`` or ``"[0.15, 0.1]"``."""
    if _is_sequence(value):
        try:
            return [float(v) for v in value]
        except (TypeError, ValueError):
            raise ValueError(f"expected numbers, got {list(value)!r}") from None
    if not isinstance(value, str):
        raise ValueError(f"expected a list of numbers, got {type(value).__name__} {value!r}")
    text = value.strip()
    if not (text.startswith("[") and text.endswith("]")):
        raise ValueError(f"expected '[x y ...]', got {value[:80]!r}")
    body = text[1:-1].replace(",", " ")
    parts = body.split()
    if any(not _NUMBER.fullmatch(p) for p in parts):
        raise ValueError(f"expected numbers, got {value[:80]!r}")
    return [float(p) for p in parts]


def parse_flag(value: Any) -> bool:
    """``rcTag``: the strings ``"true"``/``"false"`` (any case), a bool, or 0/1."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError(f"expected 'true' or 'false', got {value!r}")


def parse_key(value: Any, lo: int, hi: int) -> int:
    """A category/need key: the string ``"3"`` (as in the release) or the int 3, in ``lo..hi``."""
    if isinstance(value, bool):
        raise ValueError(f"expected '{lo}'..'{hi}', got {value!r}")
    text = str(value).strip() if isinstance(value, str | int) else None
    if text is None or not text.isdigit() or not lo <= int(text) <= hi:
        raise ValueError(f"expected '{lo}'..'{hi}', got {value!r}")
    return int(text)


def complaint_key(value: Any) -> str:
    """Complaint key from a release ``faqType`` name (``"Food temperature issue"``) or a key."""
    if isinstance(value, str):
        key = _COMPLAINT_ALIASES.get(value.strip().lower())
        if key is not None:
            return key
    names = ", ".join(repr(n) for n in COMPLAINT_TYPES.values())
    raise ValueError(f"expected one of {names}, got {value!r}")
