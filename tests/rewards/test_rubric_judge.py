"""Principle files and the offline rubric judge (hand-scored dialogues).

Process reward = (persona + stage + quality + 2·rules) / 5 with the project's weights.
"""

from __future__ import annotations

import pytest

from interactcs.rewards.judges import JUDGES, RubricJudge, load_principles
from interactcs.types import FormatStatus

PHOTO_ASK = "I'm so sorry about that! Could you send a photo of the food?"
ISSUED = "Thank you for the photo. I've issued a voucher for you."
PICTURE = "[Sent Picture: soggy fries] here you go"


def test_project_principles():
    ps = load_principles()
    assert ps.names == ("persona_fit", "dialogue_stage", "response_quality", "scenario_rules")
    assert ps.weights == {
        "persona_fit": 1,
        "dialogue_stage": 1,
        "response_quality": 1,
        "scenario_rules": 2,
    }
    persona = ps.principles[0]
    assert all(persona.guidance_for(c) for c in range(1, 6))
    assert persona.guidance_for(1) != persona.guidance_for(5)
    assert ps.principles[1].guidance_for(4) == ps.principles[1].guidance["all"]
    # (1 + 0.5 + 0 + 2·1) / 5
    assert ps.combine(dict(zip(ps.names, [1, 0.5, 0, 1], strict=True))) == pytest.approx(0.7)
    with pytest.raises(KeyError):
        ps.combine({"persona_fit": 1})


def test_principle_file_errors(tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text("principles:\n  - name: a\n    weight: 0\n")
    with pytest.raises(ValueError, match="weight"):
        load_principles(p)
    p.write_text("principles:\n  - name: a\n    weight: 1\n    guidance: {'7': x}\n")
    with pytest.raises(ValueError, match="guidance"):
        load_principles(p)
    p.write_text("principles:\n  - weight: 1\n")
    with pytest.raises(ValueError, match="#0"):
        load_principles(p)
    p.write_text("principles:\n  - name: clarity\n    weight: 1\n")
    with pytest.raises(ValueError, match="rubric"):
        RubricJudge(load_principles(p))


def _scores(traj):
    return [t.process_score for t in traj.turns]


def test_good_dialogue_cooperative(make_traj):
    """Category 5. Turn 0 (gather): apologises and asks for a photo -> 1 on every principle.
    Turn 1 (resolve, picture seen): issues the voucher it mentions -> 1 everywhere."""
    t = make_traj([("", PHOTO_ASK, "chat"), (PICTURE, ISSUED, "voucher")], category=5)
    stats = RubricJudge().judge([t])
    assert _scores(t) == [1.0, 1.0]
    assert stats.units == 2 and stats.judged == 2 and stats.failed == 0
    assert t.turns[1].process_detail["stage"] == "resolve"


def test_premature_voucher_hostile_user(make_traj):
    """Category 1, voucher on the first turn with nothing asked: persona 0 (compensates a hostile
    user before evidence), stage 0 (jumps to compensation), quality 1, rules 0 -> 1/5 = 0.2."""
    t = make_traj([("", "Here is a voucher for you.", "voucher")], category=1)
    RubricJudge().judge([t])
    assert _scores(t) == [pytest.approx(0.2)]
    assert t.turns[0].process_detail["scores"] == {
        "persona_fit": 0.0,
        "dialogue_stage": 0.0,
        "response_quality": 1.0,
        "scenario_rules": 0.0,
    }


def test_stalling_and_repeating(make_traj):
    """Category 3. Turn 0 "I'm sorry.": persona 0.5 (sympathy only), stage 0.5 (asks
    nothing), quality 1, rules 1 -> (0.5+0.5+1+2)/5 = 0.8. Turn 1 repeats it after a refund
    demand: a gamed (repetitive) turn, persona 0, stage 0, quality 0, rules 1 -> 2/5 = 0.4."""
    t = make_traj([("", "I'm sorry.", "chat"), ("I want a refund.", "I'm sorry.", "chat")])
    RubricJudge().judge([t])
    assert _scores(t) == [pytest.approx(0.8), pytest.approx(0.4)]
    assert t.turns[1].process_detail["reasons"]["response_quality"] == (
        "repetitive: repeats an earlier reply"
    )


def test_false_claim_and_out_of_scope_promise(make_traj):
    """Turn 0 claims a voucher with action chat: rules 0, stage 0.5, persona 1, quality 1
    -> 0.5. Turn 1 promises a manager call-back: quality 0, stage 0.5 -> (1+.5+0+2)/5 = 0.7."""
    t = make_traj(
        [
            ("", "I've issued a voucher for you.", "chat"),
            ("where is it?", "I will have a manager call you back.", "chat"),
        ]
    )
    RubricJudge().judge([t])
    assert _scores(t) == [pytest.approx(0.5), pytest.approx(0.7)]


def test_format_failure_breaks_rules(make_traj):
    t = make_traj(
        [("", PHOTO_ASK, "chat"), (PICTURE, ISSUED, "voucher")],
        statuses=[FormatStatus.OK, FormatStatus.SECOND_VOUCHER],
    )
    RubricJudge().judge([t])
    assert t.turns[1].process_detail["scores"]["scenario_rules"] == 0.0


@pytest.mark.parametrize("rc_tag, rules", [(False, 1.0), (True, 0.0)])
def test_two_questions_reach_resolve_unless_flagged(make_traj, rc_tag, rules):
    """Probe, then ask for a photo (no picture comes), then voucher: after two questions the
    stage is 'resolve' (rules 1), but a risk-flagged order needs evidence (rules 0)."""
    t = make_traj(
        [
            ("", "Which item was cold?", "chat"),
            ("the fries", "Could you send a photo of the fries?", "chat"),
            ("no", ISSUED, "voucher"),
        ],
        rc_tag=rc_tag,
    )
    RubricJudge().judge([t])
    assert t.turns[2].process_detail["scores"]["scenario_rules"] == rules


def test_dialogue_mode(make_traj):
    """The stalling dialogue per turn: persona [.5, 0], stage [.5, 0], quality [1, 0] (turn 1
    is a repeat), rules [1, 1]. Dialogue: means .25, .25, .5 snapped to .5 (ties go up), rules
    min 1 -> (.5+.5+.5+2)/5 = 0.7."""
    t = make_traj([("", "I'm sorry.", "chat"), ("I want a refund.", "I'm sorry.", "chat")])
    stats = JUDGES.get("rubric")(mode="dialogue").judge([t])
    assert t.dialogue_scores["process"] == pytest.approx(0.7)
    assert [x.process_score for x in t.turns] == [None, None]
    assert stats.units == 1 and stats.judged == 1
    empty = make_traj([])
    stats = RubricJudge(mode="dialogue").judge([empty])
    assert empty.dialogue_scores["process"] is None and stats.failed == 1


def test_rubric_judges_many_turns(make_traj):
    """2,000 turns in one call all get a score (speed is a benchmark, not a test: wall-clock
    asserts flake on a shared 2-core box)."""
    trajs = [
        make_traj([("", PHOTO_ASK, "chat"), (PICTURE, ISSUED, "voucher")] * 5) for _ in range(200)
    ]
    RubricJudge().judge(trajs)
    assert all(t.process_score is not None for tr in trajs for t in tr.turns)
