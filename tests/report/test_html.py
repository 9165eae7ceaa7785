"""report.html: self-contained, escaped, and built from whatever the folder holds."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import pytest
from report_factories import XSS, make_train_dir, make_traj, write_jsonl
from typer.testing import CliRunner

from interactcs.report import tables
from interactcs.report.html import embed_json, write_report


def _embedded(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="traj-data">(.*?)</script>', page, re.S)
    assert m is not None
    return json.loads(m.group(1))


def test_esc_and_cells() -> None:
    assert tables.esc('<a href="x">&') == "&lt;a href=&quot;x&quot;&gt;&amp;"
    assert "<script>" not in tables.render_json({"<script>": "</td><script>alert(1)</script>"})
    assert tables.cell({"mean": 0.5, "std": 0.25}).startswith("0.50 <span")
    assert tables.fmt_number(0.30791) == "0.31" and tables.fmt_number(3) == "3"


def test_render_json_shapes() -> None:
    matrix = tables.render_json({"rule": {"sat": 2.0, "fr": 1.0}, "rl": {"sat": 3.0}})
    assert matrix.count("<tr>") == 3 and "<th>fr</th>" in matrix
    listed = tables.render_json([{"a": 1}, {"a": 2, "b": "x"}])
    assert "<th>b</th>" in listed
    deep = tables.render_json({"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}})
    assert "<pre>" in deep  # past MAX_DEPTH: compact JSON, escaped


def test_embed_json_cannot_close_the_script() -> None:
    text = embed_json({"t": "</script><!-- \u2028 & >", "n": float("nan")})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"t": "</script><!-- \u2028 & >", "n": None}


def test_report_escapes_dialogue_text(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "trajectories.jsonl",
                [make_traj("x<b>1</b>", opening=XSS, extra_text=XSS)])  # fmt: skip
    (tmp_path / "summary.json").write_text(json.dumps({"agent": XSS}))
    page = write_report(tmp_path).read_text()
    assert "<img src=x" not in page and "<script>window" not in page
    assert "&lt;img src=x onerror" in page  # the summary table shows it, escaped
    assert page.count("</script>") == 2  # only the page's own two script blocks
    data = _embedded(page)
    assert data["dialogues"][0]["open"] == XSS  # intact after JSON.parse
    assert data["dialogues"][0]["sid"] == "x<b>1</b>"


def test_csp_hash_matches_inline_script(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "trajectories.jsonl", [make_traj("a")])
    page = write_report(tmp_path).read_text()
    js = re.search(r"<script>(.*?)</script>", page, re.S)
    assert js is not None
    digest = base64.b64encode(hashlib.sha256(js.group(1).encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in page


def test_report_contents(viewer_dir: Path) -> None:
    rows = [{"step": i, "constraint/lambda/voucher": 0.1 * i, "rollout/voucher_rate": 0.5,
             "rollout/satisfaction_mean": 2.5} for i in range(5)]  # fmt: skip
    (viewer_dir / "metrics.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in rows) + "{broken\n"
    )
    (viewer_dir / "results.json").write_text(json.dumps({"rule": {"sat": 2.0, "v_rate": 0.4}}))
    (viewer_dir / "ablation.json").write_text(
        json.dumps({"variants": {"cmpo": {"satisfaction": 2.7, "voucher_rate": 0.3}}})
    )
    (viewer_dir / "other" / "extra.png").write_bytes(_tiny_png())
    out = write_report(viewer_dir, viewer_dir / "out" / "r.html", title="T<1>")
    page = out.read_text()
    assert out.name == "r.html" and "<title>T&lt;1&gt;</title>" in page
    for caption in ("Simulation summary", "Evaluation results", "Ablation summary",
                    "Training run", "skipped 1 malformed line", "Training curves",
                    "Table-1 metrics per policy", "Satisfaction vs voucher rate",
                    "other/extra.png"):  # fmt: skip
        assert caption in page, caption
    assert page.count("data:image/png;base64,") == 2 * 4  # link + img per figure
    assert not re.search(r"(src|href)=\"https?:", page)  # nothing fetched from the network
    data = _embedded(page)
    assert data["sources"] == ["trajectories", "other"]
    assert len(data["dialogues"]) == 38
    assert {d["sid"] for d in data["dialogues"] if d["src"] == "trajectories"} == {
        f"d0{i}" for i in range(1, 9)
    }
    assert not list(viewer_dir.glob("*.png"))  # generated figures are not written to the run


def test_training_run_page(tmp_path: Path) -> None:
    run = make_train_dir(tmp_path / "run")
    (run / "curves.png").write_bytes(_tiny_png())  # the trainer's copy: redrawn, not shown twice
    page = write_report(run).read_text()
    for text in ("Training run", "policy act · CMPO", "Training rollouts",
                 "Final evaluation of the trained policy", "warm start (after SFT)",
                 "Training curves: λ, cost rate vs budget (dashed), Sat., FR"):  # fmt: skip
        assert text in page, text
    assert "curves.png</figcaption>" not in page
    assert page.count("data:image/png;base64,") == 2 * 2  # curves + final-eval bars
    data = _embedded(page)
    assert data["sources"] == ["held-out eval"] and len(data["dialogues"]) == 6


def test_max_dialogues_and_empty_dir(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "trajectories.jsonl", [make_traj(f"s{i}") for i in range(5)])
    page = write_report(tmp_path, max_dialogues=3).read_text()
    assert len(_embedded(page)["dialogues"]) == 3 and "only the first 3" in page
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "nothing to report" in write_report(empty).read_text()
    with pytest.raises(NotADirectoryError):
        write_report(tmp_path / "missing")


def test_cli(viewer_dir: Path, tmp_path: Path) -> None:
    from interactcs.cli.main import app

    out = tmp_path / "cli.html"
    res = CliRunner().invoke(app, ["report", str(viewer_dir), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "wrote" in res.output and out.is_file()
    bad = CliRunner().invoke(app, ["report", str(tmp_path / "nope")])
    assert bad.exit_code != 0


def _tiny_png() -> bytes:
    from io import BytesIO

    import numpy as np
    from matplotlib.image import imsave

    buf = BytesIO()
    imsave(buf, np.zeros((4, 4, 3)), format="png")
    return buf.getvalue()
