"""End to end on a GPU: a few CMPO steps on verl with a tiny model, then a resume.

Needs a CUDA GPU and vLLM (``pip install vllm`` on the GPU node); skipped otherwise. Runs
the real launcher (``python -m interactcs.integrations.verl.runner``) on the example
config with the offline simulator and judge, so no model server is needed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("verl")
torch = pytest.importorskip("torch")

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.slow,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
    pytest.mark.skipif(
        importlib.util.find_spec("vllm") is None, reason="needs vLLM on the GPU node"
    ),
]

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "verl"


def _train(tmp: Path, model: Path, steps: int) -> subprocess.CompletedProcess[str]:
    overrides = [
        f"data.train_files={tmp / 'train.parquet'}",
        f"data.val_files={tmp / 'test.parquet'}",
        "data.train_batch_size=4",
        "data.max_prompt_length=2048",
        "data.max_response_length=1024",
        "data.dataloader_num_workers=0",
        f"actor_rollout_ref.model.path={model}",
        "actor_rollout_ref.model.use_remove_padding=false",
        "actor_rollout_ref.actor.ppo_mini_batch_size=4",
        "actor_rollout_ref.actor.ppo_max_token_len_per_gpu=8192",
        "actor_rollout_ref.rollout.n=2",
        "actor_rollout_ref.rollout.tensor_model_parallel_size=1",
        "actor_rollout_ref.rollout.gpu_memory_utilization=0.3",
        "actor_rollout_ref.rollout.max_model_len=4096",
        "actor_rollout_ref.rollout.agent.num_workers=1",
        "trainer.n_gpus_per_node=1",
        f"trainer.total_training_steps={steps}",
        "trainer.save_freq=1",
        "trainer.test_freq=-1",
        "trainer.logger=[console]",
        f"trainer.default_local_dir={tmp / 'ckpt'}",
        "interactcs.user_sim=offline",
        "interactcs.judge=offline",
        "interactcs.max_turns=3",
        "interactcs.max_tokens_per_turn=64",
    ]
    cmd = [
        sys.executable,
        "-m",
        "interactcs.integrations.verl.runner",
        f"--config-path={EXAMPLES}",
        "--config-name=fds_cmpo",
        *overrides,
    ]
    env = {**os.environ, "RAY_DEDUP_LOGS": "0"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=1800, env=env, cwd=tmp)


def test_cmpo_steps_and_resume(tmp_path: Path) -> None:
    from interactcs.integrations.verl.data import prepare_data
    from interactcs.policies.tiny import build_tiny_model

    model = build_tiny_model(tmp_path / "tiny", hidden_size=128, heads=2)
    prepare_data("hard", tmp_path / "train.parquet", n=16, seed=0)
    prepare_data("hard", tmp_path / "test.parquet", n=4, seed=1, split="test")

    res = _train(tmp_path, model, steps=2)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-4000:]
    assert "constraint/lambda/voucher" in res.stdout
    state = json.loads((tmp_path / "ckpt" / "global_step_2" / "interactcs_lambda.json").read_text())
    assert state["controllers"]["voucher"]["steps"] == 2

    res = _train(tmp_path, model, steps=3)  # resume_mode=auto picks up global_step_2
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-4000:]
    state = json.loads((tmp_path / "ckpt" / "global_step_3" / "interactcs_lambda.json").read_text())
    assert state["controllers"]["voucher"]["steps"] == 3  # λ continued, not restarted
