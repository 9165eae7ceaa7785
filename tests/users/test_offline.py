"""Offline persona simulator: registration, determinism, hidden state, and reactions to acts."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import pytest

from interactcs.env.prompt import render_agent_output
from interactcs.env.service_env import ServiceEnv
from interactcs.scenarios.generator import generate_scene
from interactcs.scenarios.schema import Scenario
from interactcs.types import AgentTurn, SystemState
from interactcs.users.base import SIMULATORS
from interactcs.users.offline import OfflinePersonaSimulator, OfflineSession

SIM = OfflinePersonaSimulator()


@pytest.fixture(scope="module")
def pool() -> list[Scenario]:
    return generate_scene("hard", 512, 0)


def find(pool: list[Scenario], pred: Callable[[Scenario, int], bool]) -> tuple[Scenario, int]:
    for sc in pool:
        for seed in range(20):
            if pred(sc, seed):
                return sc, seed
    raise AssertionError("no scenario matches")


def turn(response: str, action: str = "chat") -> AgentTurn:
    return AgentTurn(render_agent_output("t", response, action), "t", response, action)


def system(n: int, issued: bool = False) -> SystemState:
    return SystemState(voucher_issued=issued, turn=n, max_turns=15)


def play(session: OfflineSession, responses: list[tuple[str, str]]) -> list:
    out = []
    issued = False
    for i, (resp, action) in enumerate(responses, 1):
        issued |= action == "voucher"
        out.append(session.respond(turn(resp, action), [], system(i, issued)))
        if out[-1].end:
            break
    return out


def test_registered() -> None:
    sim = SIMULATORS.get("offline")()
    assert isinstance(sim, OfflinePersonaSimulator) and sim.name == "offline"


def test_deterministic_under_seed(pool: list[Scenario]) -> None:
    script = [
        ("Sorry about that. What happened exactly?", "chat"),
        ("Could you send a photo?", "chat"),
        ("I could offer you a voucher, would that work?", "chat"),
        ("I've issued a voucher.", "voucher"),
    ]

    def run(sc: Scenario, seed: int, offset: int = 0) -> list[tuple[str, int | None]]:
        s = OfflinePersonaSimulator(seed_offset=offset).session(sc, seed)
        return [(s.open().text, None)] + [(r.text, r.satisfaction) for r in play(s, script)]

    runs = {sc.scenario_id: run(sc, 7) for sc in pool[:30]}
    assert runs == {sc.scenario_id: run(sc, 7) for sc in pool[:30]}
    assert any(run(sc, 8) != runs[sc.scenario_id] for sc in pool[:30])
    assert any(run(sc, 7, offset=1) != runs[sc.scenario_id] for sc in pool[:30])


def test_profile_matches_session(pool: list[Scenario]) -> None:
    for sc in pool[:20]:
        assert SIM.profile(sc, 3) == SIM.session(sc, 3).profile


def test_rc_tag_lowers_validity(pool: list[Scenario]) -> None:
    base = pool[0]
    flagged = base.model_copy(update={"order": base.order.model_copy(update={"rc_tag": True})})
    plain = base.model_copy(update={"order": base.order.model_copy(update={"rc_tag": False})})
    v_flag = statistics.fmean(SIM.profile(flagged, s).valid for s in range(400))
    v_plain = statistics.fmean(SIM.profile(plain, s).valid for s in range(400))
    assert v_flag < 0.45 < 0.65 < v_plain


def test_opening_mentions_order(pool: list[Scenario]) -> None:
    for sc in pool[:40]:
        text = SIM.session(sc, 0).open().text
        item = sc.order.metadata.get("issue_item")
        assert sc.order.merchant in text or (item and item in text) or "order" in text.lower()


def test_false_claims_end_at_one(pool: list[Scenario]) -> None:
    sc = pool[0]
    r = SIM.session(sc, 0).respond(turn("Great news, your voucher has been issued."), [], system(1))
    assert r.end and r.satisfaction == 1
    r = SIM.session(sc, 0).respond(turn("Your refund has been processed."), [], system(1))
    assert r.end and r.satisfaction == 1
    # a true claim (the system shows the voucher) is fine
    r = SIM.session(sc, 0).respond(
        turn("I've issued a voucher to your account.", "voucher"), [], system(1, True)
    )
    assert r.satisfaction != 1 or r.meta["intent"] != "false_voucher"


def test_evidence_given_by_cooperative_user(pool: list[Scenario]) -> None:
    sc, seed = find(pool, lambda s, k: s.category == 5 and SIM.profile(s, k).evidence == "strong")
    shown = 0
    for k in range(seed, seed + 10):
        s = SIM.session(sc, k)
        s.open()
        if s.evidence_shown:
            continue
        r = s.respond(turn("Could you send me a photo of it?"), [], system(1))
        shown += r.picture is not None and "[Sent Picture:" in r.text
    assert shown >= 5


def test_voucher_utility_depends_on_need(pool: list[Scenario]) -> None:
    def mean_after_voucher(need: int) -> float:
        scores = []
        for sc in [s for s in pool if s.need == need][:40]:
            s = SIM.session(sc, 0)
            s.open()
            rs = play(
                s,
                [
                    ("Sorry about that. What happened exactly?", "chat"),
                    ("I've issued a voucher for the trouble.", "voucher"),
                    ("Take care.", "chat"),
                ],
            )
            scores.append(rs[-1].satisfaction)
        return statistics.fmean(scores)

    assert mean_after_voucher(1) + 1.0 < mean_after_voucher(3)


def _final(sc: Scenario, seed: int, script: list[tuple[str, str]]) -> int:
    s = SIM.session(sc, seed)
    s.open()
    rs = play(s, script + [("Is there anything else I can help with?", "chat")] * 10)
    return rs[-1].satisfaction or 1


def test_gaming_costs_satisfaction(pool: list[Scenario]) -> None:
    sample = pool[:60]
    clean = [
        ("I'm sorry about this. What happened with the order exactly?", "chat"),
        ("Could you send me a photo?", "chat"),
        ("I can't refund to your card, but I've reported this to the restaurant team.", "chat"),
    ]
    stuffed = [
        (
            "Sorry, I understand how frustrating this is. Which item was affected? Please send a photo. "
            "Our policy allows no card refunds. I can offer a voucher. I've reported this to the "
            "restaurant team. Anything else?",
            "chat",
        )
    ] * 3
    apologies = [
        ("I'm so sorry.", "chat"),
        ("I really apologise.", "chat"),
        ("Sorry again.", "chat"),
    ] * 3
    promise = [("Don't worry, we will refund the full amount to your card.", "chat")] + clean[1:]
    score = {
        name: statistics.fmean(_final(sc, 0, sc_) for sc in sample)
        for name, sc_ in {
            "clean": clean,
            "stuffed": stuffed,
            "apologies": apologies,
            "promise": promise,
        }.items()
    }
    assert score["clean"] > score["stuffed"] + 0.3
    assert score["clean"] > score["apologies"] + 0.3
    assert score["clean"] > score["promise"] + 0.25


def test_repetition_costs_patience(pool: list[Scenario]) -> None:
    sc = pool[3]
    a, b = SIM.session(sc, 0), SIM.session(sc, 0)
    a.open(), b.open()
    q1, q2 = "Which item was it, and when did it arrive?", "What exactly was wrong with the food?"
    a.respond(turn(q1), [], system(1)), b.respond(turn(q1), [], system(1))
    ra = a.respond(turn(q1), [], system(2))
    rb = b.respond(turn(q2), [], system(2))
    assert "repeat" in ra.meta["remarks"] and "repeat" not in rb.meta["remarks"]
    assert a.patience < b.patience


def test_premature_voucher_helps_less(pool: list[Scenario]) -> None:
    sample = [s for s in pool if s.need == 3][:40]
    early = [
        _final(sc, 0, [("I've issued a voucher for the trouble.", "voucher")]) for sc in sample
    ]
    late = [
        _final(
            sc,
            0,
            [
                ("Sorry to hear that. What happened exactly?", "chat"),
                ("Would a voucher for your next order help?", "chat"),
                ("I've issued a voucher for the trouble.", "voucher"),
            ],
        )
        for sc in sample
    ]
    assert statistics.fmean(late) > statistics.fmean(early)


def test_every_dialogue_ends_within_cap(pool: list[Scenario]) -> None:
    env = ServiceEnv(SIM, max_turns=15)
    text = render_agent_output("t", "Could you tell me more about it?", "chat")
    for i, sc in enumerate(pool[:40]):
        env.reset(sc, seed=i)
        while not env.done:
            env.step(text)
        traj = env.trajectory()
        assert traj.terminated and traj.satisfaction is not None  # patience runs out before the cap


def test_respond_after_end_is_a_failure(pool: list[Scenario]) -> None:
    s = SIM.session(pool[0], 0)
    s.respond(turn("Your refund has been processed."), [], system(1))
    assert s.respond(turn("Hello?"), [], system(2)).failure


def test_turn_is_fast(pool: list[Scenario]) -> None:
    env = ServiceEnv(SIM)
    text = render_agent_output("t", "Sorry about that. Which item was it?", "chat")
    n, t0 = 0, time.perf_counter()
    for i, sc in enumerate(pool[:100]):
        env.reset(sc, seed=i)
        env.step(text)
        n += 1
    per_turn_us = (time.perf_counter() - t0) / n * 1e6
    assert per_turn_us < 1000  # reset + one turn; ~100 us on a quiet core
