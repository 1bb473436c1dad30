"""``trackerr replicate``: long-only weights of a few assets that track a
benchmark column, fitted on a price file and checked out of sample, and its
``--demo`` on the shipped DeFi basket. The shared file and option handling is
in ``trackerr.cli``."""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
import tempfile
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._reader import _INSTALL, _NUMBER, _Fail, _pandas, _show
from .cli import _INSTALL_QP, _charts_ok, _file_options, _names, _periods, _read_file

_DEMO = "defi_basket"
_DEMO_BENCHMARK = "EW_BASKET"
_DEMO_SPLIT = "2021-10-06"  # the first year of the file is the fit, the rest is the test
_DEMO_NAMES = 5
_DEMO_CAP = 0.4
_DEMO_LADDER = (3, 4, 5, 6, 7, 8, 9, None)  # max names in the "what fewer names cost" table
_TOP = 10  # contributions shown, by size (the benchmark's is always shown)


def _replicate_parser(sub: Any) -> None:
    rp = sub.add_parser(
        "replicate",
        help="weights of a few assets that track a benchmark column, in and out of sample",
        description=(
            "Long-only, fully invested weights of the asset columns with the least tracking "
            "error to the benchmark column (trackerr.optimize.min_tracking_error), fitted on "
            "the fit dates (every date, or the dates before --split). Prints the weights held, "
            "the ex-ante tracking error, the realised one on the fit dates and, with --split, "
            "the realised one of the same weights from --split on (out of sample), and each "
            "position's contribution to the tracking error. Prices become simple returns "
            "between consecutive dates on which every column used has a price; the weights "
            "are held fixed (rebalanced every period). Needs the daqp QP solver: "
            f"{_INSTALL_QP}."
        ),
    )
    rp.add_argument(
        "file",
        nargs="?",
        metavar="FILE.csv",
        help="a date column, then one price column per asset and one for the benchmark",
    )
    rp.add_argument(
        "--benchmark", metavar="COL", help="the benchmark column (required without --demo)"
    )
    rp.add_argument(
        "--asset",
        action="append",
        metavar="COL",
        help="a column the portfolio may hold (repeat for several; default: every other column)",
    )
    rp.add_argument("--max-names", type=_names, metavar="K", help="hold at most K names")
    rp.add_argument(
        "--min-position",
        type=_weight,
        metavar="X",
        help="the least weight of a name held, as 0.02 or 2%%",
    )
    rp.add_argument(
        "--cap",
        type=_weight,
        metavar="X",
        help="the most weight in one name, as 0.1 or 10%% (default: no cap)",
    )
    rp.add_argument(
        "--turnover",
        type=_turnover,
        metavar="X",
        help="the most to trade away from --current, sum |weight - current|, as 0.2 or 20%% "
        "(needs --current)",
    )
    rp.add_argument(
        "--current",
        metavar="WEIGHTS.csv",
        help="the weights held now (needs --turnover): a CSV file with two columns, asset "
        "and weight (0.25 or 25%%), a line per asset held and an optional header line; "
        "assets not listed are held at 0",
    )
    rp.add_argument(
        "--capital",
        type=_amount,
        metavar="AMOUNT",
        help="buy whole lots for this capital (1e6, say) at the prices of the last fit "
        "date: each weight is then a whole number of lots times lot x price / capital, "
        "the rest is cash (at 0 return; the fit keeps some when that lowers the tracking "
        "error), and the units held are printed",
    )
    rp.add_argument(
        "--lot",
        type=_amount,
        metavar="N",
        help="units per lot with --capital (default 1: whole units; --lot 100 buys in "
        "hundreds, --lot 0.01 in hundredths of a token)",
    )
    rp.add_argument(
        "--split",
        metavar="DATE",
        help="fit on the dates before DATE and measure the tracking error of the same "
        "weights from DATE on, out of sample (yyyy-mm-dd, or written like the file's dates)",
    )
    _file_options(rp)
    rp.add_argument(
        "--periods-per-year",
        metavar="NAME|N",
        help="daily, weekly, monthly, quarterly, semi-annual, annual, crypto-daily, "
        "crypto-hourly or a number (default: inferred from the dates)",
    )
    rp.add_argument(
        "--estimator",
        choices=("sample", "ledoit_wolf", "ewma"),
        default="sample",
        help="covariance of the fit returns (default sample; ledoit_wolf needs "
        "scikit-learn; ewma needs --halflife)",
    )
    rp.add_argument(
        "--halflife", type=_amount, metavar="N", help="half-life of the ewma weights, in periods"
    )
    rp.add_argument(
        "--method",
        choices=("heuristic", "exact"),
        default="heuristic",
        help="for --max-names, --min-position and --capital: a fast search (default) or "
        "an exact branch and bound (for a few dozen assets at most)",
    )
    rp.add_argument("--out", metavar="DIR", help="write PNG charts and replicate.html here")
    rp.add_argument(
        "--format",
        choices=("text", "json", "csv"),
        default="text",
        help="output format (csv: a row per asset, the tracking errors on stderr)",
    )
    rp.add_argument(
        "--demo",
        action="store_true",
        help="replicate an equal-weight basket of ten DeFi tokens (shipped with trackerr) "
        f"with at most {_DEMO_NAMES} of them, each at most {_DEMO_CAP:.0%}%, fitted on the "
        "first year and tested on the next nine months; then with more names, up to all ten",
    )


def _share(text: str, *, zero: bool, most: float) -> float:
    """A fraction written 0.1 or 10%, positive (or >= 0 with `zero`), at most `most`."""
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero):
        raise argparse.ArgumentTypeError(
            f"must be {'at least 0' if zero else 'positive'}, got {text!r}"
        )
    if value > most:
        raise argparse.ArgumentTypeError(
            f"must be at most {most:.0%}, got {text!r} (write 10% or 0.1 for 10 %)"
        )
    return value


def _weight(text: str) -> float:
    return _share(text, zero=False, most=1.0)


def _turnover(text: str) -> float:
    return _share(text, zero=True, most=2.0)


def _amount(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be positive, got {text!r}")
    return value


def _need_daqp() -> None:
    try:
        import daqp  # noqa: F401
    except ImportError:
        raise _Fail(f"replicate needs the daqp QP solver: {_INSTALL_QP}") from None


@dataclass
class Replicated:
    """A fitted replication, as ``trackerr replicate`` prints and charts it."""

    title: str
    benchmark: str
    assets: list[str]
    returns: Any  # DataFrame: the assets' simple returns on every date used
    bench: Any  # Series: the benchmark's simple returns on the same dates
    fit_rows: int  # the first fit_rows returns are the fit window, the rest the test
    periods: float
    periods_reason: str
    estimator: str
    halflife: float | None  # of the ewma estimator
    constraints: list[str]  # as the text says them
    settings: dict[str, Any]  # as given, for JSON
    result: Any  # trackerr.optimize.Replication
    out_of_sample: float | None
    first_price: Any  # the first price date (the base of the first return)
    prices: Any = None  # the prices whole lots were bought at (with --capital)
    capital: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def split(self) -> bool:
        return self.fit_rows < len(self.returns)

    def window(self, test: bool = False) -> tuple[str, str, int]:
        dates = self.returns.index[self.fit_rows :] if test else self.returns.index[: self.fit_rows]
        return _show(dates[0]), _show(dates[-1]), len(dates)

    def part(self, which: str) -> Any:
        """'active', 'marginal' or 'total' contributions, by asset and, last, the
        benchmark's own under its column name."""
        values = getattr(self.result.contributions, which)
        own = [k for k in values.index if k not in self.assets]
        return values.rename({own[0]: self.benchmark}) if own else values

    def held(self) -> Any:
        """Weights of the names held, largest first (ties by name)."""
        w = self.result.weights
        kept = w[w.abs() > 1e-9]
        order = sorted(kept.index, key=lambda a: (-kept[a], str(a)))
        return kept[order]

    def portfolio(self) -> Any:
        """The replicating portfolio's returns on every date (cash earns 0)."""
        values = self.returns.to_numpy() @ self.result.weights.to_numpy()
        return _pandas().Series(values, index=self.returns.index, name="portfolio")

    def covariance(self) -> str:
        """The covariance estimate, for people."""
        if self.halflife is not None:
            return f"{self.estimator} covariance, half-life {self.halflife:g} periods"
        return f"{self.estimator} covariance"

    def figures(self) -> list[tuple[str, str, float | None]]:
        """(key, label, value) of the tracking errors, annualized."""
        res = self.result
        out = [
            (
                "ex_ante",
                f"ex ante ({self.covariance()} of the fit returns)",
                res.tracking_error,
            ),
            ("ex_post", "realised on the fit dates (in sample)", res.ex_post),
        ]
        if self.split:
            first, _, _ = self.window(test=True)
            out.append(
                ("out_of_sample", f"realised from {first} on (out of sample)", self.out_of_sample)
            )
        return out

    def weight_table(self) -> tuple[list[str], list[list[str]]]:
        held = self.held()
        units = self.result.units
        head = ["asset", "weight"]
        if units is not None:
            head += ["units", "price", "value"]
        rows = []
        for name, w in held.items():
            row = [str(name), f"{w:.2%}"]
            if units is not None and self.capital is not None:
                row += [
                    f"{units[name]:.10g}",
                    f"{self.prices[name]:,.6g}",
                    f"{units[name] * self.prices[name]:,.2f}",
                ]
            rows.append(row)
        total = float(held.sum())
        if units is not None and self.capital is not None:
            invested = math.fsum(float(units[a] * self.prices[a]) for a in held.index)
            rows.append(["cash", f"{1 - total:.2%}", "", "", f"{self.capital - invested:,.2f}"])
            rows.append(["total", "100.00%", "", "", f"{self.capital:,.2f}"])
        else:
            rows.append(["total", f"{total:.2%}"])
        return head, rows

    def contribution_table(self) -> tuple[list[str], list[list[str]], str]:
        """Top contributions by size, then the benchmark's and the total; and a note
        on the names not shown."""
        te = self.result.contributions.tracking_error
        active, marginal, total = (self.part(k) for k in ("active", "marginal", "total"))
        ranked = self.ranked()
        shown, rest = ranked[:_TOP], ranked[_TOP:]

        def row(name: Any, label: str) -> list[str]:
            share = _percent(total[name] / te, 0) if te > 0 else "-"
            return [
                label,
                _percent(active[name]),
                _percent(marginal[name]),
                _percent(total[name]),
                share,
            ]

        rows = [row(a, str(a)) for a in shown]
        rows.append(row(self.benchmark, f"{self.benchmark} (benchmark)"))
        rows.append(["total", "", "", f"{te:.2%}", "100%" if te > 0 else "-"])
        note = ""
        if rest:
            together = math.fsum(float(total[a]) for a in rest)
            note = f"{len(rest)} more names held contribute {together:.2%} together"
        return ["position", "active", "marginal", "contribution", "share"], rows, note

    def ranked(self) -> list[Any]:
        """The names held, by the size of their contribution."""
        total = self.part("total")
        return sorted(self.held().index, key=lambda a: (-abs(float(total[a])), str(a)))

    def describe(self) -> list[str]:
        res = self.result
        a, b, n = self.window()
        lines = [f"benchmark {self.benchmark}; {len(self.assets)} assets: {', '.join(self.assets)}"]
        span = f"fit {a} .. {b} ({n} returns)"
        if self.split:
            c, d, m = self.window(test=True)
            span += f"; out of sample {c} .. {d} ({m} returns)"
        lines.append(span)
        lines.append(f"{self.periods:g} periods a year ({self.periods_reason})")
        lines.append("constraints: " + ", ".join(self.constraints))
        lines.append(
            f"solved: {res.status}, {res.names} name{'s' * (res.names != 1)} held, "
            f"{res.solve_seconds:.3f} s, {res.iterations} daqp iterations"
        )
        return lines

    def to_dict(self) -> dict[str, Any]:
        res = self.result
        a, b, n = self.window()
        active, marginal, total = (self.part(k) for k in ("active", "marginal", "total"))
        out: dict[str, Any] = {
            "title": self.title,
            "benchmark": self.benchmark,
            "assets": list(self.assets),
            "periods_per_year": self.periods,
            "periods_per_year_reason": self.periods_reason,
            "estimator": self.estimator,
            "halflife": self.halflife,
            "constraints": dict(self.settings),
            "fit": {"start": a, "end": b, "returns": n},
            "test": None,
            "tracking_error": {k: _finite(v) for k, _, v in self.figures()},
            "weights": {str(k): float(v) for k, v in self.held().items()},
            "units": None,
            "cash": None,
            "names": res.names,
            "status": res.status,
            "objective": _finite(res.objective),
            "solve_seconds": res.solve_seconds,
            "iterations": res.iterations,
            "contributions": {
                str(k): {
                    "active": float(active[k]),
                    "marginal": float(marginal[k]),
                    "total": float(total[k]),
                }
                for k in [*self.held().index, self.benchmark]
            },
            "notes": list(self.notes),
        }
        if self.split:
            c, d, m = self.window(test=True)
            out["test"] = {"start": c, "end": d, "returns": m}
        if res.units is not None:
            out["units"] = {str(k): float(res.units[k]) for k in self.held().index}
            out["cash"] = 1.0 - float(self.held().sum())
        return out


def _percent(value: float, digits: int = 2) -> str:
    """A percentage, without the minus sign of a value that rounds to 0."""
    text = f"{value:.{digits}%}"
    return text[1:] if text.startswith("-") and not text.strip("-0.%") else text


def _finite(v: Any) -> Any:
    return None if v is None or not math.isfinite(v) else float(v)


def _replicate(args: argparse.Namespace) -> int:
    if args.demo:
        return _replicate_demo(args)
    if args.file is None:
        raise _Fail("replicate needs a FILE.csv (or --demo) (see trackerr replicate --help)")
    if args.benchmark is None:
        raise _Fail(
            "replicate needs --benchmark COL, the column to track (see trackerr replicate --help)"
        )
    _pandas()
    _need_daqp()
    frame, reading, notes = _read_file(args)
    title = f"Replication of {args.benchmark}: {Path(args.file).name}"
    rep = _replication(frame, args, reading, title, notes)
    _replicate_print(rep, args.format)
    if args.out:
        _replicate_charts(rep, Path(args.out))
    return 0


def _replication(
    frame: Any,
    args: argparse.Namespace,
    reading: Any,
    title: str,
    notes: Sequence[str] = (),
) -> Replicated:
    """Read the options, fit, and measure out of sample: one replication."""
    from . import _prices, optimize, tracking_error
    from ._options import PERIODS_PER_YEAR
    from .report import DateError, nonpositive, parse_bound

    bench = args.benchmark
    columns = [str(c) for c in frame.columns]
    if bench not in columns:
        raise _Fail(f"unknown benchmark column {bench!r}; columns: {columns}")
    assets = list(args.asset) if args.asset else [c for c in columns if c != bench]
    for k, name in enumerate(assets):
        if name not in columns:
            raise _Fail(f"unknown asset column {name!r}; columns: {columns}")
        if name == bench:
            raise _Fail(f"column {name!r} is the benchmark; it cannot also be an asset")
        if name in assets[:k]:
            raise _Fail(f"--asset {name!r} is given twice; name each asset once")
    if not assets:
        raise _Fail(f"no asset columns: the file has only the benchmark {bench!r}")
    _check_options(args, len(assets))
    try:
        lo = parse_bound("--start", args.start, reading)
        hi = parse_bound("--end", args.end, reading, upper=True)
        cut = parse_bound("--split", args.split, reading)
    except DateError as exc:
        raise _Fail(str(exc)) from None
    prices = frame[[*assets, bench]].loc[lo:hi]
    if prices.empty:
        raise _Fail(f"no rows between {args.start or 'the start'} and {args.end or 'the end'}")
    bad = nonpositive(prices)
    if bad:
        raise _Fail(bad)
    span = f"between {_show(prices.index[0])} and {_show(prices.index[-1])}"
    for col in prices.columns:
        if prices[col].isna().all():
            hint = "" if col == bench else " (name the assets to hold with --asset)"
            raise _Fail(f"column {col!r} has no prices {span}{hint}")
    notes = list(notes)
    kept = prices.dropna()
    if len(kept) < len(prices):
        missing = prices.isna().sum()
        worst = ", ".join(f"{c} {n}" for c, n in missing[missing > 0].nlargest(3).items())
        notes.append(
            f"{len(prices) - len(kept)} dates left out, where a column has no price "
            f"(dates missing: {worst}): returns are taken between the dates where every "
            "column has one"
        )
    if len(kept) < 3:
        raise _Fail(
            f"{len(kept)} dates {span} where every column has a price; at least 3 are needed"
        )
    periods, reason = _periods_of(args.periods_per_year, kept.index, PERIODS_PER_YEAR)
    rets = _prices.returns_from_prices(kept)
    dates = rets.index
    fit_rows = len(rets)
    if cut is not None:
        first, last = _show(kept.index[0]), _show(kept.index[-1])
        fit_rows = int((dates < cut).sum())
        if cut <= kept.index[0]:
            raise _Fail(
                f"--split {args.split} is not after the first date ({first}): no returns "
                "left to fit before it"
            )
        if cut > dates[-1]:
            raise _Fail(
                f"--split {args.split} is after the last date ({last}): no returns left to "
                "test out of sample"
            )
        if fit_rows < 2:
            raise _Fail(
                f"--split {args.split} leaves {fit_rows} return{'s' * (fit_rows != 1)} to fit "
                f"before it (the dates run {first} .. {last}); at least 2 are needed"
            )
        if len(rets) - fit_rows < 2:
            raise _Fail(
                f"--split {args.split} leaves 1 return to test out of sample (the dates run "
                f"{first} .. {last}); at least 2 are needed"
            )
    if fit_rows <= len(assets):
        print(
            f"trackerr: warning: the fit has {fit_rows} returns for {len(assets)} assets: "
            "their covariance is singular, so many weights fit it equally well (fit on more "
            "dates, or fewer assets)",
            file=sys.stderr,
        )
    asset_r, bench_r = rets[assets], rets[bench]
    current = None
    if args.current is not None:
        pd = _pandas()
        given = _read_weights(args.current, assets)
        current = pd.Series(given).reindex(assets, fill_value=0.0)
        held_now = math.fsum(given.values())
        if abs(held_now - 1.0) > 1e-6:
            notes.append(f"the current weights sum to {held_now:.2%}")
    lot_prices = None
    if args.capital is not None:
        lot_prices = kept[assets].loc[dates[fit_rows - 1]]
    try:
        res = optimize.min_tracking_error(
            asset_r.iloc[:fit_rows],
            bench_r.iloc[:fit_rows],
            upper=1.0 if args.cap is None else args.cap,
            max_names=args.max_names,
            min_position=args.min_position,
            current=current,
            turnover=args.turnover,
            prices=lot_prices,
            capital=args.capital,
            lot_sizes=1.0 if args.lot is None else args.lot,
            method=args.method,
            estimator=args.estimator,
            halflife=args.halflife,
            periods_per_year=periods,
        )
    except ImportError as exc:
        raise _Fail(str(exc)) from None
    except (ValueError, RuntimeError) as exc:
        raise _Fail(str(exc)) from None
    oos = None
    if fit_rows < len(rets):
        test = asset_r.iloc[fit_rows:].to_numpy() @ res.weights.to_numpy()
        oos = float(
            tracking_error(test, bench_r.iloc[fit_rows:].to_numpy(), periods_per_year=periods)
        )
    if args.capital is not None:
        notes.append(
            f"whole lots bought at the prices of {_show(dates[fit_rows - 1])}, the last fit date"
        )
    return Replicated(
        title=title,
        benchmark=bench,
        assets=assets,
        returns=asset_r,
        bench=bench_r,
        fit_rows=fit_rows,
        periods=periods,
        periods_reason=reason,
        estimator=args.estimator,
        halflife=args.halflife,
        constraints=_constraints(args, len(assets)),
        settings={
            "max_names": args.max_names,
            "min_position": args.min_position,
            "cap": args.cap,
            "turnover": args.turnover,
            "current": None if current is None else {str(k): float(v) for k, v in current.items()},
            "capital": args.capital,
            "lot": args.lot if args.lot is not None else (1.0 if args.capital else None),
            "method": args.method,
        },
        result=res,
        out_of_sample=oos,
        prices=lot_prices,
        capital=args.capital,
        notes=notes,
        first_price=kept.index[0],
    )


def _check_options(args: argparse.Namespace, n: int) -> None:
    """Options that need each other, and caps no fully invested weights can meet."""
    if args.turnover is not None and args.current is None:
        raise _Fail("--turnover needs --current (the weights held now)")
    if args.current is not None and args.turnover is None:
        raise _Fail("--current needs --turnover (the most to trade away from it)")
    if args.lot is not None and args.capital is None:
        raise _Fail("--lot needs --capital (lots bought for that capital)")
    if args.estimator == "ewma" and args.halflife is None:
        raise _Fail("--estimator ewma needs --halflife N (in periods)")
    if args.halflife is not None and args.estimator != "ewma":
        raise _Fail("--halflife is for --estimator ewma")
    cap = 1.0 if args.cap is None else args.cap
    if args.min_position is not None and args.min_position > cap:
        raise _Fail(
            f"--min-position {args.min_position:.2%} is above --cap {cap:.2%}: no name can be "
            "held (infeasible)"
        )
    if args.capital is None:  # with lots the rest is cash: any cap can be met
        k = min(n, args.max_names or n)
        if cap * n < 1 - 1e-12:
            raise _Fail(
                f"--cap {cap:.2%} on {n} assets holds at most {cap * n:.2%}: no fully invested "
                "weights meet it (infeasible)"
            )
        if cap * k < 1 - 1e-12:
            raise _Fail(
                f"--cap {cap:.2%} with --max-names {k} holds at most {cap * k:.2%}: no fully "
                "invested weights meet them (infeasible)"
            )


def _constraints(args: argparse.Namespace, n: int) -> list[str]:
    out = ["long only"]
    out.append("invested up to 100% (the rest in cash)" if args.capital else "fully invested")
    if args.max_names is not None:
        out.append(f"at most {args.max_names} of the {n} names")
    if args.cap is not None:
        out.append(f"each at most {args.cap:.2%}")
    if args.min_position is not None:
        out.append(f"each name held at least {args.min_position:.2%}")
    if args.turnover is not None:
        out.append(f"turnover at most {args.turnover:.2%} from {Path(args.current).name}")
    if args.capital is not None:
        lot = 1.0 if args.lot is None else args.lot
        out.append(
            f"whole lots of {lot:g} unit{'s' * (lot != 1)} for a capital of {args.capital:,.2f}"
        )
    return out


def _periods_of(text: str | None, index: Any, presets: dict[str, int]) -> tuple[float, str]:
    from . import _prices

    given = _periods(text)
    if given is not None:
        return float(presets[given]) if isinstance(given, str) else float(given), "given"
    try:
        inferred = _prices.infer_periods_per_year(index)
    except ValueError as exc:
        text = str(exc).replace("periods_per_year", "--periods-per-year")
        if "--periods-per-year" not in text:
            text += " (pass --periods-per-year)"
        raise _Fail(text) from None
    return inferred.periods_per_year, f"inferred: {inferred}"


def _read_weights(path: str, assets: Sequence[str]) -> dict[str, float]:
    """--current: lines of asset,weight (any of , ; tab | between), a header line allowed."""
    file = Path(path)
    if not file.is_file():
        what = "it is a directory" if file.is_dir() else "no such file"
        raise _Fail(f"cannot read --current {path}: {what}")
    try:
        text = file.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise _Fail(f"cannot read --current {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise _Fail(f"cannot read --current {path}: not UTF-8 text") from None
    lines = [(k + 1, line) for k, line in enumerate(text.splitlines()) if line.strip()]
    if not lines:
        raise _Fail(f"--current {path} is empty; expected lines of asset,weight")
    seps = [c for c in ",;\t|" if c in lines[0][1]]
    if len(seps) != 1:
        raise _Fail(
            f"{path}, line {lines[0][0]}: expected two columns, asset and weight, separated "
            "by one of , ; tab |"
        )
    sep = seps[0]
    out: dict[str, float] = {}
    for n, line in lines:
        fields = [f.strip() for f in next(csv.reader([line], delimiter=sep))]
        if len(fields) != 2:
            raise _Fail(f"{path}, line {n}: {len(fields)} fields; expected two, asset and weight")
        name, value = fields
        number = value[:-1].strip() if value.endswith("%") else value
        if sep != "," and "," in number and "." not in number:
            number = number.replace(",", ".")
        if not _NUMBER.fullmatch(number):
            if n == lines[0][0] and not out:
                continue  # a header line
            raise _Fail(
                f"{path}, line {n}: the weight of {name!r} is not a number: {value!r} "
                "(write 0.25 or 25%)"
            )
        weight = float(number) / (100 if value.endswith("%") else 1)
        if name not in assets:
            raise _Fail(
                f"{path}, line {n}: {name!r} is not one of the assets ({', '.join(assets)})"
            )
        if name in out:
            raise _Fail(f"{path}, line {n}: {name!r} appears twice; give each asset one line")
        out[name] = weight
    if not out:
        raise _Fail(f"--current {path} has a header but no weights")
    return out


def _replicate_print(rep: Replicated, fmt: str) -> None:
    if fmt == "json":
        print(json.dumps(rep.to_dict(), indent=2, allow_nan=False))
        return
    if fmt == "csv":
        parts = [rep.part(k) for k in ("active", "marginal", "total")]
        units = rep.result.units
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["asset", "weight", "units", "active", "marginal", "contribution"])
        held = list(rep.held().index)
        others = [a for a in rep.assets if a not in held]
        for name in [*held, *others]:
            w.writerow(
                [
                    name,
                    repr(float(rep.result.weights[name])),
                    "" if units is None else repr(float(units[name])),
                    *(repr(float(x[name])) for x in parts),
                ]
            )
        w.writerow([rep.benchmark, "", "", *(repr(float(x[rep.benchmark])) for x in parts)])
        sys.stdout.write(buf.getvalue())
        said = "; ".join(f"{label} {_pct(v)}" for _, label, v in rep.figures())
        print(f"trackerr: note: tracking error, annualized: {said}", file=sys.stderr)
        for note in rep.notes:
            print(f"trackerr: note: {note}", file=sys.stderr)
        return
    print(rep.title)
    for line in rep.describe():
        print(textwrap.fill(line, width=100, subsequent_indent="  "))
    print()
    print("tracking error, annualized")
    figures = rep.figures()
    width = max(len(label) for _, label, _ in figures) + 2
    for _, label, value in figures:
        print(f"  {label:<{width}}{_pct(value):>8}")
    print()
    print("weights of the names held, largest first")
    _table(*rep.weight_table())
    print()
    print("contributions to the ex-ante tracking error (Euler's: they sum to it)")
    head, rows, note = rep.contribution_table()
    _table(head, rows)
    if note:
        print(f"  ({note})")
    for note in rep.notes:
        print(textwrap.fill(f"note: {note}", width=100, subsequent_indent="  "))
    print()


def _pct(value: float | None) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.2%}"


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(r[k]) for r in [head, *rows] if k < len(r)) for k in range(len(head))]
    for r in [head, *rows]:
        cells = [
            f"{c:<{widths[k]}}" if k == 0 else f"{c:>{widths[k] + 2}}" for k, c in enumerate(r)
        ]
        print("  " + "".join(cells).rstrip())


def _replicate_charts(
    rep: Replicated, out: Path, tables: Sequence[tuple[str, list[str], list[list[str]], str]] = ()
) -> Path | None:
    from . import _charts

    if not _charts.available():
        print(
            f"charts and replicate.html need matplotlib: {_INSTALL} (tables printed above)",
            file=sys.stderr,
        )
        return None
    try:
        page = _charts.write_replication(rep, out, title=rep.title, tables=tables)
    except OSError as exc:
        raise _Fail(f"cannot write to {out}: {exc.strerror or exc}") from None
    print(f"wrote {page} (and PNG charts beside it)", file=sys.stderr)
    return page


_DEMO_ONLY = (
    "file",
    "benchmark",
    "asset",
    "max_names",
    "min_position",
    "cap",
    "turnover",
    "current",
    "capital",
    "lot",
    "split",
    "start",
    "end",
    "sep",
    "decimal",
    "date_format",
    "periods_per_year",
    "halflife",
)


def _replicate_demo(args: argparse.Namespace) -> int:
    from . import datasets

    given = [k for k in _DEMO_ONLY if getattr(args, k) is not None]
    given += [k for k in ("dayfirst",) if getattr(args, k)]
    given += [
        k for k, v in (("estimator", "sample"), ("method", "heuristic")) if getattr(args, k) != v
    ]
    if given:
        shown = "FILE.csv" if given[0] == "file" else "--" + given[0].replace("_", "-")
        raise _Fail(
            f"--demo takes no {shown}: it runs on shipped data with set constraints (with "
            "--out it writes that data, to run replicate on with your own)"
        )
    _pandas()
    _need_daqp()
    ds = datasets.load(_DEMO)
    frame = ds.to_frame()
    tokens = [c for c in ds.columns if c != _DEMO_BENCHMARK]
    settings = dict(vars(args))
    settings.update(
        benchmark=_DEMO_BENCHMARK,
        asset=tokens,
        max_names=_DEMO_NAMES,
        cap=_DEMO_CAP,
        split=_DEMO_SPLIT,
    )
    title = (
        f"Replicating an equal-weight basket of {len(tokens)} DeFi tokens with "
        f"{_DEMO_NAMES} of them"
    )
    note = (
        f"the benchmark {_DEMO_BENCHMARK} is the equal-weight basket of the {len(tokens)} "
        "tokens, rebalanced daily (its return is the mean of the tokens' returns each day); "
        "daily prices from Token Terminal, terms in trackerr.datasets.sources()"
    )
    rep = _replication(frame, argparse.Namespace(**settings), None, title, [note])
    ladder = []
    for k in _DEMO_LADDER:
        settings.update(max_names=k)
        ladder.append((k, _replication(frame, argparse.Namespace(**settings), None, title)))
    table = _ladder(ladder, len(tokens))
    out_root = Path(args.out) if args.out else None
    if out_root is None and _charts_ok():
        out_root = Path(tempfile.mkdtemp(prefix="trackerr-replicate-"))
    if args.format == "json":
        doc = {
            "replication": rep.to_dict(),
            "by_names": [
                {
                    "max_names": k,
                    "names": r.result.names,
                    **{key: _finite(v) for key, _, v in r.figures()},
                }
                for k, r in ladder
            ],
        }
        print(json.dumps(doc, indent=2, allow_nan=False))
    elif args.format == "csv":
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(["max_names", "names", "ex_ante", "ex_post", "out_of_sample"])
        for k, r in ladder:
            w.writerow(
                ["" if k is None else k, r.result.names, *(repr(v) for _, _, v in r.figures())]
            )
    else:
        _replicate_print(rep, "text")
        title, head, rows, note = table
        print(textwrap.fill(f"{title}:", width=100))
        _table(head, rows)
        print(textwrap.fill(note, width=100))
        print()
    if out_root is not None:
        page = _replicate_charts(rep, out_root, [table])
        data = out_root / f"{_DEMO}.csv"
        frame.to_csv(data, date_format="%Y-%m-%d", float_format="%.10g")
        if args.format == "text" and page is not None:
            print(
                f"The data with {_DEMO_BENCHMARK}: {data}; try other constraints on it:\n"
                f"  trackerr replicate {data} --benchmark {_DEMO_BENCHMARK} "
                f"--split {_DEMO_SPLIT} --max-names 3 --cap 40%"
            )
    elif args.format == "text":
        print(f"(charts and replicate.html need matplotlib: {_INSTALL})", file=sys.stderr)
    return 0


def _ladder(
    ladder: Sequence[tuple[int | None, Replicated]], n: int
) -> tuple[str, list[str], list[list[str]], str]:
    """The demo's table of tracking error by number of names: (title, head, rows, note)."""
    first = ladder[0][1]
    a, b, _ = first.window()
    c, d, _ = first.window(test=True)
    title = (
        f"What fewer names cost (each at most {_DEMO_CAP:.0%}; fit {a} .. {b}, out of "
        f"sample {c} .. {d}), tracking error annualized"
    )
    head = ["names allowed", "held", "ex ante", "in sample", "out of sample"]
    rows = [
        [
            f"all {n}" if k is None else str(k),
            str(r.result.names),
            *(_pct(v) for _, _, v in r.figures()),
        ]
        for k, r in ladder
    ]
    note = (
        f"All {n} at {1 / n:.0%} each are the basket itself (no tracking error); with fewer "
        "names the tracking error is the price of leaving the others out."
    )
    return title, head, rows, note
