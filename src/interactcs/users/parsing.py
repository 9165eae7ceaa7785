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

Parsing is linear in the reply's length (no backtracking over blank runs; tags are found with
``str.find``), so an adversarial reply cannot stall the event loop. A cleaned reply longer than
:data:`MAX_REPLY_CHARS` is an error ("the reply is too long"), like any other unusable reply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: a cleaned reply longer than this is refused (``error`` says so): no customer writes a
#: 20,000-character chat message, and the agent's context must not be flooded.
MAX_REPLY_CHARS = 20_000

# Linear-time building blocks: every quantifier over blanks is possessive (``*+``, ``++``) and
# no two quantifiers can share characters, so nothing backtracks over a long blank run; tags
# are found with ``str.find``/anchored matches and their contents end at the next ``]``.
_THINK_OPEN = re.compile(r"<think>", re.IGNORECASE)
_THINK_CLOSE = re.compile(r"</think>", re.IGNORECASE)
_END_HEAD = re.compile(r"\[\s*+end\b", re.IGNORECASE)
_END_SEPARATORS = ":：="
_SCORE = re.compile(r"([1-5])(?:\.0++)?+(?:\s*+/\s*+5)?+")
_PICTURE_HEAD = re.compile(
    r"\[\s*+sent\s++(?:a\s++)?(?:picture|photo|image)\s*+[:：]", re.IGNORECASE
)
_ROLE = r"(?:customer|user|me|client|buyer|the customer)"
_ROLE_PREFIX = re.compile(
    rf"\s*+[\*_]*+\s*+[\[\(]?\s*+{_ROLE}\s*+[\]\)]?\s*+[\*_]*+\s*+[:：]\s*+[\*_]*+\s*+",
    re.IGNORECASE,
)
# A line written for the agent's side: the text's start, or the first newline of a blank run
# (group 1; ``(?<!\s)`` lets a run be entered only at its first character, so each run is read
# once), then blanks and an agent-side role such as ``**Agent:**``.
_OTHER_SIDE = re.compile(
    r"(?:^|(?<!\s)[^\S\n]*+(\n))\s*+[\*_]*+\s*+"
    r"(?:agent|assistant|customer service|service|support|cs|system)\s*+[\*_]*+\s*+[:：]",
    re.IGNORECASE,
)
_ANSWER_TAGS = re.compile(r"</?\s*+(?:response|answer|reply|output|message)\s*+>", re.IGNORECASE)
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


def _last(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    """The last match of ``pattern`` in ``text`` (None when there is none)."""
    last = None
    for last in pattern.finditer(text):  # noqa: B007 - only the last one is wanted
        pass
    return last


def strip_think(raw: str) -> str:
    """Drop ``<think>...</think>`` blocks; with a dangling ``</think>`` keep what follows it,
    with an unclosed ``<think>`` keep what precedes it. Linear time."""
    pieces: list[str] = []
    pos = 0
    while (opening := _THINK_OPEN.search(raw, pos)) is not None:
        closing = _THINK_CLOSE.search(raw, opening.end())
        if closing is None:  # no block can close after this point
            break
        pieces += (raw[pos : opening.start()], " ")
        pos = closing.end()
    pieces.append(raw[pos:])
    text = "".join(pieces)
    dangling = _last(_THINK_CLOSE, text)
    if dangling is not None:
        text = text[dangling.end() :]
    unclosed = _THINK_OPEN.search(text)
    if unclosed is not None:
        text = text[: unclosed.start()]
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


def _bracket_tags(text: str, head: re.Pattern[str]) -> list[tuple[int, int, int]]:
    """Spans ``(start, content start, end)`` of the tags ``head ... ]`` in ``text``.

    A tag's content runs to the next ``]``; tags do not overlap. Linear time: the regex engine
    finds the next head (its blanks are read possessively), ``str.find`` its ``]``, and the search
    resumes after the tag.
    """
    spans: list[tuple[int, int, int]] = []
    pos = 0
    while (m := head.search(text, pos)) is not None:
        close = text.find("]", m.end())
        if close == -1:  # no tag can close after this point
            break
        spans.append((m.start(), m.end(), close + 1))
        pos = close + 1
    return spans


def _replace(text: str, spans: list[tuple[int, int, int]], new: list[str]) -> str:
    """``text`` with each span replaced by the matching string of ``new``."""
    pieces: list[str] = []
    pos = 0
    for (start, _, end), repl in zip(spans, new, strict=True):
        pieces += (text[pos:start], repl)
        pos = end
    pieces.append(text[pos:])
    return "".join(pieces)


def _end_value(content: str) -> str:
    """The score written in an end tag's content (``": 4/5"`` -> ``"4/5"``)."""
    value = content.lstrip()
    if value[:1] and value[0] in _END_SEPARATORS:
        value = value[1:]
    return value.strip()


def _parse_end(text: str) -> tuple[str, bool, int | None, str | None]:
    """Find end tags; returns (text without them, end, score, error)."""
    tags = _bracket_tags(text, _END_HEAD)
    if not tags:
        return text, False, None, None
    scores: set[int] = set()
    for _, content, end in tags:
        value = _end_value(text[content : end - 1])
        if not value:
            return (
                text,
                True,
                None,
                "the end tag has no satisfaction score (write [end:X], X = 1..5)",
            )
        sm = _SCORE.fullmatch(value)
        if sm is None:
            shown = value if len(value) <= 40 else value[:40] + "..."
            return (
                text,
                True,
                None,
                f"the end tag score {shown!r} is not a whole number from 1 to 5",
            )
        scores.add(int(sm.group(1)))
    if len(scores) > 1:
        return text, True, None, f"several end tags with different scores {sorted(scores)}"
    return _replace(text, tags, [" "] * len(tags)), True, scores.pop(), None


def _parse_pictures(text: str) -> tuple[str, str | None, str | None]:
    """Normalise ``[Sent Picture: ...]`` tags; returns (text, descriptions, error)."""
    spans = _bracket_tags(text, _PICTURE_HEAD)
    descs: list[str] = []
    new: list[str] = []
    error: str | None = None
    for _, content, end in spans:
        desc = strip_quotes(" ".join(text[content : end - 1].split()))
        if not desc:
            error = "a [Sent Picture: ...] tag has no description"
            new.append(" ")
        else:
            descs.append(desc)
            new.append(f"[Sent Picture: {desc}]")
    return _replace(text, spans, new), ("; ".join(descs) or None), error


def _strip_role(text: str) -> str:
    """Drop one leading role prefix such as ``**Customer:**``."""
    m = _ROLE_PREFIX.match(text)
    return text if m is None else text[m.end() :]


def _other_side_start(text: str) -> int | None:
    """Where the first line written for the agent's side starts (0 or a newline), or None."""
    m = _OTHER_SIDE.search(text)
    if m is None:
        return None
    return m.start(1) if m.group(1) is not None else m.start()


def parse_user_reply(raw: str | None) -> ParsedUserReply:
    """Clean and check one simulator reply; never raises."""
    if raw is None:
        return ParsedUserReply("", error="no reply text")
    text = _ANSWER_TAGS.sub(" ", strip_think(raw))
    text = _strip_role(text)
    other = _other_side_start(text)
    if other == 0:
        return ParsedUserReply("", error="the reply speaks as the agent, not the customer")
    if other is not None:  # the model went on to write the agent's side: keep the customer's part
        text = text[:other]
    text, end, score, error = _parse_end(text)
    text, picture, pic_error = _parse_pictures(text)
    text = strip_quotes(" ".join(text.split()))
    text = strip_quotes(_strip_role(text))
    error = error or pic_error
    if error is None and len(text) > MAX_REPLY_CHARS:
        error = f"the reply is too long ({len(text)} characters, at most {MAX_REPLY_CHARS})"
    if error is None and not text and not end:
        error = "the reply is empty"
    if error is None and len(_CJK.findall(text)) >= 3:
        error = "the reply is not in English"
    return ParsedUserReply(text, end, score if error is None else None, picture, error)
