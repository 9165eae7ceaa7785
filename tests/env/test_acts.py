"""Dialogue-act detection: examples incl. paraphrase, case, negation; near-duplicates; speed."""

from __future__ import annotations

import time

import pytest

from interactcs.env import acts as A
from interactcs.env.acts import detect_acts, is_repeat


@pytest.mark.parametrize(
    ("text", "present", "absent"),
    [
        ("SORRY about that!!", {A.APOLOGIZE}, {A.OFF_TOPIC}),
        ("My apologies for the mix-up.", {A.APOLOGIZE}, set()),
        ("That must have been so frustrating.", {A.EMPATHIZE}, set()),
        ("I completely understand why you're upset.", {A.EMPATHIZE}, set()),
        ("Could you snap a pic of the fries?", {A.ASK_EVIDENCE}, set()),
        ("Please upload a photo of the receipt.", {A.ASK_EVIDENCE}, set()),
        ("Thanks for the photo.", set(), {A.ASK_EVIDENCE}),
        ("Which item was missing, and when did it arrive?", {A.PROBE_DETAIL}, set()),
        ("Can you describe what the burger looked like?", {A.PROBE_DETAIL}, set()),
        ("Is there anything else I can help with?", {A.CLOSE}, {A.PROBE_DETAIL}),
        ("Under our policy I can only offer vouchers.", {A.EXPLAIN_POLICY}, set()),
        (
            "Unfortunately I can\u2019t send a replacement meal.",
            {A.EXPLAIN_POLICY},
            {A.OUT_OF_SCOPE_PROMISE},
        ),
        ("We'll send you a fresh meal right away!", {A.OUT_OF_SCOPE_PROMISE}, set()),
        ("Someone from our team will get back to you tomorrow.", {A.OUT_OF_SCOPE_PROMISE}, set()),
        ("My manager will call you this evening.", {A.OUT_OF_SCOPE_PROMISE}, set()),
        ("I will refund the money to your card.", {A.OUT_OF_SCOPE_PROMISE}, set()),
        ("I can't refund to your card, sorry.", {A.REFUSE_REFUND}, {A.OUT_OF_SCOPE_PROMISE}),
        ("Refunds aren't possible on this platform.", {A.REFUSE_REFUND}, set()),
        ("Your refund has been processed.", {A.CLAIM_REFUND}, set()),
        ("I've refunded the delivery fee.", {A.CLAIM_REFUND}, set()),
        ("I've just added a coupon to your account.", {A.CLAIM_VOUCHER}, {A.OFFER_VOUCHER}),
        ("A voucher has been issued.", {A.CLAIM_VOUCHER}, set()),
        ("Once I've issued a voucher, you'll see it in the app.", set(), {A.CLAIM_VOUCHER}),
        ("If the refund has been processed, it shows in the app.", set(), {A.CLAIM_REFUND}),
        ("How about a voucher for your next order?", {A.OFFER_VOUCHER}, {A.CLAIM_VOUCHER}),
        ("I'd be happy to offer you some compensation.", {A.OFFER_VOUCHER}, set()),
        ("I can't give you any compensation.", {A.REFUSE_VOUCHER}, {A.OFFER_VOUCHER}),
        ("I'll flag this with the kitchen.", {A.REPORT_TEAM}, set()),
        ("I've escalated it to the merchant.", {A.REPORT_TEAM}, set()),
        ("It's clearly our fault, we messed up.", {A.ADMIT_FAULT}, set()),
        ("Have a lovely evening!", {A.CLOSE}, set()),
        ("As an AI language model, I can't eat.", {A.REVEAL_AI}, set()),
        ("I'm not a bot, I promise.", set(), {A.REVEAL_AI}),
        ("lol ok", {A.OFF_TOPIC}, set()),
        ("", {A.OFF_TOPIC}, set()),
    ],
)
def test_examples(text: str, present: set[str], absent: set[str]) -> None:
    acts = detect_acts(text, "chat")
    assert present <= acts, (text, sorted(acts))
    assert not (absent & acts), (text, sorted(acts))


def test_voucher_action_adds_issue() -> None:
    assert A.ISSUE_VOUCHER in detect_acts("Done.", "voucher")
    assert A.ISSUE_VOUCHER not in detect_acts("Done.", "chat")


def test_memo_does_not_leak_between_inputs() -> None:
    a = detect_acts("Sorry!", "chat")
    b = detect_acts("Sorry!", "voucher")
    assert A.ISSUE_VOUCHER in b and A.ISSUE_VOUCHER not in a
    assert detect_acts("Sorry!", "chat") == a


def test_all_acts_listed() -> None:
    assert len(set(A.ALL_ACTS)) == len(A.ALL_ACTS) == 17
    assert A.FORBIDDEN_ACTS <= set(A.ALL_ACTS)


def test_is_repeat() -> None:
    prev = ["Could you send me a photo of the burger?"]
    assert is_repeat("could you send me a photo of the burger", prev)
    assert is_repeat("Could you send me a photo of the burger, please?", prev)
    assert not is_repeat("Which item was cold and when did it arrive?", prev)
    assert not is_repeat("Ok", [])
    assert is_repeat("Ok.", ["ok"])
    assert not is_repeat("Ok.", ["fine"])


def test_detection_is_fast() -> None:
    texts = [
        f"Sorry about the order {i}. Could you send a photo of item {i}? We can't refund to cards."
        for i in range(500)
    ]
    t0 = time.perf_counter()
    for t in texts:
        detect_acts(t, "chat")
    per_call_us = (time.perf_counter() - t0) / len(texts) * 1e6
    assert per_call_us < 400  # ~20 us on a quiet core; loose bound for shared CI machines
