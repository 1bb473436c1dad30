"""Edges of ``trackerr report`` (issue 9, items 5-10, 19 and 21): how dates,
separators and decimal marks are read, per-pair annualisation, and the one-line
errors and warnings. The CLI runs in-process; expected figures come from the
library on the same real data read by pandas."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

import trackerr
from trackerr import report

from cli_run import cli, one_error

pd = pytest.importorskip("pandas")

DATA = Path(__file__).parent / "data"
LST = DATA / "eth_lst_2023_2024.csv"
SPY = DATA / "spy_sp500_2010_2022.csv"
IBIT = DATA / "ibit_btc_eth_2024.csv"
BENCH = "SP500_price_index"


def write(tmp_path, content, name="in.csv"):
    file = tmp_path / name
    if isinstance(content, bytes):
        file.write_bytes(content)
    else:
        file.write_text(content, encoding="utf-8", newline="")
    return file


def report_json(*args):
    status, out, err = cli("report", *args, "--format", "json")
    assert status == 0, err
    return json.loads(out), err


def fails(*args, match):
    """Exit 2, one line on stderr, naming what is wrong."""
    return one_error("report", *args, match=match)


def expected(frame, name, bench, periods, window):
    """The library's figures for one pair of a price frame read by pandas."""
    pair = frame[[name, bench]].dropna()
    r = trackerr.returns_from_prices(pair.to_numpy(np.float64))
    p, b = r[:, 0], r[:, 1]
    kw = {"periods_per_year": periods}
    return {
        "tracking_error": trackerr.tracking_error(p, b, **kw),
        "tracking_difference": trackerr.tracking_difference(p, b, **kw),
        "beta": trackerr.beta(p, b),
        "up_capture": trackerr.up_capture(p, b),
        "max_drawdown": trackerr.max_drawdown(p),
        "rolling_tracking_error": trackerr.rolling_tracking_error(p, b, window, **kw)[-1],
        "observations": len(p),
    }


def assert_figures(got, want):
    for field, value in want.items():
        assert got[field] == pytest.approx(value, rel=1e-12, abs=0.0), field


def spy():
    return pd.read_csv(SPY, index_col=0, parse_dates=True)


def lst():
    return pd.read_csv(LST, index_col=0, parse_dates=True)


# -- item 5: time zones -------------------------------------------------------


def test_utc_timestamps_with_an_iso_start(tmp_path):
    frame = lst()
    text = frame.tz_localize("UTC").to_csv(date_format="%Y-%m-%dT%H:%M:%SZ")
    assert "2023-01-01T00:00:00Z" in text
    out, _ = report_json(write(tmp_path, text), "--benchmark", "ETH", "--start", "2023-02-01")
    assert out["start"] == "2023-02-01"
    part = frame.loc["2023-02-01":]
    got = out["portfolios"]["STETH"]
    assert_figures(got, expected(part, "STETH", "ETH", 365, got["window"]))


def test_offsets_that_change_with_daylight_saving_are_read_as_utc(tmp_path):
    # daily closes stamped 00:00 in Berlin: +01:00 in winter, +02:00 in summer
    frame = lst().loc["2023-02-01":"2023-06-30"]
    local = frame.tz_localize("Europe/Berlin")
    text = local.to_csv(date_format="%Y-%m-%d %H:%M:%S%z")
    assert "+0100" in text and "+0200" in text
    out, _ = report_json(
        write(tmp_path, text), "--benchmark", "ETH", "--start", "2023-03-01", "--end", "2023-06-01"
    )
    utc = local.tz_convert("UTC").tz_localize(None)
    part = utc.loc["2023-03-01":"2023-06-01"]
    got = out["portfolios"]["STETH"]
    assert_figures(got, expected(part, "STETH", "ETH", 365, got["window"]))
    assert out["start"] == str(part.index[0])  # 2023-03-01 23:00 UTC, the 2nd in Berlin
    assert "dates with a UTC offset converted to UTC" in out["notes"]


def test_build_accepts_tz_aware_frames_with_naive_bounds():
    frame = lst().tz_localize("UTC")
    rep = report.build(frame, "ETH", start="2023-02-01", end="2023-12-31")
    assert rep.start == "2023-02-01" and rep.end == "2023-12-31"
    assert "dates converted to UTC" in rep.notes
    aware = report.build(frame, "ETH", start=pd.Timestamp("2023-02-01", tz="Europe/Berlin"))
    assert aware.start == "2023-02-01"  # 2023-01-31 23:00 UTC is before the first close


def test_dates_with_and_without_offsets_are_refused(tmp_path):
    text = "date,A,B\n2023-01-01T00:00Z,1,2\n2023-01-02T00:00,1,2\n2023-01-03T00:00Z,1,2\n"
    fails(write(tmp_path, text), "--benchmark", "B", match="line 3: the date has no UTC offset")


# -- item 6: dates read one way ------------------------------------------------


@pytest.mark.parametrize(
    "fmt", ["%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%-d/%-m/%Y", "%d/%m/%y", "%Y/%d/%m"]
)
def test_monthly_day_first_dates_come_out_monthly(tmp_path, fmt):
    frame = spy().resample("MS").first()
    out, _ = report_json(write(tmp_path, frame.to_csv(date_format=fmt)), "--benchmark", BENCH)
    assert out["periods_per_year"] == 12.0 and "monthly" in out["periods_per_year_reason"]
    assert out["start"] == "2010-01-01" and out["end"] == "2022-12-01"
    assert_figures(out["portfolios"]["SPY_adj"], expected(frame, "SPY_adj", BENCH, 12, 12))
    assert any("irregularly spaced" in n or "out of order" in n for n in out["notes"])


@pytest.mark.parametrize(
    ("rule", "periods", "name"), [("QS", 4.0, "quarterly"), ("6MS", 2.0, "semi-annual")]
)
def test_quarterly_and_semi_annual_day_first(tmp_path, rule, periods, name):
    frame = spy().resample(rule).first()
    text = frame.to_csv(date_format="%d/%m/%Y")
    out, _ = report_json(write(tmp_path, text), "--benchmark", BENCH)
    assert out["periods_per_year"] == periods and name in out["periods_per_year_reason"]
    assert_figures(out["portfolios"]["SPY_adj"], expected(frame, "SPY_adj", BENCH, periods, 8))


def test_dates_that_read_both_ways_are_refused_unless_told(tmp_path):
    # one year of monthly data: month first it is 12 consecutive days, just as regular
    frame = spy().resample("MS").first().loc["2015"]
    file = write(tmp_path, frame.to_csv(date_format="%d/%m/%Y"))
    line = fails(file, "--benchmark", BENCH, match="reads both as mm/dd/yyyy")
    assert "--dayfirst" in line and "--date-format" in line and "line 3" in line
    for flags in (["--dayfirst"], ["--date-format", "%d/%m/%Y"]):
        out, _ = report_json(file, "--benchmark", BENCH, "--window", "4", *flags)
        assert out["periods_per_year"] == 12.0
        assert_figures(out["portfolios"]["SPY_adj"], expected(frame, "SPY_adj", BENCH, 12, 4))
    out, _ = report_json(
        file,
        "--benchmark",
        BENCH,
        "--window",
        "4",
        "--date-format",
        "%m/%d/%Y",
        "--periods-per-year",
        "12",
    )
    assert out["start"] == "2015-01-01" and out["end"] == "2015-01-12"  # as told


def test_start_is_read_like_the_file_dates(tmp_path):
    frame = spy().loc["2015-12-01":"2016-12-31"]
    dayfirst = write(tmp_path, frame.to_csv(date_format="%d/%m/%Y"), "d.csv")
    monthfirst = write(tmp_path, frame.to_csv(date_format="%m/%d/%Y"), "m.csv")
    iso = write(tmp_path, frame.to_csv(), "i.csv")
    for file, start, end in [
        (dayfirst, "2016-02-01", "2016-12-31"),
        (monthfirst, "2016-01-02", "2016-12-31"),
    ]:
        out, _ = report_json(
            file,
            "--benchmark",
            BENCH,
            "--start",
            "01/02/2016",
            "--end",
            "31/12/2016" if file == dayfirst else "12/31/2016",
        )
        assert out["start"] == str(frame.loc[start:].index[0].date())
        part = frame.loc[start:end]
        got = out["portfolios"]["SPY_adj"]
        assert_figures(got, expected(part, "SPY_adj", BENCH, 252, got["window"]))
        # ISO bounds are always accepted
        again, _ = report_json(file, "--benchmark", BENCH, "--start", start)
        assert again["start"] == out["start"]
    # a day-first bound is not read month first (or the reverse) for an ISO file
    fails(
        iso, "--benchmark", BENCH, "--start", "01/02/2016", match="cannot read start '01/02/2016'"
    )
    fails(
        dayfirst, "--benchmark", BENCH, "--end", "12/31/2016", match="dd/mm/yyyy (day first) (like"
    )


@pytest.mark.parametrize(
    ("convert", "note"),
    [
        (lambda i: i.strftime("%Y%m%d"), None),
        (lambda i: (i - pd.Timestamp("1970-01-01")) // pd.Timedelta("1s"), "Unix seconds"),
        (lambda i: (i - pd.Timestamp("1970-01-01")) // pd.Timedelta("1ms"), "Unix milliseconds"),
    ],
)
def test_integer_dates_are_recognised(tmp_path, convert, note):
    frame = spy().loc["2015"]
    ints = frame.set_axis(convert(frame.index), axis=0)
    out, _ = report_json(write(tmp_path, ints.to_csv()), "--benchmark", BENCH)
    assert out["periods_per_year"] == 252.0 and out["start"] == "2015-01-02"
    got = out["portfolios"]["SPY_adj"]
    assert_figures(got, expected(frame, "SPY_adj", BENCH, 252, got["window"]))


def test_plain_years_are_annual(tmp_path):
    frame = spy().resample("YS").first()
    years = frame.set_axis(frame.index.year, axis=0)
    out, _ = report_json(write(tmp_path, years.to_csv()), "--benchmark", BENCH)
    assert out["periods_per_year"] == 1.0 and out["start"] == "2010-01-01"
    assert_figures(out["portfolios"]["SPY_adj"], expected(frame, "SPY_adj", BENCH, 1, 8))


@pytest.mark.parametrize(
    ("index", "match"),
    [
        (lambda i: (i - pd.Timestamp("1899-12-30")).days, "Excel serial"),
        (lambda i: np.arange(len(i)) + 1, "integers"),
        (lambda i: (i - pd.Timestamp("1970-01-01")).days, "integers"),
        (lambda i: i.strftime("%Y%m%d").str.replace("2015", "2015 "), "cannot read"),
    ],
)
def test_integer_dates_that_are_not_dates_are_refused(tmp_path, index, match):
    frame = spy().loc["2015"]
    text = frame.set_axis(index(frame.index), axis=0).to_csv()
    fails(write(tmp_path, text), "--benchmark", BENCH, match=match)


def test_one_odd_date_is_the_one_named(tmp_path):
    lines = spy().loc["2015"].to_csv(date_format="%d/%m/%Y").splitlines()
    assert lines[40].startswith("02/03/2015")
    lines[40] = lines[40].replace("02/03/2015", "02/13/2015", 1)
    line = fails(write(tmp_path, "\n".join(lines)), "--benchmark", BENCH, match="line 41:")
    assert "'02/13/2015'" in line and "dd/mm/yyyy" in line


def test_date_format_names_the_line_that_does_not_match(tmp_path):
    text = spy().loc["2015"].to_csv()
    fails(write(tmp_path, text), "--benchmark", BENCH, "--date-format", "%d/%m/%Y", match="line 2:")
    out, _ = report_json(write(tmp_path, text), "--benchmark", BENCH, "--date-format", "%Y-%m-%d")
    assert out["start"] == "2015-01-02"


def test_read_dates_directly():
    index, reading, notes = report.read_dates(["13/01/2023", "14/01/2023", "16/01/2023"])
    assert list(index.strftime("%Y-%m-%d")) == ["2023-01-13", "2023-01-14", "2023-01-16"]
    assert reading.hint == "%d/%m/%Y" and notes == []
    with pytest.raises(report.DateError, match="row 2: no date"):
        report.read_dates(["2023-01-02", "", "2023-01-04"])
    frame = pd.DataFrame(
        {"A": [1.0, 1.1, 1.2, 1.3], "B": [1.0, 1.0, 1.1, 1.2]},
        index=["03/01/2023", "04/01/2023", "05/01/2023", "06/01/2023"],
    )
    with pytest.raises(report.DateError, match="reads both"):
        report.build(frame, "B", window=2)
    rep = report.build(frame, "B", window=2, dayfirst=True, periods_per_year=252)
    assert rep.start == "2023-01-03" and rep.end == "2023-01-06"


# -- item 7: separators and decimal marks ----------------------------------------


def test_decimal_comma_in_a_comma_file_is_refused_naming_the_line(tmp_path):
    text = "date,A,BM\n2023-01-02,98,90,98.33\n2023-01-03,98,91,98.40\n"
    line = fails(write(tmp_path, text), "--benchmark", "BM", match="line 2: 4 fields")
    assert "--sep" in line and "--decimal" in line
    text = "date,A,BM\n2023-01-02,98,90\n2023-01-03,98\n2023-01-04,98,91\n"
    fails(write(tmp_path, text), "--benchmark", "BM", match="line 3: 2 fields but the header has 3")


def test_a_numeric_first_column_is_refused(tmp_path):
    frame = spy().loc["2015"].reset_index(drop=True)
    fails(
        write(tmp_path, frame.to_csv(index=False)),
        "--benchmark",
        BENCH,
        match="line 2: the first column holds numbers",
    )


@pytest.mark.parametrize(
    ("sep", "decimal", "flags"),
    [
        (";", ",", []),
        ("\t", ",", []),
        (";", ".", []),
        ("|", ",", []),
        (";", ",", ["--sep", ";", "--decimal", ","]),
        ("\t", ".", ["--sep", "tab"]),
    ],
)
def test_other_separators_and_decimal_commas_give_the_same_figures(tmp_path, sep, decimal, flags):
    frame = spy().loc["2015":"2016"]
    text = frame.to_csv(sep=sep, decimal=decimal)
    out, _ = report_json(write(tmp_path, text), "--benchmark", BENCH, *flags)
    got = out["portfolios"]["SPY_adj"]
    assert_figures(got, expected(frame, "SPY_adj", BENCH, 252, got["window"]))
    if (sep, decimal) != (",", "."):
        assert any("separator" in n for n in out["notes"])


def test_mixed_decimal_marks_are_refused(tmp_path):
    text = "date;A;B\n2023-01-02;98,5;90.1\n2023-01-03;98,6;90.2\n2023-01-04;98,7;90.3\n"
    fails(write(tmp_path, text), "--benchmark", "B", match="pass --decimal")


def test_a_semicolon_file_read_as_commas_says_to_pass_sep(tmp_path):
    text = spy().loc["2015"].to_csv(sep=";", decimal=",")
    line = fails(
        write(tmp_path, text),
        "--benchmark",
        BENCH,
        "--sep",
        ",",
        match="line 1: the header has one",
    )
    assert "--sep" in line


# -- item 8: per-pair annualisation -----------------------------------------------


def test_business_day_fund_against_24_7_benchmark_alone_and_with_others(tmp_path):
    frame = pd.read_csv(IBIT, index_col=0, parse_dates=True)
    alone, _ = report_json(
        write(tmp_path, frame[["IBIT", "BTC"]].to_csv(), "a.csv"), "--benchmark", "BTC"
    )
    mixed, _ = report_json(IBIT, "--benchmark", "BTC")
    assert alone["portfolios"]["IBIT"] == mixed["portfolios"]["IBIT"]
    ibit, eth = mixed["portfolios"]["IBIT"], mixed["portfolios"]["ETH"]
    assert (ibit["periods_per_year"], ibit["window"]) == (252.0, 63)
    assert (eth["periods_per_year"], eth["window"]) == (365.0, 91)
    assert "business days" in ibit["periods_per_year_reason"]
    assert "every day" in eth["periods_per_year_reason"]
    assert mixed["periods_per_year"] is None and mixed["window"] is None
    assert alone["periods_per_year"] == 252.0
    assert_figures(ibit, expected(frame, "IBIT", "BTC", 252, 63))
    assert_figures(eth, expected(frame, "ETH", "BTC", 365, 91))
    status, text, _ = cli("report", IBIT, "--benchmark", "BTC")
    assert status == 0
    assert "IBIT: 252 periods a year" in text and "ETH: 365 periods a year" in text
    status, table, _ = cli("report", IBIT, "--benchmark", "BTC", "--format", "csv")
    rows = {r["portfolio"]: r for r in __import__("csv").DictReader(io.StringIO(table))}
    assert rows["IBIT"]["periods_per_year"] == "252.0" and rows["ETH"]["window"] == "91"
    assert "business days" in rows["IBIT"]["periods_per_year_reason"]


# -- item 9: rows without a date ------------------------------------------------


@pytest.mark.parametrize("missing", ["", "n/a", "NaN", "NaT", " "])
def test_a_row_without_a_date_is_refused_naming_the_line(tmp_path, missing):
    lines = spy().loc["2015"].to_csv().splitlines()
    lines[10] = missing + "," + lines[10].split(",", 1)[1]
    fails(write(tmp_path, "\n".join(lines) + "\n"), "--benchmark", BENCH, match="line 11: no date")


def test_blank_lines_and_empty_rows_are_skipped(tmp_path):
    frame = spy().loc["2015"]
    lines = frame.to_csv().splitlines()
    lines[20:20] = ["", ",,", "   "]
    out, _ = report_json(write(tmp_path, "\n".join(lines) + "\n,,\n"), "--benchmark", BENCH)
    got = out["portfolios"]["SPY_adj"]
    assert_figures(got, expected(frame, "SPY_adj", BENCH, 252, got["window"]))


def test_build_refuses_missing_dates():
    frame = spy().loc["2015"].copy()
    frame.index = frame.index.where(np.arange(len(frame)) != 5, pd.NaT)
    with pytest.raises(report.ReportError, match="row 6 has no date"):
        report.build(frame, BENCH)


# -- item 10: repeated names ----------------------------------------------------


def test_repeated_portfolios_and_header_columns_are_errors(tmp_path):
    fails(
        LST,
        "--benchmark",
        "ETH",
        "--portfolio",
        "STETH",
        "--portfolio",
        "STETH",
        match="'STETH' is given twice",
    )
    text = LST.read_text().replace("WSTETH", "STETH", 1)
    fails(write(tmp_path, text), "--benchmark", "ETH", match="line 1: column 'STETH' appears twice")
    frame = lst()
    twice = pd.concat([frame, frame[["STETH"]]], axis=1)
    with pytest.raises(report.ReportError, match="'STETH' appears more than once"):
        report.build(twice, "ETH")
    with pytest.raises(report.ReportError, match="given twice"):
        report.build(frame, "ETH", portfolios=["STETH", "STETH"])


# -- item 19: likely unit mistakes ---------------------------------------------------


def test_percent_returns_and_big_limits_warn(tmp_path):
    frame = spy().loc["2015":"2016"]
    rets = trackerr.returns_from_prices(frame)
    fractions = write(tmp_path, rets.to_csv(), "f.csv")
    percents = write(tmp_path, (100 * rets).to_csv(), "p.csv")
    status, _, err = cli("report", fractions, "--benchmark", BENCH, "--returns")
    assert status == 0 and err == ""
    status, _, err = cli("report", percents, "--benchmark", BENCH, "--returns")
    lines = err.strip().splitlines()
    assert status == 0 and len(lines) == 1
    assert lines[0].startswith("trackerr: warning: returns of 'SPY_adj' look like percents")
    status, _, err = cli("report", LST, "--benchmark", "ETH", "--limit", "3")
    assert (
        status == 0
        and err.strip() == "trackerr: warning: the limit 3 is 300% a year; for 3 % write 0.03"
    )
    status, _, err = cli("report", LST, "--benchmark", "ETH", "--limit", "3%")
    assert status == 0 and err == ""
    for limit in ("-5%", "-0.05", "-1"):
        fails(LST, "--benchmark", "ETH", "--limit", limit, match=f"must be positive, got '{limit}'")
    fails(LST, "--benchmark", "ETH", "--window", "-3", match="must be at least 2, got -3")


# -- item 21: one clear line each -------------------------------------------------


def test_unclear_errors_are_now_one_clear_line(tmp_path):
    fails(write(tmp_path, "date,A,B\n"), "--benchmark", "B", match="has a header but no data rows")
    fails(
        write(tmp_path, "date,A,B\r\n\r\n"),
        "--benchmark",
        "B",
        match="has a header but no data rows",
    )
    fails(tmp_path, "--benchmark", "B", match="is a directory")
    fails("/dev/null", "--benchmark", "B", match="not a regular file")
    fails(write(tmp_path, b""), "--benchmark", "B", match="the file is empty")
    fails(
        write(tmp_path, b"date,A,B\n2023-01-02,1,2\n2023-01-03,\xe9,2\n"),
        "--benchmark",
        "B",
        match="line 3: not UTF-8",
    )
    frame = spy().loc["2015"]
    fails(
        write(tmp_path, frame.assign(**{BENCH: np.nan}).to_csv()),
        "--benchmark",
        BENCH,
        match=f"the benchmark column '{BENCH}' has no values",
    )


def test_an_empty_portfolio_column_is_left_out_with_a_note(tmp_path):
    frame = spy().loc["2015"]
    file = write(tmp_path, frame.assign(EMPTY=np.nan).to_csv())
    out, _ = report_json(file, "--benchmark", BENCH)
    assert list(out["portfolios"]) == ["SPY_adj"]
    assert "portfolio 'EMPTY' left out: no values" in out["notes"]
    got = out["portfolios"]["SPY_adj"]
    assert_figures(got, expected(frame, "SPY_adj", BENCH, 252, got["window"]))
    status, text, _ = cli("report", file, "--benchmark", BENCH)
    assert status == 0 and "note: portfolio 'EMPTY' left out: no values" in text
    status, table, err = cli("report", file, "--benchmark", BENCH, "--format", "csv")
    assert status == 0 and table.count("\n") == 2
    assert err == "trackerr: note: portfolio 'EMPTY' left out: no values\n"
    fails(file, "--benchmark", BENCH, "--portfolio", "EMPTY", match="no portfolio has a value")


def test_bom_crlf_and_quoted_fields_read_the_same(tmp_path):
    frame = spy().loc["2015"]
    text = frame.to_csv(lineterminator="\r\n", quoting=1)
    out, _ = report_json(write(tmp_path, "\ufeff" + text), "--benchmark", BENCH)
    got = out["portfolios"]["SPY_adj"]
    assert_figures(got, expected(frame, "SPY_adj", BENCH, 252, got["window"]))
