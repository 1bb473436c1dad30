"""The text report for real books (issue 13): portfolios in rows when the
wide table does not fit, --sort/--top, breach hysteresis (--clear-below),
--min-periods-above, the summary of long breach lists, and --period. The CLI
runs in-process on CSV files written here; expected figures come from the
library on the same data."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

import trackerr
from trackerr import report

from cli_run import cli, one_error

pd = pytest.importorskip("pandas")


def ok(*args):
    status, out, err = cli("report", *args)
    assert status == 0, err
    return out


def fails(*args, match):
    """Exit 2, one line on stderr, naming what is wrong."""
    return one_error("report", *args, match=match)


def prices(tmp_path, n_funds, *, rows=300, freq="D", end=None, seed=0, name="p.csv"):
    """A benchmark and n funds tracking it with growing active risk, as prices."""
    rng = np.random.default_rng(seed)
    dates = (
        pd.date_range(end=end, periods=rows, freq=freq)
        if end
        else pd.date_range("2025-01-01", periods=rows, freq=freq)
    )
    bench = 100 * np.cumprod(1 + rng.normal(0, 0.02, rows))
    cols = {"BENCH": bench}
    for k in range(n_funds):
        active = rng.normal(0, 0.001 * (1 + k), rows)
        cols[f"FUND_{k:02d}"] = bench * np.cumprod(1 + active)
    frame = pd.DataFrame(cols, index=pd.DatetimeIndex(dates, name="date"))
    file = tmp_path / name
    frame.to_csv(file)
    return file, frame


@pytest.fixture
def no_columns(monkeypatch):
    """stdout is a StringIO here (not a terminal): without $COLUMNS the width is 100."""
    monkeypatch.delenv("COLUMNS", raising=False)


# --- wide or rows -----------------------------------------------------------------------------


def test_a_few_portfolios_keep_the_wide_form(tmp_path, no_columns):
    file, _ = prices(tmp_path, 3)
    out = ok(file, "--benchmark", "BENCH")
    header = next(line for line in out.splitlines() if "FUND_00" in line)
    assert header.split() == ["FUND_00", "FUND_01", "FUND_02"]  # portfolios in columns
    assert any(line.startswith("tracking_error ") for line in out.splitlines())
    assert "(TE tracking_error" not in out  # no legend: full names


@pytest.mark.parametrize("width", [None, 80, 100, 132])
def test_twenty_portfolios_go_in_rows_within_the_width(tmp_path, monkeypatch, width):
    if width is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", str(width))
    file, _ = prices(tmp_path, 20)
    out = ok(file, "--benchmark", "BENCH", "--limit", "2%")
    lines = out.splitlines()
    assert max(map(len, lines)) <= (width or 100)
    assert not any(line.startswith("tracking_error ") for line in lines)
    for k in range(20):  # one row per portfolio in each block of columns
        assert sum(line.startswith(f"FUND_{k:02d} ") for line in lines) >= 1
    heads = [line.split() for line in lines if line.startswith("portfolio ")]
    assert heads and heads[0][:3] == ["portfolio", "TE", "TD"]
    assert any("breach" in head for head in heads)  # every metric has its column, in a block
    assert "(TE tracking_error, TD tracking_difference" in out  # the legend


def test_the_rows_hold_the_reports_figures(tmp_path, no_columns):
    file, _ = prices(tmp_path, 20)
    js = json.loads(ok(file, "--benchmark", "BENCH", "--format", "json"))
    lines = ok(file, "--benchmark", "BENCH").splitlines()
    first = lines.index(next(line for line in lines if line.startswith("portfolio ")))
    assert lines[first].split()[1] == "TE"
    for line in lines[first + 1 : first + 21]:
        name, te = line.split()[:2]
        assert te == f"{100 * js['portfolios'][name]['tracking_error']:.2f}%"


def test_wide_form_when_the_terminal_is_wide_enough(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "600")
    file, _ = prices(tmp_path, 20)
    out = ok(file, "--benchmark", "BENCH")
    assert any(line.split() == [f"FUND_{k:02d}" for k in range(20)] for line in out.splitlines())


# --- --sort and --top -------------------------------------------------------------------------


def _rows(out):
    """Portfolio names in the order of the first block of rows."""
    lines = out.splitlines()
    i = lines.index(next(line for line in lines if line.startswith("portfolio ")))
    names = []
    for line in lines[i + 1 :]:
        if not line.startswith("FUND_"):
            break
        names.append(line.split()[0])
    return names


def test_sort_and_top(tmp_path, no_columns):
    file, _ = prices(tmp_path, 20, seed=3)
    js = json.loads(ok(file, "--benchmark", "BENCH", "--format", "json"))
    te = {k: m["tracking_error"] for k, m in js["portfolios"].items()}
    by_te = sorted(te, key=te.get, reverse=True)

    out = ok(file, "--benchmark", "BENCH", "--sort", "tracking_error", "--top", "5")
    assert _rows(out) == by_te[:5]
    assert "sorted by tracking_error, largest first; 5 of 20 portfolios shown" in out
    assert out.count("5 of 20") == 1  # not repeated as a note

    out = ok(file, "--benchmark", "BENCH", "--sort", "-tracking_error")
    assert _rows(out) == by_te[::-1]
    assert "smallest first" in out and "of 20" not in out

    # --top cuts every format, and says so in the notes
    top = json.loads(
        ok(file, "--benchmark", "BENCH", "--sort=-max_drawdown", "--top", "3", "--format", "json")
    )
    mdd = {k: m["max_drawdown"] for k, m in js["portfolios"].items()}
    assert list(top["portfolios"]) == sorted(mdd, key=mdd.get)[:3]
    assert "3 of 20 portfolios shown" in top["notes"][-1]
    status, out, err = cli("report", file, "--benchmark", "BENCH", "--top", "4", "--format", "csv")
    assert status == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["portfolio"] for r in rows] == list(js["portfolios"])[:4]  # the file's order
    assert "4 of 20 portfolios shown" in err


def test_sort_puts_nan_last_either_way(tmp_path, no_columns):
    # a fund with a constant price has no Sharpe ratio (zero volatility)
    file, frame = prices(tmp_path, 3)
    frame["FLAT"] = 50.0
    frame.to_csv(file)
    for sort in ("sharpe_ratio", "-sharpe_ratio"):
        js = json.loads(ok(file, "--benchmark", "BENCH", "--sort", sort, "--format", "json"))
        assert list(js["portfolios"])[-1] == "FLAT"


# --- breaches: hysteresis, minimum length, summary --------------------------------------------


def hovering(tmp_path, rows=600, window=20, seed=7):
    """Returns whose rolling tracking error hovers around its median: the
    limit there gives a storm of short breaches."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2024-01-01", periods=rows, name="date")
    b = rng.normal(0, 0.01, rows)
    p = b + rng.normal(0, 0.002, rows)
    frame = pd.DataFrame({"P": p, "B": b}, index=dates)
    file = tmp_path / "hover.csv"
    frame.to_csv(file)
    te = trackerr.rolling_tracking_error(p, b, window, periods_per_year=252)
    limit = float(np.nanmedian(te))
    args = (file, "--benchmark", "B", "--returns", "--periods-per-year", "252")
    return (*args, "--window", window), dates, te, limit


def runs(te, limit, clear, least=1):
    """The breach runs, one tick at a time (the obviously-correct form)."""
    out, start = [], None
    for i, v in enumerate(te):
        if start is None and v > limit:
            start = i
        elif start is not None and v < clear:
            out.append((start, i - 1))
            start = None
    if start is not None:
        out.append((start, len(te) - 1))
    return [(i, j) for i, j in out if j - i + 1 >= least]


def expected(dates, te, spans):
    return [
        {
            "start": str(dates[i].date()),
            "end": str(dates[j].date()),
            "peak": pytest.approx(float(np.nanmax(te[i : j + 1])), rel=1e-12),
            "ongoing": bool(j == len(te) - 1),
            "periods": j - i + 1,
            "peak_date": str(dates[i + int(np.nanargmax(te[i : j + 1]))].date()),
        }
        for i, j in spans
    ]


def breaches_json(args, *more):
    return json.loads(ok(*args, *more, "--format", "json"))


def test_hysteresis_merges_the_breaches_of_a_hovering_series(tmp_path):
    args, dates, te, limit = hovering(tmp_path)
    plain = breaches_json(args, "--limit", repr(limit))["breaches"]["P"]
    assert plain == expected(dates, te, runs(te, limit, limit))
    assert len(plain) >= 15  # the storm

    clear = 0.85 * limit
    out = breaches_json(args, "--limit", repr(limit), "--clear-below", repr(clear))
    merged = out["breaches"]["P"]
    assert merged == expected(dates, te, runs(te, limit, clear))
    assert 1 <= len(merged) <= len(plain) // 2
    assert out["clear_below"] == clear
    # each merged breach covers the plain ones that start in it
    starts = [b["start"] for b in merged]
    assert set(starts) <= {b["start"] for b in plain}
    # clear_below at the limit is no hysteresis (as trackerr.Monitor's default)
    same = breaches_json(args, "--limit", repr(limit), "--clear-below", repr(limit))
    assert same["breaches"]["P"] == plain


def test_min_periods_above_drops_blips(tmp_path):
    args, dates, te, limit = hovering(tmp_path)
    spans = runs(te, limit, limit)
    assert any(i == j for i, j in spans)  # one-period blips exist
    out = breaches_json(args, "--limit", repr(limit), "--min-periods-above", "3")
    assert out["breaches"]["P"] == expected(dates, te, runs(te, limit, limit, 3))
    assert out["min_periods_above"] == 3
    assert 0 < len(out["breaches"]["P"]) < len(spans)
    both = breaches_json(
        args, "--limit", repr(limit), "--clear-below", repr(0.9 * limit), "--min-periods-above", "5"
    )
    assert both["breaches"]["P"] == expected(dates, te, runs(te, limit, 0.9 * limit, 5))


def test_text_summarises_long_breach_lists(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # the summary on one line
    args, dates, te, limit = hovering(tmp_path)
    spans = runs(te, limit, limit)
    listed = breaches_json(args, "--limit", repr(limit))["breaches"]["P"]
    assert len(listed) == len(spans) > 3  # JSON keeps every breach
    out = ok(*args, "--limit", repr(limit))
    line = next(line for line in out.splitlines() if line.startswith("  P: "))
    i, j = max(spans, key=lambda s: s[1] - s[0])  # the first of the longest
    top = int(np.nanargmax(np.where(te > limit, te, np.nan)))
    assert line.startswith(
        f"  P: {len(spans)} breaches, {sum(j - i + 1 for i, j in spans)} periods in breach, "
        f"longest {dates[i].date()} .. {dates[j].date()} ({j - i + 1} periods), "
        f"worst peak {te[top]:.2%} on {dates[top].date()}"
    )
    assert sum(line.startswith("  P: ") and "periods" in line for line in out.splitlines()) == 1
    # three or fewer are listed one by one
    least = sorted((j - i + 1 for i, j in spans), reverse=True)[1]  # keeps the two longest
    few = ok(*args, "--limit", repr(limit), "--min-periods-above", least)
    kept = runs(te, limit, limit, least)
    assert 1 <= len(kept) <= 3
    lines = [line for line in few.splitlines() if line.startswith("  P: ") and "periods" in line]
    assert [line.split(",")[0] for line in lines] == [
        f"  P: {dates[i].date()} .. {dates[j].date()} ({j - i + 1} periods)" for i, j in kept
    ]
    assert f"for at least {least} periods" in few


# --- --period ---------------------------------------------------------------------------------


def _slice(frame, name, lo, hi):
    pair = frame[[name, "BENCH"]].dropna()
    r = trackerr.returns_from_prices(pair.to_numpy())
    when = pair.index[1:]
    inside = (when >= pd.Timestamp(lo)) & (when < pd.Timestamp(hi) + pd.Timedelta(days=1))
    return r[inside, 0], r[inside, 1]


@pytest.mark.parametrize(
    ("period", "freq", "end", "last", "before"),
    [
        # 24/7 data ending on a Wednesday: the week before is the last complete one
        ("week", "D", "2026-02-04", ("2026-01-26", "2026-02-01"), ("2026-01-19", "2026-01-25")),
        # ... ending on a Sunday: that week is complete
        ("week", "D", "2026-02-01", ("2026-01-26", "2026-02-01"), ("2026-01-19", "2026-01-25")),
        # business days ending on a Friday: that week is complete
        ("week", "B", "2026-01-30", ("2026-01-26", "2026-02-01"), ("2026-01-19", "2026-01-25")),
        ("month", "D", "2026-02-04", ("2026-01-01", "2026-01-31"), ("2025-12-01", "2025-12-31")),
        # business days ending on the last weekday of a month (Friday 2026-01-30)
        ("month", "B", "2026-01-30", ("2026-01-01", "2026-01-31"), ("2025-12-01", "2025-12-31")),
    ],
)
def test_period_figures_are_the_library_on_the_slice(
    tmp_path, no_columns, period, freq, end, last, before
):
    file, frame = prices(tmp_path, 3, rows=200, freq=freq, end=end)
    args = (file, "--benchmark", "BENCH", "--limit", "3%", "--period", period)
    js = json.loads(ok(*args, "--format", "json"))
    got = js["period"]
    assert (got["start"], got["end"]) == last
    assert (got["previous_start"], got["previous_end"]) == before
    ppy = js["periods_per_year"]
    for name, row in got["portfolios"].items():
        figures = []
        for lo, hi in (last, before):
            p, b = _slice(frame, name, lo, hi)
            figures.append(
                {
                    "returns": len(p),
                    "tracking_error": trackerr.tracking_error(p, b, periods_per_year=ppy),
                    "tracking_difference": trackerr.tracking_difference(p, b),
                    "max_drawdown": trackerr.max_drawdown(p),
                }
            )
        now, prev = figures
        assert now["returns"] >= 5 and prev["returns"] >= 5
        for f, value in now.items():
            assert row[f] == pytest.approx(value, rel=1e-12), (name, f)
            assert row["previous"][f] == pytest.approx(prev[f], rel=1e-12), (name, f)
        for f in ("tracking_error", "tracking_difference", "max_drawdown"):
            assert row["change"][f] == pytest.approx(now[f] - prev[f], rel=1e-12, abs=1e-15)
        lo, hi = pd.Timestamp(last[0]), pd.Timestamp(last[1])
        assert row["new_breaches"] == [
            b for b in js["breaches"][name] if lo <= pd.Timestamp(b["start"]) <= hi
        ]
    text = ok(*args)
    assert f"last complete {period} {last[0]} .. {last[1]} against {before[0]} .. {before[1]}" in (
        " ".join(text.split())
    )
    row = next(line for line in text.splitlines() if line.startswith("FUND_01 "))
    te = got["portfolios"]["FUND_01"]["tracking_error"]
    change = got["portfolios"]["FUND_01"]["change"]["tracking_error"]
    returns = got["portfolios"]["FUND_01"]["returns"]
    assert row.split()[1:4] == [str(returns), f"{100 * te:.2f}%", f"{100 * change:+.2f}%"]


def test_period_lists_new_breaches(tmp_path, no_columns):
    # a fund whose active risk jumps in the last week: a breach starts there
    file, frame = prices(tmp_path, 1, rows=120, end="2026-02-01")
    rng = np.random.default_rng(5)
    jump = np.ones(len(frame))
    jump[-7:] = np.cumprod(1 + rng.normal(0, 0.03, 7))
    frame["FUND_00"] = frame["FUND_00"] * jump
    frame.to_csv(file)
    args = (file, "--benchmark", "BENCH", "--limit", "8%", "--period", "week", "--window", "10")
    js = json.loads(ok(*args, "--format", "json"))
    new = js["period"]["portfolios"]["FUND_00"]["new_breaches"]
    assert new and new[-1]["ongoing"] and new[-1]["start"] >= "2026-01-26"
    text = ok(*args)
    assert f"new breach FUND_00: {new[-1]['start']} .. 2026-02-01" in text


@pytest.mark.parametrize("width", [80, 100])
def test_period_table_fits_the_width(tmp_path, monkeypatch, width):
    monkeypatch.setenv("COLUMNS", str(width))
    file, frame = prices(tmp_path, 2, rows=120, end="2026-02-01")
    frame = frame.rename(
        columns={"FUND_01": "A_FUND_WITH_A_NAME_LONGER_THAN_ANY_TABLE_HAS_ROOM_FOR"}
    )
    frame.to_csv(file)
    out = ok(file, "--benchmark", "BENCH", "--period", "week", "--limit", "3%")
    assert max(map(len, out.splitlines())) <= width
    assert any(line.startswith("A_FUND_WITH_") for line in out.splitlines())


def test_no_complete_period_is_an_error(tmp_path):
    file, _ = prices(tmp_path, 1, rows=20, end="2026-01-28")  # from 2026-01-09 on
    fails(file, "--benchmark", "BENCH", "--window", "5", "--period", "month", match="no complete")


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "match"),
    [
        (["--clear-below", "2%"], "--clear-below needs --limit"),
        (["--limit", "2%", "--clear-below", "3%"], "must be at most --limit"),
        (["--min-periods-above", "3"], "--min-periods-above needs --limit"),
        (["--limit", "2%", "--min-periods-above", "0"], "must be at least 1"),
        (["--limit", "2%", "--min-periods-above", "x"], "not an integer"),
        (["--clear-below", "-1%", "--limit", "2%"], "must be positive"),
        (["--sort", "tracking"], "not a field of the report"),
        (["--sort", "-nope"], "not a field of the report"),
        (["--sort", "breach_now"], "--sort breach_now needs --limit"),
        (["--top", "0"], "must be at least 1"),
        (["--period", "year"], "invalid choice"),
    ],
)
def test_bad_options_exit_2_with_one_line(tmp_path, flags, match):
    file, _ = prices(tmp_path, 2, rows=60)
    fails(file, "--benchmark", "BENCH", *flags, match=match)


def test_build_checks_its_breach_options(tmp_path):
    _, frame = prices(tmp_path, 1, rows=60)
    with pytest.raises(report.ReportError, match="clear_below needs a limit"):
        report.build(frame, "BENCH", clear_below=0.01)
    with pytest.raises(ValueError, match=r"clear_below \(=0.05\) must be between 0 and the limit"):
        report.build(frame, "BENCH", limit=0.03, clear_below=0.05)
    with pytest.raises(report.ReportError, match="must be at least 1"):
        report.build(frame, "BENCH", limit=0.03, min_periods_above=0)
    with pytest.raises(report.ReportError, match="must be an integer"):
        report.build(frame, "BENCH", limit=0.03, min_periods_above=2.5)
    with pytest.raises(report.ReportError, match="needs a limit"):
        report.build(frame, "BENCH", min_periods_above=2)
    with pytest.raises(report.ReportError, match="period must be one of week, month"):
        report.period_summary(report.build(frame, "BENCH"), "year")
    rep = report.build(frame, "BENCH", limit=0.03, clear_below=0.02, min_periods_above=2)
    assert rep.to_dict()["clear_below"] == 0.02 and rep.to_dict()["min_periods_above"] == 2


# --- every period in CSV ------------------------------------------------------------------------


def test_out_writes_every_breach_period_and_the_csv_table(tmp_path, monkeypatch):
    # breaches.csv: a row for each period JSON lists (the text summarises long
    # lists, this file does not); portfolios.csv: what --format csv prints
    import trackerr._charts

    monkeypatch.setattr(trackerr._charts, "available", lambda: False)  # tables only, fast
    file, _ = prices(tmp_path, 8, rows=400)
    args = (file, "--benchmark", "BENCH", "--limit", "4%", "--window", "20")
    doc = json.loads(ok(*args, "--format", "json"))
    want = [
        [name, "0.04", b["start"], b["end"], str(b["periods"]), repr(b["peak"]), b["peak_date"],
         str(b["ongoing"])]
        for name, bs in doc["breaches"].items()
        for b in bs
    ]  # fmt: skip
    assert len(want) > 8  # several periods for some portfolios
    status, _, err = cli("report", *args, "--format", "csv", "--out", tmp_path)
    assert status == 0, err
    with open(tmp_path / "breaches.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["portfolio", "limit", "start", "end", "periods", "peak", "peak_date",
                       "ongoing"]  # fmt: skip
    assert rows[1:] == want
    assert (tmp_path / "portfolios.csv").read_text() == ok(*args, "--format", "csv")
    # without a limit there are no breaches to list, and no file for them
    cli("report", file, "--benchmark", "BENCH", "--format", "csv", "--out", tmp_path / "n")
    assert (tmp_path / "n" / "portfolios.csv").exists()
    assert not (tmp_path / "n" / "breaches.csv").exists()


def test_timing_auto_covers_a_big_book_by_its_breaches(tmp_path, monkeypatch):
    # above report.TIMING_ALL_UP_TO portfolios the timing figures (about 2 ms
    # each) are computed for the portfolios in breach only, and a note says so
    monkeypatch.setattr(report, "TIMING_ALL_UP_TO", 5)
    file, _ = prices(tmp_path, 8, rows=200)
    base = (file, "--benchmark", "BENCH", "--format", "json")
    doc = json.loads(ok(*base, "--limit", "4%"))
    breached = {n for n, bs in doc["breaches"].items() if bs}
    assert 0 < len(breached) < 8
    assert set(doc["timing"]) == breached
    assert any(f"for the {len(breached)} portfolios with a breach only" in n for n in doc["notes"])
    doc = json.loads(ok(*base))
    assert doc["timing"] == {}
    assert any("left out (no --limit" in n for n in doc["notes"])
    assert len(json.loads(ok(*base, "--timing", "all"))["timing"]) == 8
