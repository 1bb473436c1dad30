"""Process-wide settings that make the race like-for-like and repeatable.

Imported first by ``bench/conftest.py`` (the pytest-benchmark suite) and by
``bench/report.py`` (the interleaved issue table), before numpy loads its BLAS:

* BLAS is pinned to one thread (trackerr's full-sample kernels are
  single-threaded). On small VMs a threaded level-1 BLAS call (the ``np.dot``
  inside pandas' ``corr`` or the panel formulas) can be 100x *slower* than a
  single-threaded one. ``TRACKERR_BENCH_BLAS_THREADS=N`` changes the count,
  ``=default`` leaves BLAS alone; an explicit ``OPENBLAS_NUM_THREADS`` (etc.)
  always wins.
* glibc's malloc is told to keep freed memory (``mallopt``: fixed 32 MiB mmap
  threshold, 256 MiB trim threshold). Otherwise whether the peers' temporaries
  (``p - b``, the centred copies) hit fresh pages, paying a page fault per
  4 KiB, depends on the process's allocation history and swings the 1e5
  figures by up to 7x. Pinning it favours the peers (trackerr allocates
  nothing per call). Temporaries above 32 MiB (the 1e7 inputs) are mmapped and
  pay page faults whatever is set. ``TRACKERR_BENCH_MALLOPT=0`` leaves the
  allocator alone.
* numba (numbagg's engine) uses its ``workqueue`` threading layer, not the
  OpenMP one it would pick by default: on the 2-vCPU development VM every
  parallel numbagg call through the OpenMP layer paid a fixed 4-8 ms and the
  panels got no faster. The thread count stays numba's default (one per core).
  This favours numbagg. ``TRACKERR_BENCH_NUMBA_LAYER=NAME`` picks another
  layer, ``=default`` leaves numba alone; an explicit ``NUMBA_THREADING_LAYER``
  always wins.

``QUICK`` is ``TRACKERR_BENCH_QUICK`` (small inputs, few rounds: a CI smoke run).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

BLAS_THREADS = os.environ.get("TRACKERR_BENCH_BLAS_THREADS", "1").strip()
NUMPY_PRELOADED = "numpy" in sys.modules
if BLAS_THREADS != "default":
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, BLAS_THREADS)

NUMBA_LAYER = os.environ.get("TRACKERR_BENCH_NUMBA_LAYER", "workqueue").strip()
if NUMBA_LAYER != "default":  # read when numba is imported (via numbagg)
    os.environ.setdefault("NUMBA_THREADING_LAYER", NUMBA_LAYER)
    if "numba" in sys.modules:  # imported already: its config is read, set it there
        sys.modules["numba"].config.THREADING_LAYER = os.environ["NUMBA_THREADING_LAYER"]

if BLAS_THREADS != "default" and NUMPY_PRELOADED:
    try:  # too late for the environment variables: limit the loaded pools instead
        from threadpoolctl import threadpool_limits

        threadpool_limits(int(os.environ["OPENBLAS_NUM_THREADS"]))
    except (ImportError, ValueError):
        pass

QUICK = os.environ.get("TRACKERR_BENCH_QUICK", "").strip().lower() not in ("", "0", "false", "no")


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


def blas_threads() -> str:
    """The BLAS thread setting, as recorded in reports."""
    value = os.environ.get("OPENBLAS_NUM_THREADS", "library default")
    return value + (" (numpy was loaded before the harness)" if NUMPY_PRELOADED else "")


def numba_threads() -> str:
    """numbagg's threads and threading layer (numba's). The layer actually
    loaded is known only after a parallel call."""
    numba = sys.modules.get("numba")
    if numba is None:
        return "n/a (no numbagg)"
    try:
        layer = f"{numba.threading_layer()} layer"
    except ValueError:  # no parallel call yet: what is configured
        layer = f"{numba.config.THREADING_LAYER} layer requested"
    return f"{numba.config.NUMBA_NUM_THREADS}, {layer}"
