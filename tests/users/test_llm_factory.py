"""make_simulator: spec parsing, client options, lazy offline import."""

from __future__ import annotations

import pytest

from interactcs.llm.openai_client import OpenAIChatClient
from interactcs.users.factory import make_simulator
from interactcs.users.llm_sim import LLMUserSimulator


def test_llm_spec_builds_client_and_simulator(monkeypatch: pytest.MonkeyPatch) -> None:
    sim = make_simulator(
        "llm:Qwen2.5-32B-Instruct",
        base_url="http://127.0.0.1:8000/v1/",
        api_key_env="MY_KEY",
        temperature=1.2,
        max_repairs=3,
        timeout_s=5,
        max_retries=0,
    )
    assert isinstance(sim, LLMUserSimulator) and sim.name == "llm:Qwen2.5-32B-Instruct"
    assert (sim.temperature, sim.max_repairs, sim.max_tokens) == (1.2, 3, 128)
    client = sim.client
    assert isinstance(client, OpenAIChatClient)
    assert (client.base_url, client.api_key_env, client.timeout_s, client.max_retries) == (
        "http://127.0.0.1:8000/v1",
        "MY_KEY",
        5.0,
        0,
    )


def test_base_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://10.0.0.1:30000/v1")
    assert make_simulator("llm:m").client.base_url == "http://10.0.0.1:30000/v1"


def test_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ValueError, match="base URL"):
        make_simulator("llm:m")
    with pytest.raises(ValueError, match="llm:MODEL"):
        make_simulator("llm", base_url="http://x/v1")
    with pytest.raises(KeyError, match="offline"):
        make_simulator("telepathy")


def test_offline_spec_ignores_endpoint_options() -> None:
    offline = pytest.importorskip("interactcs.users.offline")
    sim = make_simulator("offline", base_url=None, api_key_env="OPENAI_API_KEY")
    assert isinstance(sim, offline.OfflinePersonaSimulator)
