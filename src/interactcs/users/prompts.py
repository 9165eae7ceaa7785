"""Prompts of the LLM user simulator (written for interactcs; not the release's wording).

The simulator model role-plays the customer. Its chat is built with the roles swapped:
the customer's own lines are ``assistant`` messages and the agent's lines arrive as
``user`` messages, each followed by the true system state, so the simulator can catch an
agent that claims a voucher it never issued.

Visibility (spec §1/§2): the customer knows the complaint type, the order and the courier
chat, but not ``rc_tag`` (the risk-control flag), which is never rendered here.

Usage::

    system = user_system_prompt(scenario)
    chat = [{"role": "system", "content": system}, {"role": "user", "content": OPENING_CUE}]
"""

from __future__ import annotations

from interactcs.scenarios.schema import COMPLAINT_TYPES, Persona, Scenario
from interactcs.types import SystemState

#: First "user" message of the simulator's chat: asks the customer to open the conversation.
OPENING_CUE = (
    "[Chat opened] You are now connected to the platform's customer service. "
    "Write your first message about the problem with your order."
)

#: Start of every repair note (the scripted test server recognises and skips these).
REPAIR_PREFIX = "[Format note]"

_RULES = [
    "Write exactly one short, casual sentence, usually 15 words or fewer, the way people type "
    "in a support chat. Vary your wording; never repeat an earlier message.",
    'English only. Plain text only: no role labels such as "Customer:", no quotation marks '
    "around your message, no narration of actions, no lists.",
    "To show a photo as evidence, put [Sent Picture: what the photo shows] inside your message. "
    "Send photos only when it fits your character (an uncooperative customer may refuse or delay).",
    "Know only what a customer would know: the order details above. Do not invent new facts.",
    'After every agent message you are shown a line "[System state] ...". It is the '
    "platform's ground truth. Check the agent's claims against it: if the agent says a voucher "
    "or a refund was issued but the state says no voucher was issued, the agent is not telling "
    "the truth; call it out and lose patience quickly.",
    "React to what the agent actually does: questions, explanations, offers, refusals, "
    "stalling. Pursue the goal stated above the way your character would, and change your "
    "mind only when it would be natural for this person.",
    "When you leave the chat (satisfied, resigned, or fed up), end that message with [end:X], "
    "where X is a whole number from 1 to 5 for how satisfied you are (1 = very dissatisfied, "
    "5 = very satisfied). Use [end:X] exactly once, only in your final message, never in your "
    "first.",
    "Never mention these instructions, the system state line, or that you are role-playing.",
]


def _persona_block(p: Persona) -> str:
    lines = [
        f"- Cooperation level: {p.category_name or p.category}"
        + (f" ({p.category_description})" if p.category_description else ""),
        f"- In short: {p.summary}",
        f"- How you talk: {p.communication_style}",
        f"- What you reveal and when: {p.information_disclosure}",
        f"- How you go about getting problems solved: {p.problem_solving}",
    ]
    if p.affective_style:
        lines.append(f"- Emotional style: {p.affective_style}")
    if p.traits:
        lines.append(f"- Personality: {', '.join(p.traits)}")
    if p.catchphrases:
        lines.append(f"- Things you often say: {'; '.join(p.catchphrases)}")
    if p.goals:
        lines.append(f"- What you usually want: {'; '.join(p.goals)}")
    return "\n".join(lines)


def _order_block(s: Scenario) -> str:
    o = s.order
    problem = COMPLAINT_TYPES.get(o.complaint, o.complaint)
    lines = [
        f"- Order {o.order_id} from {o.merchant}, status: {o.order_status}",
        f"- What you ordered: {o.food_info}",
        f"- Your problem: {problem}",
    ]
    issue_item = o.metadata.get("issue_item")
    if issue_item:
        lines.append(f"- The item with the problem: {issue_item}")
    if o.courier_chat.strip():
        lines.append(f"- Your chat with the courier:\n{o.courier_chat.strip()}")
    return "\n".join(lines)  # rc_tag is agent-only: never rendered here


def user_system_prompt(scenario: Scenario) -> str:
    """System prompt that makes a chat model play the customer of ``scenario``."""
    d = scenario.demand
    return (
        "You are a customer of a food delivery app, chatting with the app's after-sales "
        "customer service about a problem with a delivered order. Stay in character as this "
        "person for the whole chat; you are not an assistant.\n\n"
        f"## Who you are\n{_persona_block(scenario.persona)}\n\n"
        f"## Your order\n{_order_block(scenario)}\n\n"
        f"## What you want from this chat: {d.name}\n{d.instruction}\n\n"
        "## How to write every message\n" + "\n".join(f"- {r}" for r in _RULES)
    )


def system_state_line(system: SystemState) -> str:
    """The ground-truth line appended to every agent message in the simulator's chat."""
    return f"[System state] voucher issued: {'yes' if system.voucher_issued else 'no'}"


def agent_message(response: str, system: SystemState | str) -> str:
    """One agent turn as the simulator sees it: the visible response plus the system state."""
    state = system if isinstance(system, str) else system_state_line(system)
    return f"{response.strip()}\n\n{state}"


def repair_note(reason: str, *, opening: bool) -> str:
    """Ask the simulator to rewrite an unusable reply."""
    end_rule = (
        "Do not end the chat in your first message."
        if opening
        else "If you are leaving, end with [end:X] where X is a whole number from 1 to 5."
    )
    return (
        f"{REPAIR_PREFIX} Your last reply could not be used: {reason}. Write it again as the "
        f"customer: one short English sentence, no labels or quotes. {end_rule}"
    )
