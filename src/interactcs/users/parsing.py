"""Robust parsing of an LLM user simulator's reply.

Usage::

    p = parse_user_reply('Customer: "Fine, I will take it." [END: 4]')
    p.text, p.end, p.satisfaction, p.error     # 'Fine, I will take it.', True, 4, None

Accepted end tags: ``[end:4]``, ``[END: 4]``, ``[end:4/5]``, ``[end 4]``, ``[end:4.0]``.
A bare ``[end]``, a placeholder (``[end:X]``) or a score outside 1..5 is an **error**: the
simulator must be asked again (the release accepted ``[end]`` and then crashed on a
missing score). Also removed: ``<think>`` blocks, role prefixes (``Customer:``), wrapping
quotes and stray answer tags; text after a line written for the agent's side is cut.
``[Sent Picture: ...]`` tags are normalised and kept in the text (the agent sees them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_THINK_BLOCK = re.compile(r"<think>.*?</think>", re.IGNORECASE | re.DOTALL)
_END_TAG = re.compile(r"\[\s*end\b\s*(?:[:：=]?\s*([^\]]*?))?\s*\]", re.IGNORECASE)
_SCORE = re.compile(r"^([1-5])(?:\.0+)?(?:\s*/\s*5)?$")
_PICTURE = re.compile(
    r"\[\s*sent\s+(?:a\s+)?(?:picture|photo|image)\s*[:：]\s*([^\]]*)\]", re.IGNORECASE
)
_ROLE = r"(?:customer|user|me|client|buyer|the customer)"
_ROLE_PREFIX = re.compile(
    rf"^\s*[\*_]*\s*[\[\(]?\s*{_ROLE}\s*[\]\)]?\s*[\*_]*\s*[:：]\s*[\*_]*\s*", re.IGNORECASE
)
_OTHER_SIDE = re.compile(
    r"(?:^|\n)\s*[\*_]*\s*(?:agent|assistant|customer service|service|support|cs|system)\s*[\*_]*\s*[:：]",
    re.IGNORECASE,
)
_ANSWER_TAGS = re.compile(r"</?\s*(?:response|answer|reply|output|message)\s*>", re.IGNORECASE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_QUOTES = [('"', '"'), ("'", "'"), ("\u201c", "\u201d"), ("\u2018", "\u2019"), ("\u00ab", "\u00bb")]


@dataclass(slots=True)
class ParsedUserReply:
    """A simulator reply after cleaning.

    Attributes:
        text: what the agent sees (end tag removed, picture tags normalised).
        end: the user ended the dialogue.
        satisfaction: 1..5 when ``end``.
        picture: description(s) of sent pictures, joined with ``"; "``.
        error: why the reply is unusable (``None`` when usable); ask the simulator again.
    """

    text: str
    end: bool = False
    satisfaction: int | None = None
    picture: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def strip_think(raw: str) -> str:
    """Drop ``<think>...</think>`` blocks; with a dangling ``</think>`` keep what follows it,
    with an unclosed ``<think>`` keep what precedes it."""
    text = _THINK_BLOCK.sub(" ", raw)
    low = text.lower()
    if "</think>" in low:
        text = text[low.rindex("</think>") + len("</think>") :]
    low = text.lower()
    if "<think>" in low:
        text = text[: low.index("<think>")]
    return text


def strip_quotes(text: str) -> str:
    """Remove quotes that wrap the whole text (repeatedly: ``'"hi"'`` -> ``hi``)."""
    text = text.strip()
    changed = True
    while changed and len(text) >= 2:
        changed = False
        for a, b in _QUOTES:
            if (
                text.startswith(a)
                and text.endswith(b)
                and a not in text[1:-1]
                and b not in text[1:-1]
            ):
                text, changed = text[1:-1].strip(), True
    return text


def _parse_end(text: str) -> tuple[str, bool, int | None, str | None]:
    """Find end tags; returns (text without them, end, score, error)."""
    tags = list(_END_TAG.finditer(text))
    if not tags:
        return text, False, None, None
    scores: set[int] = set()
    for m in tags:
        value = (m.group(1) or "").strip()
        if not value:
            return (
                text,
                True,
                None,
                "the end tag has no satisfaction score (write [end:X], X = 1..5)",
            )
        sm = _SCORE.match(value)
        if sm is None:
            return (
                text,
                True,
                None,
                f"the end tag score {value!r} is not a whole number from 1 to 5",
            )
        scores.add(int(sm.group(1)))
    if len(scores) > 1:
        return text, True, None, f"several end tags with different scores {sorted(scores)}"
    return _END_TAG.sub(" ", text), True, scores.pop(), None


def _parse_pictures(text: str) -> tuple[str, str | None, str | None]:
    descs: list[str] = []
    error: str | None = None

    def repl(m: re.Match[str]) -> str:
        nonlocal error
        desc = strip_quotes(" ".join(m.group(1).split()))
        if not desc:
            error = "a [Sent Picture: ...] tag has no description"
            return " "
        descs.append(desc)
        return f"[Sent Picture: {desc}]"

    text = _PICTURE.sub(repl, text)
    return text, ("; ".join(descs) or None), error


def parse_user_reply(raw: str | None) -> ParsedUserReply:
    """Clean and check one simulator reply; never raises."""
    if raw is None:
        return ParsedUserReply("", error="no reply text")
    text = _ANSWER_TAGS.sub(" ", strip_think(raw))
    text = _ROLE_PREFIX.sub("", text, count=1)
    if _OTHER_SIDE.match(text):
        return ParsedUserReply("", error="the reply speaks as the agent, not the customer")
    other = _OTHER_SIDE.search(text)
    if other is not None:  # the model went on to write the agent's side: keep the customer's part
        text = text[: other.start()]
    text, end, score, error = _parse_end(text)
    text, picture, pic_error = _parse_pictures(text)
    text = strip_quotes(" ".join(text.split()))
    text = strip_quotes(_ROLE_PREFIX.sub("", text, count=1))
    error = error or pic_error
    if error is None and not text and not end:
        error = "the reply is empty"
    if error is None and len(_CJK.findall(text)) >= 3:
        error = "the reply is not in English"
    return ParsedUserReply(text, end, score if error is None else None, picture, error)
