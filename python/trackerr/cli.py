"""The ``trackerr`` command (also ``python -m trackerr``).

    trackerr report FILE.csv --benchmark COL [options]      a tracking-error report
    trackerr replicate FILE.csv --benchmark COL [options]   weights of a few assets that
                                                            track the benchmark, in and
                                                            out of sample
    trackerr replicate --demo [--out DIR]                   that on a shipped DeFi basket
    trackerr demo [--out DIR]                               the report on shipped real data

Errors in the input (missing file, unknown column, bad values, too few rows,
dates that read two ways) exit with status 2 and one line on stderr that
names the file line or the argument; warnings (returns that look like
percents, a limit above 100 %) are one line each on stderr and do not stop
the report. ``replicate`` also refuses constraints no weights can meet, with
the reason, and says how to install the QP solver it needs (daqp) when it is
missing.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import re
import shutil
import sys
import tempfile
import textwrap
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from . import __version__
from ._reader import _INSTALL, _Fail, _pandas, _read_csv

_INSTALL_QP = 'pip install "trackerr[optimize]"'


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not usage + message
        raise _Fail(f"{message} (see {self.prog} --help)")


def _parser() -> argparse.ArgumentParser:
    top = _Parser(
        prog="trackerr",
        description="Tracking error and benchmark-relative metrics: reports from price files.",
    )
    top.add_argument("--version", action="version", version=f"trackerr {__version__}")
    sub = top.add_subparsers(
        dest="command", metavar="{report,replicate,watch,replay,demo}", parser_class=_Parser
    )

    rep = sub.add_parser(
        "report",
        help="tracking-error report of portfolios against a benchmark from a CSV file",
        description=(
            "Tracking error, tracking difference, IR, beta, alpha, correlation, R^2, capture, "
            "drawdown, Sharpe and Sortino of each portfolio column against a benchmark column, "
            "with the latest rolling tracking error and, with --limit, its breaches."
        ),
    )
    rep.add_argument(
        "file",
        metavar="FILE",
        help="a CSV, .xlsx or .parquet file: a date column, then one column per asset, or a "
        "long file (date, asset, price)",
    )
    rep.add_argument("--benchmark", required=True, metavar="COL", help="the benchmark column")
    rep.add_argument(
        "--portfolio",
        action="append",
        metavar="COL",
        help="a portfolio column (repeat for several; default: every other column)",
    )
    _common(rep)
    _table_options(rep)
    _file_options(rep)
    rep.add_argument(
        "--returns", action="store_true", help="the file holds periodic returns, not prices"
    )
    rep.add_argument(
        "--log-returns",
        action="store_true",
        help="dispersion metrics on log returns (compounded ones always use simple returns)",
    )

    from ._cli_replicate import _replicate_parser  # it imports this module's helpers

    _replicate_parser(sub)

    from ._cli_watch import _replay_parser, _watch_parser

    _watch_parser(sub)
    _replay_parser(sub)

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


def _file_options(p: argparse.ArgumentParser) -> None:
    """--start, --end and how to read the file: the same for every command reading prices."""
    from ._reader import _long_columns, _thousands

    p.add_argument(
        "--start",
        metavar="DATE",
        help="first date (inclusive): yyyy-mm-dd, or written like the file's dates",
    )
    p.add_argument("--end", metavar="DATE", help="last date (inclusive), as --start")
    p.add_argument(
        "--sep",
        type=_separator,
        metavar="CHAR",
        help="field separator (default: sniffed among , ; tab |; 'tab' for a tab)",
    )
    p.add_argument(
        "--decimal",
        choices=(".", ","),
        help="decimal mark (default: '.', or ',' in a file not separated by commas "
        "whose numbers all use a comma)",
    )
    p.add_argument(
        "--date-format",
        metavar="FMT",
        help="strptime format of the dates, e.g. %%d/%%m/%%Y (default: the one reading "
        "that fits every date)",
    )
    p.add_argument(
        "--dayfirst",
        action="store_true",
        help="numeric dates are day first (dd/mm/yyyy, yyyy/dd/mm)",
    )
    p.add_argument(
        "--thousands",
        type=_thousands,
        metavar="CHAR",
        help="thousands separator in the prices: ',' '.' 'space' or \"'\" (default: none; "
        "1,234.50 is refused without it). A currency symbol before or after a price "
        "($ € £ ¥, one per column) is always dropped",
    )
    p.add_argument(
        "--long",
        action="store_true",
        help="the file is long, one row per date and asset: a date column (named date, "
        "datetime, timestamp, time or day), an asset column (text) and a price column "
        "(the only other one, or the one named price, close, adj close, last or nav); "
        "such files are also recognised without --long",
    )
    p.add_argument(
        "--long-columns",
        type=_long_columns,
        metavar="DATE,ASSET,PRICE",
        help="the long file's date, asset and price columns, by name (implies --long)",
    )


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
    p.add_argument(
        "--out",
        metavar="DIR",
        help="write report.html, PNG charts, portfolios.csv and (with --limit) breaches.csv, "
        "every breach period a row, here",
    )
    p.add_argument(
        "--format", choices=("text", "json", "csv"), default="text", help="output format"
    )


def _table_options(p: argparse.ArgumentParser) -> None:
    """What the report shows: order, cut, breach filters, the last period."""
    p.add_argument(
        "--timing",
        choices=("auto", "all", "breached", "none"),
        default="auto",
        help="which portfolios get the timing figures (how much of the tracking error is the "
        "clock; about 3 ms each): auto (default) is all of them up to 50 portfolios and those "
        "with a breach above that",
    )
    p.add_argument(
        "--sort",
        metavar="[-]METRIC",
        help="order the portfolios by a field of the report (tracking_error, max_drawdown, "
        "observations, breach_now, window...): largest first, or smallest first with a "
        "leading '-' (--sort -max_drawdown: deepest drawdown first); NaN last",
    )
    p.add_argument(
        "--top",
        type=_names,
        metavar="K",
        help="only the first K portfolios (after --sort), in every format (text, CSV, JSON, "
        "charts); the output says K of N",
    )
    p.add_argument(
        "--clear-below",
        type=_fraction,
        metavar="X",
        help="hysteresis: a breach starts above --limit and ends only when the rolling "
        "tracking error falls below X (at most --limit), as trackerr.Monitor's clear_below",
    )
    p.add_argument(
        "--min-periods-above",
        type=_names,
        metavar="N",
        help="a breach counts only when it lasts at least N periods (default 1)",
    )
    p.add_argument(
        "--period",
        choices=("week", "month"),
        help="first, the last complete week (Monday to Sunday) or month against the one "
        "before: tracking error, tracking difference and max drawdown in each, the change, "
        "and the breaches that started in it",
    )


def _separator(text: str) -> str:
    sep = "\t" if text in ("tab", "\\t") else text
    if len(sep) != 1 or sep.isalnum() or sep in "\"'.\r\n":
        raise argparse.ArgumentTypeError(
            f"must be one character such as ';' or 'tab', not {text!r}"
        )
    return sep


def _int_from(least: int) -> Callable[[str], int]:
    """An argparse type: an integer of at least `least`."""

    def read(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"must be at least {least}, got {value}")
        return value

    return read


_positive_int = _int_from(2)  # a window
_names = _int_from(1)  # a count of names


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
    clear_below = getattr(args, "clear_below", None)
    min_above = getattr(args, "min_periods_above", None)
    _check_table_options(args, clear_below, min_above)
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
                clear_below=clear_below,
                min_periods_above=min_above or 1,
                start=getattr(args, "start", None),
                end=getattr(args, "end", None),
                date_reading=reading,
                returns=getattr(args, "returns", False),
                log_returns=getattr(args, "log_returns", False),
                progress=_progress,
                timing_for=getattr(args, "timing", "auto"),
            )
    except (report.ReportError, ValueError) as exc:
        raise _Fail(str(exc)) from None
    for w in caught:
        if issubclass(w.category, report.ReportWarning):
            print(f"trackerr: warning: {w.message}", file=sys.stderr)
    rep.notes[:0] = notes
    shown, order = _select(rep, getattr(args, "sort", None), getattr(args, "top", None))
    if getattr(args, "period", None):
        try:
            shown.period = report.period_summary(
                shown, args.period, log_returns=getattr(args, "log_returns", False)
            )
        except report.ReportError as exc:
            raise _Fail(str(exc)) from None
    if args.format != "none":
        _print(shown, args.format, title, order=order)
    if args.out:
        tables = _tables(shown, Path(args.out))
        print(f"wrote {', '.join(str(t) for t in tables)}", file=sys.stderr)
        _charts(shown, Path(args.out), title)
    return shown


def _check_table_options(
    args: argparse.Namespace, clear_below: float | None, min_above: int | None
) -> None:
    """One-line errors for --sort, --clear-below and --min-periods-above, before any work."""
    from .report import FIELDS

    limit = args.limit
    if clear_below is not None and limit is None:
        raise _Fail("--clear-below needs --limit: it is where a breach of the limit ends")
    if clear_below is not None and limit is not None and clear_below > limit:
        raise _Fail(
            f"--clear-below ({clear_below:.2%}) must be at most --limit ({limit:.2%}): "
            "a breach ends when the tracking error falls below it"
        )
    if min_above is not None and limit is None:
        raise _Fail("--min-periods-above needs --limit: it is how long a breach must last")
    sort = getattr(args, "sort", None)
    if sort is not None:
        key = sort[1:] if sort.startswith("-") else sort
        known = [*FIELDS, *_EXTRA]
        if key not in known:
            raise _Fail(f"--sort {sort!r}: not a field of the report; one of {', '.join(known)}")
        if key == "breach_now" and limit is None:
            raise _Fail("--sort breach_now needs --limit")


_EXTRA = ("observations", "breach_now", "periods_per_year", "window")  # sortable, besides FIELDS


def _select(rep: Any, sort: str | None, top: int | None) -> tuple[Any, str]:
    """The report with its portfolios in --sort order and cut to --top, and a
    line saying so ('' when neither is given); a note says it in JSON/CSV."""
    import dataclasses

    names = list(rep.metrics)
    said = []
    if sort is not None:
        key, descending = (sort[1:], False) if sort.startswith("-") else (sort, True)

        def value(name: str) -> float:
            v = rep.metrics[name].get(key)
            return float(v) if isinstance(v, (int, float)) else math.nan

        known = [n for n in names if math.isfinite(value(n))]
        known.sort(key=value, reverse=descending)  # stable: ties keep the file's order
        sorted_ = set(known)
        names = known + [n for n in names if n not in sorted_]  # NaN last, either way
        said.append(f"sorted by {key}, {'largest' if descending else 'smallest'} first")
    total = len(names)
    if top is not None and top < total:
        names = names[:top]
        said.append(f"{top} of {total} portfolios shown")
    if not said:
        return rep, ""
    line = "; ".join(said)
    shown = dataclasses.replace(
        rep,
        metrics={n: rep.metrics[n] for n in names},
        breaches={n: rep.breaches[n] for n in names if n in rep.breaches},
        series={n: rep.series[n] for n in names if n in rep.series},
        timing={n: rep.timing[n] for n in names if n in rep.timing},
        notes=[*rep.notes, line] if len(names) < total else list(rep.notes),
    )
    return shown, line


_PER_PAIR = ("periods_per_year", "periods_per_year_reason", "window")


def _print(rep: Any, fmt: str, title: str, *, order: str = "") -> None:
    from ._charts import fmt as show
    from .report import FIELDS

    if fmt == "json":
        print(json.dumps(rep.to_dict(), indent=2, allow_nan=False))
        return
    fields = [*FIELDS, "observations"] + (["breach_now"] if rep.limit is not None else [])
    if fmt == "csv":
        sys.stdout.write(_csv_text(_metric_rows(rep)))
        for note in rep.notes:  # the table has no place for them
            print(f"trackerr: note: {note}", file=sys.stderr)
        return
    columns = _columns()

    def say(text: str, indent: str = "", more: str = "    ") -> None:
        """Prose wrapped to the width; dates and figures are never split."""
        print(
            textwrap.fill(
                text,
                width=columns,
                initial_indent=indent,
                subsequent_indent=indent + more,
                break_long_words=False,
                break_on_hyphens=False,
            )
        )

    say(title)
    if rep.uniform:
        say(
            f"benchmark {rep.benchmark}, {rep.start} .. {rep.end}, "
            f"{rep.periods_per_year:g} periods a year ({rep.periods_reason}), window {rep.window}"
        )
    else:  # each pair has its own calendar: show each
        say(f"benchmark {rep.benchmark}, {rep.start} .. {rep.end}")
        for name, m in rep.metrics.items():
            say(
                f"{name}: {m['periods_per_year']:g} periods a year "
                f"({m['periods_per_year_reason']}), window {m['window']}",
                "  ",
            )
        fields = [*fields, "periods_per_year", "window"]
    if order:
        say(order)
    if rep.period is not None:
        _print_period(rep.period, columns, say)
    names = list(rep.metrics)
    width = max(24, *(len(n) + 2 for n in names))
    if 24 + width * len(names) <= columns:  # portfolios in columns, metrics in rows
        print(f"{'':<24}" + "".join(f"{n:>{width}}" for n in names))
        for f in fields:
            print(
                f"{f:<24}"
                + "".join(f"{_cell(show, f, rep.metrics[n].get(f)):>{width}}" for n in names)
            )
    else:
        _print_rows(rep, names, fields, show, columns)
    if rep.limit is not None:
        _print_breaches(rep, say)
    if rep.timing:
        say(
            "timing: how much of the tracking error is the clock (prices taken at different "
            "moments; trackerr.timing_decomposition):"
        )
        for name, t in rep.timing.items():
            lo, hi = t["genuine_interval"]
            interval = f" ({lo:.2%} .. {hi:.2%})" if math.isfinite(hi) else ""
            say(
                f"{name}: naive TE {t['naive_tracking_error']:.2%}, genuine "
                f"{t['genuine_tracking_error']:.2%}{interval}, timing share "
                f"{t['timing_share']:.0%}, best lag {t['best_lag']}, Dimson beta "
                f"{t['dimson_beta']:.2f}",
                "  ",
            )
            if t["verdict"]:
                say(t["verdict"], "    ", "")
    for note in rep.notes:
        if note != order:  # said above the table
            say(f"note: {note}")
    print()


def _columns() -> int:
    """The width of the text: $COLUMNS when set, else the terminal's, or 100
    when stdout is not a terminal (a file, a pipe, a mail)."""
    if "COLUMNS" in os.environ or sys.stdout.isatty():
        return max(40, shutil.get_terminal_size((100, 24)).columns)
    return 100


_ABBREVIATIONS = {
    "tracking_error": "TE",
    "tracking_difference": "TD",
    "active_return": "AR",
    "information_ratio": "IR",
    "beta": "beta",
    "alpha": "alpha",
    "correlation": "corr",
    "r_squared": "R2",
    "up_capture": "upcap",
    "down_capture": "dncap",
    "max_drawdown": "MDD",
    "benchmark_max_drawdown": "bMDD",
    "sharpe_ratio": "Sharpe",
    "sortino_ratio": "Sortino",
    "rolling_tracking_error": "rollTE",
    "observations": "obs",
    "breach_now": "breach",
    "periods_per_year": "P/yr",
    "window": "window",
}


def _print_rows(rep: Any, names: list[str], fields: list[str], show: Any, columns: int) -> None:
    """Portfolios in rows, metrics in columns under short headers (a legend
    says which), in as many blocks of columns as the width needs."""
    cells = {f: [_cell(show, f, rep.metrics[n].get(f)) for n in names] for f in fields}
    heads = {f: _ABBREVIATIONS.get(f, f) for f in fields}
    widths = {f: 2 + max(len(heads[f]), *(len(c) for c in cells[f])) for f in fields}
    name_width = min(max(len("portfolio"), *(len(n) for n in names)), columns // 3)
    blocks: list[list[str]] = [[]]
    used = name_width
    for f in fields:
        if blocks[-1] and used + widths[f] > columns:
            blocks.append([])
            used = name_width
        blocks[-1].append(f)
        used += widths[f]
    for k, block in enumerate(blocks):
        if k:
            print()
        print(f"{'portfolio':<{name_width}}" + "".join(f"{heads[f]:>{widths[f]}}" for f in block))
        for i, name in enumerate(names):
            label = name if len(name) <= name_width else name[: name_width - 1] + "~"
            print(f"{label:<{name_width}}" + "".join(f"{cells[f][i]:>{widths[f]}}" for f in block))
    legend = ", ".join(f"{heads[f]} {f}" for f in fields if heads[f] != f)
    print(textwrap.fill(legend, width=columns, initial_indent="(", subsequent_indent=" ") + ")")


def _print_period(period: dict[str, Any], columns: int, say: Callable[..., None]) -> None:
    """The --period table: per portfolio, the last period's figures and their change."""

    def pct(v: Any, sign: str = "") -> str:
        return "nan" if v is None or not math.isfinite(v) else f"{100 * v:{sign}.2f}%"

    rows = period["portfolios"]
    say(
        f"last complete {period['period']} {period['start']} .. {period['end']} against "
        f"{period['previous_start']} .. {period['previous_end']} (chg: last minus before; TD "
        f"not annualized; new: breaches that started in the {period['period']}):"
    )
    # the returns, 6 figures of 9 characters and the count of new breaches: 67 beside the name
    name_width = max(9, min(max(len(n) for n in rows), columns - 67))
    heads = ["returns", "TE", "chg", "TD", "chg", "MDD", "chg", "new"]
    widths = [8, 9, 9, 9, 9, 9, 9, 5]
    print(
        f"{'portfolio':<{name_width}}"
        + "".join(f"{h:>{w}}" for h, w in zip(heads, widths, strict=True))
    )
    for name, r in rows.items():
        label = name if len(name) <= name_width else name[: name_width - 1] + "~"
        cells = [str(r["returns"])]
        for f in ("tracking_error", "tracking_difference", "max_drawdown"):
            cells += [pct(r[f]), pct(r["change"][f], "+")]
        cells.append(str(len(r["new_breaches"])))
        print(
            f"{label:<{name_width}}"
            + "".join(f"{c:>{w}}" for c, w in zip(cells, widths, strict=True))
        )
    for name, r in rows.items():
        for b in r["new_breaches"]:
            tail = ", ongoing" if b["ongoing"] else ""
            say(f"new breach {name}: {b['start']} .. {b['end']}, peak {b['peak']:.2%}{tail}", "  ")
    print()


_LISTED = 3  # breaches listed one by one; more are summarised per portfolio


def _print_breaches(rep: Any, say: Callable[..., None]) -> None:
    rule = "rolling tracking error above it"
    if rep.clear_below is not None:
        rule += f" until it falls below {rep.clear_below:.2%}"
    if rep.min_periods_above > 1:
        rule += f", for at least {rep.min_periods_above} periods"
    say(f"breaches of the {rep.limit:.2%} limit ({rule}):")
    clear = [name for name, bs in rep.breaches.items() if not bs]
    if clear:  # one line for all of them, however many
        say(f"none: {', '.join(clear)}", "  ")
    for name, bs in rep.breaches.items():
        if not bs:
            continue
        if len(bs) > _LISTED:
            longest = max(bs, key=lambda b: b.periods)
            worst = max(bs, key=lambda b: b.peak)
            tail = f"; ongoing since {bs[-1].start}" if bs[-1].ongoing else ""
            say(
                f"{name}: {len(bs)} breaches, {sum(b.periods for b in bs)} periods in breach, "
                f"longest {longest.start} .. {longest.end} ({longest.periods} periods), "
                f"worst peak {worst.peak:.2%} on {worst.peak_date}{tail}",
                "  ",
            )
        else:
            for b in bs:
                tail = ", ongoing" if b.ongoing else ""
                say(
                    f"{name}: {b.start} .. {b.end} ({b.periods} periods), peak {b.peak:.2%}{tail}",
                    "  ",
                )


def _cell(show: Any, field: str, value: Any) -> str:
    if field == "periods_per_year":
        return f"{value:g}"
    return str(show(field, value))


def _metric_rows(rep: Any) -> list[list[Any]]:
    """The --format csv table: a header, then a row per portfolio."""
    from .report import FIELDS

    fields = [*FIELDS, "observations"] + (["breach_now"] if rep.limit is not None else [])
    rows: list[list[Any]] = [["portfolio", "benchmark", *fields, *_PER_PAIR]]
    for name, m in rep.metrics.items():
        rows.append([name, rep.benchmark, *(_csv_value(m.get(f)) for f in [*fields, *_PER_PAIR])])
    return rows


_BREACH_COLUMNS = ("start", "end", "periods", "peak", "peak_date", "ongoing")


def _breach_rows(rep: Any) -> list[list[Any]]:
    """Every breach period, a row each (the text summarises long lists; this does not)."""
    rows: list[list[Any]] = [["portfolio", "limit", *_BREACH_COLUMNS]]
    for name in rep.metrics:
        for b in rep.breaches.get(name, []):
            d = b.to_dict()
            rows.append([name, _csv_value(rep.limit), *(_csv_value(d[c]) for c in _BREACH_COLUMNS)])
    return rows


def _csv_text(rows: list[list[Any]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def _tables(rep: Any, out: Path) -> list[Path]:
    """portfolios.csv (the --format csv table) and, with a limit, breaches.csv in ``out``."""
    files = [(out / "portfolios.csv", _metric_rows(rep))]
    if rep.limit is not None:
        files.append((out / "breaches.csv", _breach_rows(rep)))
    try:
        out.mkdir(parents=True, exist_ok=True)
        for path, rows in files:
            path.write_text(_csv_text(rows), encoding="utf-8")
    except OSError as exc:
        raise _Fail(f"cannot write to {out}: {exc.strerror or exc}") from None
    return [path for path, _ in files]


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


def _read_file(args: argparse.Namespace) -> tuple[Any, Any, list[str]]:
    """The price file of `report` or `replicate`, read as the file options say."""
    return _read_csv(
        args.file,
        sep=args.sep,
        decimal=args.decimal,
        date_format=args.date_format,
        dayfirst=args.dayfirst,
        thousands=args.thousands,
        long=args.long,
        long_columns=args.long_columns,
    )


def _report(args: argparse.Namespace) -> int:
    frame, reading, notes = _read_file(args)
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
        print("Index replication, ten DeFi tokens tracked with five: trackerr replicate --demo")
        print(f"(it needs a QP solver: {_INSTALL_QP})")
    return 0


def _charts_ok() -> bool:
    from . import _charts

    return _charts.available()


_VALUED = (
    "--limit",
    "--window",
    "--periods-per-year",
    "--start",
    "--end",
    "--max-names",
    "--min-position",
    "--cap",
    "--turnover",
    "--capital",
    "--lot",
    "--halflife",
    "--clear-below",
)


def _negative_values(argv: list[str]) -> list[str]:
    """``--limit -5%`` as ``--limit=-5%``: argparse takes '-5%' for an option and
    says 'expected one argument'; joined, the option's own check explains. So
    too ``--sort -max_drawdown`` (ascending), as ``--sort=-max_drawdown``."""
    out: list[str] = []
    for k, tok in enumerate(argv):
        if k and out and out[-1] == argv[k - 1] in _VALUED and re.match(r"-[\d.]", tok):
            out[-1] = f"{argv[k - 1]}={tok}"
        elif k and out and out[-1] == argv[k - 1] == "--sort" and re.match(r"-\w", tok):
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
        if args.command == "replicate":
            from ._cli_replicate import _replicate

            return _replicate(args)
        if args.command == "watch":
            from ._cli_watch import _watch

            return _watch(args)
        if args.command == "replay":
            from ._cli_watch import _replay

            return _replay(args)
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
