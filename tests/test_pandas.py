"""pandas in, pandas out: alignment on the index, labelled results."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import trackerr

from conftest import assert_close
from registry import METRICS

pd = pytest.importorskip("pandas")


@pytest.fixture
def frames(rng):
    idx = pd.date_range("2024-01-01", periods=300, freq="D")
    p = pd.DataFrame(rng.normal(0, 0.01, (300, 3)), index=idx, columns=["IBIT", "FBTC", "GBTC"])
    b = pd.Series(rng.normal(0, 0.01, 300), index=idx, name="BTC")
    return p, b


@pytest.mark.parametrize("name", list(METRICS))
def test_dataframe_gives_labelled_series(frames, name):
    p, b = frames
    got = getattr(trackerr, name)(p, b)
    assert isinstance(got, pd.Series)
    assert list(got.index) == ["IBIT", "FBTC", "GBTC"] and got.name == name
    assert_close(got.to_numpy(), getattr(trackerr, name)(p.to_numpy(), b.to_numpy()), rtol=0)


@pytest.mark.parametrize("name", list(METRICS))
def test_series_gives_float(frames, name):
    p, b = frames
    got = getattr(trackerr, name)(p["IBIT"], b)
    assert isinstance(got, float)


def test_inner_join_on_index(frames):
    p, b = frames
    # benchmark misses the first 10 days and has 5 extra days after the portfolio ends
    extra = pd.Series(0.001, index=pd.date_range(p.index[-1] + pd.Timedelta(days=1), periods=5))
    b2 = pd.concat([b.iloc[10:], extra])
    got = trackerr.tracking_error(p["FBTC"], b2)
    want = trackerr.tracking_error(p["FBTC"].to_numpy()[10:], b.to_numpy()[10:])
    assert got == want
    # order of the benchmark's index does not matter
    assert trackerr.tracking_error(p["FBTC"], b2.sample(frac=1.0, random_state=0)) == want


def test_dataframe_benchmark_aligned_by_columns(frames, rng):
    p, _ = frames
    b = pd.DataFrame(rng.normal(0, 0.01, p.shape), index=p.index, columns=p.columns)
    got = trackerr.beta(p, b[["GBTC", "IBIT", "FBTC"]])
    assert_close(got.to_numpy(), trackerr.beta(p.to_numpy(), b.to_numpy()), rtol=0)
    with pytest.raises(ValueError, match="must have the portfolio's columns"):
        trackerr.beta(p, b.rename(columns={"IBIT": "X"}))


def test_duplicate_index_raises(frames):
    p, b = frames
    dup = pd.concat([b, b.iloc[:1]])
    with pytest.raises(ValueError, match="benchmark has duplicate index labels"):
        trackerr.tracking_error(p["IBIT"], dup)


def test_nullable_and_object_columns(frames):
    p, b = frames
    s = p["IBIT"].astype("Float64")
    s.iloc[3] = pd.NA
    got = trackerr.tracking_error(s, b)
    arr = p["IBIT"].to_numpy().copy()
    arr[3] = np.nan
    assert got == trackerr.tracking_error(arr, b.to_numpy())
    with pytest.raises(TypeError, match="portfolio must hold real numbers"):
        trackerr.tracking_error(pd.Series(["a"] * 300, index=p.index), b)


def test_mixed_pandas_and_numpy(frames):
    p, b = frames
    got = trackerr.tracking_error(p, b.to_numpy())
    assert isinstance(got, pd.Series)
    assert isinstance(trackerr.tracking_error(p.to_numpy(), b), np.ndarray)


def test_pandas_inputs_not_modified(frames):
    p, b = frames
    p0, b0 = p.copy(), b.copy()
    trackerr.alpha(p, b.iloc[5:], periods_per_year=252)
    pd.testing.assert_frame_equal(p, p0)
    pd.testing.assert_series_equal(b, b0)


def test_pandas_not_imported_for_numpy_inputs():
    code = (
        "import sys, numpy as np, trackerr; "
        "trackerr.tracking_error(np.ones(3), np.zeros(3)); "
        "print('pandas' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_identical_indexes_with_repeated_labels_pair_row_by_row(rng):
    # ticks at one instant repeat a timestamp; with the same index on both
    # sides there is nothing to align (pandas' rolling('30D') takes them too)
    stamps = pd.DatetimeIndex(
        ["2024-01-01", "2024-01-01", "2024-01-02", "2024-01-04", "2024-01-04"]
    )
    p = pd.Series(rng.normal(0, 0.01, 5), stamps)
    b = pd.Series(rng.normal(0, 0.01, 5), stamps)
    assert trackerr.tracking_error(p, b) == trackerr.tracking_error(p.to_numpy(), b.to_numpy())
    got = trackerr.rolling_tracking_error(p, b, "2D")
    want = (p - b).rolling("2D").std()
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-12)
    assert got.index.equals(stamps)
