"""Credentials in ``--base-url`` are never printed, and the Bearer key still goes out.

Over real HTTP against the project's scripted server: a URL ``http://user:pass@host/v1``
used to make httpx send Basic auth instead of the Bearer key and to show the password in
warnings.
"""

from __future__ import annotations

import asyncio
import base64
import logging

import pytest

from interactcs.llm.base import redact_url
from interactcs.llm.openai_client import OpenAIChatClient
from interactcs.testing.openai_server import Reply, ScriptedServer, SequenceHandler

SECRET = "s3cret-Pw"
KEY_ENV = "INTERACTCS_TEST_URL_KEY"


def _with_credentials(base_url: str, user: str = "alice") -> str:
    scheme, rest = base_url.split("://", 1)
    return f"{scheme}://{user}:{SECRET}@{rest}"


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("http://u:pw@host:8000/v1", "http://***@host:8000/v1"),
        ("https://token@api.example.com/v1", "https://***@api.example.com/v1"),
        ("http://u:p@ss@h/v1", "http://***@h/v1"),  # an unescaped @ in the password
        (
            "failed: http://a:b@h1/x and https://c:d@h2/y",
            "failed: http://***@h1/x and https://***@h2/y",
        ),
        ("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1"),
        ("write to a@b.io", "write to a@b.io"),
        ("http://h/v1?next=a@b", "http://h/v1?next=a@b"),
    ],
)
def test_redact_url(text: str, want: str) -> None:
    assert redact_url(text) == want


def test_bearer_key_sent_and_password_never_printed(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-test-key")
    handler = SequenceHandler(["hello", Reply("no such model", status=404), Reply(status=500)])
    with ScriptedServer(handler) as srv:
        url = _with_credentials(srv.base_url)
        client = OpenAIChatClient(url, "m", api_key_env=KEY_ENV, max_retries=0, backoff_s=0.0)
        assert SECRET not in repr(client) and SECRET not in client.safe_url

        async def three() -> list:
            return [await client.complete([{"role": "user", "content": "hi"}]) for _ in range(3)]

        with caplog.at_level(logging.DEBUG):
            ok, fatal, transient = asyncio.run(three())
        assert ok.text == "hello"
        assert fatal.text is None and transient.text is None
        assert [h.get("authorization") for h in srv.headers] == ["Bearer sk-test-key"] * 3
    printed = caplog.text + repr(client) + str(fatal.error) + str(transient.error)
    assert "chat request to" in caplog.text  # the failures were logged ...
    assert SECRET not in printed and "***@127.0.0.1" in caplog.text  # ... with the URL redacted


def test_url_credentials_are_basic_auth_without_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    with ScriptedServer(SequenceHandler(["hi"])) as srv:
        client = OpenAIChatClient(_with_credentials(srv.base_url), "m", api_key_env=KEY_ENV)
        res = asyncio.run(client.complete([{"role": "user", "content": "x"}]))
        assert res.text == "hi"
        auth = srv.headers[0]["authorization"]
    assert auth == "Basic " + base64.b64encode(f"alice:{SECRET}".encode()).decode()


def test_connection_error_does_not_quote_the_password(caplog: pytest.LogCaptureFixture) -> None:
    with ScriptedServer(SequenceHandler([])) as srv:
        dead = srv.base_url  # the server stops at the end of the block: nothing listens
    client = OpenAIChatClient(_with_credentials(dead), "m", max_retries=0, timeout_s=2)
    with caplog.at_level(logging.DEBUG):
        res = asyncio.run(client.complete([{"role": "user", "content": "x"}]))
    assert res.text is None and res.error
    assert SECRET not in res.error and SECRET not in caplog.text
