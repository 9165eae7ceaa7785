"""Mask personal data in dialogue text before it reaches a model or an output file.

Usage::

    text, counts = mask_pii("card 4111 1111 1111 1111, call +44 20 7946 0958")
    # -> "card [CARD], call [PHONE]",  Counter({"card": 1, "phone": 1})

Kinds (applied in this order, so a string is counted once):

- ``email``: ``local@domain.tld``, with Unicode letters in either part (``jörg@müller.de``,
  ``用户@例子.中国``) and quoted local parts (``"john doe"@example.com``).
- ``iban``: an IBAN, compact or grouped, checked with ``python-stdnum`` (country format and
  mod-97); an IBAN-shaped string right after a cue such as "IBAN" or "Konto" is masked even if
  its check digits are wrong.
- ``card``: a run of 13-19 digits, grouped by single spaces, dashes or dots, that passes the
  Luhn check (``python-stdnum``). Runs of several groups are also searched for a Luhn-valid
  window of whole groups (``"card 4111 1111 1111 1111 2 times"``). A 16-digit order number
  that fails the check stays as it is.
- ``card_secret``: a CVV / CVC / security code (3-4 digits after a cue word) and an expiry
  date (``MM/YY`` after "exp", "valid thru", ...); also a date and a 3-4 digit code within a
  few words after a masked card (``"[CARD] 12/27 123"``).
- ``national_id``: checked shapes (US SSN ``123-45-6789``, UK NI number, Spanish DNI/NIE,
  Italian codice fiscale, Chinese resident ID, Brazilian CPF, Korean RRN, French NIR) and any
  ID-looking token after a cue (passport, ID number, DNI, CPF, Aadhaar, 身份证, ...).
- ``phone``: the shapes below, plus every number ``phonenumbers`` finds valid in one of
  :data:`PHONE_REGIONS` (so national formats such as ``06 12 34 56 78``, ``090-1234-5678``
  and ``13812345678`` are caught without a cue word). Shapes: ``+`` and 8-15 digits in any
  grouping; 9-15 digits grouped by spaces, dots, dashes or brackets; the local ``555-0199``
  / ``555 1234`` shape; an ungrouped run of 10-13 digits that starts with ``0`` or follows a
  word such as "call", "phone" or "WhatsApp". Numbers glued to a letter, ``#``, ``/`` or ``-``
  (``ORD-2024-0512``, ``#5551234567``) or following "order", "invoice", "ticket", ... are
  identifiers, not phones (unless they start with ``+``).
- ``address``: street addresses in several languages and scripts: English (``42 Elm
  Street``, ``17 harbour road``), German (``Hauptstraße 5``), Dutch (``Keizersgracht 123``),
  French (``12 rue de la Paix``), Spanish / Portuguese / Italian (``Calle Mayor 5``, ``Rua
  Augusta, 123``, ``Via Roma 10``), Russian (``ул. Ленина, д. 5``), Chinese
  (``北京市朝阳区建国路88号``), Japanese (``東京都千代田区丸の内1-2-3``, ``〒100-0005``),
  Korean (``테헤란로 123``) and UK postcodes (``SW1A 1AA``).

Prices (``$12.50``, ``7.99``), times (``12:30``, ``7.45pm``), dates (``2024-05-12``),
quantities, order ids and voucher codes are left alone: they have too few digits, the wrong
shape, a failing check digit or an identifier cue. Names are *not* detected; logs are
expected to be anonymised for names already. Measured recall and false positives:
``tests/personas/test_pii_table.py``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable

import phonenumbers
from stdnum import iban as _iban
from stdnum import luhn as _luhn

from interactcs.personas.pii_rules import mask_addresses, mask_national_ids

__all__ = [
    "ALL_KINDS",
    "DEFAULT_KINDS",
    "PHONE_REGIONS",
    "PII_KINDS",
    "PLACEHOLDERS",
    "luhn_valid",
    "mask_pii",
]

#: the original kinds (kept for callers that list them)
PII_KINDS: tuple[str, ...] = ("email", "card", "phone", "address")
#: every kind the masker knows, in the order it applies them
ALL_KINDS: tuple[str, ...] = (
    "email", "iban", "card", "card_secret", "national_id", "phone", "address",
)  # fmt: skip
#: kinds masked unless the caller narrows them
DEFAULT_KINDS: frozenset[str] = frozenset(ALL_KINDS)
#: what each kind is replaced with; no digits, so a later pass cannot pick them up
PLACEHOLDERS: dict[str, str] = {
    "email": "[EMAIL]",
    "iban": "[IBAN]",
    "card": "[CARD]",
    "card_secret": "[CARD_SECRET]",
    "national_id": "[ID]",
    "phone": "[PHONE]",
    "address": "[ADDRESS]",
}
#: regions whose national phone formats are recognised without a ``+``
PHONE_REGIONS: tuple[str, ...] = (
    "US", "GB", "DE", "FR", "NL", "ES", "IT", "JP", "CN", "IN", "BR", "KR", "AU", "RU",
)  # fmt: skip

_LOCAL_CHARS = r"[\w.!#$%&'*+/=?^`{|}~-]"
_EMAIL = re.compile(
    rf"(?:\"[^\"\n@]{{1,64}}\"|(?<!{_LOCAL_CHARS}){_LOCAL_CHARS}+)"
    r"@(?:[^\W_](?:[\w-]{0,62}[^\W_])?\.)+[^\W\d_]{2,24}\b"
)
_IBAN = re.compile(r"\b[A-Za-z]{2}\d{2}(?:[ -]?[A-Za-z0-9]{1,4}){3,9}\b")
_IBAN_CUE = re.compile(
    r"\b(?:iban|account|konto|rekening|compte|cuenta|conto|rib)\b\W{0,12}$", re.IGNORECASE
)
# a maximal run of digit groups joined by one space, dash or dot
_DIGIT_RUN = re.compile(r"(?<!\d)\d+(?:[ .-]\d+)*(?!\d)")
_GROUP = re.compile(r"\d+")
# a phone-shaped span; glued to a Latin letter or digit it is an identifier (CJK text may touch)
_PHONE_SPAN = re.compile(
    r"(?<![A-Za-z0-9_@#/.+\-])(?:\(?\+|\()?\d(?:[ .\-]?\(?\d\)?)*\d\)?(?![A-Za-z0-9_])"
)
_PHONE_CUE = re.compile(
    r"\b(?:phone|mobile|cell|tel|telephone|call|ring|text|sms|whats ?app|contact|reach)\b"
    r"[^\d\n]{0,25}$",
    re.IGNORECASE,
)
_ID_CUE = re.compile(
    r"\b(?:order|invoice|ticket|ref(?:erence)?|tracking|booking|receipt|voucher|code|id|no)\b"
    r"(?:\W{1,4}(?:number|no\.?|nr\.?|id|is|was|#)){0,3}\W{0,3}$",
    re.IGNORECASE,
)
_LOCAL7 = re.compile(r"\d{3}[-. ]\d{4}")
_DECIMAL = re.compile(r"\d+\.\d{1,2}")
_SECRET_CUE = re.compile(
    r"\b(?:cvv2?|cvc2?|cid|csc|security code|card code|sicherheitscode|pr[uü]fziffer|"
    r"cryptogramme|c[oó]digo de seguridad)\b\W{0,6}(?:is\s+|ist\s+|est\s+|es\s+)?(\d{3,4})\b",
    re.IGNORECASE,
)
_EXPIRY = re.compile(
    r"\b(?:exp(?:iry|iration|ires?)?|valid (?:thru|through|until)|g[uü]ltig bis|"
    r"date d'expiration|caducidad|vencimiento)\b\.?\W{0,8}(?:date\W{0,3})?"
    r"((?:0?[1-9]|1[0-2])\s?[/.-]\s?(?:\d{4}|\d{2}))\b",
    re.IGNORECASE,
)
_AFTER_CARD = re.compile(
    r"\[CARD\]((?:[^\n.!?\d\[]|\.(?=\d)){0,30}?"
    r"(?:\b(?:0?[1-9]|1[0-2])\s?/\s?(?:\d{4}|\d{2})\b|\b\d{3,4}\b)"
    r"(?:[^\n.!?\d\[]{0,30}?\b(?:(?:0?[1-9]|1[0-2])\s?/\s?(?:\d{4}|\d{2})|\d{3,4})\b)?)"
)
_SECRET_TOKEN = re.compile(r"\b(?:(?:0?[1-9]|1[0-2])\s?/\s?(?:\d{4}|\d{2})|\d{3,4})\b")


def luhn_valid(digits: str) -> bool:
    """Luhn (mod 10) check of a string of digits, as used by payment card numbers.

    Example: ``luhn_valid("4111111111111111") is True``; changing the last digit breaks it.
    """
    return digits.isdigit() and _luhn.is_valid(digits)


def _mask_emails(text: str, counts: Counter[str]) -> str:
    out, n = _EMAIL.subn(PLACEHOLDERS["email"], text)
    counts["email"] += n
    return out


def _mask_ibans(text: str, counts: Counter[str]) -> str:
    def repl(m: re.Match[str]) -> str:
        span = m.group(0)
        cue = bool(_IBAN_CUE.search(text[max(0, m.start() - 30) : m.start()]))
        cuts = [i for i, ch in enumerate(span) if ch in " -"] + [len(span)]
        for end in reversed(cuts):  # the longest prefix of whole groups that is an IBAN
            compact = re.sub(r"[ -]", "", span[:end]).upper()
            if _iban.is_valid(compact) or (cue and len(compact) >= 15 and end == len(span)):
                counts["iban"] += 1
                return PLACEHOLDERS["iban"] + span[end:]
        return span

    return _IBAN.sub(repl, text)


def _card_window(run: str) -> tuple[int, int] | None:
    """Character span of the longest Luhn-valid 13-19 digit window of whole groups in ``run``."""
    groups = [(m.start(), m.end()) for m in _GROUP.finditer(run)]
    best: tuple[int, int] | None = None
    for i in range(len(groups)):
        digits = ""
        for j in range(i, len(groups)):  # windows longer than 19 digits cannot be cards
            digits += run[groups[j][0] : groups[j][1]]
            if len(digits) > 19:
                break
            start, end = groups[i][0], groups[j][1]
            if len(digits) >= 13 and luhn_valid(digits):
                if best is None or end - start > best[1] - best[0]:
                    best = (start, end)
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


def _mask_card_secrets(text: str, counts: Counter[str]) -> str:
    placeholder = PLACEHOLDERS["card_secret"]

    def group1(m: re.Match[str]) -> str:
        counts["card_secret"] += 1
        whole, a, b = m.group(0), m.start(1) - m.start(), m.end(1) - m.start()
        return whole[:a] + placeholder + whole[b:]

    def after_card(m: re.Match[str]) -> str:
        tail, n = _SECRET_TOKEN.subn(placeholder, m.group(1))
        counts["card_secret"] += n
        return PLACEHOLDERS["card"] + tail

    text = _SECRET_CUE.sub(group1, text)
    text = _EXPIRY.sub(group1, text)
    return _AFTER_CARD.sub(after_card, text)


def _is_phone(span: str, before: str) -> bool:
    """Whether a phone-shaped ``span`` (see ``_PHONE_SPAN``) is a phone number.

    Args:
        span: the matched text.
        before: the text preceding it (for cue words like "call me on").
    """
    n = sum(ch.isdigit() for ch in span)
    if "+" in span:
        return 8 <= n <= 15
    if span.count("(") != span.count(")") or _ID_CUE.search(before[-30:]):
        return False
    if any(ch in span for ch in " .-()"):
        if _LOCAL7.fullmatch(span):
            return True
        if _DECIMAL.fullmatch(span):
            return False
        return 9 <= n <= 15
    return 10 <= n <= 13 and (span[0] == "0" or bool(_PHONE_CUE.search(before[-40:])))


def _library_phones(text: str) -> list[tuple[int, int]]:
    """Spans of numbers ``phonenumbers`` finds valid in one of :data:`PHONE_REGIONS`."""
    spans: set[tuple[int, int]] = set()
    if sum(ch.isdigit() for ch in text) < 7:
        return []
    for region in PHONE_REGIONS:
        for m in phonenumbers.PhoneNumberMatcher(
            text, region, leniency=phonenumbers.Leniency.VALID
        ):
            raw, start = m.raw_string, m.start
            before = text[max(0, start - 1) : start]
            if raw.startswith("+"):
                spans.add((start, m.end))
            elif (
                sum(ch.isdigit() for ch in raw) >= 9
                and not (before and (before.isascii() and before.isalnum() or before in "#/-_.@"))
                and not _ID_CUE.search(text[max(0, start - 30) : start])
            ):
                spans.add((start, m.end))
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):  # keep the outermost of overlapping matches
        if merged and a < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def _mask_phones(text: str, counts: Counter[str]) -> str:
    def repl(m: re.Match[str]) -> str:
        if not _is_phone(m.group(0), text[: m.start()]):
            return m.group(0)
        counts["phone"] += 1
        return PLACEHOLDERS["phone"]

    text = _PHONE_SPAN.sub(repl, text)
    pieces: list[str] = []
    pos = 0
    for a, b in _library_phones(text):
        pieces += (text[pos:a], PLACEHOLDERS["phone"])
        counts["phone"] += 1
        pos = b
    pieces.append(text[pos:])
    return "".join(pieces)


_MASKERS: dict[str, Callable[[str, Counter[str]], str]] = {
    "email": _mask_emails,
    "iban": _mask_ibans,
    "card": _mask_cards,
    "card_secret": _mask_card_secrets,
    "national_id": mask_national_ids,
    "phone": _mask_phones,
    "address": mask_addresses,
}


def mask_pii(text: str, kinds: Iterable[str] = DEFAULT_KINDS) -> tuple[str, Counter[str]]:
    """Replace personal data in ``text`` by placeholders such as ``[PHONE]``.

    Args:
        text: any text (a dialogue turn, a model answer).
        kinds: which of :data:`ALL_KINDS` to mask.

    Returns:
        (masked text, count of masked strings per kind; kinds with none are absent).

    Raises:
        ValueError: an unknown kind.
    """
    wanted = set(kinds)
    unknown = wanted - set(ALL_KINDS)
    if unknown:
        raise ValueError(f"unknown PII kinds {sorted(unknown)}; choose from {list(ALL_KINDS)}")
    counts: Counter[str] = Counter()
    for kind in ALL_KINDS:
        if kind in wanted:
            text = _MASKERS[kind](text, counts)
    return text, +counts
