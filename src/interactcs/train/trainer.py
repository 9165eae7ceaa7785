"""The CMPO trainer for one machine (CPU or one GPU).

Usage::

    from interactcs.train.config import TrainConfig
    from interactcs.train.trainer import Trainer
    Trainer(TrainConfig(steps=20)).run()

One step = sample ``batch_prompts`` scenarios, roll out ``group_size`` dialogues each (all
dialogues advance together), judge every agent turn, build the per-turn reward batch, compute
advantages with the chosen estimator and the current λ, run PPO epochs, then update λ from
the step's cost rates. Everything random in a step is seeded from ``(seed, step)`` and the
checkpoint holds weights, optimiser, scheduler, controllers and RNG states, so ``--resume``
reproduces an uninterrupted run exactly on CPU. A run killed before its first checkpoint
restarts from scratch on ``--resume`` (see :meth:`Trainer.run`).
"""

from __future__ import annotations

import copy
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from interactcs.algo.advantages import compute
from interactcs.rewards.compose import from_trajectories
from interactcs.rollout.metrics import headline
from interactcs.rollout.runner import run_dialogues
from interactcs.rollout.writer import JsonlWriter, write_json
from interactcs.train import checkpoint as ckpt
from interactcs.train.cmpo_settings import advantage_config, loss_config
from interactcs.train.components import (
    build_controllers,
    build_costs,
    build_judge,
    build_policy,
    build_simulator,
    load_splits,
    run_dir_for,
)
from interactcs.train.config import TrainConfig
from interactcs.train.evaluate import evaluate_policy
from interactcs.train.logger import MetricsLogger, keep_rows_upto
from interactcs.train.schedule import cosine_with_warmup
from interactcs.train.update import UpdateInputs, ppo_update, prepare_inputs
from interactcs.types import Trajectory

#: env var for fault-injection tests: hard-exit right after this step's checkpoint
FAULT_ENV = "INTERACTCS_FAULT_AFTER_STEP"
#: env var for fault-injection tests of kills outside a checkpoint: ``sft`` hard-exits after
#: the warm start (before the KL reference is saved), ``step:N`` after step N is logged but
#: before its checkpoint is written
FAULT_AT_ENV = "INTERACTCS_FAULT_AT"


def _step_seed(seed: int, step: int, salt: int = 0) -> int:
    return int(np.random.SeedSequence([seed, step, salt]).generate_state(1)[0])


class Trainer:
    """Owns one run folder; ``run()`` trains, evaluates and plots."""

    def __init__(
        self,
        cfg: TrainConfig,
        *,
        resume: bool = False,
        progress: Any = None,
        run_dir: Path | None = None,
    ) -> None:
        self.cfg = cfg
        self.run_dir = Path(run_dir or run_dir_for(cfg))
        self.resume = resume
        self.progress = progress
        #: optional ``callback(done, total, nll)`` for the warm start's progress
        self.progress_sft: Any = None
        #: optional ``callback(name, done, total)`` for the other long phases: the teacher
        #: dialogues of the warm start and the final held-out evaluation (done/total dialogues)
        self.progress_phase: Any = None
        torch.manual_seed(cfg.seed)
        np.random.seed(cfg.seed % (2**32))
        self.train_set, self.heldout = load_splits(cfg)
        self.policy = build_policy(cfg)
        self.simulator = build_simulator(cfg)
        self.judge = build_judge(cfg)
        self.costs = build_costs(cfg)
        self.controllers = build_controllers(cfg)
        self.critic = self.policy.make_critic() if cfg.algo == "gae" else None
        self.start_step = 0

    # ------------------------------------------------------------------ setup
    def _setup_optim(self) -> None:
        cfg = self.cfg
        params = [p for p in self.policy.module.parameters() if p.requires_grad]
        if self.critic is not None:
            params += list(self.critic.parameters())
        self.optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.0)
        total = cfg.steps * cfg.ppo_epochs * cfg.minibatches
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer,
            lambda i: cosine_with_warmup(
                i, total, warmup_ratio=cfg.warmup_ratio, min_lr_ratio=cfg.min_lr_ratio
            ),
        )

    def _maybe_sft(self) -> bool:
        """Behaviour-cloning warm start on SOP rule-agent dialogues (the paper's static stage).

        ``act`` imitates the rule agent's decisions mapped to its strategies
        (:class:`~interactcs.policies.act.RuleTeacher`); ``hf:`` imitates the text of the
        teacher policies of ``sft.teacher`` (rendered with the policy's prompt style). A
        LoRA warm start is then merged into the base weights and RL trains a fresh adapter,
        so the KL reference is the adapter-off model. Returns whether it ran.
        """
        cfg = self.cfg
        if cfg.sft.enabled == "off":
            return False
        from interactcs.train.warmstart import behaviour_clone, teacher_dialogues

        trajs = teacher_dialogues(
            cfg, self.train_set, self.simulator, on_done=self._phase_counter("teacher dialogues")
        )
        with JsonlWriter(self.run_dir / "sft_data.jsonl") as w:
            for t in trajs:
                w.write(t)
        hf = cfg.policy.startswith("hf:")
        lr = cfg.sft.lr or (5e-4 if hf else 1e-2)
        behaviour_clone(
            self.policy,
            trajs,
            epochs=cfg.sft.epochs,
            lr=lr,
            batch_size=cfg.sft.batch_size,
            seed=cfg.seed,
            log_path=self.run_dir / "sft_metrics.jsonl",
            micro_batch_tokens=cfg.micro_batch_tokens if hf else None,
            progress=self.progress_sft,
        )
        if hf and cfg.lora:
            self.policy.merge_adapter()  # type: ignore[attr-defined]
        return True

    def _restore(self) -> None:
        """Load weights, optimiser, scheduler, controllers, critic and RNG of the latest
        checkpoint; ``start_step`` becomes its step."""
        latest = ckpt.latest_checkpoint(self.run_dir)
        if latest is None:  # run() restarts from scratch instead of calling this
            raise FileNotFoundError(f"--resume: no checkpoint in {self.run_dir / 'checkpoints'}")
        self.policy.load(latest / "policy")
        state = ckpt.load_trainer_state(latest)
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.controllers.load_state_dict(state["controllers"])
        if self.critic is not None and state.get("critic") is not None:
            self.critic.load_state_dict(state["critic"])
        ckpt.set_rng_state(state["rng"])
        self.start_step = int(state["step"])

    def _save(self, step: int) -> None:
        state = {
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "controllers": self.controllers.state_dict(),
            "critic": None if self.critic is None else self.critic.state_dict(),
            "config": self.cfg.model_dump(),
        }
        ckpt.save_checkpoint(self.run_dir, step, self.policy, state)

    # ------------------------------------------------------------------ one step
    def collect(self, step: int) -> list[Trajectory]:
        """Roll out ``batch_prompts × group_size`` dialogues for ``step`` (seeded by step)."""
        cfg = self.cfg
        rng = np.random.default_rng(_step_seed(cfg.seed, step, 1))
        k = min(cfg.batch_prompts, len(self.train_set))
        picks = rng.choice(len(self.train_set), size=k, replace=False)
        scen = [self.train_set[i] for i in picks for _ in range(cfg.group_size)]
        groups = [g for g in range(k) for _ in range(cfg.group_size)]
        seeds = [int(x) for x in rng.integers(0, 2**31 - 1, size=len(scen))]
        self.policy.set_sampling_seed(_step_seed(cfg.seed, step, 2))
        self.policy.module.eval()
        trajs = run_dialogues(
            self.policy, self.simulator, scen, seeds=seeds, groups=groups, max_turns=cfg.max_turns
        )
        t0 = time.perf_counter()
        if self.judge is not None:
            by_id = {s.scenario_id: s for s in scen}
            stats = self.judge.judge(trajs, scenarios=by_id)
            self._judge_metrics = stats.as_metrics()
        else:
            self._judge_metrics = {}
        self._judge_s = time.perf_counter() - t0
        return trajs

    def train_step(self, step: int) -> dict[str, Any]:
        cfg = self.cfg
        t0 = time.perf_counter()
        collected = self.collect(step)
        t_roll = time.perf_counter() - t0
        # lost dialogues (simulator, agent backend or judge failed) are never scored: they
        # leave the advantage batch, so their turns carry no gradient and do not move λ
        trajs = [t for t in collected if t.lost is None]
        if len(trajs) < len(collected):  # recorded with the reason (end_reason, failures)
            with JsonlWriter(self.run_dir / "lost_dialogues.jsonl") as w:
                for t in collected:
                    if t.lost is not None:
                        w.write({"step": step, "lost": t.lost, **t.to_dict()})
        if not trajs:
            raise RuntimeError(
                f"step {step}: all {len(collected)} dialogues were lost to failures "
                f"({', '.join(sorted({str(t.lost) for t in collected}))}); see the run's logs"
            )
        lambdas = self.controllers.values
        batch = from_trajectories(
            trajs, costs=self.costs, lambdas=lambdas, process_mode=cfg.judge_mode
        )
        pb = self.policy.encode(trajs, batch.row_offsets())
        if self.critic is not None:
            with torch.no_grad():
                v = self.critic.values(pb)
            turn_values = np.zeros(batch.num_turns)
            on = pb.token_turn >= 0
            turn_values[pb.token_turn[on].numpy()] = v[on].double().numpy()
            batch.values = turn_values
        adv_cfg = advantage_config(cfg)
        out = compute(cfg.algo, batch, adv_cfg)
        self.policy.module.train()
        inputs: UpdateInputs = prepare_inputs(
            self.policy,
            self.ref,
            pb,
            out.advantages,
            out.returns if self.critic is not None else None,
            micro_batch_tokens=cfg.micro_batch_tokens,
        )
        loss_cfg = loss_config(cfg)
        gen = torch.Generator().manual_seed(_step_seed(cfg.seed, step, 3))
        train_m = ppo_update(
            self.policy,
            inputs,
            self.optimizer,
            self.scheduler,
            epochs=cfg.ppo_epochs,
            minibatches=cfg.minibatches,
            loss_cfg=loss_cfg,
            grad_clip=cfg.grad_clip,
            generator=gen,
            critic=self.critic,
            value_coef=cfg.value_coef,
            micro_batch_tokens=cfg.micro_batch_tokens,
        )
        cost_est = batch.cost_estimates()
        new_lams = self.controllers.update_from_dialogues(
            batch.dialogue_costs(), names=batch.cost_names
        )
        dt = time.perf_counter() - t0
        head = headline(collected)
        proc = batch.process[np.isfinite(batch.process)]
        m: dict[str, Any] = {
            "rollout/satisfaction_mean": head["satisfaction_mean"],
            "rollout/finish_rate": head["finish_rate"],
            "rollout/voucher_rate": head["voucher_rate"],
            "rollout/turns_mean": head["turns_mean"],
            "rollout/process_mean": float(proc.mean()) if proc.size else float("nan"),
            "rollout/outcome_mean": float(batch.outcome.mean()),
            **{f"rollout/{k}": head[k] for k in ("lost_simulator", "lost_agent", "lost_judge")},
            "train/advantage_mean": float(np.mean(out.advantages)) if out.advantages.size else 0.0,
            "train/lr": float(self.scheduler.get_last_lr()[0]),
            **{f"train/{k}": v for k, v in train_m.items()},
            **self._judge_metrics,
            "perf/step_s": dt,
            "perf/rollout_s": t_roll,
            "perf/judge_s": self._judge_s,
            "perf/update_s": dt - t_roll,
            "perf/tokens_per_s": inputs.batch.num_units() * cfg.ppo_epochs / max(dt - t_roll, 1e-9),
        }
        for name in self.costs.names:
            m[f"constraint/lambda/{name}"] = float(lambdas[name])  # λ used in this step
            m[f"constraint/lambda_next/{name}"] = float(new_lams[name])
            m[f"constraint/cost_rate/{name}"] = float(cost_est[name])
            m[f"constraint/budget/{name}"] = float(self.cfg.budgets[name])
        return m

    # ------------------------------------------------------------------ main loop
    def run(self) -> dict[str, Any]:
        """Train steps ``start_step + 1 … steps``, checkpointing, then :meth:`finish`.

        A fresh run (``resume=False``) refuses a folder that already holds a run
        (:class:`~interactcs.train.checkpoint.RunExistsError`), so no step is logged twice.

        ``resume=True`` works from any point of a killed run:

        - with a checkpoint, weights, optimiser, scheduler, λ controllers and RNG states come
          back from the latest one, and what the dead attempt wrote after its step is dropped
          (``metrics.jsonl`` and ``lost_dialogues.jsonl`` rows, TensorBoard events through
          ``purge_step``, a dead :meth:`finish`'s ``eval_trajectories.jsonl``);
        - without one (killed in the SFT warm start, or in the steps before the first
          checkpoint), the dead attempt's outputs are deleted (all but ``config.yaml``, see
          :func:`~interactcs.train.checkpoint.reset_run_dir`) and the run restarts from
          scratch in the same folder: ``sft_data.jsonl``, ``sft_metrics.jsonl`` and
          ``metrics.jsonl`` are rewritten, never appended to. ``__init__`` seeds everything
          before this point, so the restart equals an uninterrupted run.

        Returns:
            :meth:`finish`'s held-out evaluation.
        """
        cfg = self.cfg
        restored = self._prepare_run_dir()
        self._setup_optim()
        if restored:
            self._resume_from_checkpoint()
        else:
            self._start_fresh()
        logger = MetricsLogger(
            self.run_dir,
            tensorboard=cfg.log_tensorboard,
            wandb_cfg={
                "project": cfg.wandb_project,
                "config": cfg.model_dump(),
                "name": self.run_dir.name,
            }
            if cfg.log_wandb
            else None,
            resume_step=self.start_step if restored else None,
        )
        fault = int(os.environ.get(FAULT_ENV, "0") or 0)
        fault_at = os.environ.get(FAULT_AT_ENV, "")
        try:
            for step in range(self.start_step + 1, cfg.steps + 1):
                metrics = self.train_step(step)
                logger.log(step, metrics)
                if self.progress is not None:
                    self.progress(step, metrics)
                if fault_at == f"step:{step}":
                    os._exit(137)  # simulated kill after logging, before the checkpoint
                if step % cfg.checkpoint_every == 0 or step == cfg.steps:
                    self._save(step)
                    if fault and step >= fault:
                        os._exit(137)  # simulated kill (tests of --resume)
        finally:
            logger.close()
        return self.finish()

    def _prepare_run_dir(self) -> bool:
        """Make the run folder ready; returns whether a checkpoint is to be restored.

        Fresh run: refuse an existing run. Resume without a checkpoint: clear the dead
        attempt's outputs so its stages restart from scratch (``config.yaml`` stays).
        """
        if not self.resume:
            ckpt.ensure_fresh(self.run_dir)
            self.run_dir.mkdir(parents=True, exist_ok=True)
            return False
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if ckpt.latest_checkpoint(self.run_dir) is not None:
            return True
        ckpt.reset_run_dir(self.run_dir)
        return False

    def _start_fresh(self) -> None:
        """Step 0: config, the untrained policy, the SFT warm start and the KL reference."""
        ckpt.save_config(self.cfg, self.run_dir / "config.yaml")
        self.policy.save(self.run_dir / "checkpoints" / "initial")  # untrained
        if self._maybe_sft():
            self._setup_optim()  # fresh optimiser state for the RL stage
        if os.environ.get(FAULT_AT_ENV, "") == "sft":
            os._exit(137)  # simulated kill after the warm start, before the reference
        # start of RL = KL reference (a merged LoRA warm start is saved as a full model)
        merged = self._merged_base(None)
        ref_dir = self.run_dir / "checkpoints" / "reference"
        self.policy.save(ref_dir, **({"merge_lora": True} if merged else {}))  # type: ignore[call-arg]
        self.ref = self._frozen_copy()

    def _resume_from_checkpoint(self) -> None:
        """Restore the latest checkpoint and drop what the dead attempt logged after it."""
        ref_dir = self.run_dir / "checkpoints" / "reference"
        if self._merged_base(ref_dir):  # RL adapters sit on the merged warm start
            from interactcs.train.run_policy import load_run_policy

            self.policy = load_run_policy(self.run_dir, which="reference")  # type: ignore[assignment]
            self._setup_optim()
        self.ref = self._frozen_copy(load_from=ref_dir)
        self._restore()
        # metrics.jsonl is cut by MetricsLogger; a dead finish() left a partial eval file
        keep_rows_upto(self.run_dir / "lost_dialogues.jsonl", self.start_step)
        (self.run_dir / "eval_trajectories.jsonl").unlink(missing_ok=True)

    def _merged_base(self, ref_dir: Path | None) -> bool:
        """Whether RL trains a LoRA adapter on top of a merged warm start (hf: + lora + SFT)."""
        cfg = self.cfg
        if not (cfg.policy.startswith("hf:") and cfg.lora):
            return False
        if ref_dir is None:
            return (self.run_dir / "sft_data.jsonl").exists()
        return (ref_dir / "config.json").is_file()

    def _frozen_copy(self, load_from: Path | None = None) -> Any:
        """The KL reference as a function of a PolicyBatch (None when kl_coef = 0): the
        adapter-off pass of a LoRA policy, else a frozen copy of the policy (with the
        weights of ``load_from`` when given, on resume)."""
        if self.cfg.kl_coef <= 0:
            return None
        if getattr(self.policy, "has_adapter_reference", False):
            return self.policy.reference_logprobs  # type: ignore[attr-defined]
        ref = copy.deepcopy(self.policy)
        if load_from is not None:
            ref.load(load_from)
        for p in ref.module.parameters():
            p.requires_grad_(False)
        ref.module.eval()
        return lambda b: ref.logprobs(b)[0]

    def finish(self) -> dict[str, Any]:
        """Held-out evaluation of the trained and the initial policy, curves.png, final_eval.json."""
        cfg = self.cfg
        self.policy.module.eval()
        stages = [("initial", "initial")]
        if (self.run_dir / "sft_data.jsonl").exists():
            stages.append(("warm_start", "reference"))
        hf = cfg.policy.startswith("hf:")
        n_evals = 1 + len(stages) + (0 if hf else 1)
        tick = self._phase_counter("final evaluation", n_evals * cfg.eval_seeds * len(self.heldout))
        writer = JsonlWriter(self.run_dir / "eval_trajectories.jsonl")

        def keep(traj: Any) -> None:
            writer.write(traj)
            tick(traj)

        def run(policy: Any, on_done: Any = tick) -> dict[str, Any]:
            out, _ = evaluate_policy(
                policy,
                self.simulator,
                self.heldout,
                seeds=cfg.eval_seeds,
                max_turns=cfg.max_turns,
                on_done=on_done,
            )
            return out

        result: dict[str, Any] = {"trained": run(self.policy, keep)}
        writer.close()
        for key, folder in stages:
            result[key] = run(self._stage_policy(folder))
        if not hf:  # same held-out users, the no-voucher reference
            from interactcs.policies.factory import make_policy

            result["never_voucher"] = run(make_policy("never-voucher:sop", seed=cfg.seed))
        result.update(
            {
                "heldout_size": len(self.heldout),
                "seeds": cfg.eval_seeds,
                "budgets": cfg.budgets,
                "notes": "initial = untrained starting policy; warm_start = after the SFT stage; "
                "never_voucher = the SOP agent that investigates but never issues a voucher",
            }
        )
        write_json(self.run_dir / "final_eval.json", result)
        self._plot()
        return result

    def _phase_counter(self, name: str, total: int | None = None) -> Any:
        """An ``on_done(trajectory)`` callback that reports ``progress_phase(name, done,
        total)`` (``total`` defaults to the warm start's ``sft.dialogues``)."""
        total = total if total is not None else self.cfg.sft.dialogues
        done = 0

        def on_done(_traj: Any) -> None:
            nonlocal done
            done += 1
            if self.progress_phase is not None:
                self.progress_phase(name, done, total)

        return on_done

    def _stage_policy(self, folder: str) -> Any:
        """The policy as it was at ``checkpoints/<folder>`` (``initial`` or ``reference``)."""
        if self.cfg.policy.startswith("hf:"):
            from interactcs.train.run_policy import load_run_policy

            return load_run_policy(self.run_dir, which=folder)
        other = copy.deepcopy(self.policy)
        other.load(self.run_dir / "checkpoints" / folder)
        return other

    def _plot(self) -> None:
        try:
            from interactcs.report.plots import plot_training_curves
            from interactcs.rollout.writer import read_jsonl
        except ImportError:  # pragma: no cover - plots are part of the package
            return
        rows = read_jsonl(self.run_dir / "metrics.jsonl")
        plot_training_curves(rows, self.run_dir / "curves.png", budgets=self.cfg.budgets)
