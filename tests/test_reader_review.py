"""Regressions from a review of the price-file reader (python/trackerr/_reader.py):
a point read as a decimal mark in a decimal-comma file, numeric asset codes of
workbooks and Parquet files, quoted fields after a space, a spreadsheet's
trailing empty columns, and the compiled number pass with a decimal comma.
Run in-process like tests/test_input_formats.py; expected prices are written
out by hand."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from trackerr import _reader

from cli_run import cli, one_error

pd = pytest.importorskip("pandas")

DAYS = [f"2024-01-{d:02d}" for d in range(1, 29)]


def report(path, *flags, benchmark="A"):
    status, out, err = cli("report", path, "--benchmark", benchmark, *flags, "--format", "json")
    assert status == 0, err
    return json.loads(out)


def fails(path, *flags, match, benchmark="A"):
    """Exit 2, one line on stderr, naming what is wrong."""
    return one_error("report", path, "--benchmark", benchmark, *flags, match=match)


def write(tmp_path, name, text):
    file = tmp_path / name
    file.write_text(text, encoding="utf-8", newline="")
    return file


def prices(path, **kw):
    frame, _, notes = _reader._read_csv(str(path), **kw)
    return frame, notes


def clean(tmp_path, a, b):
    """The plain wide CSV of the same prices: the figures every other spelling must give."""

    def cell(v):
        return "" if v != v else repr(v)  # NaN: an empty cell

    rows = [f"{d},{cell(x)},{cell(y)}" for d, x, y in zip(DAYS, a, b, strict=True)]
    return report(write(tmp_path, "clean.csv", "\n".join(["date,A,B", *rows])))["portfolios"]


A = [1000 + 7 * k + (k % 3) * 0.25 for k in range(len(DAYS))]
B = [10 + k + (k % 4) * 0.5 for k in range(len(DAYS))]


# -- a point in a file read with a decimal comma ---------------------------------


def test_a_point_is_no_decimal_mark_when_the_mark_is_a_comma(tmp_path):
    # '1.234' next to '10,5': sniffing refuses it (both marks); --decimal ',' used
    # to read the point as a decimal mark, 1.234, when it is a thousands point
    rows = [f"{d};1.{234 + k};{10 + k},5" for k, d in enumerate(DAYS)]
    path = write(tmp_path, "eu.csv", "\n".join(["date;A;B", *rows]))
    fails(path, match="pass --decimal")
    line = fails(path, "--decimal", ",", match="line 2: column 'A'")
    assert "'1.234'" in line and "pass --thousands" in line
    frame, _ = prices(path, thousands=".")
    assert frame["A"].iloc[:2].tolist() == [1234.0, 1235.0]
    assert frame["B"].iloc[:2].tolist() == [10.5, 11.5]
    # and with spaces for thousands: '1 234.5' is not read as 1234.5
    rows = [f"{d};1 {234 + k}.5;{10 + k},5" for k, d in enumerate(DAYS)]
    path = write(tmp_path, "sp.csv", "\n".join(["date;A;B", *rows]))
    fails(path, "--decimal", ",", "--thousands", "space", match="line 2: column 'A'")


def test_a_decimal_comma_file_gives_the_clean_figures_when_told(tmp_path):
    # the compiled pass now reads decimal commas too: same figures as the clean file
    rows = [f"{d};{x!r};{y!r}".replace(".", ",") for d, x, y in zip(DAYS, A, B, strict=True)]
    rows[3] = f"{DAYS[3]};;n/a"  # empty and missing cells
    rows[5] = f"{DAYS[5]};€ {A[5]!r};{B[5]!r}".replace(".", ",")  # a currency symbol
    path = write(tmp_path, "eu.csv", "\n".join(["date;A;B", *rows]))
    a, b = list(A), list(B)
    a[3] = b[3] = math.nan
    out = report(path, "--decimal", ",")
    assert out["portfolios"] == clean(tmp_path, a, b)
    frame, _ = prices(path, decimal=",")
    assert frame["A"].iloc[:3].tolist() == [1000.0, 1007.25, 1014.5]
    assert frame["A"].iloc[5] == 1035.5 and math.isnan(frame["B"].iloc[3])


@pytest.mark.parametrize("cell", ["1.5", "1,5.0", "1,,5", "1,5e", "0x1p3", "inf", "1_0"])
def test_cells_a_comma_file_cannot_hold_are_refused(tmp_path, cell):
    path = write(tmp_path, "p.csv", f"date;A;B\n2024-01-01;1,5;1\n2024-01-02;2;{cell}\n")
    fails(path, "--decimal", ",", match=f"line 3: column 'B' holds a non-numeric value {cell!r}")


def test_the_compiled_pass_with_a_comma_reads_every_cell_as_the_reader():
    rng = np.random.default_rng(5)
    edge = [
        "1", "+1,5", "-0", "0,", ",5", "1E5", "1,5e+05", "-2,5e-3", "0001,10", "4,9e-324",
        "1,7976931348623157e308", "1e-400", "", "nan", "N/A", "-", "€12,5", "12,5 €",
        "\u0661,\u0662", "3",
    ]  # fmt: skip
    for trial in range(10):
        cells = [edge[k] for k in rng.integers(0, len(edge), size=(30, 3)).ravel()]
        rows = np.array(cells, dtype=object).reshape(-1, 3)
        table = _reader._Table("t.csv", "line", ["date", "a", "b", "c"], [])
        for k, row in enumerate(rows):
            table.body.append((k + 2, ["2024-01-01", *row]))
        fast = _reader._plain_numbers(table, _reader._Numbers(table, ",", None))
        slow_reader = _reader._Numbers(table, ",", None)
        slow = np.array(
            [
                [slow_reader.number(n, c + 1, f) for c, f in enumerate(fields[1:])]
                for n, fields in table.body
            ]
        )
        assert fast.tobytes() == slow.tobytes(), trial
    table = _reader._Table("t.csv", "line", ["date", "a"], [(2, ["2024-01-01", "1,25"])])
    assert _reader._plain_numbers(table, _reader._Numbers(table, ",", None)).tolist() == [[1.25]]


# -- numeric asset codes in workbooks and Parquet files ------------------------------


def _long_codes():
    rows = []
    for k, d in enumerate(DAYS):
        rows += [(d, 1001, A[k]), (d, 1002, B[k])]
    return pd.DataFrame(rows, columns=["date", "code", "price"])


@pytest.mark.parametrize("suffix", [".xlsx", ".parquet"])
def test_numeric_asset_codes_of_a_workbook_or_parquet_file(tmp_path, suffix):
    # a CSV file reads them with --long-columns; a workbook's or Parquet file's number
    # cells were refused as 'no asset in column'
    pytest.importorskip("openpyxl" if suffix == ".xlsx" else "pyarrow")
    long = _long_codes()
    path = tmp_path / f"long{suffix}"
    if suffix == ".xlsx":
        long.to_excel(path, index=False)
    else:
        long.to_parquet(path)
    csv_path = write(tmp_path, "long.csv", long.to_csv(index=False))
    flags = ("--long-columns", "date,code,price")
    frame, _ = prices(path, long_columns=["date", "code", "price"])
    assert list(frame.columns) == ["1001", "1002"]
    assert frame["1001"].iloc[:2].tolist() == [1000.0, 1007.25]
    expected = report(csv_path, *flags, benchmark="1001")["portfolios"]
    assert report(path, *flags, benchmark="1001")["portfolios"] == expected


# -- quoted fields after a space -----------------------------------------------------


def test_quoted_fields_after_a_space_are_quoted(tmp_path):
    # 'date, "A, Inc", B' and ', "$1,234.50"': the hint said to quote what was quoted
    rows = [f'{d}, "${x:,.2f}", "{y}"' for d, x, y in zip(DAYS, A, B, strict=True)]
    path = write(tmp_path, "sp.csv", "\n".join(['date, "A, Inc", B', *rows]))
    frame, _ = prices(path, thousands=",")
    assert list(frame.columns) == ["A, Inc", "B"]
    assert frame["A, Inc"].iloc[:3].tolist() == [1000.0, 1007.25, 1014.5]
    assert frame["B"].iloc[:2].tolist() == [10.0, 11.5]
    out = report(path, "--thousands", ",", benchmark="A, Inc")["portfolios"]
    assert out["B"] == clean(tmp_path, A, B)["B"]


# -- a spreadsheet's trailing empty columns ------------------------------------------


def test_trailing_empty_columns_are_dropped_as_a_workbooks_are(tmp_path):
    rows = [f"{d},{x!r},{y!r},," for d, x, y in zip(DAYS, A, B, strict=True)]
    rows.insert(5, ",,,,")  # and an empty row
    path = write(tmp_path, "sheet.csv", "\r\n".join(["date,A,B,,", *rows]) + "\r\n")
    frame, _ = prices(path)
    assert list(frame.columns) == ["A", "B"] and len(frame) == len(DAYS)
    assert report(path)["portfolios"] == clean(tmp_path, A, B)
    # a value under an unnamed column is still refused, naming the column
    rows[9] = rows[9][:-1] + "7"
    path = write(tmp_path, "bad.csv", "\n".join(["date,A,B,,", *rows]))
    fails(path, match="line 1: column 4 of the header has no name")
    # an unnamed column between named ones is not a trailing one
    path = write(tmp_path, "mid.csv", "date,A,,B\n2024-01-01,1,,2\n2024-01-02,1,,2\n")
    fails(path, match="line 1: column 3 of the header has no name")


@pytest.mark.parametrize(
    "cell, match",
    [('"1"5', "line 3: ',' expected"), ('"1.5" ', "line 3: ',' expected"), ('"1.5', "line 3")],
)
def test_text_around_a_quoted_field_is_refused_not_joined(tmp_path, cell, match):
    # csv's lenient mode reads '"1"5' as 15: a number nobody wrote
    file = write(tmp_path, "q.csv", f"date,A,B\n2024-01-01,1,2\n2024-01-02,{cell},3\n")
    fails(file, match=match, benchmark="B")
