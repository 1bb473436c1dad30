"""Monitor: breaches and recoveries of a streaming tracking error, with hysteresis."""

from __future__ import annotations

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
