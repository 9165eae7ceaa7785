"""ClientOptions: validation, which specs take them, and that every factory passes them on."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from interactcs.cli.main import app
from interactcs.eval.harness import EvalConfig
from interactcs.eval.judges import make_eval_judges
from interactcs.llm.options import ClientOptions
from interactcs.policies.factory import make_policy
from interactcs.users.factory import make_simulator

URL = "http://127.0.0.1:9/v1"  # never contacted: the tests only build clients


def test_for_spec_only_endpoint_specs() -> None:
    opts = ClientOptions(timeout_s=2.5, max_retries=0, concurrency=5)
    full = {"timeout_s": 2.5, "max_retries": 0, "concurrency": 5}
    assert opts.for_spec("api:m") == opts.for_spec("llm:judge") == full
    for spec in ("rule", "offline", "hf:./model", "random:3", "runs/x", "", None):
        assert opts.for_spec(spec) == {}
    assert ClientOptions(max_retries=2).for_spec("llm:m") == {"max_retries": 2}  # None: default
    assert ClientOptions().kwargs() == {}


@pytest.mark.parametrize(
    ("kw", "word"),
    [({"timeout_s": 0.0}, "--timeout"), ({"max_retries": -1}, "--retries"),
     ({"concurrency": 0}, "--concurrency")],
)  # fmt: skip
def test_bad_values_name_the_option(kw: dict, word: str) -> None:
    with pytest.raises(ValueError, match=word):
        ClientOptions(**kw)
    with pytest.raises(ValueError, match=word):
        EvalConfig(policies=["rule"], out="unused", **kw)


def test_factories_pass_the_options_to_their_clients() -> None:
    opts = ClientOptions(timeout_s=2.5, max_retries=0, concurrency=5)
    policy = make_policy("api:a", base_url=URL, **opts.for_spec("api:a"))
    sim = make_simulator("llm:s", base_url=URL, **opts.for_spec("llm:s"))
    judges = make_eval_judges("llm:j", base_url=URL, **opts.for_spec("llm:j"))
    for client in (policy.client, sim.client, *(j.client for j in judges)):  # type: ignore[attr-defined]
        assert (client.timeout_s, client.max_retries, client.concurrency) == (2.5, 0, 5)
    assert all(j.concurrency == 5 for j in judges)  # type: ignore[attr-defined]
    default = make_eval_judges("llm:j", base_url=URL)[0]
    assert (default.client.timeout_s, default.client.concurrency) == (120.0, 64)  # type: ignore[attr-defined]
    make_policy("rule", **opts.for_spec("rule"))  # non-endpoint specs take nothing
    make_simulator("offline", **opts.for_spec("offline"))


@pytest.mark.parametrize("command", ["simulate", "eval"])
def test_cli_rejects_bad_values(command: str, tmp_path) -> None:
    args = [command, "--out", str(tmp_path / "o"), "--timeout", "0"]
    args += ["--policy", "rule"] if command == "eval" else []
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2 and "--timeout" in res.output
    assert not (tmp_path / "o").exists()
