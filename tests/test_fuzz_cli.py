"""A CSV mutator for ``trackerr report`` (issue 9).

Starting from slices of the real price files in tests/data, each case applies
one or more mutations and runs the command in-process (a few cases run as a
subprocess too). The rule:

- a meaning-preserving mutation (another separator with decimal commas, a BOM,
  CRLF line ends, blank lines, quoted fields, rows in reverse order, swapped
  columns, day-first dates with ``--dayfirst``, yyyymmdd or Unix-second dates)
  exits 0 with the figures the library gives on the un-mutated data;
- an emptied cell exits 0 with the library's figures on the mutated data;
- any other mutation (a dropped cell, a decimal comma in a comma file, text in
  a number, a duplicate header, a truncated last line, non-UTF-8 or NUL bytes,
  Excel-serial, odd, missing or repeated dates, no date column) exits 2 with
  exactly one line on stderr, starting ``trackerr: error:``;
- never exit 1, never a traceback, never an exception out of ``main``.

Cases cycle through the mutation kinds, each with its own seeded generator
(tests/fuzzing.py ``budget``: fixed seed, time budget from
TRACKERR_FUZZ_SECONDS), so every kind runs at any budget and a failing case
can be replayed by its number.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

import trackerr
from fuzzing import SECONDS, SEED, budget
from trackerr.cli import main

pd = pytest.importorskip("pandas")

DATA = Path(__file__).parent / "data"
FIELDS = (
    "tracking_error",
    "tracking_difference",
    "beta",
    "correlation",
    "up_capture",
    "down_capture",
    "max_drawdown",
    "sharpe_ratio",
    "rolling_tracking_error",
    "observations",
    "periods_per_year",
)


def _load(name):
    return pd.read_csv(DATA / name, index_col=0, parse_dates=True)


# (frame, benchmark, smallest and largest slice in rows)
BASES = (
    (_load("eth_lst_2023_2024.csv"), "ETH", 40, 150),
    (_load("spy_sp500_2010_2022.csv"), "SP500_price_index", 40, 200),
    (_load("ibit_btc_eth_2024.csv"), "BTC", 70, 200),
)


@dataclass
class Case:
    """A mutated file: its bytes, extra arguments, and what the rule expects."""

    frame: object  # the data the figures must match (None: an error is expected)
    benchmark: str
    window: int
    text: str = ""
    data: bytes | None = None
    args: list[str] = field(default_factory=list)
    may_refuse: bool = False  # exit 2 also allowed (ambiguous dates without --dayfirst)
    kinds: list[str] = field(default_factory=list)


def _base(rng):
    frame, bench, lo, hi = BASES[int(rng.integers(len(BASES)))]
    n = int(rng.integers(lo, hi + 1))
    start = int(rng.integers(0, len(frame) - n))
    part = frame.iloc[start : start + n]
    part = part.loc[:, part.notna().any()]  # slices where a column is empty are not the point
    window = int(rng.integers(3, 21))
    return part, bench, window


def _lines(case):
    return case.text.split("\n")


def _rows(case):
    """Indices of data lines (not the header, not the final empty string)."""
    return [i for i, line in enumerate(_lines(case)) if i > 0 and line]


def _set_lines(case, lines):
    case.text = "\n".join(lines)


# -- meaning-preserving mutations (applied to the text of an ISO-dated file) -----------


def m_separator(case, rng, frame):
    sep = [";", "\t", "|"][int(rng.integers(3))]
    decimal = "," if rng.random() < 0.7 else "."
    case.text = frame.to_csv(sep=sep, decimal=decimal)


def m_dayfirst(case, rng, frame):
    fmt = ["%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%y"][int(rng.integers(4))]
    case.text = frame.to_csv(date_format=fmt)
    if rng.random() < 0.5:
        case.args.append("--dayfirst")
    else:
        case.may_refuse = True  # auto: the one consistent reading, or a refusal naming --dayfirst


def m_integer_dates(case, rng, frame):
    if rng.random() < 0.5:
        ints = frame.index.strftime("%Y%m%d")
    else:
        ints = (frame.index - pd.Timestamp("1970-01-01")) // pd.Timedelta("1s")
    case.text = frame.set_axis(ints, axis=0).to_csv()


def m_swap_columns(case, rng, frame):
    cols = list(frame.columns)
    i, j = rng.choice(len(cols), 2, replace=False)
    cols[i], cols[j] = cols[j], cols[i]
    case.text = frame[cols].to_csv()


def m_reverse(case, rng, frame):
    case.text = frame.iloc[::-1].to_csv()


def m_quote(case, rng, frame):
    case.text = frame.to_csv(quoting=1)


def m_blank_lines(case, rng, frame):
    lines = _lines(case)
    for _ in range(int(rng.integers(1, 4))):
        lines.insert(int(rng.integers(1, len(lines))), ["", "  ", "\t"][int(rng.integers(3))])
    _set_lines(case, lines)


def m_crlf(case, rng, frame):
    case.text = case.text.replace("\n", "\r\n")


def m_bom(case, rng, frame):
    case.text = "\ufeff" + case.text


# rewrite the whole file first, then touch lines and bytes
REWRITE = (m_separator, m_dayfirst, m_integer_dates, m_swap_columns, m_reverse, m_quote)
TOUCH = (m_blank_lines, m_crlf, m_bom)


# -- mutations that change the meaning: exit 2, one line ---------------------------


def e_drop_cell(case, rng):
    lines = _lines(case)
    i = int(rng.choice(_rows(case)))
    cells = lines[i].split(",")
    del cells[int(rng.integers(len(cells)))]
    lines[i] = ",".join(cells)
    _set_lines(case, lines)


def e_decimal_comma(case, rng):
    lines = _lines(case)
    rows = [i for i in _rows(case) if "." in lines[i]]
    i = int(rng.choice(rows))
    date, rest = lines[i].split(",", 1)
    lines[i] = date + "," + rest.replace(".", ",", 1)
    _set_lines(case, lines)


def e_text_in_number(case, rng):
    lines = _lines(case)
    rows = [i for i in _rows(case) if any(c for c in lines[i].split(",")[1:])]
    i = int(rng.choice(rows))
    cells = lines[i].split(",")
    j = int(rng.choice([k for k in range(1, len(cells)) if cells[k]]))
    bad = ["abc", "12x", "#REF!", "1.2.3", "0x1A", "1e", "\u221e", "inf", "--5", "5%", "1_000"]
    cells[j] = bad[int(rng.integers(len(bad)))]
    lines[i] = ",".join(cells)
    _set_lines(case, lines)


def e_duplicate_header(case, rng):
    lines = _lines(case)
    names = lines[0].split(",")
    i, j = rng.choice(np.arange(1, len(names)), 2, replace=False)
    names[i] = names[j]
    lines[0] = ",".join(names)
    _set_lines(case, lines)


def e_truncate(case, rng):
    lines = _lines(case)
    i = _rows(case)[-1]
    last_sep = lines[i].rindex(",")
    lines[i] = lines[i][: int(rng.integers(1, last_sep + 1))]
    _set_lines(case, lines)


def e_non_utf8(case, rng):
    data = case.text.encode("utf-8")
    k = int(rng.integers(len(data)))
    bad = [b"\xff", b"\xe9", b"\xc3(", b"\x80", b"\xed\xa0\x80"][int(rng.integers(5))]
    case.data = data[:k] + bad + data[k:]


def e_nul(case, rng):
    data = case.text.encode("utf-8")
    k = int(rng.integers(len(data)))
    case.data = data[:k] + b"\0" + data[k:]


def e_excel_dates(case, rng):
    frame = pd.read_csv(io.StringIO(case.text), index_col=0, parse_dates=True)
    serial = (frame.index - pd.Timestamp("1899-12-30")).days
    case.text = frame.set_axis(serial, axis=0).to_csv()


def e_bad_date(case, rng):
    lines = _lines(case)
    i = int(rng.choice(_rows(case)))
    bad = ["2023-02-30", "2023-13-01", "yesterday", "2023-01-0x", "31/02/2023", "20230102"]
    lines[i] = bad[int(rng.integers(len(bad)))] + "," + lines[i].split(",", 1)[1]
    _set_lines(case, lines)


def e_missing_date(case, rng):
    lines = _lines(case)
    i = int(rng.choice(_rows(case)))
    lines[i] = (
        ["", "n/a", "NaN", " ", "NaT"][int(rng.integers(5))] + "," + lines[i].split(",", 1)[1]
    )
    _set_lines(case, lines)


def e_repeated_date(case, rng):
    lines = _lines(case)
    rows = _rows(case)
    i = int(rng.choice(rows[1:]))
    lines[i] = lines[i - 1].split(",", 1)[0] + "," + lines[i].split(",", 1)[1]
    _set_lines(case, lines)


def e_no_date_column(case, rng):
    lines = _lines(case)
    if rng.random() < 0.5:  # the date column dropped
        lines = [line.split(",", 1)[1] if line else line for line in lines]
    else:  # the date column swapped with a price column
        lines = [
            ",".join([c[1], c[0], *c[2:]]) if line else line
            for line, c in ((line, line.split(",")) for line in lines)
        ]
    _set_lines(case, lines)


ERRORS = (
    e_drop_cell,
    e_decimal_comma,
    e_text_in_number,
    e_duplicate_header,
    e_truncate,
    e_non_utf8,
    e_nul,
    e_excel_dates,
    e_bad_date,
    e_missing_date,
    e_repeated_date,
    e_no_date_column,
)


def e_empty_cell(case, rng):
    """Not an error: a missing price. The figures follow the mutated data."""
    lines = _lines(case)
    i = int(rng.choice(_rows(case)))
    cells = lines[i].split(",")
    cells[int(rng.integers(1, len(cells)))] = ""
    lines[i] = ",".join(cells)
    _set_lines(case, lines)
    case.frame = pd.read_csv(io.StringIO(case.text), index_col=0, parse_dates=True)


KINDS = ("preserving", *(f.__name__ for f in ERRORS), "empty_cell")


def make_case(k, rng):
    frame, bench, window = _base(rng)
    case = Case(frame=frame, benchmark=bench, window=window, text=frame.to_csv())
    kind = KINDS[k % len(KINDS)]
    case.kinds.append(kind)
    if kind == "preserving":
        for m in rng.permutation(len(REWRITE))[: int(rng.integers(0, 2))]:
            REWRITE[int(m)](case, rng, frame)
            case.kinds.append(REWRITE[int(m)].__name__)
        for m in TOUCH:
            if rng.random() < 0.5:
                m(case, rng, frame)
                case.kinds.append(m.__name__)
    elif kind == "empty_cell":
        e_empty_cell(case, rng)
    else:
        dict((f.__name__, f) for f in ERRORS)[kind](case, rng)
        case.frame = None
        for m in TOUCH:  # byte-level noise does not change the verdict
            if case.data is None and rng.random() < 0.3:
                m(case, rng, frame)
                case.kinds.append(m.__name__)
    return case


def expected(frame, bench, window):
    """The library's figures per portfolio: each pair on its own priced dates."""
    out = {}
    for name in frame.columns:
        if name == bench:
            continue
        pair = frame[[name, bench]].dropna()
        if len(pair) < 2:
            continue
        r = trackerr.returns_from_prices(pair.to_numpy(np.float64))
        p, b = r[:, 0], r[:, 1]
        periods = trackerr.infer_periods_per_year(pair.index).periods_per_year
        kw = {"periods_per_year": periods}
        out[name] = {
            "tracking_error": trackerr.tracking_error(p, b, **kw),
            "tracking_difference": trackerr.tracking_difference(p, b, **kw),
            "beta": trackerr.beta(p, b),
            "correlation": trackerr.correlation(p, b),
            "up_capture": trackerr.up_capture(p, b),
            "down_capture": trackerr.down_capture(p, b),
            "max_drawdown": trackerr.max_drawdown(p),
            "sharpe_ratio": trackerr.sharpe_ratio(p, **kw),
            "rolling_tracking_error": trackerr.rolling_tracking_error(p, b, window, **kw)[-1],
            "observations": len(p),
            "periods_per_year": periods,
        }
    return out


def _same(got, want):
    if want is None or (isinstance(want, float) and np.isnan(want)):
        return got is None
    return got == pytest.approx(want, rel=1e-12, abs=1e-300)


def check(case, k, status, out, err, path):
    where = f"case {k} {case.kinds}: exit {status}, stderr {err!r}"
    assert status in (0, 2), where
    assert "Traceback" not in err, where
    if case.frame is None or (case.may_refuse and status == 2):
        assert status == 2, where + f"\n{(case.data or case.text.encode())[:400]!r}"
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("trackerr: error:"), where
        assert out == "", where
        if case.may_refuse:
            assert "--dayfirst" in lines[0], where
        return
    assert status == 0, where + f"\n{(case.data or case.text.encode())[:400]!r}"
    got = json.loads(out)["portfolios"]
    want = expected(case.frame, case.benchmark, case.window)
    assert set(got) == set(want), where
    for name, figures in want.items():
        for f, value in figures.items():
            assert _same(got[name][f], value), (where, name, f, got[name][f], value)


def _write(tmp_path, case):
    path = tmp_path / "fuzz.csv"
    path.write_bytes(case.data if case.data is not None else case.text.encode("utf-8"))
    return path


def _args(case, path):
    return [
        "report",
        str(path),
        "--benchmark",
        case.benchmark,
        "--window",
        str(case.window),
        "--format",
        "json",
        *case.args,
    ]


def test_cli_mutations_in_process(tmp_path):
    seen = set()
    n = 0
    for k, rng in enumerate(budget()):
        case = make_case(k, rng)
        path = _write(tmp_path, case)
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                status = main(_args(case, path))
            except BaseException as exc:  # the rule: nothing escapes main
                status = f"{type(exc).__name__}: {exc}"
        check(case, k, status, stdout.getvalue(), stderr.getvalue(), path)
        if status == 0 and k % 5 == 0:  # the other outputs of the same report
            for extra in (["--format", "text", "--limit", "2%"], ["--format", "csv"]):
                with contextlib.redirect_stdout(io.StringIO()) as text:
                    assert main([*_args(case, path), *extra]) == 0, (k, extra)
                assert case.benchmark in text.getvalue()
        seen.update(case.kinds)
        n += 1
    # every kind of mutation ran at least once, whatever the budget
    assert set(KINDS) <= seen, set(KINDS) - seen
    assert n >= len(KINDS)


@pytest.mark.parametrize("k", [0, 6, 4, 14])
def test_cli_mutations_as_a_subprocess(tmp_path, k):
    """A few cases through the console entry point: exit status and stderr as a user sees them
    (preserving, non-UTF-8 bytes, a duplicate header, an emptied cell)."""
    case = make_case(k, np.random.default_rng([SEED, k]))  # case k replayed alone
    path = _write(tmp_path, case)
    proc = subprocess.run(
        [sys.executable, "-m", "trackerr", *_args(case, path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    check(case, k, proc.returncode, proc.stdout, proc.stderr, path)


def test_cli_replicate_on_mutated_files(tmp_path):
    """``trackerr replicate`` on the same mutated files: exit 0 where the file
    reads one way (every figure finite, the weights summing to 1 within the
    cap), else exit 2 with one line; never 1, never a traceback."""
    pytest.importorskip("daqp")
    n = 0
    for k, rng in enumerate(budget(SECONDS / 2)):
        case = make_case(k, rng)
        path = _write(tmp_path, case)
        args = ["replicate", str(path), "--benchmark", case.benchmark, "--format", "json"]
        args += [a for a in case.args if a == "--dayfirst"]
        if k % 3 == 1:
            args += ["--max-names", "1", "--cap", "100%"]
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                status = main(args)
            except BaseException as exc:  # the rule: nothing escapes main
                status = f"{type(exc).__name__}: {exc}"
        err = stderr.getvalue()
        where = f"case {k} {case.kinds}: exit {status}, stderr {err!r}"
        assert status in (0, 2), where
        assert "Traceback" not in err, where
        if status == 2:
            lines = err.splitlines()
            assert len(lines) == 1 and lines[0].startswith("trackerr: error:"), where
            continue
        assert case.frame is not None, where + " (a file that reads two ways was accepted)"
        rep = json.loads(stdout.getvalue())
        weights = np.array([float(v) for v in rep["weights"].values()])
        assert abs(weights.sum() - 1.0) <= 1e-9 and np.all(weights > 0), where
        assert np.isfinite(rep["objective"]), where
        n += 1
    assert n > 0
