"""Agent response templates per dialogue act, and strategies (named act plans).

Usage::

    from interactcs.policies.templates import STRATEGIES, render_strategy, render_plan
    think, response, action = render_strategy("ask_evidence", scenario, rng)
    think, response, action = render_plan(["apologize", "probe_detail"], scenario, rng)

A *plan* is a list of act names (:mod:`interactcs.env.acts`); :func:`render_plan` turns it
into protocol parts whose response :func:`~interactcs.env.acts.detect_acts` reads back as
(at least) those acts. A *strategy* is a named plan; :data:`STRATEGIES` is the fixed,
ordered action space of the act-level policy (index = action id). Every strategy renders.
The wording is the project's own; slots: ``{item}`` (the item the customer named, see
:func:`mentioned_item`; "food" by default) and ``{merchant}``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from interactcs.env.acts import (
    APOLOGIZE,
    ASK_EVIDENCE,
    CLOSE,
    EMPATHIZE,
    EXPLAIN_POLICY,
    ISSUE_VOUCHER,
    OFFER_VOUCHER,
    PROBE_DETAIL,
    REFUSE_REFUND,
    REFUSE_VOUCHER,
    REPORT_TEAM,
)
from interactcs.scenarios.schema import Scenario

#: act -> response fragments (each fragment is read back as that act by detect_acts).
FRAGMENTS: dict[str, tuple[str, ...]] = {
    APOLOGIZE: (
        "I'm sorry about this.",
        "Sorry to hear that.",
        "My apologies for the trouble with your order.",
    ),
    EMPATHIZE: (
        "I understand how frustrating that must be.",
        "That sounds really disappointing.",
        "I can imagine how annoying that was.",
    ),
    PROBE_DETAIL: (
        "Could you tell me what exactly was wrong with the {item}?",
        "When did the order arrive, and which item was affected?",
        "What happened with the {item} exactly?",
        "What would help put this right for you?",
    ),
    ASK_EVIDENCE: (
        "Could you send me a photo of the {item}?",
        "Would you be able to share a picture of the {item}?",
        "Can you upload a photo so I can check it?",
    ),
    EXPLAIN_POLICY: (
        "Under our platform rules, the options I have in this chat are limited.",
        "I have to follow our policy here, so my options from this chat are limited.",
    ),
    REFUSE_REFUND: (
        "I'm not able to process a refund to your card.",
        "Unfortunately refunds aren't something I can do from here.",
    ),
    REFUSE_VOUCHER: (
        "I can't offer compensation in this case.",
        "A voucher isn't possible for this order.",
    ),
    OFFER_VOUCHER: (
        "I could offer you a voucher for the trouble, would that work for you?",
        "Would a voucher for your next order help?",
    ),
    ISSUE_VOUCHER: (
        "I've issued a voucher to your account for this.",
        "I've added a voucher to your account, ready for your next order.",
    ),
    REPORT_TEAM: (
        "I've reported this to our quality team and to {merchant}.",
        "I'll pass this on to the restaurant team so they can fix it.",
    ),
    CLOSE: (
        "Is there anything else I can help with?",
        "Thank you for your patience, have a good day.",
    ),
}

#: order in which fragments are joined, whatever the order of the plan.
ACT_ORDER: tuple[str, ...] = (
    APOLOGIZE,
    EMPATHIZE,
    REFUSE_REFUND,
    REFUSE_VOUCHER,
    EXPLAIN_POLICY,
    PROBE_DETAIL,
    ASK_EVIDENCE,
    OFFER_VOUCHER,
    ISSUE_VOUCHER,
    REPORT_TEAM,
    CLOSE,
)

#: strategy name -> plan. Insertion order is the act-level policy's action index.
STRATEGY_ACTS: dict[str, tuple[str, ...]] = {
    "empathize_probe": (APOLOGIZE, EMPATHIZE, PROBE_DETAIL),
    "probe_detail": (PROBE_DETAIL,),
    "ask_evidence": (ASK_EVIDENCE,),
    "explain_policy": (EXPLAIN_POLICY,),
    "offer_voucher_words": (OFFER_VOUCHER,),
    "issue_voucher": (ISSUE_VOUCHER,),
    "refuse_refund_report_team": (REFUSE_REFUND, EXPLAIN_POLICY, REPORT_TEAM),
    "report_team_close": (REPORT_TEAM, CLOSE),
    "apologize": (APOLOGIZE,),
    "close": (CLOSE,),
}
#: the act-level action space (fixed order).
STRATEGIES: list[str] = list(STRATEGY_ACTS)

_THINK: dict[str, str] = {
    PROBE_DETAIL: "I need the facts of the case before judging it.",
    ASK_EVIDENCE: "A photo would show whether the complaint holds up.",
    EXPLAIN_POLICY: "The customer should know what this chat can and cannot do.",
    REFUSE_REFUND: "Refunds are outside my tools; I say so plainly.",
    REFUSE_VOUCHER: "The evidence does not support compensation.",
    OFFER_VOUCHER: "The complaint is supported, so I propose a voucher before issuing it.",
    ISSUE_VOUCHER: "The customer agreed and the complaint is supported; I issue the voucher.",
    REPORT_TEAM: "Reporting the case to the team is within my tools.",
    CLOSE: "The case is handled; I wrap up.",
}


def mentioned_item(scenario: Scenario, texts: Sequence[str]) -> str:
    """The first order item (from ``foodInfo``) that the customer's texts name; else "food".

    Only agent-visible information is used: the item list and what the customer wrote.
    """
    joined = " ".join(texts).lower()
    for name, _ in scenario.order.items:
        if name and name.lower() in joined:
            return name
    return "food"


@dataclass(frozen=True)
class StrategySet:
    """An act-level action space: named plans, response fragments, join order, think notes.

    :data:`FDS_STRATEGIES` is the FDS set (:data:`STRATEGIES`, unchanged); a scenario pack
    brings its own (:func:`strategy_set`).

    Attributes:
        name: ``fds`` or the pack's name.
        strategy_acts: strategy name -> plan (act names); insertion order = action index.
        fragments: act -> response variants (slots: ``{item}``, ``{merchant}`` and, for a
            pack, its agent-visible case fields).
        act_order: order in which fragments are joined.
        think: act -> private-reasoning note.
        actions: act that takes an action -> the action word (``issue_voucher`` -> ``voucher``).
        pack: the pack reference (``None`` for FDS).
        case_slots: agent-visible case fields usable as slots.
    """

    name: str
    strategy_acts: Mapping[str, tuple[str, ...]]
    fragments: Mapping[str, tuple[str, ...]]
    act_order: tuple[str, ...]
    think: Mapping[str, str]
    actions: Mapping[str, str]
    pack: str | None = None
    case_slots: tuple[str, ...] = ()
    default_item: str = "food"
    _names: list[str] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._names.extend(self.strategy_acts)

    @property
    def names(self) -> list[str]:
        """Strategy names in action-index order."""
        return self._names

    def action_of(self, strategy: str) -> str:
        """The action word a strategy takes (``chat`` when it takes none)."""
        return next(
            (self.actions[a] for a in self.strategy_acts[strategy] if a in self.actions), "chat"
        )

    def render_plan(
        self,
        acts: Sequence[str],
        scenario: Scenario,
        rng: random.Random,
        *,
        think: str | None = None,
        item: str | None = None,
    ) -> tuple[str, str, str]:
        """Render a plan (act names) into ``(think, response, action)`` (see :func:`render_plan`)."""
        unknown = [a for a in acts if a not in self.fragments]
        if unknown:
            raise KeyError(f"no template for acts {unknown}; known: {', '.join(self.fragments)}")
        wanted = set(acts)
        slots: dict[str, Any] = {k: scenario.case.get(k, "") for k in self.case_slots}
        slots.update(item=item or self.default_item, merchant=scenario.order.merchant)
        parts = []
        for act in self.act_order:
            if act in wanted:
                options = self.fragments[act]
                parts.append(options[rng.randrange(len(options))].format_map(slots))
        response = " ".join(parts)
        action = next(
            (self.actions[a] for a in self.act_order if a in wanted and a in self.actions), "chat"
        )
        if think is None:
            notes = [self.think[a] for a in self.act_order if a in wanted and a in self.think]
            think = " ".join(notes) or "I acknowledge the customer first."
        return think, response, action

    def render(
        self,
        name: str,
        scenario: Scenario,
        rng: random.Random,
        *,
        think: str | None = None,
        item: str | None = None,
    ) -> tuple[str, str, str]:
        """Render strategy ``name`` into ``(think, response, action)``."""
        if name not in self.strategy_acts:
            raise KeyError(f"unknown strategy {name!r}; known: {', '.join(self.names)}")
        return self.render_plan(self.strategy_acts[name], scenario, rng, think=think, item=item)


#: the FDS act-level action space (exactly :data:`STRATEGIES`, same order and templates).
FDS_STRATEGIES = StrategySet(
    "fds", STRATEGY_ACTS, FRAGMENTS, ACT_ORDER, _THINK, {ISSUE_VOUCHER: "voucher"}
)


@lru_cache(maxsize=16)
def _pack_set(ref: str) -> StrategySet:
    from interactcs.packs import load_pack

    pack = load_pack(ref)
    st, case = pack.strategies, pack.spec.case
    assert st is not None and case is not None
    return StrategySet(
        pack.name,
        {k: tuple(v) for k, v in st.strategies.items()},
        {k: tuple(v) for k, v in st.fragments.items()},
        tuple(st.act_order),
        dict(st.think),
        {f"issue_{a}": a for a in pack.costly_actions},
        pack=pack.ref,
        case_slots=tuple(k for k, f in case.fields.items() if f.agent),
        default_item="item",
    )


def strategy_set(pack: Any = None) -> StrategySet:
    """The strategy set of a pack (a :class:`~interactcs.packs.Pack` or its reference);
    :data:`FDS_STRATEGIES` for ``None`` or an ``engine: fds`` pack."""
    if pack is None:
        return FDS_STRATEGIES
    if isinstance(pack, str):
        from interactcs.packs import load_pack

        pack = load_pack(pack)
    return FDS_STRATEGIES if pack.is_fds else _pack_set(pack.ref)


def render_plan(
    acts: Sequence[str],
    scenario: Scenario,
    rng: random.Random,
    *,
    think: str | None = None,
    item: str = "food",
) -> tuple[str, str, str]:
    """Render a plan (act names) into ``(think, response, action)``.

    Args:
        acts: act names from :data:`FRAGMENTS`; unknown names raise ``KeyError`` listing the
            valid ones. ``issue_voucher`` sets the action to ``voucher``.
        scenario: fills ``{merchant}`` (agent-visible signals only).
        rng: picks among fragment variants (seeded by the caller).
        think: private reasoning; default is a short note built from the plan.
        item: fills ``{item}`` (e.g. from :func:`mentioned_item`).
    """
    return FDS_STRATEGIES.render_plan(acts, scenario, rng, think=think, item=item)


def render_strategy(
    name: str,
    scenario: Scenario,
    rng: random.Random,
    *,
    think: str | None = None,
    item: str = "food",
) -> tuple[str, str, str]:
    """Render strategy ``name`` (one of :data:`STRATEGIES`) into ``(think, response, action)``."""
    if name not in STRATEGY_ACTS:
        raise KeyError(f"unknown strategy {name!r}; known: {', '.join(STRATEGIES)}")
    return render_plan(STRATEGY_ACTS[name], scenario, rng, think=think, item=item)
