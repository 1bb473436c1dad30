"""Reading price files for the command line: one consistent reading of a
CSV, Excel or Parquet file (layout, separator, decimal mark, thousands
separator, dates), or a refusal that names the line.

Every source becomes the same table of cells (text, or floats from binary
files) and goes through the same checks, so a workbook is held to the rules
of a CSV file.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import gc
import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

_INSTALL = 'pip install "trackerr[report]"'


class _Fail(Exception):
    """An input error: reported as one line, exit status 2."""


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:
        raise _Fail(f"reports need pandas: {_INSTALL}") from None
    return pandas


_NA = frozenset({"", "nan", "na", "n/a", "#n/a", "null", "none", "-"})
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")

# a currency symbol before or after a number ("$1,234.50", "-$5", "1.234,50 €")
_CURRENCY = "$€£¥"
_MONEY = re.compile(r"([+-]?)\s*([$€£¥])?\s*([+-]?)(.*?)\s*([$€£¥])?")
# the shape of a number whatever its marks: a cell that has it is not text
_NUMERIC_SHAPE = re.compile(
    r"[+-]?[$€£¥]?\s*[+-]?[\d.,' \u00a0\u202f]*\d[\d.,' \u00a0\u202f]*"
    r"([eE][+-]?\d+)?\s*[$€£¥]?"
)
# what a thousands separator may be (a space also stands for no-break spaces)
THOUSANDS = (",", ".", " ", "'")
_SPACES = " \u00a0\u202f"

# the header names that mark the columns of a long file (lower case, no spaces,
# underscores or hyphens)
_DATE_NAMES = frozenset({"date", "datetime", "timestamp", "time", "day"})
_PRICE_NAMES = frozenset(
    {"price", "close", "adjclose", "adjustedclose", "closeprice", "last", "lastprice", "nav"}
)

Cell = str | float


@dataclass
class _Table:
    """A source read into cells: the header and the data rows, each with its line."""

    path: str
    unit: str  # "line" (text files) or "row" (workbooks, Parquet)
    header: list[str]
    body: list[tuple[int, list[Cell]]]
    binary: bool = False
    text_columns: dict[int, bool] = field(default_factory=dict)  # _is_text's findings

    def at(self, n: int) -> str:
        return f"{self.path}, {self.unit} {n}"


def _thousands(text: str) -> str:
    """--thousands: an argparse type."""
    import argparse

    mark = " " if text in ("space", " ") else text
    if mark not in THOUSANDS:
        raise argparse.ArgumentTypeError(f"must be ',', '.', 'space' or \"'\", not {text!r}")
    return mark


def _long_columns(text: str) -> list[str]:
    """--long-columns DATE,ASSET,PRICE: an argparse type."""
    import argparse

    names = [n.strip() for n in text.split(",")]
    if len(names) != 3 or not all(names):
        raise argparse.ArgumentTypeError(
            f"must be three column names DATE,ASSET,PRICE, not {text!r}"
        )
    return names


def _read_csv(path: str, **options: Any) -> tuple[Any, Any, list[str]]:
    """`_read`, with Python's cycle collector paused: a file becomes millions
    of small lists and strings that hold no cycles, and the collector's passes
    over them took 10 of the 13 s that 2.5 million rows took to split."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _read(path, **options)
    finally:
        if enabled:
            gc.enable()


def _read(
    path: str,
    *,
    sep: str | None = None,
    decimal: str | None = None,
    thousands: str | None = None,
    date_format: str | None = None,
    dayfirst: bool = False,
    long: bool = False,
    long_columns: Sequence[str] | None = None,
) -> tuple[Any, Any, list[str]]:
    """Read a price file one consistent way, or refuse it naming the line.

    A ``.xlsx`` file is read with openpyxl, a ``.parquet`` file with pyarrow
    (both through pandas), anything else as CSV text. The file is wide (a
    date column first, then one price column per asset) or long (a date, an
    asset and a price column, one row per date and asset; see `_long_roles`),
    which is pivoted to wide.

    Returns the frame (a DatetimeIndex, one float column per asset), the date
    reading (for --start/--end) and notes for the report. Blank lines and rows
    with every cell empty are skipped; a row with values but no date is an
    error, as is a row with more or fewer fields than the header.
    """
    pd = _pandas()
    file = Path(path)
    if file.is_dir():
        raise _Fail(f"cannot read {path}: it is a directory, not a price file")
    if not file.exists():
        raise _Fail(f"cannot read {path}: no such file")
    if not file.is_file():
        raise _Fail(f"cannot read {path}: not a regular file (expected a CSV file)")
    if thousands is not None and thousands == decimal:
        raise _Fail(f"--thousands and --decimal are both {thousands!r}; they must differ")
    suffix = file.suffix.lower()
    notes: list[str] = []
    if suffix in (".xls", ".ods", ".numbers"):
        raise _Fail(f"cannot read {path}: save it as .xlsx or CSV (only .xlsx workbooks are read)")
    if suffix in (".xlsx", ".xlsm", ".parquet", ".pq"):
        for flag, value in (("--sep", sep), ("--decimal", decimal)):
            if value is not None:
                raise _Fail(f"{flag} is for CSV files; {path} is read by its extension {suffix}")
        table = _read_binary(path, suffix, notes)
        sep = ","
    else:
        table, sep = _read_text(path, file, sep)
    roles: tuple[int, int, int] | None = None
    if long_columns is not None or long or _looks_long(table):
        roles = _long_roles(table, long_columns)
    values = [roles[2]] if roles else list(range(1, len(table.header)))
    if decimal is None and thousands in (",", "."):
        mark = "." if thousands == "," else ","
    else:
        mark = decimal or _decimal(table, sep, values, thousands)
    if not table.binary and (sep != "," or mark != "."):
        shown = "tab" if sep == "\t" else repr(sep)
        notes.append(f"read with separator {shown} and decimal mark {mark!r}")
    if thousands is not None:
        notes.append(f"thousands separator {'space' if thousands == ' ' else repr(thousands)}")
    reader = _Numbers(table, mark, thousands)
    if roles is None:
        frame, reading, date_notes = _wide(pd, table, reader, date_format, dayfirst)
    else:
        frame, reading, date_notes = _pivot(pd, table, roles, reader, date_format, dayfirst)
        d, a, p = (table.header[k] for k in roles)
        notes.append(
            f"long file: dates from {d!r}, assets from {a!r}, prices from {p!r} "
            f"({frame.shape[1]} asset{'s' * (frame.shape[1] != 1)})"
        )
    if reader.symbols:
        notes.append(f"currency symbols dropped: {' '.join(sorted(set(reader.symbols.values())))}")
    return frame, reading, [*notes, *date_notes]


def _read_text(path: str, file: Path, sep: str | None) -> tuple[_Table, str]:
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise _Fail(f"cannot read {path}: {exc.strerror or exc}") from None
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _Fail(
            f"{path}, line {line}: not UTF-8 text (byte {data[exc.start]:#04x}); "
            "save the file as UTF-8"
        ) from None
    if "\0" in text:
        line = text[: text.index("\0")].count("\n") + 1
        raise _Fail(f"{path}, line {line}: a NUL byte; this is not a CSV text file")
    lines = [
        (k + 1, line)
        for k, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
        if line.strip()
    ]
    if not lines:
        raise _Fail(
            f"cannot read {path}: the file is empty "
            "(expected a header: date, then one column per asset)"
        )
    sep = sep or _sniff(path, lines)
    # spaces after a separator do not hide a quote: 'date, "1,234.50"' is two fields
    # (not with a space as the separator, where two spaces are an empty field)
    skip = sep != " "

    def split(n: int, line: str) -> list[str]:
        # a line without quotes splits as csv splits it (every field is stripped
        # below): 2.5 million lines in 0.6 s instead of 2
        if '"' not in line:
            return line.split(sep)
        try:  # strict: '"1"5' is an error, not 15
            return next(csv.reader([line], delimiter=sep, skipinitialspace=skip, strict=True))
        except csv.Error as exc:
            raise _Fail(
                f"{path}, line {n}: {exc} (a quoted field must end at its closing quote: "
                f'"1.5", not "1"5 or "1.5" ,)'
            ) from None

    rows = [(n, split(n, line)) for n, line in lines]
    header = [h.strip() for h in rows[0][1]]
    # empty columns after the last named one, empty on every line too: a
    # spreadsheet's formatted columns ('date,A,B,,'), dropped as a workbook's are
    width = len(header)
    while width > 2 and not header[width - 1]:
        width -= 1
    if width < len(header) and all(
        len(f) == len(header) and not "".join(f[width:]).strip() for _, f in rows[1:]
    ):
        header = header[:width]
        rows = [(n, f[:width]) for n, f in rows]
    table = _Table(path, "line", header, [])
    _check_header(table, rows[0][0])
    for n, fields in rows[1:]:
        if not any(f.strip() for f in fields):
            continue  # a row of empty cells says nothing (spreadsheet exports end with them)
        if len(fields) != len(header):
            hint = (
                "a decimal comma in a comma-separated file? quote such numbers, or separate "
                "fields with ';' and pass --sep ';' --decimal ','"
                if len(fields) > len(header)
                else "a missing separator? leave a missing value as an empty cell"
            )
            raise _Fail(
                f"{path}, line {n}: {len(fields)} field{'s' * (len(fields) != 1)} but the "
                f"header has {len(header)} ({hint})"
            )
        table.body.append((n, list(map(str.strip, fields))))
    if not table.body:
        raise _Fail(f"{path} has a header but no data rows")
    return table, sep


def _check_header(table: _Table, line: int) -> None:
    """At least two columns, and every column but the first named, once."""
    header = table.header
    if len(header) < 2:
        raise _Fail(
            f"{table.at(line)}: the header has one column; expected a date column, "
            "then one column per asset (pass --sep if fields are not separated by , ; tab or |)"
        )
    for k, name in enumerate(header[1:], start=2):
        if not name:
            raise _Fail(f"{table.at(line)}: column {k} of the header has no name")
        if name in header[1 : k - 1]:
            raise _Fail(
                f"{table.at(line)}: column {name!r} appears twice in the header; "
                "give each column its own name"
            )


def _read_binary(path: str, suffix: str, notes: list[str]) -> _Table:
    """A workbook's first sheet or a Parquet file, as cells: floats stay floats,
    datetimes become ISO text (with their UTC offset, if any), text stays text."""
    pd = _pandas()
    excel = suffix in (".xlsx", ".xlsm")
    module, what = ("openpyxl", "an Excel workbook") if excel else ("pyarrow", "a Parquet file")
    try:
        __import__(module)
    except ImportError:
        raise _Fail(f"reading {path} ({what}) needs {module}: pip install {module}") from None
    try:
        if excel:
            with pd.ExcelFile(path, engine="openpyxl") as sheets:
                names = list(sheets.sheet_names)
                raw = pd.read_excel(sheets, sheet_name=names[0], header=None, dtype=object)
            raw = raw.dropna(axis=1, how="all")  # formatted but empty columns hold nothing
            if len(names) > 1:
                notes.append(f"read the first sheet, {names[0]!r}, of {len(names)}")
            header_row = [_text(v) for v in raw.iloc[0]] if len(raw) else []
            rows = raw.iloc[1:]
            first = 2  # rows as the spreadsheet numbers them: the header is row 1
        else:
            frame = pd.read_parquet(path, engine="pyarrow")
            if not isinstance(frame.index, pd.RangeIndex) or frame.index.name is not None:
                frame = frame.reset_index()
            header_row = [str(c) for c in frame.columns]
            rows = frame
            first = 1
    except _Fail:
        raise
    except Exception as exc:  # the readers raise many kinds: say what they said, on one line
        text = " ".join(str(exc).split()) or type(exc).__name__
        raise _Fail(f"cannot read {path} as {what}: {text}") from None
    table = _Table(path, "row", [h.strip() for h in header_row], [], binary=True)
    if not table.header:
        raise _Fail(f"cannot read {path}: the sheet is empty")
    _check_header(table, 1)
    for k, values in enumerate(rows.itertuples(index=False)):
        cells = [_cell(v) for v in values]
        if any(c != "" for c in cells):
            table.body.append((k + first, cells))
    if not table.body:
        raise _Fail(f"{path} has a header but no data rows")
    return table


def _text(value: Any) -> str:
    return "" if _missing(value) else str(value)


def _missing(value: Any) -> bool:
    try:
        return value is None or bool(value != value)  # NaN, NaT, pd.NA
    except (TypeError, ValueError):
        return False


def _cell(value: Any) -> Cell:
    if _missing(value):
        return ""
    if isinstance(value, bool):
        return str(value)  # not a number: refused as one
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if hasattr(value, "dtype") and getattr(value.dtype, "kind", "") in "iuf":
        return float(value)
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value).strip()


def _looks_long(table: _Table) -> bool:
    """Whether to read the file as long: a column other than the first holds text
    in every row and is not named as a date (date,asset,price), or the first does
    and another column is named as a date (asset,date,price). A wide file never
    has such a text column (it would be refused as non-numeric), so no file that
    reads as wide is read as long."""
    text = [k for k in range(len(table.header)) if _is_text(table, k)]
    named = {k for k, h in enumerate(table.header) if _norm(h) in _DATE_NAMES}
    return any(k > 0 and k not in named for k in text) or (
        0 in text and 0 not in named and any(k > 0 for k in named)
    )


def _is_text(table: _Table, c: int) -> bool:
    """Every cell of column c is text: not empty, not a missing-value mark, not a number.

    Judged on the first cell, then on each distinct value once (a long file's
    2.5 million asset cells hold a thousand names); remembered per column."""
    known = table.text_columns.get(c)
    if known is None:
        known = _text_cell(table.body[0][1][c]) and all(
            map(_text_cell, {f[c] for _, f in table.body})
        )
        table.text_columns[c] = known
    return known


def _text_cell(cell: Cell) -> bool:
    return isinstance(cell, str) and cell.lower() not in _NA and not _NUMERIC_SHAPE.fullmatch(cell)


def _norm(name: str) -> str:
    return re.sub(r"[\s_\-.]", "", name.lower())


def _long_roles(table: _Table, names: Sequence[str] | None) -> tuple[int, int, int]:
    """The (date, asset, price) columns of a long file.

    Named by --long-columns, or recognised: the date column is the one column
    named date, datetime, timestamp, time or day; the asset column is the one
    other column holding text in every row, with values that repeat; the price
    column is the one remaining column that is not text, or else the one of
    them named price, close, adj close, last or nav. Anything else (two date
    columns, two text columns, two price columns) is refused, not guessed.
    """
    header = table.header
    hint = "pass --long-columns DATE,ASSET,PRICE"
    if names is not None:
        found = []
        for role, name in zip(("date", "asset", "price"), names, strict=True):
            if name not in header:
                raise _Fail(
                    f"--long-columns: no {role} column {name!r} in {table.path}; "
                    f"columns: {', '.join(header)}"
                )
            found.append(header.index(name))
        if len(set(found)) < 3:
            raise _Fail("--long-columns names one column twice; name three different columns")
        return found[0], found[1], found[2]
    dates = [k for k, h in enumerate(header) if _norm(h) in _DATE_NAMES]
    if len(dates) != 1:
        which = (
            "no column is named date, datetime, timestamp, time or day"
            if not dates
            else f"columns {' and '.join(repr(header[k]) for k in dates)} are all named as dates"
        )
        raise _Fail(f"{table.at(1)}: a long file (one row per date and asset)? {which}; {hint}")
    d = dates[0]
    texts = [k for k in range(len(header)) if k != d and _is_text(table, k)]
    if len(texts) != 1:
        which = (
            "no column holds asset names (text in every row)"
            if not texts
            else f"columns {' and '.join(repr(header[k]) for k in texts)} both hold text"
        )
        raise _Fail(f"{table.at(1)}: a long file? cannot tell the asset column: {which}; {hint}")
    a = texts[0]
    if len({f[a] for _, f in table.body}) == len(table.body) > 1:
        raise _Fail(
            f"{table.at(1)}: column {header[a]!r} has a different value on every row: not the "
            f"asset column of a long file; {hint}"
        )
    rest = [k for k in range(len(header)) if k not in (d, a)]
    if len(rest) > 1:
        rest = [k for k in rest if _norm(header[k]) in _PRICE_NAMES]
    if len(rest) != 1:
        which = (
            f"columns {' and '.join(repr(header[k]) for k in rest)} are both named as prices"
            if rest
            else "several number columns, none named price, close, adj close, last or nav"
        )
        raise _Fail(f"{table.at(1)}: a long file? cannot tell the price column: {which}; {hint}")
    return d, a, rest[0]


def _dates(
    table: _Table, texts: list[Cell], lines: list[int], date_format: str | None, dayfirst: bool
) -> tuple[Any, Any, list[str]]:
    from .report import DateError, read_dates

    try:
        return read_dates(
            texts,
            date_format=date_format,
            dayfirst=dayfirst,
            where=lambda i: f"{table.unit} {lines[i]}",
        )
    except DateError as exc:
        raise _Fail(f"{table.path}, {exc}") from None


def _wide(
    pd: Any, table: _Table, reader: _Numbers, date_format: str | None, dayfirst: bool
) -> tuple[Any, Any, list[str]]:
    lines = [n for n, _ in table.body]
    index, reading, notes = _dates(
        table, [f[0] for _, f in table.body], lines, date_format, dayfirst
    )
    seen: dict[Any, int] = {}
    for k, stamp in enumerate(index):
        if stamp in seen:
            raise _Fail(
                f"{table.at(lines[k])}: the date {_show(stamp)} appears more than once "
                f"(also on {table.unit} {lines[seen[stamp]]}); keep one row per date "
                "(a long file, one row per date and asset? pass --long-columns DATE,ASSET,PRICE)"
            )
        seen[stamp] = k
    names = table.header[1:]
    values = _plain_numbers(table, reader)
    if values is None:
        values = [
            [reader.number(n, c + 1, f) for c, f in enumerate(fields[1:])]
            for n, fields in table.body
        ]
    frame = pd.DataFrame(values, index=index, columns=names, dtype="float64")
    return frame, reading, notes


def _plain_numbers(table: _Table, reader: _Numbers) -> Any:
    """The price cells of a wide table, when there is no thousands separator
    (the decimal mark a point or a comma): the plain decimals (`_NUMBER`, ASCII
    digits), empty cells and finite floats (a workbook's) in one compiled
    pass, correctly rounded like float(); every other cell (a currency
    symbol, a missing-value mark, text, 1e999) goes through `reader.number`,
    which reads or refuses it exactly as the cell-by-cell path does, in the
    same order. A 1,000 x 2,520 file: 0.1 s instead of 6 s cell by cell.
    None: not that case."""
    if reader.thousands is not None:
        return None
    width = len(table.header) - 1
    cells = list(itertools.chain.from_iterable(fields[1:] for _, fields in table.body))
    flat, others = _core_numbers(cells, reader)
    for i in others.tolist():
        r, c = divmod(i, width)
        flat[i] = reader.number(table.body[r][0], c + 1, cells[i])
    return flat.reshape(len(table.body), width)


def _pivot(
    pd: Any,
    table: _Table,
    roles: tuple[int, int, int],
    reader: _Numbers,
    date_format: str | None,
    dayfirst: bool,
) -> tuple[Any, Any, list[str]]:
    """A long file to wide: one row per date (sorted), one column per asset (in the
    order they first appear); a (date, asset) pair on two rows is refused.

    Rows become integer codes (a date's row, an asset's column) and the prices
    are read in one compiled pass as a wide file's are, so 2.5 million rows
    take seconds; the first problem in file order is the one reported."""
    d, a, p = roles
    body = table.body
    lines = [n for n, _ in body]
    # assets: a code each, in the order met; a missing one is refused at its row
    col: dict[str, int] = {}
    asset_code = np.empty(len(body), dtype=np.int64)
    for i, (_, f) in enumerate(body):
        name = _asset(f[a])
        k = col.get(name)
        if k is None:
            if name.lower() in _NA:
                raise _Fail(
                    f"{table.at(lines[i])}: no asset in column {table.header[a]!r}; "
                    "fill it in or delete the row"
                )
            k = col[name] = len(col)
        asset_code[i] = k
    # each distinct date text is read once, in the order met (read_dates judges
    # order and spacing, which repeats would blur)
    texts: dict[str, int] = {}  # text -> its code
    first_line: list[int] = []
    date_code = np.empty(len(body), dtype=np.int64)
    for i, (n, f) in enumerate(body):
        cell = f[d]
        text = cell if isinstance(cell, str) else str(cell).strip()
        k = texts.get(text)
        if k is None:
            k = texts[text] = len(texts)
            first_line.append(n)
        date_code[i] = k
    stamps, reading, notes = _dates(table, list(texts), first_line, date_format, dayfirst)
    index = pd.DatetimeIndex(sorted(set(stamps)))
    row = np.asarray(index.get_indexer(pd.DatetimeIndex(stamps)), dtype=np.int64)[date_code]
    # the first row whose (date, asset) came before (two texts of one moment count as one)
    key = row * len(col) + asset_code
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    repeats = np.flatnonzero(first[inverse] != np.arange(len(body)))
    repeat = int(repeats[0]) if len(repeats) else len(body)
    # prices, through the wide file's compiled pass; the rest cell by cell, in order
    label = {k: f"{table.header[p]!r} ({name})" for name, k in col.items()}
    cells = [f[p] for _, f in body]
    values, others = _core_numbers(cells, reader)
    for i in others.tolist():
        if i >= repeat:
            break  # the repeated row is refused first
        values[i] = reader.number(lines[i], p, cells[i], label=label[int(asset_code[i])])
    if repeat < len(body):
        earlier = int(first[inverse[repeat]])
        name = list(col)[int(asset_code[repeat])]
        raise _Fail(
            f"{table.at(lines[repeat])}: {name!r} on {_show(index[row[repeat]])} again (also "
            f"on {table.unit} {lines[earlier]}); keep one row per date and asset"
        )
    grid = np.full((len(index), len(col)), np.nan)
    grid[row, asset_code] = values
    frame = pd.DataFrame(grid, index=index, columns=list(col), dtype="float64")
    return frame, reading, notes


def _core_numbers(cells: list[Cell], reader: _Numbers) -> tuple[Any, Any]:
    """(values, positions left to ``reader.number``) of price cells: the plain
    decimals, empty cells and finite floats in one compiled pass, when there is
    no thousands separator; otherwise every cell is left to the reader."""
    from . import _core

    if reader.thousands is not None:
        return np.full(len(cells), np.nan), np.arange(len(cells))
    probe = cells
    if reader.mark == ",":
        # '1,5' is read as '1.5'; a cell with a point (which is no decimal mark
        # here) becomes '.', no plain decimal, and goes to the reader, which refuses it
        probe = [
            ("." if "." in c else c.replace(",", ".")) if isinstance(c, str) else c for c in cells
        ]
    return _core.parse_decimals(probe)


def _asset(cell: Cell) -> str:
    """An asset name; a workbook's or Parquet file's number cell (asset codes
    named by --long-columns) as a CSV file writes it: 1001, not 1001.0."""
    if isinstance(cell, float):
        return str(int(cell)) if cell.is_integer() else repr(cell)
    return cell


def _show(stamp: Any) -> str:
    return str(stamp.date()) if stamp == stamp.normalize() else str(stamp)


def _sniff(path: str, lines: Sequence[tuple[int, str]]) -> str:
    """The field separator: csv.Sniffer's choice among , ; tab |, checked against the header."""
    header = lines[0][1]
    try:
        sep = csv.Sniffer().sniff("\n".join(line for _, line in lines[:50]), ",;\t|").delimiter
    except csv.Error:
        sep = ""
    if sep and sep in header:
        return sep
    found = [c for c in ",;\t|" if c in header]
    if len(found) == 1:
        return found[0]
    if not found:
        raise _Fail(
            f"{path}, line {lines[0][0]}: the header has one column; expected a date column, "
            "then one column per asset (pass --sep if fields are not separated by , ; tab or |)"
        )
    shown = " and ".join("tab" if c == "\t" else repr(c) for c in found)
    raise _Fail(f"{path}, line {lines[0][0]}: cannot tell the separator ({shown}); pass --sep")


def _bare(text: str) -> str:
    """The number without a currency symbol (and the spaces around it)."""
    m = _MONEY.fullmatch(text)
    if m is None or (m.group(2) and m.group(5)) or (m.group(1) and m.group(3)):
        return text
    return m.group(1) + m.group(3) + m.group(4)


# one mark, then exactly three digits: 1,234 is 1.234 or 1234 depending on the mark
_GROUPED = re.compile(r"[+-]?[1-9]\d{0,2}[.,]\d{3}")


def _decimal(table: _Table, sep: str, columns: Sequence[int], thousands: str | None) -> str:
    """'.' unless the file is not comma-separated and its numbers use a comma, never a dot.

    When every number with a mark has one mark followed by three digits
    (1,234 or 1.234), the mark could be decimal or a thousands separator:
    refused unless --decimal or --thousands says which.
    """
    if sep == ",":
        return "."
    comma = dot = first = None  # the first cell with a comma, a dot, either mark
    grouped = True  # every cell with a mark, so far, is 1,234-shaped
    for n, fields in table.body:
        for c in columns:
            raw = fields[c]
            if not isinstance(raw, str):
                continue
            has_comma, has_dot = "," in raw, "." in raw  # no symbol or grouping adds one
            if not (has_comma or has_dot):
                continue
            if not (grouped or (has_comma and comma is None) or (has_dot and dot is None)):
                continue  # nothing this cell holds can change the verdict: no regex for it
            f = _bare(raw)
            if thousands is not None:
                f = _ungroup(f, thousands)
            first = first or (n, f)
            if comma is None and has_comma:
                comma = (n, f)
            if dot is None and has_dot and _NUMBER.fullmatch(f):
                dot = (n, f)
            grouped = grouped and _GROUPED.fullmatch(f) is not None
            if comma is not None and dot is not None:
                raise _Fail(
                    f"{table.path}: numbers with a decimal comma ({table.unit} {comma[0]}: "
                    f"{comma[1]!r}) and with a dot ({table.unit} {dot[0]}: {dot[1]!r}); "
                    "pass --decimal"
                )
    mark = "." if comma is None else ","
    if thousands is None and first is not None and grouped:
        n, f = first
        raise _Fail(
            f"{table.at(n)}: {f!r} reads both with a decimal {'comma' if mark == ',' else 'point'}"
            f" and with a thousands separator (every number with a mark has three digits "
            f"after it); pass --decimal {mark!r} or --thousands {mark!r}"
        )
    return mark


def _ungroup(text: str, thousands: str) -> str:
    """Drop thousands separators set in groups of three (1,234,567.5); others stay (refused)."""
    seps = _SPACES if thousands == " " else thousands
    pattern = f"[+-]?\\d{{1,3}}(?:[{re.escape(seps)}]\\d{{3}})+(?:[.,]\\d*)?([eE][+-]?\\d+)?"
    if re.fullmatch(pattern, text):
        head = re.match(f"[+-]?\\d{{1,3}}(?:[{re.escape(seps)}]\\d{{3}})+", text)
        assert head is not None
        return re.sub(f"[{re.escape(seps)}]", "", head.group(0)) + text[head.end() :]
    return text


class _Numbers:
    """Reads the price cells: one decimal mark, an optional thousands separator, at most
    one currency symbol per column."""

    def __init__(self, table: _Table, mark: str, thousands: str | None) -> None:
        self.table, self.mark, self.thousands = table, mark, thousands
        self.symbols: dict[int, str] = {}
        self.symbol_line: dict[int, int] = {}

    def number(self, line: int, column: int, cell: Cell, label: str | None = None) -> float:
        name = label or repr(self.table.header[column])
        at = self.table.at(line)
        if isinstance(cell, float):
            if math.isfinite(cell):
                return cell
            raise _Fail(f"{at}: column {name} holds {cell!r}, not a finite number")
        text = cell
        if text.lower() in _NA:
            return math.nan
        m = _MONEY.fullmatch(text)
        symbol = None
        if m is not None and not (m.group(2) and m.group(5)) and not (m.group(1) and m.group(3)):
            symbol = m.group(2) or m.group(5)
        if symbol:
            seen = self.symbols.setdefault(column, symbol)
            self.symbol_line.setdefault(column, line)
            if seen != symbol:
                raise _Fail(
                    f"{at}: column {name} holds {text!r} in {symbol} while {self.table.unit} "
                    f"{self.symbol_line[column]} is in {seen}; one currency per column"
                )
            text = _bare(text)
        if self.thousands is not None:
            text = _ungroup(text, self.thousands)
            seps = _SPACES if self.thousands == " " else self.thousands
            if any(c in text for c in seps):
                raise _Fail(
                    f"{at}: column {name} holds {cell!r}: the thousands separator "
                    f"{self.thousands!r} must set off groups of three digits (1{self.thousands}234"
                    f"{self.mark}5)"
                )
        mark = self.mark
        # with a decimal comma a point is no decimal mark: '1.234' is refused (a
        # thousands point? --thousands '.'), never read as 1.234
        plain = text if mark == "." else "" if "." in text else text.replace(",", ".")
        if _NUMBER.fullmatch(plain):
            value = float(plain)
            if math.isfinite(value):
                return value
            raise _Fail(f"{at}: column {name} holds {cell!r}, beyond any float")
        grouped = re.search(r"\d[,. '\u00a0\u202f]\d{3}\b", text)
        hint = (
            "; a thousands separator? pass --thousands (, . space or ')"
            if grouped and self.thousands is None
            else f"; the decimal mark is {mark!r}"
            if mark == "," or "," in text
            else ""
        )
        raise _Fail(
            f"{at}: column {name} holds a non-numeric value {cell!r} "
            f"(numbers like 12.5, or an empty cell for a missing value{hint})"
        )
