"""The trajectory viewer in a real headless Chromium: filters, search, paging, no XSS.

Also: the eval and the training report fit 1400 px without horizontal scrolling (page and
every card) and show no raw config keys.

Needs the Python ``playwright`` package (driver only; no browser download) and a system
Chromium (Debian: ``apt-get install -y chromium``). Skipped with the reason when either is
missing, unless ``INTERACTCS_REQUIRE_BROWSER=1`` (CI sets it) turns the skip into a failure.
``INTERACTCS_CHROMIUM`` overrides the browser path; ``INTERACTCS_SCREENSHOT_DIR`` keeps the
screenshots.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from report_browser import (
    CHROMIUM_ARGS,
    OVERFLOW_JS,
    WIDTH,
    chromium_path,
    open_everything,
    open_report,
)
from report_factories import RAW_KEYS, RUN_POLICY, make_eval_dir, make_train_dir

from interactcs.report.html import write_report

pytestmark = pytest.mark.browser


def _unavailable(reason: str) -> None:
    if os.environ.get("INTERACTCS_REQUIRE_BROWSER") == "1":
        pytest.fail(f"INTERACTCS_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright import sync_api
    except ImportError:
        _unavailable(
            "playwright missing: pip install playwright (driver only, no browser download)"
        )
    exe = chromium_path()
    if exe is None:
        _unavailable("Chromium not found: apt-get update && apt-get install -y chromium")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, viewer_dir: Path) -> Iterator[Any]:
    pg = open_report(browser, write_report(viewer_dir), width=1300)
    yield pg
    pg.close()


def _visible(pg: Any) -> list[str]:
    return pg.eval_on_selector_all("#dlg-list details.dlg", "els => els.map(e => e.dataset.sid)")


def _search(pg: Any, text: str) -> None:
    pg.fill("#f-search", text)
    pg.wait_for_function(
        "t => document.getElementById('f-search').value === t && "
        "document.getElementById('dlg-count').textContent.length > 0",
        arg=text,
    )
    pg.wait_for_timeout(300)  # search input is debounced (150 ms)


def test_filters_search_and_paging(page: Any, tmp_path: Path) -> None:
    pg = page
    assert pg.inner_text("#dlg-count").startswith("38 of 38")
    assert len(_visible(pg)) == 25 and pg.is_visible("#page-next")  # 25 per page
    pg.click("#page-next")
    assert len(_visible(pg)) == 13

    pg.select_option("#f-voucher", "yes")
    pg.select_option("#f-category", "1")
    assert sorted(_visible(pg)) == ["d01", "d02", "d06"]
    _search(pg, "SOUP")
    assert _visible(pg) == ["d02"]
    _search(pg, "a voucher")
    assert sorted(_visible(pg)) == ["d01", "d06"]  # "Here is a voucher." / "A voucher for you."

    pg.click("#f-reset")
    pg.select_option("#f-source", "trajectories")
    pg.select_option("#f-sat", "lo")
    assert sorted(_visible(pg)) == ["d01", "d03"]
    pg.select_option("#f-sat", "")
    pg.select_option("#f-end", "turn_cap")
    assert _visible(pg) == ["d05"]
    pg.select_option("#f-end", "")
    pg.select_option("#f-voucher", "no")
    _search(pg, "pineapple")
    assert _visible(pg) == ["d08"]
    _search(pg, "no such text anywhere")
    assert _visible(pg) == [] and pg.is_visible("text=No dialogue matches")

    shots = Path(os.environ.get("INTERACTCS_SCREENSHOT_DIR", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    _search(pg, "voucher")
    pg.select_option("#f-voucher", "yes")
    pg.click("#dlg-expand")
    pg.wait_for_selector("details.dlg[data-sid=d01] .chat")
    pg.screenshot(path=str(shots / "report_viewer.png"), full_page=True)
    assert (shots / "report_viewer.png").stat().st_size > 20_000
    assert pg.errors == []


def test_dialogue_body_and_no_xss(page: Any) -> None:
    pg = page
    pg.select_option("#f-source", "trajectories")
    pg.click("#dlg-expand")
    d07 = pg.locator("details.dlg[data-sid=d07]")
    d07.locator(".chat").wait_for()
    # untrusted text is shown literally, never run
    assert '<img src=x onerror="window.__xss=1">' in d07.inner_text()
    assert pg.evaluate("window.__xss") is None
    assert pg.locator("#dlg-list img").count() == 0
    # voucher turn highlighted, think collapsed, outcome shown
    d01 = pg.locator("details.dlg[data-sid=d01]")
    assert d01.locator(".msg.agent.voucher").count() == 1
    think = d01.locator(".msg.agent details").first
    assert think.get_attribute("open") is None and "think" in think.inner_text()
    assert "2/5" in d01.locator(".outcome").inner_text()
    assert "picture: cold noodles" in d01.locator(".picture").first.inner_text()
    d05 = pg.locator("details.dlg[data-sid=d05]")
    assert "turn_cap" in d05.locator(".outcome").inner_text()
    assert pg.errors == []


@pytest.mark.parametrize("kind", ["eval", "train"])
def test_reports_fit_1400px_and_hide_internals(browser: Any, tmp_path: Path, kind: str) -> None:
    folder = (make_eval_dir if kind == "eval" else make_train_dir)(tmp_path / kind)
    pg = open_report(browser, write_report(folder), width=WIDTH)
    open_everything(pg)
    text = pg.inner_text("body")
    for key in RAW_KEYS:
        assert key not in text, key
    if kind == "eval":
        assert RUN_POLICY not in text  # shortened: "cmpo · 0", full name only as a tooltip
        assert "Sat. (1–5)" in text and "V-Rate (%)" in text and "22.9" in text
        assert pg.locator(".scores .badge", has_text="Comm. 25/28").count() == 8
    else:
        assert "warm start (after SFT)" in text and "Training rollouts" in text
        assert pg.locator("details.dlg").count() == 6  # the held-out evaluation dialogues
    assert pg.locator(".msg .badges.pd .badge").count() > 0  # per-turn scores as badges
    assert "{" not in pg.inner_text("#dlg-list")  # no raw JSON in the dialogue cards
    fit = pg.evaluate(OVERFLOW_JS)
    assert fit["scroll"] <= fit["client"] == WIDTH and fit["bad"] == [], fit
    # the check can fail: a too-wide block in a card is caught
    pg.evaluate("() => { const d = document.createElement('div'); d.style.width = '3000px';"
                " d.style.height = '4px';"
                " document.querySelector('.card').appendChild(d); }")  # fmt: skip
    caught = pg.evaluate(OVERFLOW_JS)
    assert caught["scroll"] > WIDTH and any(b.startswith("div.card") for b in caught["bad"])
    assert pg.errors == []
    pg.close()
