import sys
from pathlib import Path

import numpy as np
import pytest

import trackerr

sys.path.insert(0, str(Path(__file__).parent))

DATA = Path(__file__).parent / "data"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261124)


def assert_close(actual, expected, rtol=1e-12, atol=0.0):
    """Elementwise |a - e| <= atol + rtol |e|, with NaN matching NaN."""
    a = np.atleast_1d(np.asarray(actual, dtype=np.float64))
    e = np.atleast_1d(np.asarray(expected, dtype=np.float64))
    assert a.shape == e.shape, (a.shape, e.shape)
    nan_a, nan_e = np.isnan(a), np.isnan(e)
    assert (nan_a == nan_e).all(), f"NaN mismatch: {a} vs {e}"
    ok = ~nan_a
    err = np.abs(a[ok] - e[ok])
    bound = atol + rtol * np.abs(e[ok])
    assert (err <= bound).all(), f"max error {np.max(err - bound)} over bound; {a} vs {e}"


def stream_pair(rng, n, nans=False):
    """A portfolio tracking a benchmark (daily-like returns); `nans`: 5 % NaN on each side."""
    b = rng.normal(0.0003, 0.01, n)
    p = 0.9 * b + rng.normal(0.0001, 0.003, n)
    if nans:
        p[rng.random(n) < 0.05] = np.nan
        b[rng.random(n) < 0.05] = np.nan
    return p, b


# The comparison table (every public metric, its reference and its peers) lives
# in bench/comparisons.py and drives both tests/test_comparisons.py and the
# benchmarks. bench/ goes last on the path, so tests' own modules (registry.py)
# keep their names; bench/ is absent from an sdist, where those tests skip.
BENCH = Path(__file__).resolve().parent.parent / "bench"
if BENCH.is_dir() and str(BENCH) not in sys.path:
    sys.path.append(str(BENCH))


@pytest.fixture
def each_simd():
    """Runs f() under every available instruction set: {name: f()}; the
    instruction set in use before is restored afterwards."""
    before = trackerr.simd()

    def run(f):
        out = {}
        for name in trackerr.simd_available():
            trackerr.set_simd(name)
            out[name] = f()
        return out

    yield run
    trackerr.set_simd(before)
