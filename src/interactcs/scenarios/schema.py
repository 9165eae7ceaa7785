"""Scenario records: order signals, persona (intrinsic traits), core demand (extrinsic need).

A :class:`Scenario` is everything needed to start one dialogue. Visibility follows the
release: the **user** sees the complaint type (``faqType``) but not ``rc_tag``; the
**agent** sees ``rc_tag`` but not the complaint type.

``rc_tag`` is never defined by the release (about 4.5 % of orders carry it). interactcs
treats it as a *risk-control flag*: the customer has prior suspicious complaints, so
compensation needs stronger evidence. The offline simulator and rubric judge follow this
reading.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, field_validator

#: complaint type key -> human name. The first three are the release's ``faqType`` values.
COMPLAINT_TYPES: dict[str, str] = {
    "temperature": "Food temperature issue",
    "taste": "Food taste below expectations",
    "not_fresh": "Food not fresh/undercooked",
    "missing_item": "Missing item",
    "wrong_item": "Wrong item delivered",
    "late_delivery": "Late delivery",
}

CATEGORY_NAMES: dict[int, str] = {
    1: "Highly Uncooperative",
    2: "Uncooperative",
    3: "Generally Cooperative",
    4: "Cooperative",
    5: "Highly Cooperative",
}

NEED_NAMES: dict[int, str] = {
    1: "Refund Insistence",
    2: "Refund Priority",
    3: "Compensation Flexible",
    4: "Feedback Focus",
}

#: P(need | category) used to generate scenes (spec §2); columns = category 1..5.
NEED_GIVEN_CATEGORY: dict[int, list[float]] = {
    1: [0.70, 0.60, 0.40, 0.40, 0.50],
    2: [0.15, 0.10, 0.15, 0.15, 0.20],
    3: [0.10, 0.15, 0.20, 0.20, 0.10],
    4: [0.05, 0.15, 0.25, 0.25, 0.20],
}


class OrderSignals(BaseModel):
    """System signals of the disputed order (what the platform knows)."""

    order_id: str
    order_status: str = "Delivered"
    complaint: str = Field(description="complaint type key, one of COMPLAINT_TYPES")
    food_info: str = Field(description="items as in the release, e.g. 'Burger*1,Fries*2'")
    courier_chat: str = Field(default="", description="instantMessageMap: chat with the courier")
    merchant: str
    rc_tag: bool = False
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("complaint")
    @classmethod
    def _known_complaint(cls, v: str) -> str:
        if v not in COMPLAINT_TYPES and ":" not in v:  # "<pack>:<issue>": checked by the pack
            raise ValueError(f"unknown complaint {v!r}; expected one of {sorted(COMPLAINT_TYPES)}")
        return v

    @property
    def items(self) -> list[tuple[str, int]]:
        """``food_info`` split into (item name, quantity) pairs."""
        out: list[tuple[str, int]] = []
        for part in self.food_info.split(","):
            part = part.strip()
            if not part:
                continue
            name, _, qty = part.rpartition("*")
            if not name:
                name, qty = part, "1"
            out.append((name.strip(), int(qty) if qty.strip().isdigit() else 1))
        return out


class Persona(BaseModel):
    """Intrinsic traits of a customer, grouped by cooperation category (1 = highly uncooperative)."""

    persona_id: str
    category: int = Field(ge=1, le=5)
    category_name: str = ""
    category_description: str = ""
    summary: str
    communication_style: str
    information_disclosure: str
    problem_solving: str
    affective_style: str = Field(
        default="", description="paper's 4th dimension; empty in the release (lives in summary)"
    )
    catchphrases: list[str] = Field(default_factory=list)
    traits: list[str] = Field(default_factory=list)
    goals: list[str] = Field(default_factory=list)


class CoreDemand(BaseModel):
    """Extrinsic demand of the customer in this dialogue."""

    need: int = Field(ge=1, le=4)
    name: str
    instruction: str = Field(description="role-play instruction for the simulator")


class Scenario(BaseModel):
    """Everything needed to start one dialogue."""

    scenario_id: str
    scene: str | None = None
    order: OrderSignals
    persona: Persona
    demand: CoreDemand
    agent_prompt: str | None = Field(
        default=None, description="the release's agent system prompt, when loaded from its parquet"
    )
    pack: str | None = Field(
        default=None,
        description="scenario pack (interactcs.packs): 'packs/<name>' or a folder; None = FDS",
    )
    case: dict[str, Any] = Field(
        default_factory=dict, description="the pack's case fields (empty for FDS)"
    )

    @property
    def category(self) -> int:
        return self.persona.category

    @property
    def need(self) -> int:
        return self.demand.need
