"""Data, parametrization and harness settings for the benchmark suite.

Independent of tests/: run it with ``python -m pytest bench`` (pyproject's
``testpaths`` only names tests/). Full-sample cases (``registry.CASES``) are
parametrized over ``(case, impl, size)``, rolling ones (``registry.ROLLING_CASES``)
over ``(case, impl, size, window)``. ``TRACKERR_BENCH_QUICK=1`` shrinks the inputs
and fixes the rounds so the whole suite runs in seconds (a CI smoke run); its
figures are only indicative.

Three process-wide settings make the race like-for-like and repeatable (all are
recorded in the JSON's machine_info and printed by bench/report.py):

* BLAS is pinned to one thread (trackerr's full-sample kernels are
  single-threaded). On small VMs a threaded level-1 BLAS call (the ``np.dot``
  inside pandas' ``corr`` or the panel formulas) can be 100x *slower* than a
  single-threaded one.
  ``TRACKERR_BENCH_BLAS_THREADS=N`` changes the count, ``=default`` leaves BLAS
  alone; an explicit ``OPENBLAS_NUM_THREADS`` (etc.) always wins.
* glibc's malloc is told to keep freed memory (``mallopt``: fixed 32 MiB mmap
  threshold, 256 MiB trim threshold). Otherwise whether the peers' temporaries
  (``p - b``, the centred copies) hit fresh pages, paying a page fault per 4 KiB,
  depends on the process's allocation history and swings the 1e5 figures by
  up to 7x. Pinning it favours the peers (trackerr allocates nothing per call).
  Temporaries above 32 MiB (the 1e7 inputs) are mmapped and pay page faults
  whatever is set. ``TRACKERR_BENCH_MALLOPT=0`` leaves the allocator alone.
* numba (numbagg's engine) uses its ``workqueue`` threading layer, not the
  OpenMP one it would pick by default: on the 2-vCPU development VM every
  parallel numbagg call through the OpenMP layer paid a fixed 4-8 ms (one or
  two scheduler ticks: 8 ms for a 1e4-point move_std that takes 0.04 ms
  single-threaded) and the panels got no faster. The thread count stays
  numba's default (one per core). This favours numbagg.
  ``TRACKERR_BENCH_NUMBA_LAYER=NAME`` picks another layer, ``=default`` leaves
  numba alone; an explicit ``NUMBA_THREADING_LAYER`` always wins.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import sys
from pathlib import Path
from typing import Any

# --- harness settings (before numpy loads OpenBLAS) ---------------------------

BLAS_THREADS = os.environ.get("TRACKERR_BENCH_BLAS_THREADS", "1").strip()
_NUMPY_PRELOADED = "numpy" in sys.modules
if BLAS_THREADS != "default":
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, BLAS_THREADS)

NUMBA_LAYER = os.environ.get("TRACKERR_BENCH_NUMBA_LAYER", "workqueue").strip()
if NUMBA_LAYER != "default":  # read when numba is imported (by registry.py, via numbagg)
    os.environ.setdefault("NUMBA_THREADING_LAYER", NUMBA_LAYER)
    if "numba" in sys.modules:  # imported already: its config is read, set it there
        sys.modules["numba"].config.THREADING_LAYER = os.environ["NUMBA_THREADING_LAYER"]

import numpy as np  # noqa: E402
import pytest  # noqa: E402

if BLAS_THREADS != "default" and _NUMPY_PRELOADED:
    try:  # too late for the environment variables: limit the loaded pools instead
        from threadpoolctl import threadpool_limits

        threadpool_limits(int(os.environ["OPENBLAS_NUM_THREADS"]))
    except (ImportError, ValueError):
        pass


def _pin_malloc() -> str:
    if os.environ.get("TRACKERR_BENCH_MALLOPT", "1").strip() in ("0", "no", "false"):
        return "default (TRACKERR_BENCH_MALLOPT=0)"
    if not sys.platform.startswith("linux"):
        return "default (not Linux)"
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        ok = libc.mallopt(m_mmap_threshold, 32 << 20) and libc.mallopt(m_trim_threshold, 256 << 20)
    except (OSError, AttributeError):
        return "default (no glibc mallopt)"
    return "mmap threshold 32 MiB, trim threshold 256 MiB" if ok else "default (mallopt failed)"


MALLOC = _pin_malloc()


def _blas_threads() -> str:
    value = os.environ.get("OPENBLAS_NUM_THREADS", "library default")
    return value + (" (numpy was loaded before bench/conftest.py)" if _NUMPY_PRELOADED else "")


# bench/ is not a package: make its modules importable whatever --import-mode is.
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

from registry import BASELINE, CASES, ROLLING_CASES, Impl, RollingImpl, is_panel  # noqa: E402

# --- sizes and data -----------------------------------------------------------

QUICK = os.environ.get("TRACKERR_BENCH_QUICK", "").strip().lower() not in ("", "0", "false", "no")

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


# Sliced 1-D inputs for rolling peers with ``max_rows`` (trackerr.reference):
# label -> rows, taken from the start of the smallest 1-D dataset. A label that
# is a regular size already (1e4 in quick mode) is just that dataset.
ROLLING_SLICES: dict[str, int] = {
    rows_label(impl.max_rows): impl.max_rows
    for impls in ROLLING_CASES.values()
    for impl in impls.values()
    if impl.max_rows is not None and rows_label(impl.max_rows) not in SIZES_1D
}
if any(rows > SIZES_1D[SMALLEST_1D] for rows in ROLLING_SLICES.values()):
    raise ValueError(f"a rolling max_rows exceeds the smallest 1-D size {SMALLEST_1D}")


def size_labels(case: str) -> list[str]:
    """The size labels a case is benchmarked at, in increasing order."""
    if case in ROLLING_CASES:
        if is_panel(case):
            return [ROLLING_PANEL_SIZE]
        labels = set(SIZES_1D)
        labels.update(rows_label(i.max_rows) for i in ROLLING_CASES[case].values() if i.max_rows)
        return sorted(labels, key=lambda label: ROLLING_SLICES.get(label) or SIZES_1D[label])
    return list(PANEL_SIZES) if is_panel(case) else list(SIZES_1D)


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


@functools.cache
def baseline_result(case: str, label: str) -> np.ndarray:
    """trackerr's answer for a case and size: what every peer must agree with."""
    return np.asarray(CASES[case][BASELINE].run(*make_dataset(label)), dtype=np.float64)


def rolling_dataset(label: str) -> tuple[np.ndarray, np.ndarray]:
    """``make_dataset``, plus the ROLLING_SLICES labels (leading rows of the
    smallest 1-D dataset: contiguous views)."""
    if label in ROLLING_SLICES:
        portfolio, benchmark = make_dataset(SMALLEST_1D)
        rows = ROLLING_SLICES[label]
        return portfolio[:rows], benchmark[:rows]
    return make_dataset(label)


@functools.lru_cache(maxsize=2)  # tests run group by group; 1e7 rolling_stats is 560 MB
def rolling_baseline_result(case: str, label: str, window: int) -> dict[str, np.ndarray]:
    """trackerr's rolling answer as ``{field: float64 array}`` (see ``result_fields``)."""
    portfolio, benchmark = rolling_dataset(label)
    return result_fields(ROLLING_CASES[case][BASELINE].run(portfolio, benchmark, window))


def result_fields(result: Any) -> dict[str, np.ndarray]:
    """A rolling result as ``{field: float64 array}``: a namedtuple's or a dict's
    fields, or ``{"value": array}`` for a single array (Series/DataFrame too)."""
    if hasattr(result, "_asdict"):
        result = result._asdict()
    if not isinstance(result, dict):
        result = {"value": result}
    return {k: np.asarray(v, dtype=np.float64) for k, v in result.items()}


@pytest.fixture(scope="session")
def dataset() -> Any:
    """``dataset(size_label) -> (portfolio, benchmark)``, cached for the session."""
    return make_dataset


@pytest.fixture(scope="session")
def baseline() -> Any:
    """``baseline(case, size_label)``: trackerr's result as a float64 array (cached)."""
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
    """Parametrize ``(case, impl, size)`` over the registry x the sizes, or
    ``(case, impl, size, window)`` over the rolling registry x sizes x windows
    for tests that take a ``window``.

    Ordered case, size, (window,) implementation, so a group's benchmarks run
    back to back.
    """
    if not {"case", "impl", "size"} <= set(metafunc.fixturenames):
        return
    if "window" in metafunc.fixturenames:
        _parametrize_rolling(metafunc)
        return
    params = []
    for case, impls in CASES.items():
        for label in size_labels(case):
            for name, impl in impls.items():
                if impl.smallest_only and (is_panel(case) or label != SMALLEST_1D):
                    continue
                params.append(pytest.param(case, name, label, id=f"{case}-{label}-{name}"))
    metafunc.parametrize(("case", "impl", "size"), params)


def _parametrize_rolling(metafunc: pytest.Metafunc) -> None:
    params = []
    for case, impls in ROLLING_CASES.items():
        windows = rolling_windows(case)
        for label in size_labels(case):
            for window in windows:
                for name, impl in impls.items():
                    if _rolling_runs_at(case, name, impl, label, window == windows[0]):
                        params.append(
                            pytest.param(
                                case, name, label, window, id=f"{case}-{label}-w{window}-{name}"
                            )
                        )
    metafunc.parametrize(("case", "impl", "size", "window"), params)


def _rolling_runs_at(
    case: str, name: str, impl: RollingImpl, label: str, first_window: bool
) -> bool:
    if impl.max_rows is not None:
        return not is_panel(case) and first_window and label == rows_label(impl.max_rows)
    if label in ROLLING_SLICES:  # a sliced group: only the baseline joins the slow peer
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
def implementation(request: pytest.FixtureRequest, case: str, impl: str) -> Impl | RollingImpl:
    """The registry entry under test (from ``ROLLING_CASES`` for tests that take
    a ``window``); skips when its optional peer is missing."""
    table = ROLLING_CASES if "window" in request.fixturenames else CASES
    entry = table[case][impl]
    if entry.requires:
        pytest.importorskip(entry.requires)
    return entry


@pytest.fixture
def measure(request: pytest.FixtureRequest, implementation: Impl | RollingImpl) -> Measure:
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
        f"reference only at {SMALLEST_1D}; BLAS threads {_blas_threads()}; malloc {MALLOC}\n"
        f"rolling: windows {', '.join(map(str, ROLLING_WINDOWS))} (1-D) and "
        f"{ROLLING_PANEL_WINDOW} on the {ROLLING_PANEL_SIZE} panel; reference on "
        f"{', '.join(f'{rows_label(r)} rows' for r in _reference_rows())}; "
        f"numba threads {_numba_threads()}"
    )


def _reference_rows() -> list[int]:
    return sorted({i.max_rows for c in ROLLING_CASES.values() for i in c.values() if i.max_rows})


def _numba_threads() -> str:
    """numbagg's threads and threading layer (numba's; registry.py imported numbagg
    if present). The layer actually loaded is known only after a parallel call."""
    numba = sys.modules.get("numba")
    if numba is None:
        return "n/a (no numbagg)"
    try:
        layer = f"{numba.threading_layer()} layer"
    except ValueError:  # no parallel call yet: what is configured
        layer = f"{numba.config.THREADING_LAYER} layer requested"
    return f"{numba.config.NUMBA_NUM_THREADS}, {layer}"


@pytest.hookimpl(optionalhook=True)  # a pytest-benchmark hook; fine without the plugin
def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict) -> None:
    """Record the suite's settings in the JSON (bench/report.py prints them)."""
    machine_info["trackerr_bench"] = {
        "quick": QUICK,
        "blas_threads": _blas_threads(),
        "malloc": MALLOC,
        "sizes_1d": list(SIZES_1D),
        "panel_shape": list(PANEL_SHAPE),
        "rolling_windows": list(ROLLING_WINDOWS),
        "rolling_panel": [ROLLING_PANEL_SIZE, ROLLING_PANEL_WINDOW],
        "numba_threads": _numba_threads(),
    }
