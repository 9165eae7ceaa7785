"""HFPolicy on a tiny random model: loading, batched decoding, log-probs, LoRA, save/load."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import torch

from interactcs.policies.base import DialogueState
from interactcs.policies.hf import HFPolicy, LoraSpec, chat_messages
from interactcs.policies.hf_decode import common_prefix_len, layout_batch, top_p_filter
from interactcs.policies.tiny import build_tiny_model
from interactcs.scenarios.schema import CoreDemand, OrderSignals, Persona, Scenario
from interactcs.types import Message


def _prompts(n: int) -> list[list[dict[str, str]]]:
    """Chats of different lengths, so a batch needs padding."""
    out = []
    for i in range(n):
        user = "My burger arrived cold " + "and soggy " * i
        out.append(chat_messages(f"You are agent {i}.", [Message("user", user)]))
    return out


def _scenario(sid: str = "s0") -> Scenario:
    return Scenario(
        scenario_id=sid,
        order=OrderSignals(order_id="o1", complaint="taste", food_info="Burger*1", merchant="M"),
        persona=Persona(
            persona_id="p1",
            category=3,
            summary="calm",
            communication_style="short",
            information_disclosure="open",
            problem_solving="practical",
        ),
        demand=CoreDemand(need=3, name="Compensation Flexible", instruction="any remedy"),
    )


@pytest.fixture(scope="module")
def policy(tiny_model_dir: Path) -> HFPolicy:
    return HFPolicy(tiny_model_dir, max_new_tokens=12, temperature=1.0, seed=3)


def test_tiny_model_loads_like_any_hf_model(tiny_model_dir: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    assert model.config.model_type == "qwen2"
    assert model.config.vocab_size == len(tok)
    assert tok.eos_token == "<|im_end|>" and tok.pad_token_id != tok.eos_token_id
    text = tok.apply_chat_template(
        [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}],
        tokenize=False,
        add_generation_prompt=True,
    )
    assert (
        text
        == "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n"
    )
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert tok.decode(ids) == text  # byte-level BPE round-trips exactly


def test_build_is_cached_and_llama_variant(tmp_path: Path, tiny_model_dir: Path) -> None:
    weights = tiny_model_dir / "model.safetensors"
    before = weights.stat().st_mtime_ns
    assert build_tiny_model(tiny_model_dir) == tiny_model_dir
    assert weights.stat().st_mtime_ns == before  # same args -> reused, not rebuilt
    from transformers import AutoConfig

    path = build_tiny_model(tmp_path / "llama", arch="llama", hidden_size=32, layers=1, heads=2)
    assert AutoConfig.from_pretrained(path).model_type == "llama"
    with pytest.raises(ValueError, match="divisible"):
        build_tiny_model(tmp_path / "bad", hidden_size=30, heads=4)


def test_auto_dtype_and_device_on_cpu(policy: HFPolicy) -> None:
    if not torch.cuda.is_available():
        assert policy.device.type == "cpu" and policy.dtype == torch.float32
    assert policy.tokenizer.padding_side == "left"
    assert policy.eos_ids == [policy.tokenizer.eos_token_id]


def test_batched_greedy_equals_one_at_a_time(tiny_model_dir: Path) -> None:
    pol = HFPolicy(tiny_model_dir, max_new_tokens=10, temperature=0.0)
    prompts = _prompts(4)
    batched = pol.generate(prompts)
    single = [pol.generate([p])[0] for p in prompts]
    assert [g.token_ids for g in batched] == [g.token_ids for g in single]
    assert [g.prompt_tokens for g in batched] == [g.prompt_tokens for g in single]
    assert len({g.prompt_tokens for g in batched}) == 4  # the batch really was padded
    assert all(len(g.token_ids) == 10 or g.stopped for g in batched)


def test_sampling_is_per_row_seeded(policy: HFPolicy) -> None:
    prompts = _prompts(3)
    seeds = [11, 12, 13]
    batched = policy.generate(prompts, seeds=seeds)
    single = [policy.generate([p], seeds=[s])[0] for p, s in zip(prompts, seeds, strict=True)]
    assert [g.token_ids for g in batched] == [g.token_ids for g in single]
    other = policy.generate(prompts, seeds=[s + 100 for s in seeds])
    assert [g.token_ids for g in other] != [g.token_ids for g in batched]


def test_generation_logprobs_match_forward_pass(policy: HFPolicy) -> None:
    """The log-prob recorded while sampling equals token_logprobs on prompt + completion."""
    prompt = _prompts(2)[1]
    gen = policy.generate([prompt], seeds=[5])[0]
    prompt_ids = policy.tokenizer(policy.render_prompt(prompt), add_special_tokens=False)[
        "input_ids"
    ]
    ids = torch.tensor([prompt_ids + gen.token_ids])
    with torch.no_grad():
        lp = policy.token_logprobs({"input_ids": ids, "attention_mask": torch.ones_like(ids)})
    torch.testing.assert_close(
        lp[0, len(prompt_ids) :], torch.tensor(gen.logprobs), atol=1e-4, rtol=0
    )


def test_token_logprobs_match_manual_and_padding(policy: HFPolicy) -> None:
    tok = policy.tokenizer
    texts = ["hello there, my food is cold", "a voucher please"]
    rows = [tok(t, add_special_tokens=False)["input_ids"] for t in texts]
    with torch.no_grad():
        manual = []
        for r in rows:
            ids = torch.tensor([r])
            logp = policy.model(input_ids=ids).logits.log_softmax(-1)[0]
            manual.append([0.0] + [float(logp[t - 1, r[t]]) for t in range(1, len(r))])
        width = max(len(r) for r in rows)
        for side in ("left", "right"):
            ids = torch.full((2, width), tok.pad_token_id)
            mask = torch.zeros((2, width), dtype=torch.long)
            for i, r in enumerate(rows):
                sl = slice(0, len(r)) if side == "right" else slice(width - len(r), width)
                ids[i, sl], mask[i, sl] = torch.tensor(r), 1
            lp, ent = policy.token_logprobs_and_entropy({"input_ids": ids, "attention_mask": mask})
            assert lp.shape == ent.shape == (2, width)
            for i in range(len(rows)):
                got = lp[i][mask[i].bool()]
                torch.testing.assert_close(got, torch.tensor(manual[i]), atol=1e-5, rtol=0)
            assert (lp[mask == 0] == 0).all() and (ent[mask == 0] == 0).all()
            real = ent[:, 1:][(mask[:, 1:] * mask[:, :-1]).bool()]  # has a real predecessor
            assert (real > 0).all() and (real <= torch.log(torch.tensor(len(tok))) + 1e-4).all()


def test_entropy_value(policy: HFPolicy) -> None:
    ids = torch.tensor([policy.tokenizer("cold food", add_special_tokens=False)["input_ids"]])
    with torch.no_grad():
        _, ent = policy.token_logprobs_and_entropy(
            {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
        )
        p = policy.model(input_ids=ids).logits[0, 0].softmax(-1)
    torch.testing.assert_close(ent[0, 1], -(p * p.log()).sum(), atol=1e-5, rtol=0)


def test_logprobs_carry_grad(policy: HFPolicy) -> None:
    ids = torch.tensor([[5, 6, 7, 8]])
    lp = policy.token_logprobs({"input_ids": ids, "attention_mask": torch.ones_like(ids)})
    lp.sum().backward()
    grads = [p.grad for p in policy.trainable_parameters()]
    assert any(g is not None and g.abs().sum() > 0 for g in grads)
    policy.model.zero_grad(set_to_none=True)


def test_layout_batch_shared_prefix() -> None:
    rows = [list(range(20)) + [7], list(range(20)) + [8, 9]]
    prefix, ids, mask = layout_batch(rows, pad_id=0, device="cpu")
    assert common_prefix_len(rows) == 20 and prefix is not None and prefix.shape == (1, 20)
    assert ids.tolist() == [[0, 7], [8, 9]]
    assert mask.tolist() == [[1] * 20 + [0, 1], [1] * 22]
    prefix, ids, mask = layout_batch(rows, pad_id=0, device="cpu", share_prefix=False)
    assert prefix is None and ids.shape == mask.shape == (2, 22) and ids[0, 0] == 0


def test_top_p_filter_keeps_smallest_nucleus() -> None:
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    kept = top_p_filter(logits, 0.7).isfinite()[0].tolist()
    assert kept == [True, True, False, False]  # 0.5 < 0.7, 0.5 + 0.3 >= 0.7
    assert top_p_filter(logits, 0.4).isfinite()[0].tolist() == [True, False, False, False]


def test_lora_trains_only_adapter_and_saves_merged(tiny_model_dir: Path, tmp_path: Path) -> None:
    pol = HFPolicy(tiny_model_dir, lora=LoraSpec(r=4, alpha=8), temperature=0.0)
    trainable = [n for n, p in pol.model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    assert (
        sum(p.numel() for p in pol.trainable_parameters())
        < sum(p.numel() for p in pol.model.parameters()) / 5
    )
    frozen = {n: p.detach().clone() for n, p in pol.model.named_parameters() if not p.requires_grad}
    opt = torch.optim.SGD(pol.trainable_parameters(), lr=0.5)
    ids = torch.tensor([[5, 6, 7, 8, 9]])
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    for _ in range(2):  # lora_B starts at 0, so lora_A only moves from the 2nd step
        opt.zero_grad()
        (-pol.token_logprobs(batch).sum()).backward()
        opt.step()
    for n, p in pol.model.named_parameters():
        if not p.requires_grad:
            assert torch.equal(p, frozen[n]), n
    with torch.no_grad():
        before = pol.token_logprobs(batch)
    out = pol.save(tmp_path / "merged", merge_lora=True)
    assert not (out / "adapter_config.json").exists()
    loaded = HFPolicy(out)
    assert not loaded.is_peft
    with torch.no_grad():
        torch.testing.assert_close(loaded.token_logprobs(batch), before, atol=1e-5, rtol=0)
    adapter = pol.save(tmp_path / "adapter")  # default: the adapter alone
    assert (adapter / "adapter_config.json").exists()
    again = HFPolicy(adapter)
    assert again.is_peft
    with torch.no_grad():
        torch.testing.assert_close(again.token_logprobs(batch), before, atol=1e-5, rtol=0)
    # in-place load (checkpoints): a fresh LoRA policy takes the saved adapter
    fresh = HFPolicy(tiny_model_dir, lora=LoraSpec(r=4, alpha=8))
    fresh.load(adapter)
    with torch.no_grad():
        torch.testing.assert_close(fresh.token_logprobs(batch), before, atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="adapter"):
        HFPolicy(tiny_model_dir).load(adapter)


def _state(i: int, n_user: int) -> DialogueState:
    msgs = [Message("user", "The soup was cold.")]
    for k in range(n_user - 1):
        msgs += [
            Message("agent", "<think>t</think><response>Sorry.</response><action>chat</action>")
        ]
        msgs += [Message("user", f"Still cold {k}.")]
    return DialogueState(
        scenario=_scenario(f"s{i}"),
        system_prompt="You are a service agent.",
        messages=msgs,
        turns=[],
        voucher_issued=False,
        turn_index=n_user - 1,
        max_turns=15,
        dialogue_id=i,
    )


def test_aact_one_batched_call(policy: HFPolicy) -> None:
    states = [_state(i, n) for i, n in enumerate([1, 2, 3])]
    calls = policy.stats.calls
    texts = asyncio.run(policy.aact(states))
    assert len(texts) == 3 and all(isinstance(t, str) for t in texts)
    assert policy.stats.calls == calls + 1
    meta = [s.extra["turn_meta"] for s in states]  # goes to Turn.policy_meta
    assert all(0 < m["new_tokens"] <= 12 and isinstance(m["stopped"], bool) for m in meta)
    again = asyncio.run(policy.aact(states))
    assert again == texts  # same dialogues, turns and seed -> same samples
    assert asyncio.run(policy.aact([])) == []


def test_aact_reports_failure_instead_of_raising(policy: HFPolicy, monkeypatch) -> None:
    def boom(*a, **k):
        raise RuntimeError("device lost")

    monkeypatch.setattr("interactcs.policies.hf.decode_sessions", boom)
    states = [_state(0, 1), _state(1, 1)]
    assert asyncio.run(policy.aact(states)) == ["", ""]
    assert "device lost" in states[0].extra["policy_failure"]


def test_registered_factory(tiny_model_dir: Path) -> None:
    from interactcs.policies.factory import make_policy

    pol = make_policy(f"hf:{tiny_model_dir}", base_url=None, api_key_env="X", seed=1)
    assert isinstance(pol, HFPolicy) and pol.name == f"hf:{tiny_model_dir}" and pol.seed == 1
    with pytest.raises(ValueError, match="hf:PATH"):
        make_policy("hf")


def test_shared_prefix_prefill_matches_unshared(tiny_model_dir: Path) -> None:
    """A group's long common system prompt is prefilled once; outputs do not change."""
    system = "You are the after-sales agent of a food delivery platform. " * 6
    prompts = [chat_messages(system, [Message("user", "cold " * (i + 1))]) for i in range(4)] + [
        chat_messages(system, [Message("user", "cold ")])
    ]  # a duplicate row
    outs = {}
    for share in (True, False):
        pol = HFPolicy(tiny_model_dir, max_new_tokens=8, temperature=1.0, share_prefix=share)
        outs[share] = [g.token_ids for g in pol.generate(prompts, seeds=[1, 2, 3, 4, 1])]
        rows = [
            pol.tokenizer(pol.render_prompt(p), add_special_tokens=False)["input_ids"]
            for p in prompts
        ]
        layout = layout_batch(rows, pad_id=0, device="cpu", share_prefix=share)
        assert (layout[0] is not None) == share
    assert outs[True] == outs[False]
    assert outs[True][0] == outs[True][4]  # same prompt and seed -> same sample
    single = HFPolicy(tiny_model_dir, max_new_tokens=8, temperature=1.0)
    assert single.generate([prompts[2]], seeds=[3])[0].token_ids == outs[True][2]


def test_trainable_policy_protocol(tiny_model_dir: Path, tmp_path: Path) -> None:
    """encode/logprobs/save/load as the RL trainer uses them (TrainablePolicy)."""
    from interactcs.policies.base import TrainablePolicy
    from interactcs.policies.hf_sequences import build_sequences
    from interactcs.types import FormatStatus, Trajectory, Turn

    pol = HFPolicy(tiny_model_dir, temperature=1.0)
    assert isinstance(pol, TrainablePolicy) and pol.module is pol.model

    def traj(n: int) -> Trajectory:
        turns = [
            Turn(k, f"user {k}", f"<think>t{k}</think><response>r{k}</response><action>chat</action>",
                 None, None, None, FormatStatus.OK)
            for k in range(n)
        ]  # fmt: skip
        return Trajectory("s", 1, 1, "taste", "user 0", turns=turns, meta={"system_prompt": "SYS"})

    trajs = [traj(2), traj(3)]
    pb = pol.encode(trajs, [0, 2])
    seq = build_sequences(pol.tokenizer, trajs)
    assert torch.equal(pb.mask, seq.agent_mask.float())
    assert sorted(set(pb.token_turn[0].tolist())) == [-1, 0, 1]
    assert sorted(set(pb.token_turn[1].tolist())) == [-1, 2, 3, 4]
    assert "SYS" in pol.tokenizer.decode(pb.tensors["input_ids"][0])  # recorded prompt used
    lp, ent = pol.logprobs(pb.select(torch.tensor([1])))
    assert lp.shape == ent.shape == (1, pb.mask.shape[1]) and lp.requires_grad
    on = pb.mask[1:]  # logprobs() scores agent tokens only (0 elsewhere)
    full = pol.token_logprobs(pb.tensors)[1:].detach()
    torch.testing.assert_close(lp.detach(), full * on)
    assert float((lp.detach() * (1 - on)).abs().sum()) == 0.0
    pol.save(tmp_path / "ckpt")
    with torch.no_grad():
        pol.model.model.embed_tokens.weight.add_(1.0)  # change the weights, then restore
    pol.load(tmp_path / "ckpt")
    torch.testing.assert_close(pol.logprobs(pb)[0], pol.logprobs(pb)[0])
    with torch.no_grad():
        torch.testing.assert_close(pol.token_logprobs(pb.tensors)[1:] * on, lp.detach())
