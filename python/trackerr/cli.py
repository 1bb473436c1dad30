"""The ``trackerr`` command (also ``python -m trackerr``).

    trackerr report FILE.csv --benchmark COL [options]   a tracking-error report
    trackerr demo [--out DIR]                              the report on shipped real data

Errors in the input (missing file, unknown column, bad values, too few rows,
dates that read two ways) exit with status 2 and one line on stderr that
names the file line or the argument; warnings (returns that look like
percents, a limit above 100 %) are one line each on stderr and do not stop
the report.
"""

from __future__ import annotations

import argparse
import codecs
import csv
import io
import json
import math
import re
import sys
import tempfile
import textwrap
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from . import __version__

_INSTALL = 'pip install "trackerr[report]"'


class _Fail(Exception):
    """An input error: reported as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not usage + message
        raise _Fail(f"{message} (see {self.prog} --help)")


def _parser() -> argparse.ArgumentParser:
    top = _Parser(
        prog="trackerr",
        description="Tracking error and benchmark-relative metrics: reports from price files.",
    )
    top.add_argument("--version", action="version", version=f"trackerr {__version__}")
    sub = top.add_subparsers(dest="command", metavar="{report,demo}", parser_class=_Parser)

    rep = sub.add_parser(
        "report",
        help="tracking-error report of portfolios against a benchmark from a CSV file",
        description=(
            "Tracking error, tracking difference, IR, beta, alpha, correlation, R^2, capture, "
            "drawdown, Sharpe and Sortino of each portfolio column against a benchmark column, "
            "with the latest rolling tracking error and, with --limit, its breaches."
        ),
    )
    rep.add_argument("file", metavar="FILE.csv", help="a date column, then one column per asset")
    rep.add_argument("--benchmark", required=True, metavar="COL", help="the benchmark column")
    rep.add_argument(
        "--portfolio",
        action="append",
        metavar="COL",
        help="a portfolio column (repeat for several; default: every other column)",
    )
    _common(rep)
    rep.add_argument(
        "--start",
        metavar="DATE",
        help="first date (inclusive): yyyy-mm-dd, or written like the file's dates",
    )
    rep.add_argument("--end", metavar="DATE", help="last date (inclusive), as --start")
    rep.add_argument(
        "--sep",
        type=_separator,
        metavar="CHAR",
        help="field separator (default: sniffed among , ; tab |; 'tab' for a tab)",
    )
    rep.add_argument(
        "--decimal",
        choices=(".", ","),
        help="decimal mark (default: '.', or ',' in a file not separated by commas "
        "whose numbers all use a comma)",
    )
    rep.add_argument(
        "--date-format",
        metavar="FMT",
        help="strptime format of the dates, e.g. %%d/%%m/%%Y (default: the one reading "
        "that fits every date)",
    )
    rep.add_argument(
        "--dayfirst",
        action="store_true",
        help="numeric dates are day first (dd/mm/yyyy, yyyy/dd/mm)",
    )
    rep.add_argument(
        "--returns", action="store_true", help="the file holds periodic returns, not prices"
    )
    rep.add_argument(
        "--log-returns",
        action="store_true",
        help="dispersion metrics on log returns (compounded ones always use simple returns)",
    )

    demo = sub.add_parser(
        "demo",
        help="run the report on real data shipped with trackerr",
        description=(
            "Reports on shipped real data: Lido stETH vs ETH, spot bitcoin ETFs vs BTC, and "
            "the DeFi Pulse Index vs an equal-weight basket of its constituents."
        ),
    )
    demo.add_argument("--out", metavar="DIR", help="where to write the HTML reports")
    demo.add_argument(
        "--format", choices=("text", "json", "csv"), default="text", help="table format"
    )
    return top


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--window", type=_positive_int, metavar="N", help="rolling window (default: ~a quarter)"
    )
    p.add_argument(
        "--periods-per-year",
        metavar="NAME|N",
        help="daily, weekly, monthly, quarterly, semi-annual, annual, crypto-daily, crypto-hourly "
        "or a number "
        "(default: inferred from the dates)",
    )
    p.add_argument(
        "--limit",
        type=_fraction,
        metavar="X",
        help="annualized tracking-error limit, as 0.03 or 3%%; reports breach periods",
    )
    p.add_argument("--out", metavar="DIR", help="write PNG charts and report.html here")
    p.add_argument(
        "--format", choices=("text", "json", "csv"), default="text", help="output format"
    )


def _separator(text: str) -> str:
    sep = "\t" if text in ("tab", "\\t") else text
    if len(sep) != 1 or sep.isalnum() or sep in "\"'.\r\n":
        raise argparse.ArgumentTypeError(
            f"must be one character such as ';' or 'tab', not {text!r}"
        )
    return sep


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 2:
        raise argparse.ArgumentTypeError(f"must be at least 2, got {value}")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be positive, got {text!r}")
    return value


def _periods(text: str | None) -> float | str | None:
    from ._options import PERIODS_PER_YEAR

    if text is None or text in PERIODS_PER_YEAR:
        return text
    try:
        value = float(text)
    except ValueError:
        names = ", ".join(PERIODS_PER_YEAR)
        raise _Fail(
            f"--periods-per-year must be a number or one of {names}, not {text!r}"
        ) from None
    if not (value > 0 and math.isfinite(value)):
        raise _Fail(f"--periods-per-year must be positive, got {text!r}")
    return value


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


def _progress(names: Sequence[str]) -> Any:
    """A progress bar on stderr for long runs at a terminal (tqdm, when installed)."""
    if len(names) < 20 or not sys.stderr.isatty():
        return names
    try:
        from tqdm import tqdm
    except ImportError:
        return names
    return tqdm(names, desc="portfolios", unit="portfolio", file=sys.stderr, leave=False)


def _run_report(
    frame: Any,
    args: argparse.Namespace,
    portfolios: Any,
    title: str,
    reading: Any = None,
    notes: Sequence[str] = (),
) -> Any:
    from . import report

    names = list(portfolios or [])
    for k, name in enumerate(names):
        if name in names[:k]:
            raise _Fail(f"--portfolio {name!r} is given twice; name each portfolio once")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", report.ReportWarning)
            rep = report.build(
                frame,
                args.benchmark,
                portfolios=portfolios,
                window=args.window,
                periods_per_year=_periods(args.periods_per_year),
                limit=args.limit,
                start=getattr(args, "start", None),
                end=getattr(args, "end", None),
                date_reading=reading,
                returns=getattr(args, "returns", False),
                log_returns=getattr(args, "log_returns", False),
                progress=_progress,
            )
    except (report.ReportError, ValueError) as exc:
        raise _Fail(str(exc)) from None
    for w in caught:
        if issubclass(w.category, report.ReportWarning):
            print(f"trackerr: warning: {w.message}", file=sys.stderr)
    rep.notes[:0] = notes
    if args.format != "none":
        _print(rep, args.format, title)
    if args.out:
        _charts(rep, Path(args.out), title)
    return rep


_PER_PAIR = ("periods_per_year", "periods_per_year_reason", "window")


def _print(rep: Any, fmt: str, title: str) -> None:
    from ._charts import fmt as show
    from .report import FIELDS

    if fmt == "json":
        print(json.dumps(rep.to_dict(), indent=2, allow_nan=False))
        return
    fields = [*FIELDS, "observations"] + (["breach_now"] if rep.limit is not None else [])
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["portfolio", "benchmark", *fields, *_PER_PAIR])
        for name, m in rep.metrics.items():
            w.writerow(
                [name, rep.benchmark, *(_csv_value(m.get(f)) for f in [*fields, *_PER_PAIR])]
            )
        sys.stdout.write(buf.getvalue())
        for note in rep.notes:  # the table has no place for them
            print(f"trackerr: note: {note}", file=sys.stderr)
        return
    print(title)
    if rep.uniform:
        print(
            f"benchmark {rep.benchmark}, {rep.start} .. {rep.end}, "
            f"{rep.periods_per_year:g} periods a year ({rep.periods_reason}), window {rep.window}"
        )
    else:  # each pair has its own calendar: show each
        print(f"benchmark {rep.benchmark}, {rep.start} .. {rep.end}")
        for name, m in rep.metrics.items():
            print(
                f"  {name}: {m['periods_per_year']:g} periods a year "
                f"({m['periods_per_year_reason']}), window {m['window']}"
            )
        fields = [*fields, "periods_per_year", "window"]
    names = list(rep.metrics)
    width = max(24, *(len(n) + 2 for n in names))
    cols = [n[: width - 2] for n in names]
    print(f"{'':<24}" + "".join(f"{c:>{width}}" for c in cols))
    for f in fields:
        print(
            f"{f:<24}" + "".join(f"{_cell(show, f, rep.metrics[n].get(f)):>{width}}" for n in names)
        )
    if rep.limit is not None:
        print(f"breaches of the {rep.limit:.2%} limit (rolling tracking error above it):")
        for name, bs in rep.breaches.items():
            if not bs:
                print(f"  {name}: none")
            for b in bs:
                tail = ", ongoing" if b.ongoing else ""
                print(f"  {name}: {b.start} .. {b.end}, peak {b.peak:.2%}{tail}")
    if rep.timing:
        print(
            "timing: how much of the tracking error is the clock (prices taken at different "
            "moments; trackerr.timing_decomposition):"
        )
        for name, t in rep.timing.items():
            lo, hi = t["genuine_interval"]
            interval = f" ({lo:.2%} .. {hi:.2%})" if math.isfinite(hi) else ""
            print(
                f"  {name}: naive TE {t['naive_tracking_error']:.2%}, genuine "
                f"{t['genuine_tracking_error']:.2%}{interval}, timing share "
                f"{t['timing_share']:.0%}, best lag {t['best_lag']}, Dimson beta "
                f"{t['dimson_beta']:.2f}"
            )
            if t["verdict"]:
                print(
                    textwrap.fill(
                        t["verdict"], width=100, initial_indent="    ", subsequent_indent="    "
                    )
                )
    for note in rep.notes:
        print(f"note: {note}")
    print()


def _cell(show: Any, field: str, value: Any) -> str:
    if field == "periods_per_year":
        return f"{value:g}"
    return str(show(field, value))


def _csv_value(v: Any) -> Any:
    if isinstance(v, float):
        return "" if math.isnan(v) else repr(v)
    return v


def _charts(rep: Any, out: Path, title: str) -> Path | None:
    from . import _charts

    if not _charts.available():
        print(
            f"charts and the HTML report need matplotlib: {_INSTALL} (tables printed above)",
            file=sys.stderr,
        )
        return None
    try:
        page = _charts.write(rep, out, title=title)
    except OSError as exc:
        raise _Fail(f"cannot write to {out}: {exc.strerror or exc}") from None
    print(f"wrote {page} (and PNG charts beside it)", file=sys.stderr)
    return page


def _report(args: argparse.Namespace) -> int:
    frame, reading, notes = _read_csv(
        args.file,
        sep=args.sep,
        decimal=args.decimal,
        date_format=args.date_format,
        dayfirst=args.dayfirst,
    )
    title = f"Tracking-error report: {Path(args.file).name}"
    _run_report(frame, args, args.portfolio, title, reading, notes)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from . import datasets

    _pandas()
    out_root = Path(args.out) if args.out else None
    if out_root is None and _charts_ok():
        out_root = Path(tempfile.mkdtemp(prefix="trackerr-demo-"))
    as_json: dict[str, Any] = {}
    for name, title, benchmark, portfolios in datasets.DEMOS:
        frame = datasets.load(name).to_frame()
        ns = argparse.Namespace(
            benchmark=benchmark,
            window=None,
            periods_per_year=None,
            limit=0.03,
            format="none" if args.format == "json" else args.format,
            out=str(out_root / name) if out_root is not None else None,
        )
        rep = _run_report(frame, ns, portfolios, title)
        as_json[name] = {"title": title, **rep.to_dict()}
    if args.format == "json":  # one document: {dataset: report}
        print(json.dumps(as_json, indent=2, allow_nan=False))
    if out_root is None:
        print(f"(charts and HTML reports need matplotlib: {_INSTALL})", file=sys.stderr)
    else:
        print(f"HTML reports: {out_root}/*/report.html", file=sys.stderr)
    if args.format == "text":
        print("Data sources and terms: trackerr.datasets.sources() (python -c 'import trackerr;")
        print("print(trackerr.datasets.sources())')")
    return 0


def _charts_ok() -> bool:
    from . import _charts

    return _charts.available()


_VALUED = ("--limit", "--window", "--periods-per-year", "--start", "--end")


def _negative_values(argv: list[str]) -> list[str]:
    """``--limit -5%`` as ``--limit=-5%``: argparse takes '-5%' for an option and
    says 'expected one argument'; joined, the option's own check explains."""
    out: list[str] = []
    for k, tok in enumerate(argv):
        if k and out and out[-1] == argv[k - 1] in _VALUED and re.match(r"-[\d.]", tok):
            out[-1] = f"{argv[k - 1]}={tok}"
        else:
            out.append(tok)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``trackerr`` console script; returns the exit status."""
    parser = _parser()
    try:
        args = parser.parse_args(_negative_values(sys.argv[1:] if argv is None else list(argv)))
        if args.command == "report":
            return _report(args)
        if args.command == "demo":
            return _demo(args)
        parser.print_help()
        return 0
    except _Fail as exc:
        print(f"trackerr: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("trackerr: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
