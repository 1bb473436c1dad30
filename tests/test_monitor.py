"""Monitor: breaches and recoveries of a streaming tracking error, with hysteresis."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import trackerr
from trackerr import Event, Monitor


def _drifting(rng, n=1500):
    b = rng.normal(0, 0.01, n)
    slip = np.where((np.arange(n) > 600) & (np.arange(n) < 900), 0.006, 0.001)
    return b + slip * rng.normal(0, 1, n), b


def test_breach_then_recovery_matches_rolling(rng):
    p, b = _drifting(rng)
    seen = []
    m = Monitor(0.05, window=63, periods_per_year=252, clear_below=0.04, on_event=seen.append)
    events = []
    for x, y in zip(p, b, strict=True):
        events += m.update(x, y)
    assert [e.kind for e in events] == ["breach", "recovery"]
    assert seen == events
    te = trackerr.rolling_tracking_error(p, b, 63, periods_per_year=252)
    first_breach = int(np.argmax(te > 0.05)) + 1  # ticks are counted from 1
    assert events[0].tick == first_breach
    assert events[0].value == pytest.approx(te[first_breach - 1], rel=1e-12)
    after = te[first_breach - 1 :]
    assert events[1].tick == first_breach + int(np.argmax(after < 0.04))
    assert events[0].portfolio is None and m.breached is False


def test_hysteresis_no_alert_storm(rng):
    p, b = _drifting(rng)
    m = Monitor(0.05, window=63, periods_per_year=252, clear_below=0.01)
    events = [e for x, y in zip(p, b, strict=True) for e in m.update(x, y)]
    assert [e.kind for e in events] == ["breach"]  # never falls below 1 %: no recovery, no flapping
    assert m.breached is True


def test_many_portfolios_and_labels(rng):
    p, b = _drifting(rng, 1200)
    P = np.column_stack([b + 0.001 * rng.normal(0, 1, len(b)), p, p])
    m = Monitor(0.05, halflife=20, periods_per_year=252, n_portfolios=3)
    events = []
    for t in range(len(b)):
        events += m.update(P[t], b[t], t=1000.0 + t)
    kinds = {(e.portfolio, e.kind) for e in events}
    assert (1, "breach") in kinds and (2, "breach") in kinds
    assert not any(e.portfolio == 0 for e in events)
    assert all(isinstance(e, Event) and e.tick >= 1000.0 for e in events)
    assert m.breached.shape == (3,)


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"limit \(=0\) must be positive"):
        Monitor(0)
    with pytest.raises(ValueError, match=r"clear_below \(=0.1\) must be between 0 and limit"):
        Monitor(0.05, clear_below=0.1)
    with pytest.raises(ValueError, match="window or halflife, not both"):
        Monitor(0.05, window=10, halflife=5)
    with pytest.raises(TypeError, match="on_event must be callable"):
        Monitor(0.05, on_event=3)


@pytest.mark.parametrize(
    ("n", "clear"),
    [(1, 0.12), (7, 0.12), (300, 0.15), (3000, 0.12), (5, 0.0)],  # 3000: rows in several blocks
)
def test_batches_of_any_split_give_the_events_of_single_ticks(rng, n, clear):
    """Many crossings (a 4-tick window), NaN returns and ties at the limit: a
    batch, split anywhere, gives exactly the events and breach states of one
    tick at a time."""
    rows = 400 if n == 3000 else 2000
    p = rng.normal(0, 0.01, (rows, n))
    p[rng.random((rows, n)) < 0.1] = np.nan
    b = rng.normal(0, 0.01, rows)
    opts = {"window": 4, "periods_per_year": 252, "clear_below": clear, "n_portfolios": n}
    one = Monitor(0.15, **opts)
    want = [e for i in range(rows) for e in one.update(p[i], float(b[i]))]
    # many crossings (with clear_below=0 a breach never ends: one per portfolio)
    assert len(want) > (rows // 10 if clear else n // 2)
    for cuts in ([0, rows], [0, 1, 2, 17, 600, rows], sorted({0, rows, *rng.integers(0, rows, 9)})):
        m = Monitor(0.15, **opts)
        got = [e for i, j in itertools.pairwise(cuts) for e in m.update(p[i:j], b[i:j])]
        assert got == want
        assert np.array_equal(m.breached, one.breached)
    # a tracking error exactly at the limit holds the state (it crosses neither way)
    flat = Monitor(0.15, window=4, clear_below=0.15, n_portfolios=2)
    path = np.array([[0.15, 0.2], [0.15, 0.15], [0.1, 0.15], [0.2, 0.1]])
    assert flat._crossings(path) == [(0, 1, True, 0.2), (3, 0, True, 0.2), (3, 1, False, 0.1)]
