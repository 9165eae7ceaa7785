"""PII masker: phones, e-mails, Luhn-checked cards, addresses; no false positives."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interactcs.personas.pii import PII_KINDS, luhn_valid, mask_pii


@pytest.mark.parametrize(
    "text",
    [
        "call +44 20 7946 0958 today",
        "ring +1-202-555-0143 please",
        "+44 (0)20 7946 0958",
        "+33612345678",
        "my cell is (555) 123-4567.",
        "it's 555.987.6543",
        "try 555-123-4567",
        "mobile 07700 900123",
        "number 555-0199",
        "call me on 5551234567",
        "whatsapp me 4917612345678",  # 13 digits, not Luhn-valid (else a card)
        "07700900123",
        "030 12345678",
    ],
)
def test_phones_masked(text: str) -> None:
    out, counts = mask_pii(text)
    assert counts == {"phone": 1}, out
    assert "[PHONE]" in out and sum(ch.isdigit() for ch in out) == 0


@pytest.mark.parametrize(
    "text, n",
    [
        ("write to jamie.r@example.com", 1),
        ("k.tanaka+orders@mail.example.org or ops-team@shop.co.uk", 2),
        ("MAIL: A_B@EXAMPLE.NET.", 1),
    ],
)
def test_emails_masked(text: str, n: int) -> None:
    out, counts = mask_pii(text)
    assert counts == {"email": n} and out.count("[EMAIL]") == n and "@" not in out


def test_luhn() -> None:
    assert luhn_valid("4111111111111111") and luhn_valid("5555555555554444")
    assert luhn_valid("378282246310005")  # 15-digit Amex test number
    assert not luhn_valid("4111111111111112") and not luhn_valid("4829103746519283")
    assert not luhn_valid("") and not luhn_valid("4111-1111")
    # hand check: 79927398713 is the textbook valid example
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1111",
        "card 4539-1488-0343-6467 thanks",
        "pay with 5555555555554444",
        "amex 3782 822463 10005",
        "card 4111 1111 1111 1111 2 times",  # the trailing quantity is not part of it
    ],
)
def test_cards_masked(text: str) -> None:
    out, counts = mask_pii(text)
    assert counts == {"card": 1} and "[CARD]" in out, out
    assert "1111 1111" not in out and "5555" not in out


def test_non_luhn_order_number_not_masked() -> None:
    for text in (
        "order 4829103746519283 arrived cold",
        "order #4829103746519283",
        "ref 4829 1037 4651 9283",
    ):
        assert mask_pii(text) == (text, {}), text


@pytest.mark.parametrize(
    "text",
    [
        "it cost $12.50, the fee was £1.99 and the total 24.99 EUR",
        "ordered at 12:30, arrived 13:45, said 7.45pm, maybe 10-15 minutes",
        "on 2024-05-12 and 12/05/2024 at 9.30",
        "2 burgers, 3 fries and 1,250 loyalty points; 35% off; 4.5 stars",
        "card ending 1111, order ORD-2024-0512-8831, ticket #5551234567",
        "order 5551234567 and invoice 20240512",
        "I ordered 2 Big Burgers and 1 Spicy Wings Box",
    ],
)
def test_no_false_positives(text: str) -> None:
    assert mask_pii(text) == (text, {})


def test_addresses() -> None:
    out, counts = mask_pii("went to 42 Elm Street, then 17 Harbour Rd. and 5B Kings Cross Road")
    assert counts == {"address": 3} and out.count("[ADDRESS]") == 3
    assert "Elm" not in out and "Harbour" not in out


def test_kinds_counts_and_idempotence() -> None:
    text = "card 4111111111111111, mail a@b.io, phone +44 20 7946 0958, at 42 Elm Street"
    out, counts = mask_pii(text)
    assert counts == {"card": 1, "email": 1, "phone": 1, "address": 1}
    assert mask_pii(out) == (out, {})
    only_mail, c = mask_pii(text, kinds={"email"})
    assert c == {"email": 1} and "4111111111111111" in only_mail
    with pytest.raises(ValueError, match="unknown PII kinds"):
        mask_pii(text, kinds={"names"})
    assert set(PII_KINDS) == {"email", "card", "phone", "address"}


def _luhn_complete(body: str) -> str:
    for d in "0123456789":
        if luhn_valid(body + d):
            return body + d
    raise AssertionError("unreachable: one check digit always fits")


@settings(max_examples=60, deadline=None)
@given(
    body=st.text("0123456789", min_size=15, max_size=15).filter(lambda s: s[0] != "0"),
    sep=st.sampled_from(["", " ", "-"]),
)
def test_any_luhn_card_masked(body: str, sep: str) -> None:
    number = _luhn_complete(body)
    grouped = sep.join(number[i : i + 4] for i in range(0, 16, 4))
    out, counts = mask_pii(f"please refund to {grouped} asap")
    assert out == "please refund to [CARD] asap" and counts == {"card": 1}
