"""report.html of ``trackerr report --out``: one self-contained file with a
sortable summary table whose figures are the report's, a section per portfolio
linked from it, and the many-portfolio charts (heatmap) above a few."""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("matplotlib")
pd = pytest.importorskip("pandas")

from trackerr import _charts, report  # noqa: E402

ODD = "A<b>&\"q'"  # a label that must be escaped everywhere


def _frame(n: int, seed: int = 7) -> Any:
    """``n`` synthetic portfolios around a benchmark, 300 business days: tracking
    noise from 0.2 % to 6 % a year (so some breach a 3 % limit and some do not),
    every third one with a burst of extra noise."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2021-01-04", periods=300)
    bench = rng.normal(0.0004, 0.01, len(days))
    cols = {"BENCH": 100 * np.cumprod(1 + bench)}
    for k in range(n):
        te = 0.002 + 0.058 * k / max(n - 1, 1)
        noise = rng.normal(0.0, te / np.sqrt(252), len(days))
        if k % 3 == 2:
            noise[100:160] *= 5
        name = ODD if k == 1 else f"P{k + 1}"
        cols[name] = 50 * np.cumprod(1 + bench + noise)
    return pd.DataFrame(cols, index=days)


class _Page(HTMLParser):
    """What the tests read from the page: ids, links, sources, scripts and the
    summary table's header and rows (cell texts, data-v values, row links)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.hrefs: list[str] = []
        self.srcs: list[tuple[str, str]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.alts: list[str] = []
        self.head: list[str] = []
        self.rows: list[dict[str, Any]] = []
        self._in_summary = False
        self._section = ""
        self._cell: list[str] | None = None
        self._script: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(str(a["id"]))
        for key in ("src", "href"):
            if a.get(key) is not None:
                self.srcs.append((tag, str(a[key])))
        if tag == "a" and a.get("href"):
            self.hrefs.append(str(a["href"]))
        if tag == "img":
            self.alts.append(str(a.get("alt")))
        if tag == "script":
            self._script = a
        if tag == "table" and a.get("id") == "summary":
            self._in_summary = True
        if not self._in_summary:
            return
        if tag in ("thead", "tbody"):
            self._section = tag
        elif tag == "tr" and self._section == "tbody":
            self.rows.append({"cells": [], "v": [], "link": None})
        elif tag in ("th", "td"):
            self._cell = []
            if self._section == "tbody" and tag == "td":
                self.rows[-1]["v"].append(a.get("data-v"))
        elif tag == "a" and self._section == "tbody":
            self.rows[-1]["link"] = a.get("href")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self._in_summary:
            self._in_summary = False
        if tag == "script":
            self._script = None
        if self._in_summary and tag in ("th", "td") and self._cell is not None:
            text = "".join(self._cell)
            if self._section == "thead":
                self.head.append(text)
            else:
                self.rows[-1]["cells"].append(text)
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._script is not None:
            self.scripts.append((self._script, data))


def _write(tmp_path: Path, n: int) -> tuple[Any, str, _Page]:
    rep = report.build(_frame(n), "BENCH", limit=0.03)
    page = _charts.write(rep, tmp_path / "out", title=f"<b>{n} & co</b>")
    text = page.read_text(encoding="utf-8")
    parsed = _Page()
    parsed.feed(text)
    parsed.close()
    return rep, text, parsed


@dataclass
class Written:
    n: int  # portfolios
    rep: Any  # the report
    text: str  # report.html
    page: _Page  # report.html, parsed
    out: Path  # the directory written


@pytest.fixture(scope="module", params=[3, 30], ids=["3 portfolios", "30 portfolios"])
def w(request: Any, tmp_path_factory: Any) -> Written:
    n = request.param
    tmp = tmp_path_factory.mktemp(f"html{n}")
    rep, text, parsed = _write(tmp, n)
    return Written(n, rep, text, parsed, tmp / "out")


def test_one_file_that_needs_no_network(w: Written) -> None:
    assert re.search(r"https?:", w.text) is None
    assert "<link" not in w.text and "@import" not in w.text and "url(" not in w.text
    for tag, src in w.page.srcs:  # every source is embedded; every link stays on the page
        if tag == "img":
            assert src.startswith("data:image/png;base64,")
            assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
        else:
            assert tag == "a" and src.startswith("#"), (tag, src)
    assert all("src" not in attrs for attrs, _ in w.page.scripts)
    pngs = sorted(p.name for p in w.out.glob("*.png"))
    assert len(w.page.alts) == len(pngs) and w.out / "report.html" in list(w.out.iterdir())


def test_summary_table_has_the_reports_figures(w: Written) -> None:
    fields = [f for f in report.FIELDS if any(f in m for m in w.rep.metrics.values())]
    fields.append("breach_now")
    assert w.page.head == ["portfolio", *(f.replace("_", " ") for f in fields)]
    assert [r["cells"][0] for r in w.page.rows] == list(w.rep.metrics) and len(w.page.rows) == w.n
    for row, (name, m) in zip(w.page.rows, w.rep.metrics.items(), strict=True):
        assert row["cells"][1:] == [_charts.fmt(f, m.get(f)) for f in fields], name
        # the sort key is the unrounded value
        te = row["v"][fields.index("tracking_error")]
        assert float(te) == pytest.approx(m["tracking_error"], rel=1e-12)
        assert row["v"][fields.index("breach_now")] == ("1" if m["breach_now"] else "0")


def test_every_portfolio_has_a_linked_section(w: Written) -> None:
    links = [r["link"] for r in w.page.rows]
    assert all(link and link.startswith("#") for link in links)
    assert len(set(links)) == w.n
    for link, name in zip(links, w.rep.metrics, strict=True):
        assert link[1:] in w.page.ids
        section = re.search(rf'<section id="{link[1:]}">(.*?)</section>', w.text, re.S)
        assert section is not None
        body = section.group(1)
        assert f"<h3>{html.escape(name)} " in body and body.count("<svg ") == 2
        shown = _charts.fmt("tracking_error", w.rep.metrics[name]["tracking_error"])
        assert f"<b>{shown}</b>" in body
    # every in-page link lands somewhere
    assert {h[1:] for h in w.page.hrefs if h.startswith("#")} <= w.page.ids


def test_inline_sort_script(w: Written) -> None:
    assert '<table class="sortable" id="summary">' in w.text
    code = "".join(body for _, body in w.page.scripts)
    assert 'querySelectorAll("table.sortable")' in code and "addEventListener" in code
    assert "parseFloat" in code and "numeric: true" in code  # numbers and P2 < P10


def test_line_chart_at_a_few_heatmap_at_many(w: Written) -> None:
    if w.n <= _charts.MANY:
        assert "rolling tracking error, one line per portfolio" in w.page.alts
        assert not (w.out / "rolling_te_worst.png").exists()
        assert not any("heatmap" in a for a in w.page.alts)
    else:
        assert "rolling tracking error heatmap, portfolio by time" in w.page.alts
        assert "rolling tracking error of the highest few, small multiples" in w.page.alts
        assert (w.out / "rolling_te_worst.png").is_file()
    assert (w.out / "rolling_te.png").is_file()
    assert {"cumulative growth", "drawdown from the running peak"} <= set(w.page.alts)


def test_labels_are_escaped(w: Written) -> None:
    assert ODD in w.rep.metrics
    assert ODD not in w.text and html.escape(ODD) in w.text
    title = f"<b>{w.n} & co</b>"
    assert title not in w.text and f"<title>{html.escape(title)}</title>" in w.text
    assert ODD in [r["cells"][0] for r in w.page.rows]  # and it reads back as written


def test_breaches_in_the_page_match_the_report(w: Written) -> None:
    for bs in w.rep.breaches.values():
        for b in bs:
            assert f"{html.escape(b.start)} to {html.escape(b.end)}, peak {b.peak:.2%}" in w.text
    assert any(w.rep.breaches.values()), "the test data should breach the limit"
    assert not all(w.rep.breaches.values()), "and some portfolios should not"
