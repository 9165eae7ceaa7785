"""Training sequences: agent masks, turn indices, padding, truncation."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interactcs.train.sequences import (
    GENERIC_SYSTEM_PROMPT,
    agent_spans,
    build_sequences,
    trajectory_chat,
    turn_values_to_tokens,
)
from interactcs.types import FormatStatus, Trajectory, Turn

AGENT = [
    "<think>Cold food, ask for a photo.</think><response>Sorry! Could you send a photo?</response><action>chat</action>",
    "  <think>Photo shows it.</think><response>I've issued a voucher. 🙏</response><action>voucher</action> ",
    "<think>close</think><response>Anything else?</response><action>chat</action>",
]
USER = ["My noodles arrived cold.", "[Sent Picture: cold noodles] here", "no thanks"]


def traj(
    agent: list[str] = AGENT, user: list[str] = USER, prompt: str | None = "SYSTEM PROMPT"
) -> Trajectory:
    turns = [
        Turn(i, u, a, None, None, None, FormatStatus.OK, reply=(user + ["bye"])[i + 1])
        for i, (u, a) in enumerate(zip(user, agent, strict=True))
    ]
    meta = {"system_prompt": prompt} if prompt else {}
    return Trajectory("s1", 3, 2, "temperature", user[0], turns=turns, meta=meta)


@pytest.fixture(scope="module")
def tok(tiny_model_dir: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


def test_agent_tokens_decode_to_agent_texts(tok) -> None:
    b = build_sequences(tok, [traj()])
    ids, mask, turn = b.input_ids[0], b.agent_mask[0], b.turn_index[0]
    assert b.num_turns.tolist() == [3]
    for k, text in enumerate(AGENT):
        assert tok.decode(ids[turn == k]) == text + tok.eos_token
    assert torch.equal(mask, (turn >= 0).long())
    # everything else: system prompt, user messages, role headers; no agent text
    rest = tok.decode(ids[mask == 0])
    assert "SYSTEM PROMPT" in rest and all(u in rest for u in USER)
    assert "<think>" not in rest and "assistant" in rest
    # the customer's reply after the last agent turn is not part of the sequence
    assert "bye" not in tok.decode(ids)


def test_system_and_user_tokens_are_masked(tok) -> None:
    b = build_sequences(tok, [traj()])
    ids, mask = b.input_ids[0].tolist(), b.agent_mask[0].tolist()
    text = tok.decode(ids)
    sys_len = len(tok(text[: text.index(USER[0])], add_special_tokens=False)["input_ids"])
    assert sum(mask[:sys_len]) == 0
    first = mask.index(1)
    assert tok.decode(ids[:first]).endswith("<|im_start|>assistant\n")


def test_padding_sides_and_truncation(tok) -> None:
    short = traj(AGENT[:1], USER[:1])
    right = build_sequences(tok, [traj(), short])
    left = build_sequences(tok, [traj(), short], padding_side="left")
    n = int(right.attention_mask[1].sum())
    assert right.attention_mask[1, n:].sum() == 0 and left.attention_mask[1, :-n].sum() == 0
    for f in ("input_ids", "agent_mask", "turn_index"):
        r, lft = getattr(right, f)[1], getattr(left, f)[1]
        assert torch.equal(r[:n], lft[-n:])
    assert (right.turn_index[right.attention_mask == 0] == -1).all()
    assert not right.truncated.any()
    full = int(right.attention_mask[0].sum())
    cut = build_sequences(tok, [traj()], max_len=full - 5)
    assert cut.input_ids.shape[1] == full - 5 and cut.truncated.tolist() == [True]
    assert torch.equal(cut.input_ids[0], right.input_ids[0, : full - 5])
    assert cut.num_turns.tolist() == [3]
    # the last turn lost its tail (incl. end-of-turn) but keeps its leading tokens
    assert (cut.turn_index[0] == 2).sum() == (right.turn_index[0] == 2).sum() - 5 + 1


def test_generic_prompt_and_override(tok) -> None:
    t = traj(prompt=None)
    assert trajectory_chat(t)[0]["content"] == GENERIC_SYSTEM_PROMPT
    assert trajectory_chat(t, "X")[0]["content"] == "X"
    b = build_sequences(tok, [t], system_prompts=["OVERRIDE"])
    assert "OVERRIDE" in tok.decode(b.input_ids[0])
    with pytest.raises(ValueError, match="system prompts"):
        build_sequences(tok, [t], system_prompts=[])


def test_select_and_to(tok) -> None:
    b = build_sequences(tok, [traj(), traj(AGENT[:1], USER[:1])])
    one = b.select([1])
    assert len(one) == 1 and torch.equal(one.input_ids[0], b.input_ids[1])
    assert b.to("cpu").input_ids.device.type == "cpu"


def test_non_prefix_stable_template_is_rejected(tok) -> None:
    """A template that drops earlier assistant turns cannot give multi-turn masks."""
    import copy

    t2 = copy.deepcopy(tok)
    t2.chat_template = (
        "{% for m in messages %}{% if m['role'] != 'assistant' or loop.last %}"
        "<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endif %}{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
    with pytest.raises(ValueError, match="prefix"):
        agent_spans(t2, trajectory_chat(traj()))


def test_turn_values_to_tokens() -> None:
    ti = torch.tensor([[-1, 0, 0, -1, 1], [-1, -1, 0, 0, -1]])
    out = turn_values_to_tokens(ti, [[0.5, -1.0], [2.0]])
    assert out.tolist() == [[0, 0.5, 0.5, 0, -1.0], [0, 0, 2.0, 2.0, 0]]
    assert turn_values_to_tokens(ti, torch.zeros(2, 0)).abs().sum() == 0


_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=40,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(agent=st.lists(_text, min_size=1, max_size=3), user=st.lists(_text, min_size=3, max_size=3))
def test_property_masked_tokens_are_exactly_agent_texts(
    tok, agent: list[str], user: list[str]
) -> None:
    t = traj(agent, user[: len(agent)])
    b = build_sequences(tok, [t])
    ids, turn = b.input_ids[0], b.turn_index[0]
    for k, text in enumerate(agent):
        assert tok.decode(ids[turn == k]) == text + tok.eos_token


def test_end_of_turn_found_when_eos_differs(tok) -> None:
    """Base models often have eos <|endoftext|> while the template closes turns with <|im_end|>."""
    import copy

    base = copy.deepcopy(tok)
    base.eos_token = "<|endoftext|>"
    b = build_sequences(base, [traj()])
    assert tok.decode(b.input_ids[0][b.turn_index[0] == 0]) == AGENT[0] + "<|im_end|>"
