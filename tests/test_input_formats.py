"""Input formats users have (issue 13): long files, decimal commas, thousands
separators and currency symbols, intraday timestamps with UTC offsets, Excel
and Parquet. Each is written from a clean wide frame in tmp_path, run through
``trackerr report --format json`` in-process, and its figures compared exactly
with the clean wide CSV's; bad input is one line on stderr and exit 2."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from cli_run import cli, one_error

pd = pytest.importorskip("pandas")

DATA = Path(__file__).parent / "data"
LST = DATA / "eth_lst_2023_2024.csv"


def report(path, *flags, benchmark="ETH"):
    status, out, err = cli("report", path, "--benchmark", benchmark, *flags, "--format", "json")
    assert status == 0, err
    return json.loads(out)


def fails(path, *flags, match, benchmark="ETH"):
    """Exit 2, one line on stderr, naming what is wrong."""
    return one_error("report", path, "--benchmark", benchmark, *flags, match=match)


def write(tmp_path, name, text):
    file = tmp_path / name
    file.write_text(text, encoding="utf-8", newline="")
    return file


def frame(rows=160, decimals=None):
    """ETH and two liquid-staking tokens, daily; rounded to cents when asked."""
    f = pd.read_csv(LST, index_col=0, parse_dates=True).iloc[:rows]
    f.index.name = "date"
    return f.round(decimals) if decimals is not None else f


def clean(tmp_path, f, benchmark="ETH"):
    """The clean wide CSV's portfolios figures: what every other format must give."""
    return report(write(tmp_path, "clean.csv", f.to_csv()), benchmark=benchmark)["portfolios"]


def melt(f, date="date", asset="symbol", price="price"):
    long = f.reset_index().melt(id_vars=f.index.name, var_name=asset, value_name=price)
    return long.rename(columns={f.index.name: date})


# -- 1. long files -----------------------------------------------------------------


@pytest.mark.parametrize(
    "columns",
    [
        ["symbol", "date", "price"],
        ["date", "symbol", "price"],
        ["price", "symbol", "date"],
    ],
)
def test_a_long_file_gives_the_wide_files_figures(tmp_path, columns):
    f = frame()
    text = melt(f)[columns].to_csv(index=False)
    out = report(write(tmp_path, "long.csv", text))
    assert out["portfolios"] == clean(tmp_path, f)
    assert any("long file" in n and "'symbol'" in n for n in out["notes"])


def test_long_rows_in_any_order_with_extra_columns_and_gaps(tmp_path):
    f = frame()
    f.iloc[5:9, 1] = np.nan  # missing STETH prices: rows left out of the long file
    long = melt(f, asset="asset", price="Close").dropna()
    long["volume"] = np.arange(len(long)) * 1000
    long["open"] = long["Close"] * 0.99
    long = long.sample(frac=1.0, random_state=3)  # shuffled rows
    text = long[["volume", "asset", "date", "open", "Close"]].to_csv(index=False)
    out = report(write(tmp_path, "long.csv", text))
    assert out["portfolios"] == clean(tmp_path, f)
    assert any("prices from 'Close'" in n for n in out["notes"])


def test_a_long_file_read_with_semicolons_decimal_commas_and_a_tz(tmp_path):
    f = frame()
    long = melt(f, date="Timestamp", asset="ticker")
    long["Timestamp"] = long["Timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    text = long.to_csv(index=False, sep=";", decimal=",")
    assert report(write(tmp_path, "long.csv", text))["portfolios"] == clean(tmp_path, f)


def test_long_columns_names_the_columns(tmp_path):
    f = frame()
    long = melt(f, date="when", asset="who", price="mid")
    long["bid"] = long["mid"] * 0.999
    long["venue"] = "X"
    path = write(tmp_path, "long.csv", long.to_csv(index=False))
    fails(path, match="--long-columns DATE,ASSET,PRICE")  # no column named as a date
    out = report(path, "--long-columns", "when,who,mid")
    assert out["portfolios"] == clean(tmp_path, f)
    fails(path, "--long-columns", "when,who,nope", match="no price column 'nope'")
    fails(path, "--long-columns", "when,who", match="three column names")


def test_numeric_asset_codes_need_long_columns(tmp_path):
    f = frame().rename(columns={"ETH": "1001", "STETH": "1002", "WSTETH": "1003"})
    path = write(tmp_path, "long.csv", melt(f, asset="code").to_csv(index=False))
    # read as wide, the dates repeat: refused, and the message points to --long-columns
    line = fails(path, benchmark="1001", match="appears more than once")
    assert "--long-columns" in line
    out = report(path, "--long-columns", "date,code,price", benchmark="1001")
    assert out["portfolios"] == clean(tmp_path, f, benchmark="1001")


def test_a_repeated_date_and_asset_names_both_lines(tmp_path):
    lines = ["date,symbol,price"]
    for day in range(1, 20):
        lines += [f"2024-01-{day:02d},A,{100 + day}", f"2024-01-{day:02d},B,{50 + day}"]
    lines.insert(8, "2024-01-02,B,99")  # line 9 repeats B on 2024-01-02 (line 5)
    line = fails(write(tmp_path, "long.csv", "\n".join(lines)), benchmark="A", match="line 9")
    assert "'B' on 2024-01-02 again (also on line 5)" in line


@pytest.mark.parametrize(
    ("bad_at", "repeat_at", "match"),
    [(6, 9, "line 7: column 'price' (B) holds a non-numeric value 'x'"), (12, 9, "line 9")],
)
def test_a_long_file_reports_its_first_problem_in_file_order(tmp_path, bad_at, repeat_at, match):
    # a bad price and a repeated (date, asset): whichever comes first is named
    lines = ["date,symbol,price"]
    for day in range(1, 20):
        lines += [f"2024-01-{day:02d},A,{100 + day}", f"2024-01-{day:02d},B,{50 + day}"]
    lines[bad_at] = lines[bad_at].rsplit(",", 1)[0] + ",x"
    lines.insert(repeat_at - 1, "2024-01-02,B,99")
    fails(write(tmp_path, "long.csv", "\n".join(lines)), benchmark="A", match=match)


@pytest.mark.parametrize(
    ("header", "rows", "match"),
    [
        # two text columns: which one holds the assets?
        ("date,symbol,venue,price", ["A,X", "B,Y"], "'symbol' and 'venue' both hold text"),
        # two number columns, neither named as a price
        ("date,symbol,bid,ask", ["A,1", "B,2"], "none named price"),
        # close and adj close: a real difference, not ours to pick
        ("date,symbol,close,adj close", ["A,1", "B,2"], "both named as prices"),
        # two date columns
        ("date,time,symbol,price", ["09:00,A", "09:00,B"], "are all named as dates"),
    ],
)
def test_long_files_that_read_two_ways_are_refused(tmp_path, header, rows, match):
    lines = [header]
    for day in range(1, 12):
        for row in rows:
            cells = row.split(",")
            if header.startswith("date,time"):
                lines.append(f"2024-01-{day:02d},{cells[0]},{cells[1]},{100 + day}")
            else:
                lines.append(f"2024-01-{day:02d},{cells[0]},{cells[1]},{100 + day}")
    line = fails(write(tmp_path, "long.csv", "\n".join(lines)), benchmark="A", match=match)
    assert "--long-columns" in line


def test_a_wide_file_is_never_read_as_long(tmp_path):
    f = frame()
    wide = f.copy()
    wide.index = wide.index.strftime("%d/%m/%Y")  # text dates, first column
    path = write(tmp_path, "wide.csv", wide.to_csv())
    out = report(path)
    assert out["portfolios"] == clean(tmp_path, f)
    assert not any("long" in n for n in out["notes"])
    # the date column moved second: still the old refusal, not a long-file one
    text = f[["ETH"]].join(f.reset_index().set_index(f.index)[["date"]]).to_csv(index=False)
    fails(write(tmp_path, "moved.csv", text), match="not dates")


def test_long_asks_for_a_long_file(tmp_path):
    path = write(tmp_path, "wide.csv", frame().to_csv())
    fails(path, "--long", match="cannot tell the asset column")


# -- 2. separators and decimal commas ------------------------------------------------


def test_semicolons_and_decimal_commas_are_sniffed(tmp_path):
    f = frame()
    out = report(write(tmp_path, "eu.csv", f.to_csv(sep=";", decimal=",")))
    assert out["portfolios"] == clean(tmp_path, f)
    assert any("separator ';' and decimal mark ','" in n for n in out["notes"])


def test_a_comma_that_may_be_decimal_or_thousands_is_refused(tmp_path):
    lines = ["date;ETH;STETH"] + [f"2024-01-{d:02d};1,{200 + d};2,{300 + d}" for d in range(1, 25)]
    path = write(tmp_path, "amb.csv", "\n".join(lines))
    line = fails(path, match="'1,201' reads both with a decimal comma and with a thousands")
    assert "line 2" in line
    told = report(path, "--decimal", ",")["portfolios"]
    assert told["STETH"]["observations"] == 23
    thousands = report(path, "--thousands", ",")["portfolios"]
    assert thousands["STETH"]["tracking_error"] != told["STETH"]["tracking_error"]


# -- 3. thousands separators and currency symbols --------------------------------


def _formatted(f, fmt):
    return f.apply(lambda col: col.map(fmt))


@pytest.mark.parametrize(
    ("sep", "fmt", "flags"),
    [
        (",", lambda v: f"${v:,.2f}", ["--thousands", ","]),
        (
            ";",
            lambda v: f"{v:,.2f} €".replace(",", "_").replace(".", ",").replace("_", "."),
            ["--thousands", "."],
        ),
        (";", lambda v: f"{v:,.2f}".replace(",", " ").replace(".", ","), ["--thousands", "space"]),
        (
            ";",
            lambda v: f"{v:,.2f}".replace(",", "\u202f").replace(".", ","),
            ["--thousands", "space"],
        ),
        ("\t", lambda v: f"£{v:,.2f}".replace(",", "'"), ["--thousands", "'"]),
        (",", lambda v: f"{v:.2f}¥", []),
    ],
)
def test_thousands_separators_and_currency_symbols(tmp_path, sep, fmt, flags):
    f = frame(decimals=2)
    text = _formatted(f, fmt).to_csv(sep=sep, quoting=1 if sep == "," else 0)
    out = report(write(tmp_path, "money.csv", text), *flags)
    assert out["portfolios"] == clean(tmp_path, f)
    assert any("currency symbols dropped" in n for n in out["notes"]) == any(
        c in text for c in "$€£¥"
    )


def test_a_thousands_separator_is_refused_unless_told(tmp_path):
    f = frame(decimals=2)
    text = _formatted(f, lambda v: f"${v:,.2f}").to_csv(quoting=1)
    path = write(tmp_path, "money.csv", text)
    fails(path, match="a thousands separator? pass --thousands")
    fails(path, "--thousands", ".", match="groups of three")  # read as 1.234,5: refused


def test_misplaced_thousands_and_mixed_currencies_are_refused(tmp_path):
    rows = [f'2024-01-{d:02d},"${1000 + d:,.2f}","${900 + d:,.2f}"' for d in range(1, 20)]
    base = ["date,ETH,STETH", *rows]
    bad = list(base)
    bad[4] = '2024-01-04,"$1,00,4.00","$904.00"'
    line = fails(write(tmp_path, "a.csv", "\n".join(bad)), "--thousands", ",", match="line 5")
    assert "groups of three" in line and "'ETH'" in line
    bad = list(base)
    bad[6] = '2024-01-06,"€1,006.00","$906.00"'
    line = fails(write(tmp_path, "b.csv", "\n".join(bad)), "--thousands", ",", match="line 7")
    assert "one currency per column" in line and "line 2" in line


def test_thousands_and_decimal_must_differ(tmp_path):
    path = write(tmp_path, "a.csv", frame().to_csv())
    fails(path, "--thousands", ",", "--decimal", ",", match="must differ")
    fails(path, "--thousands", "x", match="--thousands")


# -- 4. intraday timestamps and time zones ------------------------------------------


def _intraday(freq, n=400):
    rng = np.random.default_rng(7)
    idx = pd.date_range("2024-03-01", periods=n, freq=freq, tz="UTC")
    prices = 100 * np.exp(np.cumsum(rng.normal(0, 0.001, (n, 3)), axis=0))
    f = pd.DataFrame(prices, index=idx, columns=["ETH", "STETH", "WSTETH"])
    f.index.name = "date"
    return f


def test_hourly_prices_with_offsets_are_read_in_utc_and_hourly(tmp_path):
    f = _intraday("h")
    local = f.tz_convert("Etc/GMT-2")  # +02:00
    text = local.to_csv(date_format="%Y-%m-%dT%H:%M:%S%z")
    assert "+0200" in text
    out = report(write(tmp_path, "h.csv", text))
    assert out["periods_per_year"] == 8760.0 and "crypto-hourly" in out["periods_per_year_reason"]
    assert "dates with a UTC offset converted to UTC" in out["notes"]
    assert out["start"].startswith("2024-03-01") and "02:00" not in out["start"]
    utc = f.tz_localize(None)
    assert out["portfolios"] == clean(tmp_path, utc)
    # the same file in UTC with a Z: the same figures
    z = report(write(tmp_path, "z.csv", f.to_csv(date_format="%Y-%m-%dT%H:%M:%SZ")))
    assert z["portfolios"] == out["portfolios"]


def test_five_minute_prices_around_the_clock_are_inferred(tmp_path):
    # 12 * 24 * 365 five-minute periods a year, inferred (the dates span a weekend)
    # and the same when given
    f = _intraday("5min")
    path = write(tmp_path, "m5.csv", f.to_csv())
    out = report(path)
    assert out["periods_per_year"] == 105120.0
    assert "crypto-5-minute" in out["periods_per_year_reason"]
    assert "5 minutes" in out["periods_per_year_reason"]
    assert out["portfolios"]["STETH"]["observations"] == 399
    given = report(path, "--periods-per-year", str(12 * 24 * 365))
    for name, figures in out["portfolios"].items():
        same = {k: v for k, v in figures.items() if k != "periods_per_year_reason"}
        assert same == {k: given["portfolios"][name][k] for k in same}


def test_minute_bars_of_business_hours_are_refused(tmp_path):
    # 5-minute bars without weekends: how many hours a day the market trades is not
    # in the dates (6.5 for NYSE, 8.5 for Xetra...): refused, not guessed
    import pandas as pd

    day = pd.date_range("2024-03-04 14:30", periods=78, freq="5min", tz="UTC")
    idx = pd.DatetimeIndex([t + pd.Timedelta(days=d) for d in range(5) for t in day])
    f = _intraday("5min").iloc[: len(idx)].set_axis(idx)
    fails(write(tmp_path, "m5b.csv", f.to_csv()), match="pass --periods-per-year")


# -- 5. Excel and Parquet -----------------------------------------------------------


def test_an_excel_workbook_gives_the_csv_figures(tmp_path):
    pytest.importorskip("openpyxl")
    f = frame()
    path = tmp_path / "prices.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as book:
        f.to_excel(book, sheet_name="prices")
        f.iloc[:3].to_excel(book, sheet_name="other")
    out = report(path)
    assert out["portfolios"] == clean(tmp_path, f)
    assert any("first sheet, 'prices', of 2" in n for n in out["notes"])


def test_an_excel_workbook_is_held_to_the_csv_rules(tmp_path):
    pytest.importorskip("openpyxl")
    f = frame().astype(object)
    f.iloc[10, 1] = "n/a"  # a missing price
    f.iloc[20, 2] = "abc"
    path = tmp_path / "bad.xlsx"
    f.to_excel(path)
    line = fails(path, match="row 22")  # the header is row 1: data row 20 is row 22
    assert "'WSTETH'" in line and "'abc'" in line
    g = frame()
    g.index = g.index.where(np.arange(len(g)) != 5, g.index[4])
    g.to_excel(tmp_path / "dup.xlsx")
    fails(tmp_path / "dup.xlsx", match="row 7: the date 2023-01-05 appears more than once")
    fails(tmp_path / "dup.xlsx", "--sep", ";", match="--sep is for CSV files")


def test_a_parquet_file_gives_the_csv_figures(tmp_path):
    pytest.importorskip("pyarrow")
    f = frame()
    f.to_parquet(tmp_path / "index.parquet")  # dates in the index
    assert report(tmp_path / "index.parquet")["portfolios"] == clean(tmp_path, f)
    f.reset_index().to_parquet(tmp_path / "column.parquet")  # dates in a column
    assert report(tmp_path / "column.parquet")["portfolios"] == clean(tmp_path, f)
    melt(f).to_parquet(tmp_path / "long.parquet")  # long
    assert report(tmp_path / "long.parquet")["portfolios"] == clean(tmp_path, f)


def test_parquet_timestamps_with_a_time_zone_are_utc(tmp_path):
    pytest.importorskip("pyarrow")
    f = _intraday("h")
    f.tz_convert("Europe/Berlin").to_parquet(tmp_path / "h.parquet")
    out = report(tmp_path / "h.parquet")
    assert out["periods_per_year"] == 8760.0
    assert "dates with a UTC offset converted to UTC" in out["notes"]
    assert out["portfolios"] == clean(tmp_path, f.tz_localize(None))


@pytest.mark.parametrize(("name", "module"), [("p.xlsx", "openpyxl"), ("p.parquet", "pyarrow")])
def test_a_missing_reader_says_what_to_install(tmp_path, monkeypatch, name, module):
    path = write(tmp_path, name, "not really")
    monkeypatch.setitem(sys.modules, module, None)  # import fails as if not installed
    fails(path, match=f"needs {module}: pip install {module}")


def test_files_that_are_not_what_their_extension_says(tmp_path):
    pytest.importorskip("openpyxl")
    pytest.importorskip("pyarrow")
    fails(write(tmp_path, "p.xlsx", "date,A\n"), match="cannot read")
    fails(write(tmp_path, "p.parquet", "date,A\n"), match="cannot read")
    fails(write(tmp_path, "p.xls", "date,A\n"), match="save it as .xlsx or CSV")


def test_the_compiled_number_pass_reads_every_cell_as_the_cell_by_cell_reader():
    # the wide reader's fast path (plain decimals and empty cells in C++, the
    # rest through _Numbers.number) against _Numbers.number on every cell,
    # bit for bit, on cells near the edges of the grammar and of doubles
    from trackerr import _reader

    rng = np.random.default_rng(13)
    edge = [
        "1", "+1.5", "-0", "0.", ".5", "1E5", "1e+05", "-2.5e-3", "0001.10", "4.9e-324",
        "2.2250738585072011e-308", "1.7976931348623157e308", "1e-400", "9007199254740993",
        "0.1000000000000000055511151231257827", "123456789012345678901234567890",
        "", "nan", "NaN", "N/A", "-", "$12.5", "12.5 $", "2.5", "\u0661\u0662", 1.25, 3.0,
    ]  # fmt: skip
    for trial in range(20):
        cells = [edge[k] for k in rng.integers(0, len(edge), size=(30, 4)).ravel()]
        cells += [repr(float(x)) for x in rng.normal(0, 10.0 ** rng.integers(-300, 300), 40)]
        rows = np.array(cells, dtype=object).reshape(-1, 4)
        table = _reader._Table("t.csv", "line", ["date", "a", "b", "c", "d"], [])
        for k, row in enumerate(rows):
            table.body.append((k + 2, ["2024-01-01", *row]))
        fast = _reader._plain_numbers(table, _reader._Numbers(table, ".", None))
        slow_reader = _reader._Numbers(table, ".", None)
        slow = np.array(
            [
                [slow_reader.number(n, c + 1, f) for c, f in enumerate(fields[1:])]
                for n, fields in table.body
            ]
        )
        assert fast.tobytes() == slow.tobytes(), trial


@pytest.mark.parametrize("cell", ["1_000", "0x1p3", "inf", "1e999", "1.2.3", "1e"])
def test_cells_float_would_take_are_refused_on_the_fast_path(tmp_path, cell):
    file = write(tmp_path, "p.csv", f"date,A,B\n2024-01-01,1,1\n2024-01-02,{cell},2\n")
    fails(file, benchmark="B", match="line 3")
