"""SFT: assistant-only loss, loss goes down, outputs, filters, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from interactcs.policies.hf import HFPolicy
from interactcs.train.sequences import build_sequences
from interactcs.train.sft import (
    SFTConfig,
    load_trajectories,
    masked_nll,
    resolve_system_prompts,
    run_sft,
    select_trajectories,
)
from interactcs.types import FormatStatus, Trajectory, Turn


def make_traj(i: int, *, status: FormatStatus = FormatStatus.OK, sat: int = 4) -> Trajectory:
    turns = [
        Turn(0, "My pizza came cold.", f"<think>ask {i}</think><response>Sorry, could you send a photo?</response><action>chat</action>",
             None, None, None, FormatStatus.OK, reply="[Sent Picture: cold pizza]"),
        Turn(1, "[Sent Picture: cold pizza]", "<think>fault confirmed</think><response>I've issued a voucher.</response><action>voucher</action>",
             None, None, None, status, reply="ok thanks"),
    ]  # fmt: skip
    end = "user_end" if status == FormatStatus.OK else "format_failure"
    return Trajectory(
        f"s{i}", 3, 3, "temperature", "My pizza came cold.", turns=turns, satisfaction=sat,
        terminated=True, end_reason=end, meta={"system_prompt": f"You are agent {i % 2}."},
    )  # fmt: skip


@pytest.fixture()
def policy(tiny_model_dir: Path) -> HFPolicy:
    return HFPolicy(tiny_model_dir)


def _full_logits(policy: HFPolicy, batch) -> torch.Tensor:
    """Plain ``model(...).logits`` with position ids from the mask (reference values)."""
    pos = (batch.attention_mask.cumsum(-1) - 1).clamp(min=0)
    return policy.model(
        input_ids=batch.input_ids, attention_mask=batch.attention_mask, position_ids=pos
    ).logits


def test_masked_nll_example() -> None:
    lp = torch.tensor([[0.0, -1.0, -3.0]])
    assert masked_nll(lp, torch.tensor([[0, 1, 1]])).item() == 2.0
    assert masked_nll(lp, torch.tensor([[0, 1, 1]]), denom=4.0).item() == 1.0


def test_loss_uses_only_agent_tokens(policy: HFPolicy) -> None:
    trajs = [make_traj(0), make_traj(1)]
    batch = build_sequences(policy.tokenizer, trajs)
    with torch.no_grad():
        lp = policy.token_logprobs(batch)
    loss = masked_nll(lp, batch.agent_mask)
    # changing the log-probs (i.e. the labels' scores) of every non-agent token does nothing
    noisy = torch.where(batch.agent_mask.bool(), lp, lp - 5.0 * torch.rand_like(lp))
    assert masked_nll(noisy, batch.agent_mask).item() == loss.item()
    # same as cross-entropy with non-agent labels ignored (-100), the usual HF recipe
    with torch.no_grad():
        logits = _full_logits(policy, batch)
    labels = batch.input_ids.masked_fill(batch.agent_mask == 0, -100)
    ce = torch.nn.functional.cross_entropy(
        logits[:, :-1].reshape(-1, logits.size(-1)), labels[:, 1:].reshape(-1), ignore_index=-100
    )
    torch.testing.assert_close(loss, ce, atol=1e-5, rtol=0)


def test_sft_loss_decreases_and_writes_outputs(policy: HFPolicy, tmp_path: Path) -> None:
    trajs = [make_traj(i) for i in range(6)]
    seen: list[dict] = []
    ticks: list[int] = []
    res = run_sft(
        policy, trajs, SFTConfig(epochs=4, lr=1e-2, batch_size=3, seed=1), out_dir=tmp_path,
        progress=ticks.append, on_step=seen.append,
    )  # fmt: skip
    assert res.steps == 8 == len(seen) == len(ticks) and res.dialogues == 6
    assert res.last_loss < 0.6 * res.first_loss
    rows = [json.loads(x) for x in (tmp_path / "sft_metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == list(range(1, 9))
    assert {"train/sft_loss", "train/agent_tokens", "train/lr", "train/grad_norm"} <= set(rows[0])
    assert json.loads((tmp_path / "sft_config.json").read_text())["config"]["epochs"] == 4
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tmp_path / "model")
    AutoTokenizer.from_pretrained(tmp_path / "model")
    batch = build_sequences(policy.tokenizer, trajs[:2])
    with torch.no_grad():
        got = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask).logits
        want = _full_logits(policy, batch)
    torch.testing.assert_close(got, want, atol=1e-4, rtol=0)
    assert not policy.model.training


def test_micro_batches_give_the_same_update(tiny_model_dir: Path) -> None:
    trajs = [make_traj(i) for i in range(4)]
    params = []
    for micro in (None, 1):
        pol = HFPolicy(tiny_model_dir)
        cfg = SFTConfig(epochs=1, lr=1e-3, batch_size=4, micro_batch_size=micro)
        res = run_sft(pol, trajs, cfg)
        params.append(
            (res.first_loss, torch.cat([p.flatten() for p in pol.trainable_parameters()]))
        )
    assert params[0][0] == pytest.approx(params[1][0], abs=1e-5)
    torch.testing.assert_close(params[0][1], params[1][1], atol=1e-5, rtol=0)


def test_filters_and_empty(policy: HFPolicy) -> None:
    trajs = [make_traj(0), make_traj(1, status=FormatStatus.MISSING_TAG), make_traj(2, sat=2)]
    assert [t.scenario_id for t in select_trajectories(trajs, SFTConfig())] == ["s0", "s2"]
    cfg = SFTConfig(finished_only=False, min_satisfaction=3)
    assert [t.scenario_id for t in select_trajectories(trajs, cfg)] == ["s0", "s1"]
    with pytest.raises(ValueError, match="no dialogue"):
        run_sft(policy, trajs, SFTConfig(max_len=8))  # the system prompt alone is longer
    with pytest.raises(ValueError, match="lr"):
        SFTConfig(lr=0)


def test_load_trajectories_and_prompts(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(make_traj(0).to_dict()) + "\n\n")
    (t,) = load_trajectories(path)
    assert t.turns[1].action is None and t.meta["system_prompt"] == "You are agent 0."
    t2 = make_traj(1)
    t2.meta = {}
    prompts, generic = resolve_system_prompts([t, t2])
    assert prompts == ["You are agent 0.", None] and generic == 1
    path.write_text('{"nope": 1}\n')
    with pytest.raises(ValueError, match="t.jsonl:1"):
        load_trajectories(path)


def test_cli_sft(tiny_model_dir: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from interactcs.cli.main import app

    data = tmp_path / "trajectories.jsonl"
    data.write_text("".join(json.dumps(make_traj(i).to_dict()) + "\n" for i in range(4)))
    out = tmp_path / "sft"
    args = ["sft", "--data", str(data), "--policy", f"hf:{tiny_model_dir}", "--out", str(out)]
    args += ["--epochs", "1", "--lr", "1e-3", "--batch-size", "2", "--lora", "--lora-r", "4"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert (out / "model" / "config.json").is_file() and not (
        out / "model" / "adapter_config.json"
    ).exists()
    assert len((out / "sft_metrics.jsonl").read_text().splitlines()) == 2
    bad = CliRunner().invoke(
        app, ["sft", "--data", str(data), "--policy", "api:gpt", "--out", str(out)]
    )
    assert bad.exit_code != 0
