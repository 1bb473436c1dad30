"""Data, parametrization and harness settings for the benchmark suite.

Independent of tests/: run it with ``python -m pytest bench`` (pyproject's
``testpaths`` only names tests/). The cases come from the one comparison table,
``comparisons.COMPARISONS`` (shared with tests/test_comparisons.py):
full-sample and stream cases (``comparisons.CASES``) are parametrized over
``(case, impl, size)``, rolling ones (``comparisons.ROLLING_CASES``) over
``(case, impl, size, window)``. ``TRACKERR_BENCH_QUICK=1`` shrinks the inputs
and fixes the rounds so the whole suite runs in seconds (a CI smoke run); its
figures are only indicative.

The process-wide settings that make the race like-for-like (BLAS on one
thread, glibc malloc keeping freed memory, numba's workqueue layer) live in
``bench/harness.py``, imported first; they are recorded in the JSON's
machine_info and printed by bench/report.py.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any

# bench/ is not a package: make its modules importable whatever --import-mode is.
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

# harness first: it sets the BLAS threads before numpy loads its library.
# isort: off
import harness

# isort: on
import numpy as np
import pytest

from comparisons import (
    BASELINE,
    CASES,
    COMPARISONS,
    ROLLING_CASES,
    Impl,
    is_panel,
)

MALLOC = harness.MALLOC
QUICK = harness.QUICK

# --- sizes and data -----------------------------------------------------------

SEED = 20240917

# Labels double as the size part of the benchmark groups ("<case>-<label>").
SIZES_1D: dict[str, int] = (
    {"1e4": 10**4, "1e5": 10**5} if QUICK else {"1e5": 10**5, "1e6": 10**6, "1e7": 10**7}
)
PANEL_SHAPE: tuple[int, int] = (252, 200) if QUICK else (2520, 2000)
PANEL_SIZES: dict[str, str] = {
    f"{PANEL_SHAPE[0]}x{PANEL_SHAPE[1]}-C": "C",  # the panel as generated (row-major)
    f"{PANEL_SHAPE[0]}x{PANEL_SHAPE[1]}-F": "F",  # its Fortran-order copy
}
SMALLEST_1D = min(SIZES_1D, key=SIZES_1D.__getitem__)

QUICK_ROUNDS = 5  # quick mode: benchmark.pedantic with this many rounds, 1 warm-up

RETURN_SCALE = 0.01  # returns ~ N(0, 0.01)
NOISE_SCALE = 0.002  # benchmark = portfolio + N(0, 0.002): a tracking error of ~0.2 %


# Rolling windows: 1-D cases at every 1-D size and each of these windows; panel
# cases on the C-order panel only, with one window.
ROLLING_WINDOWS: tuple[int, ...] = (21,) if QUICK else (21, 252)
ROLLING_PANEL_SIZE = next(k for k, v in PANEL_SIZES.items() if v == "C")
ROLLING_PANEL_WINDOW = 63


def rows_label(rows: int) -> str:
    """``10_000 -> "1e4"`` (like the SIZES_1D labels); other counts as digits."""
    exponent = len(str(rows)) - 1
    return f"1e{exponent}" if rows == 10**exponent else str(rows)


QUICK_MAX_ROWS = 2_000  # quick mode: Python loops over windows or ticks get these rows


def _max_rows(case: str, impl: Impl) -> int | None:
    """Rows an entry is limited to: its own ``max_rows``, or its case baseline's
    (a case whose trackerr entry is a per-tick loop runs wholly on those rows);
    at most QUICK_MAX_ROWS in quick mode."""
    table = ROLLING_CASES if case in ROLLING_CASES else CASES
    rows = impl.max_rows or table[case][BASELINE].max_rows
    return min(rows, QUICK_MAX_ROWS) if QUICK and rows is not None else rows


# Sliced 1-D inputs for entries with ``max_rows`` (trackerr.reference, Python
# loops): label -> rows, taken from the start of the smallest 1-D dataset. A
# label that is a regular size already (1e4 in quick mode) is just that dataset.
SLICES: dict[str, int] = {
    rows_label(rows): rows
    for table in (CASES, ROLLING_CASES)
    for case, impls in table.items()
    for impl in impls.values()
    if (rows := _max_rows(case, impl)) is not None and rows_label(rows) not in SIZES_1D
}
ROLLING_SLICES = SLICES  # the former name
if any(rows > SIZES_1D[SMALLEST_1D] for rows in SLICES.values()):
    raise ValueError(f"a max_rows exceeds the smallest 1-D size {SMALLEST_1D}")


def size_labels(case: str) -> list[str]:
    """The size labels a case is benchmarked at, in increasing order."""
    table = ROLLING_CASES if case in ROLLING_CASES else CASES
    if is_panel(case):
        if case in ROLLING_CASES or COMPARISONS[case].kind == "stream":
            return [ROLLING_PANEL_SIZE]  # C order only
        return list(PANEL_SIZES)
    if (rows := _max_rows(case, table[case][BASELINE])) is not None:
        return [rows_label(rows)]
    labels = set(SIZES_1D)
    labels.update(rows_label(r) for i in table[case].values() if (r := _max_rows(case, i)))
    return sorted(labels, key=lambda label: SLICES.get(label) or SIZES_1D[label])


def rolling_windows(case: str) -> list[int]:
    """The windows a rolling case is benchmarked with, in increasing order."""
    return [ROLLING_PANEL_WINDOW] if is_panel(case) else list(ROLLING_WINDOWS)


@functools.cache
def make_dataset(label: str) -> tuple[np.ndarray, np.ndarray]:
    """``(portfolio, benchmark)`` float64 returns for a size label, generated once.

    1-D: portfolio ~ N(0, 0.01), benchmark = portfolio + N(0, 0.002).
    Panel: benchmark ~ N(0, 0.01) of length T, each of the N portfolio columns
    = benchmark + N(0, 0.002); C order, and for the "-F" label its Fortran copy.
    Seeded by size, so a case's data does not depend on which tests ran first.
    """
    if label in SIZES_1D:
        n = SIZES_1D[label]
        rng = np.random.default_rng([SEED, n])
        portfolio = rng.normal(0.0, RETURN_SCALE, n)
        benchmark = portfolio + rng.normal(0.0, NOISE_SCALE, n)
        return portfolio, benchmark
    if PANEL_SIZES[label] == "F":
        c_label = next(k for k, v in PANEL_SIZES.items() if v == "C")
        panel, benchmark = make_dataset(c_label)
        return np.asfortranarray(panel), benchmark
    t, n = PANEL_SHAPE
    rng = np.random.default_rng([SEED, t, n])
    benchmark = rng.normal(0.0, RETURN_SCALE, t)
    panel = benchmark[:, None] + rng.normal(0.0, NOISE_SCALE, (t, n))
    return panel, benchmark


def case_dataset(label: str) -> tuple[np.ndarray, np.ndarray]:
    """``make_dataset``, plus the SLICES labels (leading rows of the smallest
    1-D dataset: contiguous views)."""
    if label in SLICES:
        portfolio, benchmark = make_dataset(SMALLEST_1D)
        rows = SLICES[label]
        return portfolio[:rows], benchmark[:rows]
    return make_dataset(label)


rolling_dataset = case_dataset  # the former name


@functools.lru_cache(maxsize=2)  # tests run group by group; 1e7 rolling_stats is 560 MB
def baseline_result(case: str, label: str, window: int | None = None) -> dict[str, np.ndarray]:
    """trackerr's answer for a case, size (and window) as ``{field: float64
    array}`` (see ``result_fields``): what every other entry must agree with."""
    impl = (CASES if window is None else ROLLING_CASES)[case][BASELINE]
    args = _prepared(impl, *case_dataset(label))
    return result_fields(impl.run(*args) if window is None else impl.run(*args, window))


def _prepared(impl: Impl, portfolio: np.ndarray, benchmark: np.ndarray) -> tuple[Any, Any]:
    return impl.prepare(portfolio, benchmark) if impl.prepare else (portfolio, benchmark)


rolling_baseline_result = baseline_result  # the former name


@functools.cache
def baseline_array(case: str, label: str) -> np.ndarray:
    """trackerr's full-sample answer as one float64 array."""
    impl = CASES[case][BASELINE]
    return np.asarray(impl.run(*_prepared(impl, *case_dataset(label))), dtype=np.float64)


def result_fields(result: Any) -> dict[str, np.ndarray]:
    """A result as ``{field: float64 array}``: a namedtuple's or a dict's
    fields, or ``{"value": array}`` for a number or an array (Series/DataFrame
    too)."""
    if hasattr(result, "_asdict"):
        result = result._asdict()
    if not isinstance(result, dict):
        result = {"value": result}
    return {k: np.asarray(v, dtype=np.float64) for k, v in result.items()}


@pytest.fixture(scope="session")
def dataset() -> Any:
    """``dataset(size_label) -> (portfolio, benchmark)``, cached for the session
    (sliced labels included)."""
    return case_dataset


@pytest.fixture(scope="session")
def baseline() -> Any:
    """``baseline(case, size_label)``: trackerr's full-sample result as one
    float64 array (cached; the fixture's former contract)."""
    return baseline_array


@pytest.fixture(scope="session")
def baseline_fields() -> Any:
    """``baseline_fields(case, size_label)``: trackerr's result as ``{field:
    float64 array}`` (full-sample and stream cases; cached)."""
    return baseline_result


@pytest.fixture(scope="session")
def rolling_data() -> Any:
    """``rolling_data(size_label) -> (portfolio, benchmark)``: ``dataset`` plus the
    sliced labels of the rolling cases."""
    return rolling_dataset


@pytest.fixture(scope="session")
def rolling_baseline() -> Any:
    """``rolling_baseline(case, size_label, window)``: trackerr's fields (cached)."""
    return rolling_baseline_result


# --- parametrization and timing -------------------------------------------------


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``(case, impl, size)`` over the full-sample and stream cases
    x the sizes, or ``(case, impl, size, window)`` over the rolling cases x
    sizes x windows for tests that take a ``window``.

    Ordered case, size, (window,) implementation, so a group's benchmarks run
    back to back.
    """
    if not {"case", "impl", "size"} <= set(metafunc.fixturenames):
        return
    rolling = "window" in metafunc.fixturenames
    params = []
    for case, impls in (ROLLING_CASES if rolling else CASES).items():
        windows: list[int | None] = list(rolling_windows(case)) if rolling else [None]
        for label in size_labels(case):
            for window in windows:
                for name, impl in impls.items():
                    if not _runs_at(case, name, impl, label, window == windows[0]):
                        continue
                    if window is None:
                        params.append(pytest.param(case, name, label, id=f"{case}-{label}-{name}"))
                    else:
                        params.append(
                            pytest.param(
                                case, name, label, window, id=f"{case}-{label}-w{window}-{name}"
                            )
                        )
    names = ("case", "impl", "size", "window") if rolling else ("case", "impl", "size")
    metafunc.parametrize(names, params)


def _runs_at(case: str, name: str, impl: Impl, label: str, first_window: bool) -> bool:
    rows = _max_rows(case, impl)
    if rows is not None:
        return not is_panel(case) and first_window and label == rows_label(rows)
    if label in SLICES:  # a sliced group: only the baseline joins the slow peer
        return name == BASELINE and first_window
    if impl.smallest_only:
        return not is_panel(case) and first_window and label == SMALLEST_1D
    return True


class Measure:
    """Times a call with pytest-benchmark; ``.benchmark`` is the fixture itself."""

    def __init__(self, benchmark: Any) -> None:
        self.benchmark = benchmark

    def __call__(self, fn: Any, *args: Any) -> Any:
        """Time ``fn(*args)`` and return its result.

        Full mode lets pytest-benchmark calibrate (honouring its command-line
        options); quick mode runs a fixed, small number of rounds.
        """
        if QUICK:
            return self.benchmark.pedantic(
                fn, args=args, rounds=QUICK_ROUNDS, warmup_rounds=1, iterations=1
            )
        return self.benchmark(fn, *args)


@pytest.fixture
def implementation(request: pytest.FixtureRequest, case: str, impl: str) -> Impl:
    """The registry entry under test (from ``ROLLING_CASES`` for tests that take
    a ``window``); skips when its optional peer is missing."""
    table = ROLLING_CASES if "window" in request.fixturenames else CASES
    entry = table[case][impl]
    if entry.requires:
        pytest.importorskip(entry.requires)
    return entry


@pytest.fixture
def measure(request: pytest.FixtureRequest, implementation: Impl) -> Measure:
    # Depends on `implementation` so a missing peer skips before the benchmark
    # fixture is set up (no "fixture was not used" warnings).
    if not request.config.pluginmanager.hasplugin("benchmark"):
        pytest.skip("pytest-benchmark is not installed or not active")
    return Measure(request.getfixturevalue("benchmark"))


# --- reporting -------------------------------------------------------------------


def pytest_report_header(config: pytest.Config) -> str:
    mode = "QUICK (TRACKERR_BENCH_QUICK)" if QUICK else "full"
    return (
        f"trackerr bench: {mode} mode; 1-D sizes {', '.join(SIZES_1D)}; "
        f"panel {PANEL_SHAPE[0]}x{PANEL_SHAPE[1]} (C and F order); "
        f"reference only at {SMALLEST_1D}; BLAS threads {harness.blas_threads()}; malloc {MALLOC}\n"
        f"rolling: windows {', '.join(map(str, ROLLING_WINDOWS))} (1-D) and "
        f"{ROLLING_PANEL_WINDOW} on the {ROLLING_PANEL_SIZE} panel; reference on "
        f"{', '.join(f'{rows_label(r)} rows' for r in _reference_rows())}; "
        f"numba threads {harness.numba_threads()}"
    )


def _reference_rows() -> list[int]:
    return sorted(
        {r for k, c in ROLLING_CASES.items() for i in c.values() if (r := _max_rows(k, i))}
    )


@pytest.hookimpl(optionalhook=True)  # a pytest-benchmark hook; fine without the plugin
def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict) -> None:
    """Record the suite's settings in the JSON (bench/report.py prints them)."""
    machine_info["trackerr_bench"] = {
        "quick": QUICK,
        "blas_threads": harness.blas_threads(),
        "malloc": MALLOC,
        "sizes_1d": list(SIZES_1D),
        "panel_shape": list(PANEL_SHAPE),
        "rolling_windows": list(ROLLING_WINDOWS),
        "rolling_panel": [ROLLING_PANEL_SIZE, ROLLING_PANEL_WINDOW],
        "numba_threads": harness.numba_threads(),
    }
