"""End-to-end runs of the ``trackerr`` command (subprocess) on real data
shipped in tests/data, with outputs checked against the library's functions."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import trackerr

pd = pytest.importorskip("pandas")

DATA = Path(__file__).parent / "data"
LST = DATA / "eth_lst_2023_2024.csv"
SPY = DATA / "spy_sp500_2010_2022.csv"


def run(*args, check=True):
    proc = subprocess.run(
        [sys.executable, "-m", "trackerr", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def _pair(frame, name, bench):
    pair = frame[[name, bench]].dropna()
    r = trackerr.returns_from_prices(pair.to_numpy())
    return r[:, 0], r[:, 1], pair.index[1:]


def test_json_report_matches_the_library():
    out = json.loads(run("report", LST, "--benchmark", "ETH", "--format", "json").stdout)
    assert out["benchmark"] == "ETH"
    assert out["periods_per_year"] == 365.0 and "crypto-daily" in out["periods_per_year_reason"]
    assert out["window"] == 91 and "breaches" not in out
    assert set(out["portfolios"]) == {"STETH", "WSTETH"}
    frame = pd.read_csv(LST, index_col=0, parse_dates=True)
    for name, got in out["portfolios"].items():
        p, b, _ = _pair(frame, name, "ETH")
        kw = {"periods_per_year": 365}
        want = {
            "tracking_error": trackerr.tracking_error(p, b, **kw),
            "tracking_difference": trackerr.tracking_difference(p, b, **kw),
            "active_return": trackerr.active_return(p, b, **kw),
            "information_ratio": trackerr.information_ratio(p, b, **kw),
            "beta": trackerr.beta(p, b),
            "alpha": trackerr.alpha(p, b, **kw),
            "correlation": trackerr.correlation(p, b),
            "r_squared": trackerr.r_squared(p, b),
            "up_capture": trackerr.up_capture(p, b),
            "down_capture": trackerr.down_capture(p, b),
            "max_drawdown": trackerr.max_drawdown(p),
            "benchmark_max_drawdown": trackerr.max_drawdown(b),
            "sharpe_ratio": trackerr.sharpe_ratio(p, **kw),
            "sortino_ratio": trackerr.sortino_ratio(p, **kw),
            "rolling_tracking_error": trackerr.rolling_tracking_error(p, b, 91, **kw)[-1],
        }
        for field, value in want.items():
            assert got[field] == pytest.approx(value, rel=1e-12), (name, field)
        assert got["observations"] == len(p)
    # wrapped stETH accrues the staking yield in its price: it beats ETH, stETH does not
    assert out["portfolios"]["WSTETH"]["tracking_difference"] > 0.02
    assert abs(out["portfolios"]["STETH"]["tracking_difference"]) < 0.02


def test_limit_breaches_are_the_runs_above_the_limit():
    out = json.loads(
        run(
            "report",
            LST,
            "--benchmark",
            "ETH",
            "--portfolio",
            "STETH",
            "--limit",
            "3%",
            "--window",
            "30",
            "--format",
            "json",
        ).stdout
    )
    assert out["limit"] == 0.03 and list(out["portfolios"]) == ["STETH"]
    frame = pd.read_csv(LST, index_col=0, parse_dates=True)
    p, b, dates = _pair(frame, "STETH", "ETH")
    te = trackerr.rolling_tracking_error(p, b, 30, periods_per_year=365)
    above = np.r_[False, te > 0.03, False]
    starts = np.flatnonzero(~above[:-1] & above[1:])
    ends = np.flatnonzero(above[:-1] & ~above[1:]) - 1
    want = [
        {
            "start": str(dates[s].date()),
            "end": str(dates[e].date()),
            "peak": pytest.approx(float(te[s : e + 1].max()), rel=1e-12),
            "ongoing": bool(e == len(te) - 1),
            "periods": int(e - s + 1),
            "peak_date": str(dates[s + int(np.argmax(te[s : e + 1]))].date()),
        }
        for s, e in zip(starts, ends, strict=True)
    ]
    assert len(want) > 0
    assert out["breaches"]["STETH"] == want
    assert out["portfolios"]["STETH"]["breach_now"] == bool(te[-1] > 0.03)


def test_csv_and_text_formats():
    rows = list(
        csv.DictReader(
            io.StringIO(run("report", LST, "--benchmark", "ETH", "--format", "csv").stdout)
        )
    )
    assert [r["portfolio"] for r in rows] == ["STETH", "WSTETH"]
    js = json.loads(run("report", LST, "--benchmark", "ETH", "--format", "json").stdout)
    for r in rows:
        assert float(r["tracking_error"]) == js["portfolios"][r["portfolio"]]["tracking_error"]
        assert r["benchmark"] == "ETH"
    text = run("report", LST, "--benchmark", "ETH", "--limit", "0.05").stdout
    assert "STETH" in text and "WSTETH" in text and "tracking_error" in text
    assert "breaches of the 5.00% limit" in text
    te = js["portfolios"]["STETH"]["tracking_error"]
    assert f"{100 * te:.2f}%" in text


def test_business_days_dates_and_returns_input(tmp_path):
    out = json.loads(
        run(
            "report",
            SPY,
            "--benchmark",
            "SP500_price_index",
            "--start",
            "2015-01-01",
            "--end",
            "2016-12-31",
            "--format",
            "json",
        ).stdout
    )
    assert out["periods_per_year"] == 252.0 and out["start"] == "2015-01-02"
    assert out["end"] == "2016-12-30"
    got = out["portfolios"]["SPY_adj"]
    assert 0.001 < got["tracking_error"] < 0.02  # an ETF against its index
    # the same data as returns gives the same figures
    frame = pd.read_csv(SPY, index_col=0, parse_dates=True).loc["2015-01-01":"2016-12-31"]
    rets = trackerr.returns_from_prices(frame)
    file = tmp_path / "returns.csv"
    rets.to_csv(file)
    again = json.loads(
        run(
            "report",
            file,
            "--benchmark",
            "SP500_price_index",
            "--returns",
            "--periods-per-year",
            "daily",
            "--format",
            "json",
        ).stdout
    )["portfolios"]["SPY_adj"]
    for field in ("tracking_error", "beta", "max_drawdown", "up_capture"):
        assert again[field] == pytest.approx(got[field], rel=1e-12), field
    # log returns change the dispersion metrics only
    logs = json.loads(
        run(
            "report",
            SPY,
            "--benchmark",
            "SP500_price_index",
            "--start",
            "2015-01-01",
            "--end",
            "2016-12-31",
            "--log-returns",
            "--format",
            "json",
        ).stdout
    )["portfolios"]["SPY_adj"]
    assert logs["max_drawdown"] == pytest.approx(got["max_drawdown"], rel=1e-12)
    assert logs["tracking_error"] != got["tracking_error"]
    assert logs["tracking_error"] == pytest.approx(got["tracking_error"], rel=0.05)


def test_html_report_embeds_the_charts(tmp_path):
    pytest.importorskip("matplotlib")
    proc = run("report", LST, "--benchmark", "ETH", "--limit", "3%", "--out", tmp_path / "r")
    page = tmp_path / "r" / "report.html"
    assert page.is_file() and str(page) in proc.stderr
    html = page.read_text()
    assert html.count('src="data:image/png;base64,') == 4
    assert "STETH" in html and "Breaches of the 3.00% limit" in html
    assert "Timing: how much of the tracking error is the clock" in html
    for png in ("rolling_te.png", "growth.png", "drawdown.png", "te_by_horizon.png"):
        assert (tmp_path / "r" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_demo_prints_every_dataset_and_writes_reports(tmp_path):
    proc = run("demo", "--out", tmp_path)
    for title in ("Lido stETH vs ETH", "Spot bitcoin ETFs vs BTC", "DeFi Pulse Index"):
        assert title in proc.stdout
    for name in ("steth_eth", "btc_etfs", "dpi"):
        if pytest.importorskip("matplotlib"):
            assert (tmp_path / name / "report.html").is_file()
    doc = json.loads(run("demo", "--format", "json", "--out", tmp_path / "j").stdout)
    assert set(doc) == {"steth_eth", "btc_etfs", "dpi"}
    assert doc["btc_etfs"]["periods_per_year"] == 252.0
    assert set(doc["btc_etfs"]["portfolios"]) == {"IBIT", "FBTC", "GBTC"}
    assert doc["dpi"]["benchmark"] == "EW_BASKET"


def _csv(tmp_path, text):
    file = tmp_path / "in.csv"
    file.write_text(text)
    return file


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "/nonexistent.csv", "--benchmark", "ETH"], "no such file"),
        (["report", LST, "--benchmark", "BTC"], "unknown benchmark column 'BTC'"),
        (["report", LST, "--benchmark", "ETH", "--portfolio", "XYZ"], "unknown portfolio column"),
        (["report", LST, "--benchmark", "ETH", "--window", "5000"], "fewer than the window"),
        (["report", LST, "--benchmark", "ETH", "--start", "2030-01-01"], "no rows between"),
        (["report", LST, "--benchmark", "ETH", "--periods-per-year", "often"], "periods-per-year"),
        (["report", LST, "--benchmark", "ETH", "--limit", "lots"], "not a number"),
        (["report", LST, "--benchmark", "ETH", "--window", "1"], "at least 2"),
        (["report", LST], "--benchmark"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_errors_exit_2_with_one_line(args, message):
    proc = run(*args, check=False)
    assert proc.returncode == 2, proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr
    assert lines[0].startswith("trackerr: error:")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("date,A,B\n2024-01-01,1,2\n2024-01-02,x,2\n2024-01-03,1,2\n", "non-numeric value 'x'"),
        ("date,A,B\n2024-01-01,1,2\n2024-01-02,-1,2\n2024-01-03,1,2\n", "must be positive"),
        ("date,A,B\nmonday,1,2\ntuesday,1,2\n", "must hold dates"),
        ("", "cannot read"),
        ("date,A,B\n2024-01-01,1,2\n2024-01-01,1,2\n2024-01-03,1,2\n", "more than once"),
    ],
)
def test_bad_files_exit_2_with_one_line(tmp_path, text, message):
    proc = run("report", _csv(tmp_path, text), "--benchmark", "B", check=False)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_many_portfolios_and_no_progress_bar_off_a_terminal(tmp_path):
    frame = pd.read_csv(LST, index_col=0, parse_dates=True)
    wide = pd.concat({f"P{i}": frame["STETH"] * (1 + 0.001 * i) for i in range(25)}, axis=1).assign(
        ETH=frame["ETH"]
    )
    file = tmp_path / "wide.csv"
    wide.to_csv(file)
    proc = run("report", file, "--benchmark", "ETH", "--format", "csv")
    assert len(proc.stdout.strip().splitlines()) == 26
    assert proc.stderr == ""  # stderr is a pipe here: no progress bar


def test_help_and_version():
    assert "report" in run("--help").stdout
    assert trackerr.__version__ in run("--version").stdout
    assert "--benchmark" in run("report", "--help").stdout
