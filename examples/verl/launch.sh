#!/usr/bin/env bash
# CMPO on verl across N nodes × M GPUs, with the user simulator and judge on OpenAI-compatible
# servers (vLLM). See docs/verl.md for the layout. Subcommands, run in this order:
#
#   SIM_GPUS=0,1,2,3 examples/verl/launch.sh serve-sim      # on the simulator node (port 8000)
#   examples/verl/launch.sh data                            # once, on the head node
#   examples/verl/launch.sh head                            # on the head node (Ray port 6379)
#   HEAD_IP=10.0.0.1 examples/verl/launch.sh worker          # on each of the other N-1 nodes
#   SIM_URL=http://10.0.0.9:8000/v1 examples/verl/launch.sh train   # on the head node
#
# Re-running `train` with the same EXP_NAME resumes from the latest checkpoint (actor,
# optimizer, dataloader and the λ controllers). Extra arguments to `train` are Hydra
# overrides, e.g. `... train trainer.total_training_steps=200 interactcs.controller.kp=0.5`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
NNODES="${NNODES:-1}"                       # training nodes (Ray cluster size)
GPUS_PER_NODE="${GPUS_PER_NODE:-8}"         # GPUs per training node
MODEL="${MODEL:-Qwen/Qwen2.5-7B-Instruct}"  # policy being trained
ROLLOUT="${ROLLOUT:-vllm}"                  # vllm | sglang (installed on the GPU nodes)
ROLLOUT_TP="${ROLLOUT_TP:-2}"               # tensor parallel size of each rollout replica
SIM_MODEL="${SIM_MODEL:-Qwen/Qwen2.5-32B-Instruct}"   # simulator and judge model
SIM_NAME="${SIM_NAME:-Qwen2.5-32B-Instruct}"           # name the server answers to
SIM_GPUS="${SIM_GPUS:-0,1,2,3}"             # GPUs of the simulator server (serve-sim)
SIM_PORT="${SIM_PORT:-8000}"
SIM_URL="${SIM_URL:-http://127.0.0.1:${SIM_PORT}/v1}"  # simulator endpoint seen from the nodes
JUDGE_URL="${JUDGE_URL:-$SIM_URL}"          # judge endpoint (default: the same server)
HEAD_IP="${HEAD_IP:-}"
RAY_PORT="${RAY_PORT:-6379}"
DATA_DIR="${DATA_DIR:-$ROOT/data}"          # must be readable at the same path on every node
SCENE="${SCENE:-hard}"
EXP_NAME="${EXP_NAME:-fds_${SCENE}_cmpo}"
CKPT_DIR="${CKPT_DIR:-$ROOT/checkpoints/interactcs/$EXP_NAME}"  # shared storage for resume

cmd="${1:-help}"
shift || true

case "$cmd" in
  serve-sim)
    CUDA_VISIBLE_DEVICES="$SIM_GPUS" exec vllm serve "$SIM_MODEL" \
      --served-model-name "$SIM_NAME" --host 0.0.0.0 --port "$SIM_PORT" \
      --tensor-parallel-size "$(awk -F, '{print NF}' <<<"$SIM_GPUS")" "$@"
    ;;
  data)
    interactcs verl prepare-data "$SCENE" "$DATA_DIR/fds_${SCENE}_train.parquet" --n 7680 --seed 0
    interactcs verl prepare-data "$SCENE" "$DATA_DIR/fds_${SCENE}_test.parquet" --n 256 --seed 10007 --split test
    ;;
  head)
    ray start --head --port="$RAY_PORT" --num-gpus="$GPUS_PER_NODE" --dashboard-host=0.0.0.0 "$@"
    ;;
  worker)
    [[ -n "$HEAD_IP" ]] || { echo "set HEAD_IP to the head node's address" >&2; exit 2; }
    ray start --address="$HEAD_IP:$RAY_PORT" --num-gpus="$GPUS_PER_NODE" "$@"
    ;;
  train)
    curl -sf "$SIM_URL/models" >/dev/null || { echo "simulator server not reachable at $SIM_URL" >&2; exit 2; }
    exec python -m interactcs.integrations.verl.runner \
      --config-path "$ROOT/examples/verl" --config-name fds_cmpo \
      data.train_files="$DATA_DIR/fds_${SCENE}_train.parquet" \
      data.val_files="$DATA_DIR/fds_${SCENE}_test.parquet" \
      actor_rollout_ref.model.path="$MODEL" \
      actor_rollout_ref.rollout.name="$ROLLOUT" \
      actor_rollout_ref.rollout.tensor_model_parallel_size="$ROLLOUT_TP" \
      trainer.nnodes="$NNODES" trainer.n_gpus_per_node="$GPUS_PER_NODE" \
      trainer.experiment_name="$EXP_NAME" trainer.default_local_dir="$CKPT_DIR" \
      interactcs.user_sim="llm:$SIM_NAME" interactcs.user_base_url="$SIM_URL" \
      interactcs.judge="llm:$SIM_NAME" interactcs.judge_base_url="$JUDGE_URL" \
      "$@"
    ;;
  *)
    sed -n '2,13p' "${BASH_SOURCE[0]}"
    ;;
esac
