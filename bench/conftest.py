"""Data, parametrization and harness settings for the benchmark suite.

Independent of tests/: run it with ``python -m pytest bench`` (pyproject's
``testpaths`` only names tests/). ``TRACKERR_BENCH_QUICK=1`` shrinks the inputs
and fixes the rounds so the whole suite runs in seconds (a CI smoke run); its
figures are only indicative.

Two process-wide settings make the race like-for-like and repeatable (both are
recorded in the JSON's machine_info and printed by bench/report.py):

* BLAS is pinned to one thread (trackerr's kernels are single-threaded). On
  small VMs a threaded level-1 BLAS call (the ``np.dot`` inside pandas' ``corr``
  or the panel formulas) can be 100x *slower* than a single-threaded one.
  ``TRACKERR_BENCH_BLAS_THREADS=N`` changes the count, ``=default`` leaves BLAS
  alone; an explicit ``OPENBLAS_NUM_THREADS`` (etc.) always wins.
* glibc's malloc is told to keep freed memory (``mallopt``: fixed 32 MiB mmap
  threshold, 256 MiB trim threshold). Otherwise whether the peers' temporaries
  (``p - b``, the centred copies) hit fresh pages, paying a page fault per 4 KiB,
  depends on the process's allocation history and swings the 1e5 figures by
  up to 7x. Pinning it favours the peers (trackerr allocates nothing per call).
  Temporaries above 32 MiB (the 1e7 inputs) are mmapped and pay page faults
  whatever is set. ``TRACKERR_BENCH_MALLOPT=0`` leaves the allocator alone.
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

from registry import BASELINE, CASES, Impl, is_panel  # noqa: E402

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


def size_labels(case: str) -> list[str]:
    """The size labels a case is benchmarked at, in increasing order."""
    return list(PANEL_SIZES) if is_panel(case) else list(SIZES_1D)


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


@pytest.fixture(scope="session")
def dataset() -> Any:
    """``dataset(size_label) -> (portfolio, benchmark)``, cached for the session."""
    return make_dataset


@pytest.fixture(scope="session")
def baseline() -> Any:
    """``baseline(case, size_label)``: trackerr's result as a float64 array (cached)."""
    return baseline_result


# --- parametrization and timing -------------------------------------------------


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``(case, impl, size)`` over the registry x the sizes.

    Ordered case, size, implementation, so a group's benchmarks run back to back.
    """
    if not {"case", "impl", "size"} <= set(metafunc.fixturenames):
        return
    params = []
    for case, impls in CASES.items():
        for label in size_labels(case):
            for name, impl in impls.items():
                if impl.smallest_only and (is_panel(case) or label != SMALLEST_1D):
                    continue
                params.append(pytest.param(case, name, label, id=f"{case}-{label}-{name}"))
    metafunc.parametrize(("case", "impl", "size"), params)


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
def implementation(case: str, impl: str) -> Impl:
    """The registry entry under test; skips when its optional peer is missing."""
    entry = CASES[case][impl]
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
        f"reference only at {SMALLEST_1D}; BLAS threads {_blas_threads()}; malloc {MALLOC}"
    )


@pytest.hookimpl(optionalhook=True)  # a pytest-benchmark hook; fine without the plugin
def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict) -> None:
    """Record the suite's settings in the JSON (bench/report.py prints them)."""
    machine_info["trackerr_bench"] = {
        "quick": QUICK,
        "blas_threads": _blas_threads(),
        "malloc": MALLOC,
        "sizes_1d": list(SIZES_1D),
        "panel_shape": list(PANEL_SHAPE),
    }
