"""The ``trackerr`` command (also ``python -m trackerr``).

    trackerr report FILE.csv --benchmark COL [options]   a tracking-error report
    trackerr demo [--out DIR]                              the report on shipped real data

Errors in the input (missing file, unknown column, bad values, too few rows)
exit with status 2 and one line on stderr.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
import tempfile
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
    rep.add_argument("--start", metavar="DATE", help="first date (inclusive)")
    rep.add_argument("--end", metavar="DATE", help="last date (inclusive)")
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
        help="daily, weekly, monthly, quarterly, crypto-daily, crypto-hourly or a number "
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


def _read_csv(path: str) -> Any:
    pd = _pandas()
    file = Path(path)
    if not file.is_file():
        raise _Fail(f"cannot read {path}: no such file")
    try:
        frame = pd.read_csv(file, index_col=0)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise _Fail(f"cannot read {path}: {first}") from None
    if frame.shape[1] == 0:
        raise _Fail(f"{path} has no asset columns (expected: date, then one column per asset)")
    return frame


def _progress(names: Sequence[str]) -> Any:
    """A progress bar on stderr for long runs at a terminal (tqdm, when installed)."""
    if len(names) < 20 or not sys.stderr.isatty():
        return names
    try:
        from tqdm import tqdm
    except ImportError:
        return names
    return tqdm(names, desc="portfolios", unit="portfolio", file=sys.stderr, leave=False)


def _run_report(frame: Any, args: argparse.Namespace, portfolios: Any, title: str) -> Any:
    from . import report

    try:
        rep = report.build(
            frame,
            args.benchmark,
            portfolios=portfolios,
            window=args.window,
            periods_per_year=_periods(args.periods_per_year),
            limit=args.limit,
            start=getattr(args, "start", None),
            end=getattr(args, "end", None),
            returns=getattr(args, "returns", False),
            log_returns=getattr(args, "log_returns", False),
            progress=_progress,
        )
    except (report.ReportError, ValueError) as exc:
        raise _Fail(str(exc)) from None
    if args.format != "none":
        _print(rep, args.format, title)
    if args.out:
        _charts(rep, Path(args.out), title)
    return rep


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
        w.writerow(["portfolio", "benchmark", *fields])
        for name, m in rep.metrics.items():
            w.writerow([name, rep.benchmark, *(_csv_value(m.get(f)) for f in fields)])
        sys.stdout.write(buf.getvalue())
        return
    print(title)
    print(
        f"benchmark {rep.benchmark}, {rep.start} .. {rep.end}, "
        f"{rep.periods_per_year:g} periods a year ({rep.periods_reason}), window {rep.window}"
    )
    names = list(rep.metrics)
    width = max(24, *(len(n) + 2 for n in names))
    cols = [n[: width - 2] for n in names]
    print(f"{'':<24}" + "".join(f"{c:>{width}}" for c in cols))
    for f in fields:
        print(f"{f:<24}" + "".join(f"{show(f, rep.metrics[n].get(f)):>{width}}" for n in names))
    if rep.limit is not None:
        print(f"breaches of the {rep.limit:.2%} limit (rolling tracking error above it):")
        for name, bs in rep.breaches.items():
            if not bs:
                print(f"  {name}: none")
            for b in bs:
                tail = ", ongoing" if b.ongoing else ""
                print(f"  {name}: {b.start} .. {b.end}, peak {b.peak:.2%}{tail}")
    print()


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
    frame = _read_csv(args.file)
    _run_report(frame, args, args.portfolio, f"Tracking-error report: {Path(args.file).name}")
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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``trackerr`` console script; returns the exit status."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
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
