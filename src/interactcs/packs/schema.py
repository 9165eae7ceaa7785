"""Typed contents of a scenario pack (see ``docs/packs.md`` for the folder format).

A pack folder holds ``pack.yaml`` plus the files it names (YAML and JSONL). Every model here
forbids unknown keys, so a typo (``budget`` for ``budgets``) fails with the file and field
named instead of being ignored. Cross-file checks (a budget naming an unknown cost type, a
probability column that does not sum to 1, a strategy act without a template, ...) live in
:mod:`interactcs.packs.loader`.

Numbering follows the FDS release so trajectories, metrics and judges keep one vocabulary:
cooperation categories are ``1``..``5`` (1 = highly uncooperative) and needs ``1``..``4``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Tone = Literal["rough", "plain", "kind"]
Op = Literal["<=", "<", ">=", ">", "==", "!="]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Condition(_Strict):
    """``field OP value`` or ``field OP ref`` over case fields (e.g. a return window check)."""

    field: str = Field(description="case field on the left")
    op: Op
    value: float | int | str | bool | None = Field(None, description="constant on the right")
    ref: str | None = Field(None, description="another case field on the right")

    def holds(self, case: dict[str, Any]) -> bool:
        """Evaluate on a case; a missing field makes the condition false."""
        if self.field not in case:
            return False
        left = case[self.field]
        right = case.get(self.ref) if self.ref is not None else self.value
        if right is None:
            return False
        try:
            return {
                "<=": left <= right,
                "<": left < right,
                ">=": left >= right,
                ">": left > right,
                "==": left == right,
                "!=": left != right,
            }[self.op]
        except TypeError:
            return False


class ActionSpec(_Strict):
    """One action word the agent may put in ``<action>``.

    ``chat`` must exist and cost nothing. A costly action charges ``cost`` (cost type ->
    amount) each time it is taken, may be taken at most ``limit`` times per dialogue, and is
    *eligible* under the SOP only when every condition in ``requires`` holds (the offline
    judge and the pack rule agent read this; the environment does not block it).
    ``offer`` / ``claim`` / ``refuse`` are regular expressions (matched on lower-cased text)
    that recognise the action proposed in words, claimed as done, or declined.
    """

    description: str
    noun: str = Field("", description="how customers and templates name it, e.g. 'a refund'")
    cost: dict[str, float] = Field(default_factory=dict)
    limit: int | None = Field(None, ge=1, description="uses per dialogue (default 1 if costly)")
    requires: list[Condition] = Field(default_factory=list)
    offer: list[str] = Field(default_factory=list)
    claim: list[str] = Field(default_factory=list)
    refuse: list[str] = Field(default_factory=list)

    @property
    def costly(self) -> bool:
        return any(v != 0 for v in self.cost.values())

    @property
    def max_uses(self) -> int | None:
        return self.limit if self.limit is not None else (1 if self.costly else None)


class AgentSpec(_Strict):
    """What the agent prompt says: role, SOP rules, the risk-flag note, output format notes."""

    role: str
    sop: list[str] = Field(min_length=1)
    flag_note: str = ""
    case_title: str = "Case signals (read-only facts from the platform)"


class FieldSpec(_Strict):
    """How one case field is generated, and who sees it.

    Kinds: ``id`` (``prefix`` + 12 hex digits), ``choice`` (``values`` with optional
    ``weights``), ``int`` (uniform in ``[low, high]`` by ``step``), ``float`` (uniform,
    rounded to ``digits``), ``bool`` (true with probability ``p``), ``const`` (``value``),
    ``catalog`` (column ``column`` of the case's catalog row; a ``[low, high]`` pair is drawn
    uniformly and rounded to ``digits``), ``issue`` (an issue key, weighted by the issues
    file).
    """

    kind: Literal["id", "choice", "int", "float", "bool", "const", "catalog", "issue"]
    label: str = Field("", description="name shown in the agent prompt (default: the key)")
    agent: bool = Field(True, description="visible to the agent (rendered in its prompt)")
    user: bool = Field(True, description="known to the simulated customer")
    prefix: str = "ID_"
    values: list[Any] | None = None
    weights: list[float] | None = None
    low: float | None = None
    high: float | None = None
    step: float = 1
    digits: int = 2
    p: float | None = Field(None, ge=0, le=1)
    value: Any = None
    column: str | None = None


class OrderMapping(_Strict):
    """Which case fields fill the shared :class:`~interactcs.scenarios.schema.OrderSignals`."""

    id: str = Field(description="case field holding the order id")
    item: str = Field(description="case field naming the item the case is about")
    merchant: str = Field(description="case field naming the seller / merchant")
    issue: str = Field(description="case field holding the issue key (kind: issue)")
    flag: str | None = Field(None, description="boolean case field read as the risk flag (rc_tag)")


class CaseSpec(_Strict):
    """The order/case fields and their generator."""

    catalog: str | None = Field(None, description="JSONL file, one catalog row per line")
    fields: dict[str, FieldSpec] = Field(min_length=1)
    order: OrderMapping


class NeedSpec(_Strict):
    """One extrinsic need: name, role-play instruction, and the remedy it asks for."""

    name: str
    instruction: str
    wants: str | None = Field(None, description="action the customer asks for, if any")
    feedback: bool = Field(
        False, description="being heard and a report to the seller/team settle this customer"
    )


class IssueSpec(_Strict):
    """One issue type (the pack's complaint types) and the customer's words for it."""

    name: str
    weight: float = Field(gt=0)
    fault: bool = Field(True, description="the seller/platform is at fault when genuine")
    problem: list[str] = Field(min_length=1, description="completes 'the {item} ...'")
    details: list[str] = Field(min_length=1, description="specific details of a genuine case")
    hedged: list[str] = Field(min_length=1, description="vague details of a doubtful case")
    strong: list[str] = Field(min_length=1, description="photos that show the fault")
    weak: list[str] = Field(min_length=1, description="photos that show nothing conclusive")
    utility: dict[str, float] = Field(
        default_factory=dict, description="action -> satisfaction shift for this issue"
    )


class CategoryParams(_Strict):
    """Simulator parameters per cooperation category: five values, categories 1..5."""

    sat0: list[float] = Field(min_length=5, max_length=5)
    patience: list[float] = Field(min_length=5, max_length=5)
    hostility: list[float] = Field(min_length=5, max_length=5)
    p_evidence: list[float] = Field(min_length=5, max_length=5)
    p_detail: list[float] = Field(min_length=5, max_length=5)
    p_volunteer: list[float] = Field(min_length=5, max_length=5)
    heard_weight: list[float] = Field(min_length=5, max_length=5)
    pushbacks: list[int] = Field(min_length=5, max_length=5)
    p_valid: list[float] = Field(min_length=5, max_length=5)


class NeedParams(_Strict):
    """Simulator parameters per need."""

    utility: dict[str, float] = Field(description="costly action -> satisfaction change")
    refusal: float = Field(description="satisfaction change of a clear no-remedy outcome")
    heard: float = Field(1.0, description="multiplier on the weight of being heard")
    sat_shift: float = 0.0


class SimulatorSpec(_Strict):
    """Parameters of the pack-driven offline simulator (:mod:`interactcs.users.pack_sim`)."""

    categories: CategoryParams
    needs: dict[int, NeedParams]
    accept_min: float = Field(0.3, description="accept a verbal offer when its utility >= this")
    premature_factor: float = Field(0.6, ge=0, le=1, description="gain kept without investigating")
    flag_valid_factor: float = Field(0.35, ge=0, le=1)
    evidence_genuine: list[float] = Field([0.85, 0.12, 0.03], min_length=3, max_length=3)
    evidence_doubtful: list[float] = Field([0.0, 0.45, 0.55], min_length=3, max_length=3)


class RuleAgentSpec(_Strict):
    """Cues the pack rule agent reads in customer messages (regular expressions)."""

    wants: dict[str, list[str]] = Field(default_factory=dict, description="action -> cues")
    refuses: dict[str, list[str]] = Field(
        default_factory=dict, description="action -> cues that the customer does not want it"
    )
    feedback: list[str] = Field(default_factory=list)
    accept: list[str] = Field(default_factory=list)
    reject: list[str] = Field(default_factory=list)
    weak_photo: list[str] = Field(default_factory=list)
    hedge: list[str] = Field(default_factory=list)
    no_details: list[str] = Field(default_factory=list)
    default_offer: str | None = Field(None, description="remedy offered when none is asked for")


class StrategiesSpec(_Strict):
    """The act policy's action space for this pack and the agent's response templates.

    ``strategies``: name -> act plan (insertion order = action index). ``fragments``: act ->
    response variants (slots: ``{item}`` and agent-visible case fields). ``act_order``: order
    in which fragments are joined. ``think``: act -> private-reasoning note.
    Act names: the shared acts of :mod:`interactcs.env.acts` (``apologize``, ``probe_detail``,
    ...) and, per costly action ``A``, ``offer_A`` / ``issue_A`` / ``refuse_A``.
    """

    strategies: dict[str, list[str]] = Field(min_length=2)
    fragments: dict[str, list[str]]
    act_order: list[str]
    think: dict[str, str] = Field(default_factory=dict)
    rule_agent: RuleAgentSpec = Field(default_factory=lambda: RuleAgentSpec.model_validate({}))


class LexiconSpec(_Strict):
    """Pack words beyond the per-action patterns."""

    out_of_scope: list[str] = Field(default_factory=list, description="promises outside the tools")
    domain: list[str] = Field(default_factory=list, description="words that make a reply on-topic")


class PackFile(_Strict):
    """``pack.yaml``."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    title: str
    description: str = ""
    engine: Literal["generic", "fds"] = Field(
        "generic", description="fds = the built-in FDS world (generator, simulator, rule agent)"
    )
    agent: AgentSpec
    actions: dict[str, ActionSpec]
    budgets: dict[str, float]
    need_given_category: dict[int, list[float]]
    scenes: dict[str, list[float]] = Field(min_length=1, description="scene -> category weights")
    default_scene: str | None = None
    principles: str = Field(description="principle YAML (same format as the FDS file)")
    train: dict[str, Any] = Field(
        default_factory=dict,
        description="training defaults for this pack (dotted TrainConfig keys, e.g. "
        "controller.kp), applied unless the training config sets them",
    )
    # generic engine only
    needs: str | None = Field(None, description="YAML: need key -> NeedSpec")
    case: CaseSpec | None = None
    personas: str | None = Field(None, description="JSONL personas, or 'builtin' (FDS bank)")
    issues: str | None = Field(None, description="YAML: issue key -> IssueSpec")
    simulator: str | None = Field(None, description="YAML: SimulatorSpec")
    templates: str | None = Field(None, description="YAML: intent -> tone -> utterances")
    strategies: str | None = Field(None, description="YAML: StrategiesSpec")
    lexicon: LexiconSpec = Field(default_factory=LexiconSpec)
