"""The system Chromium for the report tests, and the README screenshots of the report.

Screenshots (``docs/images/report_eval.png`` and ``report_train.png``)::

    python tests/report/report_browser.py --eval runs/eval_dir --train runs/train_dir
    python tests/report/report_browser.py          # synthetic folders (report_factories)

Needs the Python ``playwright`` package (driver only; no browser download) and a system
Chromium (Debian: ``apt-get install -y chromium``); ``INTERACTCS_CHROMIUM`` overrides the path.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

#: width the report must fit without horizontal scrolling
WIDTH = 1400

#: every block that must not be wider than its box; returns the offenders and the page widths
OVERFLOW_JS = """() => {
  const d = document.documentElement, bad = [];
  const sel = 'main, section, .card, figure, .figs, .toolbar, table.data, details.dlg, .msg, .scores';
  document.querySelectorAll(sel).forEach(e => {
    if (e.scrollWidth > e.clientWidth + 1)
      bad.push(`${e.tagName.toLowerCase()}.${e.className} ${e.scrollWidth}>${e.clientWidth}`);
  });
  return {scroll: d.scrollWidth, client: d.clientWidth, bad: bad};
}"""


def chromium_path() -> str | None:
    """``INTERACTCS_CHROMIUM``, else the first Chromium on ``PATH``."""
    env = os.environ.get("INTERACTCS_CHROMIUM")
    if env:
        return env
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def open_report(browser: Any, html: Path, width: int = WIDTH) -> Any:
    """A page showing ``html`` at ``width`` px, viewer ready; console errors in ``page.errors``."""
    pg = browser.new_page(viewport={"width": width, "height": 900})
    pg.set_default_timeout(15_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.goto(html.as_uri())
    pg.wait_for_selector("body[data-viewer-ready]")
    pg.errors = errors
    return pg


def open_everything(pg: Any) -> None:
    """Expand the dialogues of the page and open every fold (scores, think, group tables)."""
    if pg.locator("#dlg-expand").count():
        pg.click("#dlg-expand")
    pg.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
    pg.wait_for_timeout(100)


#: index of the first listed dialogue with at least 3 turns (else the first), to open
FIRST_LONG_JS = """() => {
  const cards = [...document.querySelectorAll('details.dlg')];
  const i = cards.findIndex(c => /(\\d+) turns/.test(c.textContent)
    && +c.textContent.match(/(\\d+) turns/)[1] >= 3);
  return Math.max(i, 0);
}"""


def screenshot(pg: Any, out: Path, page_size: str = "10", source: str | None = None) -> None:
    """Full-page screenshot from the top, ``page_size`` dialogues listed (of ``source`` only,
    when given), one of them open."""
    if pg.locator("#f-pagesize").count():
        pg.select_option("#f-pagesize", page_size)
    if source:
        pg.select_option("#f-source", source)
    cards = pg.locator("details.dlg")
    if cards.count():
        card = cards.nth(pg.evaluate(FIRST_LONG_JS))
        card.locator("summary").click()
        card.locator(".chat").wait_for()
    pg.evaluate("() => window.scrollTo(0, 0)")  # the sticky header stays at the top
    out.parent.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(out), full_page=True)


def main(argv: list[str] | None = None) -> int:
    """Write the two README screenshots (see the module docstring)."""
    from playwright.sync_api import sync_playwright

    from interactcs.report.html import write_report

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--eval", type=Path, help="an `interactcs eval` folder")
    ap.add_argument("--train", type=Path, help="an `interactcs train` run folder")
    ap.add_argument("--eval-source", help="dialogue source shown in the eval screenshot")
    ap.add_argument("--out", type=Path, default=Path("docs/images"))
    args = ap.parse_args(argv)
    exe = chromium_path()
    if exe is None:
        print("Chromium not found: apt-get install -y chromium", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        sys.path.insert(0, str(Path(__file__).parent))
        from report_factories import make_eval_dir, make_train_dir

        folders = {
            "eval": args.eval or make_eval_dir(Path(tmp) / "eval"),
            "train": args.train or make_train_dir(Path(tmp) / "train"),
        }
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
            for kind, folder in folders.items():
                html = write_report(folder, Path(tmp) / f"{kind}.html")
                pg = open_report(browser, html)
                src = args.eval_source if kind == "eval" else None
                screenshot(pg, args.out / f"report_{kind}.png", source=src)
                print(f"wrote {args.out / f'report_{kind}.png'} from {folder}")
                open_everything(pg)
                print(f"  {WIDTH} px, every fold open: {pg.evaluate(OVERFLOW_JS)}")
                pg.close()
            browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
