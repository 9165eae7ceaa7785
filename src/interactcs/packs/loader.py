"""Load and validate a scenario pack folder.

Usage::

    from interactcs.packs import load_pack
    pack = load_pack("packs/returns")          # a built-in pack, by its shortcut
    pack = load_pack("my_packs/telecom")       # any folder holding pack.yaml
    pack.budgets                               # {"voucher": 0.3, "refund": 0.1}
    pack.cost_table                            # {"refund": {"refund": 1.0}, ...}

Every mistake raises :class:`PackError` naming the file and the field, e.g.::

    .../returns/pack.yaml: budgets.gift: no action charges cost type 'gift' (cost types: ...)
    .../returns/pack.yaml: need_given_category: category 3 column sums to 0.95, expected 1
    .../returns/issues.yaml: defective.problem: Field required

Loaded packs are cached by their resolved folder (:func:`load_pack` is cheap to call per
dialogue).
"""

from __future__ import annotations

import json
import math
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from interactcs.packs.lexicon import PackActs, issue_act, offer_act, refuse_act
from interactcs.packs.schema import (
    ActionSpec,
    IssueSpec,
    NeedSpec,
    PackFile,
    SimulatorSpec,
    StrategiesSpec,
)
from interactcs.scenarios.schema import CATEGORY_NAMES, Persona

__all__ = [
    "BUILTIN_DIR",
    "SIM_INTENTS",
    "Pack",
    "PackError",
    "builtin_packs",
    "is_pack_source",
    "load_pack",
    "resolve_pack",
]

#: folder of the packs shipped with the package (``packs/<name>`` shortcuts).
BUILTIN_DIR = Path(__file__).resolve().parent
_PRINCIPLES_BUILTIN = BUILTIN_DIR.parent / "rewards" / "principles" / "fds.yaml"
TONES = ("rough", "plain", "kind")
#: utterance intents the generic simulator needs, each in every tone.
SIM_INTENTS: tuple[str, ...] = (
    "opening",
    "refuse_details",
    "give_evidence",
    "refuse_evidence",
    "no_photo",
    "evidence_again",
    "ask_again_annoyed",
    "details_again",
    "accept_offer",
    "reject_offer",
    "pushback",
    "remedy_pushback",
    "end_remedy_good",
    "end_remedy_bad",
    "end_good",
    "end_meh",
    "end_bad",
    "out_of_patience",
    "stalling",
    "repeat",
    "false_claim",
    "promise_followup",
    "ai_reveal",
    "off_topic",
    "too_long",
    "premature_close",
    "broken_offer",
    "continue",
)
#: shared acts the pack rule agent plans with (each needs a response template).
RULE_ACTS = (
    "apologize",
    "empathize",
    "probe_detail",
    "ask_evidence",
    "explain_policy",
    "report_team",
    "close",
)
_SLOTS = {"item", "merchant", "problem", "picture", "offered", "wanted"}
M = TypeVar("M", bound=BaseModel)


class PackError(ValueError):
    """A pack is malformed. ``path``: the file; ``field``: dotted field (None = whole file)."""

    def __init__(self, message: str, *, path: Path | None = None, field: str | None = None):
        super().__init__(message)
        self.path = path
        self.field = field


def _err(path: Path, fld: str | None, detail: str) -> PackError:
    return PackError(
        f"{path}: {fld}: {detail}" if fld else f"{path}: {detail}", path=path, field=fld
    )


def _validation(path: Path, exc: ValidationError, prefix: str = "") -> PackError:
    e = exc.errors()[0]
    fld = ".".join(str(p) for p in (*([prefix] if prefix else []), *e["loc"]))
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return _err(path, fld or None, f"{e['msg']}{more}")


def _yaml(path: Path) -> Any:
    if not path.is_file():
        raise _err(path, None, "file not found")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise _err(path, None, f"invalid YAML: {exc}") from None


def _model(path: Path, data: Any, model: type[M], prefix: str = "") -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _validation(path, exc, prefix) from None


def _mapping(path: Path, data: Any, model: type[M]) -> dict[str, M]:
    if not isinstance(data, dict) or not data:
        raise _err(path, None, "expected a non-empty mapping at the top level")
    return {str(k): _model(path, v, model, str(k)) for k, v in data.items()}


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise _err(path, None, "file not found")
    rows = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise _err(path, f"line {lineno}", f"invalid JSON: {exc.msg}") from None
        if not isinstance(row, dict):
            raise _err(path, f"line {lineno}", "expected a JSON object")
        rows.append(row)
    return rows


@dataclass(frozen=True, eq=False)
class Pack:
    """A loaded, validated pack.

    Attributes:
        ref: how scenarios refer to it (``Scenario.pack``): ``packs/<name>`` for a built-in
            pack, the absolute folder otherwise.
        root: the pack folder.
        spec: ``pack.yaml``.
        needs, personas, issues, sim, templates, strategies, catalog: the generic engine's
            files (empty for ``engine: fds``).
        principles_path: the judge principle YAML.
        acts: the pack's act detector (``None`` for ``engine: fds``: FDS uses the shared one).
    """

    ref: str
    root: Path
    spec: PackFile
    principles_path: Path
    needs: Mapping[int, NeedSpec] = field(default_factory=dict)
    personas: tuple[Persona, ...] = ()
    issues: Mapping[str, IssueSpec] = field(default_factory=dict)
    sim: SimulatorSpec | None = None
    templates: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    strategies: StrategiesSpec | None = None
    catalog: tuple[dict[str, Any], ...] = ()
    acts: PackActs | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def is_fds(self) -> bool:
        """The built-in FDS world (scenarios carry no pack; every module behaves as before)."""
        return self.spec.engine == "fds"

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(self.spec.actions)

    @property
    def costly_actions(self) -> tuple[str, ...]:
        return tuple(a for a, s in self.spec.actions.items() if s.costly)

    @property
    def cost_table(self) -> dict[str, dict[str, float]]:
        """action -> {cost type: amount} for costly actions (env ``CostTable`` layout)."""
        return {a: dict(s.cost) for a, s in self.spec.actions.items() if s.costly}

    @property
    def cost_types(self) -> tuple[str, ...]:
        return tuple(sorted({c for row in self.cost_table.values() for c in row}))

    @property
    def budgets(self) -> dict[str, float]:
        return dict(self.spec.budgets)

    @property
    def limits(self) -> dict[str, int]:
        """action -> most uses per dialogue (actions without a limit are absent)."""
        out = {}
        for a, s in self.spec.actions.items():
            if s.max_uses is not None:
                out[a] = s.max_uses
        return out

    @property
    def default_scene(self) -> str:
        return self.spec.default_scene or next(iter(self.spec.scenes))

    def action(self, name: str) -> ActionSpec:
        return self.spec.actions[name]

    def eligible(self, action: str, case: Mapping[str, Any]) -> bool:
        """Every SOP condition of ``action`` holds on ``case``."""
        spec = self.spec.actions.get(action)
        return spec is not None and all(c.holds(dict(case)) for c in spec.requires)

    def noun(self, action: str | None) -> str:
        if action is None:
            return "something for this"
        spec = self.spec.actions.get(action)
        return (spec.noun if spec and spec.noun else action) if spec else action


# --------------------------------------------------------------------------- resolution
def builtin_packs() -> list[str]:
    """Names of the packs shipped with the package."""
    return sorted(p.parent.name for p in BUILTIN_DIR.glob("*/pack.yaml"))


def resolve_pack(source: str | Path) -> tuple[str, Path] | None:
    """``(ref, folder)`` when ``source`` names a pack, else ``None``.

    Accepted: ``packs/<name>`` or ``<name>`` of a built-in pack, a folder holding
    ``pack.yaml``, or the ``pack.yaml`` file itself.
    """
    text = str(source).rstrip("/")
    name = text[len("packs/") :] if text.startswith("packs/") else text
    if re.fullmatch(r"[a-z][a-z0-9_-]*", name) and (BUILTIN_DIR / name / "pack.yaml").is_file():
        if text.startswith("packs/") or not Path(text).exists():
            return f"packs/{name}", BUILTIN_DIR / name
    path = Path(source)
    if path.name == "pack.yaml" and path.is_file():
        path = path.parent
    if path.is_dir() and (path / "pack.yaml").is_file():
        folder = path.resolve()
        if folder.parent == BUILTIN_DIR:
            return f"packs/{folder.name}", folder
        return str(folder), folder
    return None


def is_pack_source(source: str | Path | None) -> bool:
    """True when ``source`` names a pack (see :func:`resolve_pack`)."""
    if source is None:
        return False
    if str(source) in ("hard", "easy"):
        return False
    return resolve_pack(source) is not None


def load_pack(source: str | Path) -> Pack:
    """Load (cached) and validate a pack.

    Raises:
        PackError: ``source`` is not a pack, or a file or field is wrong (message names both).
    """
    found = resolve_pack(source)
    if found is None:
        avail = ", ".join(f"packs/{n}" for n in builtin_packs())
        raise PackError(
            f"{source}: not a scenario pack (a folder with pack.yaml, or one of {avail})",
            path=Path(source),
        )
    return _load(*found)


@lru_cache(maxsize=32)
def _load(ref: str, root: Path) -> Pack:
    path = root / "pack.yaml"
    data = _yaml(path)
    if not isinstance(data, dict):
        raise _err(path, None, "expected a mapping at the top level")
    spec = _model(path, data, PackFile)
    _check_pack_file(path, spec)
    principles = _principles(root, path, spec.principles)
    if spec.engine == "fds":
        return Pack(ref=ref, root=root, spec=spec, principles_path=principles)
    return _load_generic(ref, root, path, spec, principles)


# --------------------------------------------------------------------------- checks
def _check_pack_file(path: Path, spec: PackFile) -> None:
    acts = spec.actions
    if "chat" not in acts:
        raise _err(path, "actions", "the free action 'chat' is required")
    if acts["chat"].costly:
        raise _err(path, "actions.chat.cost", "chat must cost nothing")
    for name, a in acts.items():
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise _err(path, f"actions.{name}", "action names are lower-case words ([a-z0-9_])")
        for ctype, amount in a.cost.items():
            if not math.isfinite(amount) or amount < 0:
                raise _err(
                    path,
                    f"actions.{name}.cost.{ctype}",
                    f"must be a finite amount >= 0, got {amount}",
                )
        for kind in ("offer", "claim", "refuse"):
            for i, pat in enumerate(getattr(a, kind)):
                _regex(path, f"actions.{name}.{kind}.{i}", pat)
    types = sorted({c for a in acts.values() for c in a.cost})
    for ctype, budget in spec.budgets.items():
        if ctype not in types:
            raise _err(
                path,
                f"budgets.{ctype}",
                f"no action charges cost type {ctype!r} (cost types: {', '.join(types) or 'none'})",
            )
        if not 0 <= budget:
            raise _err(path, f"budgets.{ctype}", f"must be >= 0, got {budget}")
    if not spec.budgets:
        raise _err(path, "budgets", "at least one budget is required")
    _check_table(path, spec.need_given_category)
    for scene, weights in spec.scenes.items():
        if len(weights) != 5 or min(weights) < 0 or sum(weights) <= 0:
            raise _err(
                path, f"scenes.{scene}", "five non-negative category weights (1..5), not all 0"
            )
    if spec.default_scene is not None and spec.default_scene not in spec.scenes:
        raise _err(
            path,
            "default_scene",
            f"{spec.default_scene!r} is not one of scenes {sorted(spec.scenes)}",
        )
    for i, pat in enumerate(spec.lexicon.out_of_scope):
        _regex(path, f"lexicon.out_of_scope.{i}", pat)


def _check_table(path: Path, table: Mapping[int, list[float]]) -> None:
    """P(need | category): need keys 1..4, five columns, each column sums to 1."""
    bad = [k for k in table if k not in (1, 2, 3, 4)]
    if bad or not table:
        raise _err(
            path, "need_given_category", f"need keys must be among 1..4, got {sorted(table)}"
        )
    for need, row in table.items():
        if len(row) != 5 or min(row) < 0:
            raise _err(
                path, f"need_given_category.{need}", "five probabilities >= 0 (categories 1..5)"
            )
    for cat in range(5):
        total = sum(row[cat] for row in table.values())
        if abs(total - 1.0) > 1e-6:
            raise _err(
                path,
                "need_given_category",
                f"category {cat + 1} column sums to {total:.4g} (needs {', '.join(map(str, sorted(table)))}), expected 1",
            )


def _regex(path: Path, fld: str, pattern: str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise _err(path, fld, f"invalid regular expression {pattern!r}: {exc}") from None


def _principles(root: Path, path: Path, value: str) -> Path:
    p = _PRINCIPLES_BUILTIN if value == "builtin" else root / value
    data = _yaml(p)
    items = data.get("principles") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise _err(p, "principles", "a non-empty list of {name, weight, description, guidance}")
    names = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not item.get("name") or not item.get("description"):
            raise _err(p, f"principles.{i}", "needs a name and a description")
        weight = item.get("weight", 1)
        if not isinstance(weight, int | float) or weight <= 0:
            raise _err(p, f"principles.{i}.weight", f"must be > 0, got {weight!r}")
        names.append(item["name"])
    if len(set(names)) != len(names):
        raise _err(p, "principles", f"duplicate principle names in {names}")
    return p


# --------------------------------------------------------------------------- generic engine
def _require(path: Path, spec: PackFile, *names: str) -> None:
    for n in names:
        if getattr(spec, n) is None:
            raise _err(path, n, "Field required (engine: generic)")


def _load_generic(ref: str, root: Path, path: Path, spec: PackFile, principles: Path) -> Pack:
    _require(
        path, spec, "needs", "case", "personas", "issues", "simulator", "templates", "strategies"
    )
    assert spec.case is not None
    costly = {a for a, s in spec.actions.items() if s.costly}
    needs_path = root / str(spec.needs)
    raw_needs = _yaml(needs_path)
    needs = {int(k): v for k, v in _mapping(needs_path, raw_needs, NeedSpec).items()}
    if set(needs) != set(spec.need_given_category):
        raise _err(
            needs_path,
            None,
            f"needs {sorted(needs)} differ from need_given_category keys {sorted(spec.need_given_category)} in {path}",
        )
    for k, n in needs.items():
        if n.wants is not None and n.wants not in costly:
            raise _err(
                needs_path,
                f"{k}.wants",
                f"{n.wants!r} is not a costly action ({', '.join(sorted(costly))})",
            )
    issues_path = root / str(spec.issues)
    issues = _mapping(issues_path, _yaml(issues_path), IssueSpec)
    for key, issue in issues.items():
        for a in issue.utility:
            if a not in costly:
                raise _err(
                    issues_path,
                    f"{key}.utility.{a}",
                    f"unknown costly action (known: {', '.join(sorted(costly))})",
                )
    catalog = tuple(_jsonl(root / spec.case.catalog)) if spec.case.catalog else ()
    _check_case(path, spec, catalog, set(spec.actions))
    personas = _personas(root, spec)
    sim = _simulator(root / str(spec.simulator), needs, costly)
    templates = _templates(root / str(spec.templates), spec, needs)
    strategies, acts = _strategies(root / str(spec.strategies), spec, costly)
    return Pack(
        ref=ref,
        root=root,
        spec=spec,
        principles_path=principles,
        needs=needs,
        personas=personas,
        issues=issues,
        sim=sim,
        templates=templates,
        strategies=strategies,
        catalog=catalog,
        acts=acts,
    )


def _check_case(
    path: Path, spec: PackFile, catalog: tuple[dict[str, Any], ...], actions: set[str]
) -> None:
    assert spec.case is not None
    fields = spec.case.fields
    for key, f in fields.items():
        where = f"case.fields.{key}"
        if f.kind == "choice" and not f.values:
            raise _err(path, f"{where}.values", "a choice field needs values")
        if f.weights is not None and (f.values is None or len(f.weights) != len(f.values)):
            raise _err(path, f"{where}.weights", "one weight per value")
        if f.kind in ("int", "float") and (f.low is None or f.high is None or f.low > f.high):
            raise _err(path, f"{where}.low", "int/float fields need low <= high")
        if f.kind == "bool" and f.p is None:
            raise _err(path, f"{where}.p", "a bool field needs p (probability of true)")
        if f.kind == "catalog":
            if not catalog:
                raise _err(
                    path,
                    "case.catalog",
                    f"field {key!r} reads the catalog but no catalog file is set",
                )
            missing = [i + 1 for i, row in enumerate(catalog) if f.column not in row]
            if missing:
                raise _err(
                    path, f"{where}.column", f"catalog rows {missing[:5]} lack column {f.column!r}"
                )
    m = spec.case.order
    for role in ("id", "item", "merchant", "issue", "flag"):
        key = getattr(m, role)
        if key is not None and key not in fields:
            raise _err(
                path, f"case.order.{role}", f"{key!r} is not a case field ({', '.join(fields)})"
            )
    if fields[m.issue].kind != "issue":
        raise _err(
            path, f"case.fields.{m.issue}.kind", "the order's issue field must have kind: issue"
        )
    if m.flag is not None and fields[m.flag].kind != "bool":
        raise _err(path, f"case.fields.{m.flag}.kind", "the risk-flag field must have kind: bool")
    for a, s in spec.actions.items():
        for i, c in enumerate(s.requires):
            for ref in (c.field, c.ref):
                if ref is not None and ref not in fields:
                    raise _err(path, f"actions.{a}.requires.{i}", f"{ref!r} is not a case field")
    del actions


def _personas(root: Path, spec: PackFile) -> tuple[Persona, ...]:
    if spec.personas == "builtin":
        from interactcs.scenarios.bank import load_bank

        return load_bank().personas
    p = root / str(spec.personas)
    out = []
    for i, row in enumerate(_jsonl(p), start=1):
        try:
            persona = Persona.model_validate(row)
        except ValidationError as exc:
            raise _validation(p, exc, f"line {i}") from None
        if not persona.category_name:
            persona = persona.model_copy(update={"category_name": CATEGORY_NAMES[persona.category]})
        out.append(persona)
    missing = [c for c in CATEGORY_NAMES if not any(x.category == c for x in out)]
    if missing:
        raise _err(
            p, "category", f"no persona for categories {missing} (every category 1..5 needs one)"
        )
    return tuple(out)


def _simulator(p: Path, needs: Mapping[int, NeedSpec], costly: set[str]) -> SimulatorSpec:
    sim = _model(p, _yaml(p), SimulatorSpec)
    if set(sim.needs) != set(needs):
        raise _err(
            p, "needs", f"parameters for needs {sorted(sim.needs)}, the pack has {sorted(needs)}"
        )
    for k, n in sim.needs.items():
        if set(n.utility) != costly:
            raise _err(
                p,
                f"needs.{k}.utility",
                f"one utility per costly action {sorted(costly)}, got {sorted(n.utility)}",
            )
    cats = sim.categories
    for name in ("p_evidence", "p_detail", "p_volunteer", "p_valid", "hostility"):
        vals = getattr(cats, name)
        if min(vals) < 0 or max(vals) > 1:
            raise _err(p, f"categories.{name}", f"probabilities in [0, 1], got {vals}")
    for name in ("evidence_genuine", "evidence_doubtful"):
        total = sum(getattr(sim, name))
        if abs(total - 1) > 1e-6:
            raise _err(p, name, f"P(strong, weak, none) sums to {total:.4g}, expected 1")
    return sim


def _placeholders(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def _templates(
    p: Path, spec: PackFile, needs: Mapping[int, NeedSpec]
) -> dict[str, dict[str, tuple[str, ...]]]:
    data = _yaml(p)
    if not isinstance(data, dict):
        raise _err(p, None, "expected intent -> tone -> list of utterances")
    assert spec.case is not None
    slots = _SLOTS | set(spec.case.fields)
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for intent in (*SIM_INTENTS, *(f"need_{k}" for k in needs)):
        by_tone = data.get(intent)
        if not isinstance(by_tone, dict):
            raise _err(p, intent, "Field required (utterances for tones rough, plain, kind)")
        out[intent] = {}
        for tone in TONES:
            lines = by_tone.get(tone)
            if (
                not isinstance(lines, list)
                or not lines
                or not all(isinstance(x, str) and x for x in lines)
            ):
                raise _err(p, f"{intent}.{tone}", "a non-empty list of utterances")
            for i, line in enumerate(lines):
                try:
                    unknown = _placeholders(line) - slots
                except ValueError as exc:
                    raise _err(p, f"{intent}.{tone}.{i}", f"bad template: {exc}") from None
                if unknown:
                    raise _err(
                        p,
                        f"{intent}.{tone}.{i}",
                        f"unknown slots {sorted(unknown)} (known: {sorted(slots)})",
                    )
            out[intent][tone] = tuple(lines)
    return out


def _strategies(p: Path, spec: PackFile, costly: set[str]) -> tuple[StrategiesSpec, PackActs]:
    st = _model(p, _yaml(p), StrategiesSpec)
    pack_acts = {f(a) for a in costly for f in (offer_act, issue_act, refuse_act)}
    from interactcs.packs.lexicon import SHARED_ACTS

    known = SHARED_ACTS | pack_acts
    for act in st.fragments:
        if act not in known:
            raise _err(p, f"fragments.{act}", f"unknown act (known: {', '.join(sorted(known))})")
    for name, plan in st.strategies.items():
        issues = [a for a in plan if a.startswith("issue_")]
        for act in plan:
            if act not in st.fragments:
                raise _err(p, f"strategies.{name}", f"act {act!r} has no fragments")
        if len(issues) > 1:
            raise _err(p, f"strategies.{name}", f"takes more than one action: {issues}")
    for act in st.fragments:
        if act not in st.act_order:
            raise _err(p, "act_order", f"act {act!r} has fragments but no place in act_order")
    need = [*RULE_ACTS, *(f(a) for a in sorted(costly) for f in (offer_act, issue_act))]
    for act in need:
        if act not in st.fragments:
            raise _err(p, f"fragments.{act}", "Field required (the pack rule agent uses it)")
    ra = st.rule_agent
    for kind in ("wants", "refuses"):
        for a, pats in getattr(ra, kind).items():
            if a not in costly:
                raise _err(
                    p,
                    f"rule_agent.{kind}.{a}",
                    f"not a costly action ({', '.join(sorted(costly))})",
                )
            for i, pat in enumerate(pats):
                _regex(p, f"rule_agent.{kind}.{a}.{i}", pat)
    for kind in ("feedback", "accept", "reject", "weak_photo", "hedge", "no_details"):
        for i, pat in enumerate(getattr(ra, kind)):
            _regex(p, f"rule_agent.{kind}.{i}", pat)
    if ra.default_offer is not None and ra.default_offer not in costly:
        raise _err(p, "rule_agent.default_offer", f"{ra.default_offer!r} is not a costly action")
    detector = PackActs(
        {a: spec.actions[a] for a in sorted(costly)}, spec.lexicon.out_of_scope, spec.lexicon.domain
    )
    _check_readback(p, spec, st, detector)
    return st, detector


def _check_readback(p: Path, spec: PackFile, st: StrategiesSpec, detector: PackActs) -> None:
    """Every fragment must be read back as its own act by the pack's detector."""
    assert spec.case is not None
    dummy = {k: "sample" for k in spec.case.fields} | {"item": "item", "merchant": "Shop"}
    for act, variants in st.fragments.items():
        if act.startswith("issue_"):
            continue  # the action tag issues it; the text is a claim checked below
        for i, text in enumerate(variants):
            try:
                rendered = text.format_map(dummy)
            except (KeyError, ValueError) as exc:
                raise _err(p, f"fragments.{act}.{i}", f"bad template: {exc}") from None
            if act not in detector.detect(rendered, None):
                raise _err(p, f"fragments.{act}.{i}", f"{rendered!r} is not read back as {act}")
