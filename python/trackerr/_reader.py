"""Reading price files for the command line: one consistent reading of a
CSV file (separator, decimal mark, dates), or a refusal that names the line.
"""

from __future__ import annotations

import codecs
import csv
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

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


def _read_csv(
    path: str,
    *,
    sep: str | None = None,
    decimal: str | None = None,
    date_format: str | None = None,
    dayfirst: bool = False,
) -> tuple[Any, Any, list[str]]:
    """Read a price file one consistent way, or refuse it naming the line.

    Returns the frame (a DatetimeIndex, one float column per asset), the date
    reading (for --start/--end) and notes for the report. Blank lines and rows
    with every cell empty are skipped; a row with values but no date is an
    error, as is a row with more or fewer fields than the header.
    """
    pd = _pandas()
    from .report import DateError, read_dates

    file = Path(path)
    if file.is_dir():
        raise _Fail(f"cannot read {path}: it is a directory, not a CSV file")
    if not file.exists():
        raise _Fail(f"cannot read {path}: no such file")
    if not file.is_file():
        raise _Fail(f"cannot read {path}: not a regular file (expected a CSV file)")
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
    rows = [(n, next(csv.reader([line], delimiter=sep))) for n, line in lines]
    header = [h.strip() for h in rows[0][1]]
    if len(header) < 2:
        raise _Fail(
            f"{path}, line {rows[0][0]}: the header has one column; expected a date column, "
            "then one column per asset (pass --sep if fields are not separated by , ; tab or |)"
        )
    for k, name in enumerate(header[1:], start=2):
        if not name:
            raise _Fail(f"{path}, line {rows[0][0]}: column {k} of the header has no name")
        if name in header[1 : k - 1]:
            raise _Fail(
                f"{path}, line {rows[0][0]}: column {name!r} appears twice in the header; "
                "give each column its own name"
            )
    body = []
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
        body.append((n, [f.strip() for f in fields]))
    if not body:
        raise _Fail(f"{path} has a header but no data rows")
    mark = decimal or _decimal(path, sep, body)
    notes = []
    if sep != "," or mark != ".":
        shown = "tab" if sep == "\t" else repr(sep)
        notes.append(f"read with separator {shown} and decimal mark {mark!r}")
    where = {k: n for k, (n, _) in enumerate(body)}
    try:
        index, reading, date_notes = read_dates(
            [fields[0] for _, fields in body],
            date_format=date_format,
            dayfirst=dayfirst,
            where=lambda i: f"line {where[i]}",
        )
    except DateError as exc:
        raise _Fail(f"{path}, {exc}") from None
    seen: dict[Any, int] = {}
    for k, stamp in enumerate(index):
        if stamp in seen:
            raise _Fail(
                f"{path}, line {where[k]}: the date {_show(stamp)} appears more than once "
                f"(also on line {where[seen[stamp]]}); keep one row per date"
            )
        seen[stamp] = k
    values = [
        [_number(path, n, header[c + 1], f, mark) for c, f in enumerate(fields[1:])]
        for n, fields in body
    ]
    frame = pd.DataFrame(values, index=index, columns=header[1:], dtype="float64")
    return frame, reading, [*notes, *date_notes]


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


def _decimal(path: str, sep: str, body: Sequence[tuple[int, list[str]]]) -> str:
    """'.' unless the file is not comma-separated and its numbers use a comma, never a dot."""
    if sep == ",":
        return "."
    comma = dot = None
    for n, fields in body:
        for f in fields[1:]:
            if comma is None and "," in f:
                comma = (n, f)
            if dot is None and "." in f and _NUMBER.fullmatch(f):
                dot = (n, f)
    if comma is None:
        return "."
    if dot is not None:
        raise _Fail(
            f"{path}: numbers with a decimal comma (line {comma[0]}: {comma[1]!r}) and with "
            f"a dot (line {dot[0]}: {dot[1]!r}); pass --decimal"
        )
    return ","


def _number(path: str, line: int, column: str, text: str, mark: str) -> float:
    if text.lower() in _NA:
        return math.nan
    plain = text.replace(",", ".") if mark == "," and "." not in text else text
    if _NUMBER.fullmatch(plain):
        value = float(plain)
        if math.isfinite(value):
            return value
        raise _Fail(f"{path}, line {line}: column {column!r} holds {text!r}, beyond any float")
    raise _Fail(
        f"{path}, line {line}: column {column!r} holds a non-numeric value {text!r} "
        "(numbers like 12.5, or an empty cell for a missing value"
        + (f"; the decimal mark is {mark!r})" if mark == "," or "," in text else ")")
    )
