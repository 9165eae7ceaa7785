"""The agent's system prompt (the project's own wording) and the output renderer.

Usage::

    from interactcs.env.prompt import agent_system_prompt, render_agent_output
    system = agent_system_prompt(scenario)
    text = render_agent_output("User sent proof.", "Thanks, I've issued a voucher.", "voucher")

Only agent-visible signals go into the prompt: order id and status, items, the chat with the
courier, the merchant and ``rcTag``. The complaint type, the persona and the need stay
hidden: the agent has to learn them from the conversation (FDS-SPEC §1-2).
"""

from __future__ import annotations

from interactcs.env.rules import RC_TAG_NOTE, SOP_RULES
from interactcs.scenarios.schema import Scenario

_ROLE = (
    "You work on the after-sales support desk of FoodDeliver, a food delivery app. Customers "
    "write to you about orders that went wrong: food that arrived cold, tasted off or was "
    "not fresh, items that were missing or wrong, deliveries that were late. Your aim is a "
    "customer who leaves the chat reasonably satisfied while vouchers, which cost the "
    "platform money, are kept for cases that deserve them."
)

_FORMAT = (
    "Every reply has exactly three parts, in this order:\n"
    "<think>your private reasoning: what you know so far, whether the complaint holds up, "
    "what the customer wants, what you will do and why. The customer never sees it.</think>\n"
    "<response>what the customer reads: one to three short, natural sentences.</response>\n"
    "<action>chat or voucher</action>\n"
    "Use `voucher` only in the turn where you actually issue the voucher, at most once per "
    "conversation; every other turn is `chat`. The response must match the action: do not "
    "say a voucher was issued unless the action is `voucher`, and do not issue one while the "
    "response turns compensation down. A refund is never an action, so never say one was made."
)


def _signals_block(scenario: Scenario) -> str:
    o = scenario.order
    chat = o.courier_chat.strip() or "(no messages)"
    chat = "\n".join("    " + line for line in chat.splitlines())
    return (
        f"- orderId: {o.order_id}\n"
        f"- orderStatus: {o.order_status}\n"
        f"- foodInfo (item*quantity): {o.food_info}\n"
        f"- merchantName: {o.merchant}\n"
        f"- rcTag: {'true' if o.rc_tag else 'false'}\n"
        f"- instantMessageMap (chat between customer and courier):\n{chat}"
    )


#: prompt styles: ``full`` (role, the nine SOP rules, signals, rcTag note, format; ≈ 680
#: SmolLM2 tokens) and ``compact`` (≈ 230 tokens, for small models on CPU).
PROMPT_STYLES = ("full", "compact")

_COMPACT = (
    "You are a FoodDeliver after-sales support agent (staff, never an AI). Tools: issue one "
    "voucher, or report the case to the team; no refunds, redeliveries or call-backs. Check "
    "the evidence (photo, details, rcTag: true = risk-control flag, ask for firmer proof) "
    "before offering anything; issue a voucher only once it is agreed, at most once."
)

_COMPACT_FORMAT = (
    "Reply as <think>reasoning</think><response>one to three sentences</response>"
    "<action>chat or voucher</action>."
)


def compact_system_prompt(scenario: Scenario) -> str:
    """The ``compact`` style: the same order signals, the SOP in four sentences.

    What changed against :func:`agent_system_prompt`: the role paragraph and the nine rules
    are condensed into one paragraph (no English-only rule, no "do not make things up"
    rule, no explanation of why vouchers cost money), the rcTag note is one clause and the
    format explanation one line. The order signals are identical. A 135 M model cannot use
    the long rules anyway, and every turn pays for the prompt's length. The static text
    (role, SOP, format) comes first and the order last, so every dialogue's prompt starts
    with the same ≈ 120 tokens, which training runs once per micro-batch
    (:func:`interactcs.policies.hf_logprobs.selected_logprobs`).
    """
    o = scenario.order
    chat = " | ".join(line.strip() for line in o.courier_chat.strip().splitlines()) or "none"
    return (
        f"{_COMPACT}\n{_COMPACT_FORMAT}\n"
        f"Order {o.order_id} ({o.order_status}) from {o.merchant}: {o.food_info}. "
        f"rcTag: {'true' if o.rc_tag else 'false'}. Courier chat: {chat}"
    )


def agent_system_prompt(scenario: Scenario, style: str = "full") -> str:
    """Render the agent system prompt for one scenario.

    Args:
        scenario: the dialogue's scenario; only agent-visible order signals are read.
        style: ``full`` (default) or ``compact`` (:func:`compact_system_prompt`).

    Returns:
        The prompt text (role, rules, order signals with the ``rcTag`` note, output format).
    """
    if style == "compact":
        return compact_system_prompt(scenario)
    if style != "full":
        raise ValueError(f"unknown prompt style {style!r}; expected one of {PROMPT_STYLES}")
    rules = "\n".join(f"{i}. {r}" for i, r in enumerate(SOP_RULES, 1))
    return (
        f"# Your role\n{_ROLE}\n\n"
        f"# Rules you always follow\n{rules}\n\n"
        f"# Order signals (read-only facts from the platform)\n{_signals_block(scenario)}\n\n"
        f"{RC_TAG_NOTE}\n\n"
        f"# How to reply\n{_FORMAT}\n"
    )


def render_agent_output(think: str, response: str, action: str) -> str:
    """Join the three protocol parts: ``<think>..</think><response>..</response><action>..</action>``."""
    return f"<think>{think}</think><response>{response}</response><action>{action}</action>"
