"""update(p, b) with two floats takes a vectorcall path beside pybind11's
overloads (kept as ``_update``): the same state bit for bit, the same errors."""

from __future__ import annotations

import numpy as np
import pytest

from trackerr import stream

MAKERS = {
    "Window": lambda: stream.Window(20),
    "Cumulative": lambda: stream.Cumulative(),
    "Exponential": lambda: stream.Exponential(alpha=0.1),
}


class Real(float):
    """A float subclass (as numpy's float64 is)."""


def _ticks(n=300):
    rng = np.random.default_rng(5)
    x = rng.normal(0.0, 0.01, (n, 2))
    x[50] = [np.nan, 0.01]  # a missing tick
    x[60] = [np.inf, 0.0]  # a non-finite one
    x[100:140] = 0.02  # stale prices: constant windows
    return x.tolist()


@pytest.mark.parametrize("kind", sorted(MAKERS))
@pytest.mark.parametrize("wrap", [float, np.float64, Real])
def test_float_ticks_give_the_general_paths_state_bit_for_bit(kind, wrap):
    quick, general = MAKERS[kind](), MAKERS[kind]()
    for x, y in _ticks():
        quick.update(wrap(x), wrap(y))
        general._update(x, y)  # the pybind11 overloads
    assert quick.to_bytes() == general.to_bytes()
    assert quick.count == general.count


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_other_calls_go_to_the_general_overloads(kind):
    quick, general = MAKERS[kind](), MAKERS[kind]()
    for s in (quick, general):
        up = s.update if s is quick else s._update
        up(1, 2)  # ints
        up(p=0.01, b=0.02)  # keywords
        up(np.array([0.01, 0.02, 0.03]), np.array([0.0, 0.01, 0.02]))  # a batch
    assert quick.to_bytes() == general.to_bytes()


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((1.0,), {}),
        ((1.0, 2.0, 3.0, 4.0), {}),
        ((1.0, "x"), {}),
        (("x", 1.0), {}),
        ((1.0, None), {}),
        ((), {"p": 1.0}),
        ((1.0, 2.0), {"q": 3.0}),
    ],
)
def test_bad_calls_raise_what_the_general_overloads_raise(args, kwargs):
    for kind in sorted(MAKERS):
        s = MAKERS[kind]()
        with pytest.raises((TypeError, ValueError)) as quick:
            s.update(*args, **kwargs)
        with pytest.raises(type(quick.value)) as general:
            MAKERS[kind]()._update(*args, **kwargs)
        assert str(quick.value) == str(general.value)
        assert s.count == 0  # nothing applied


def test_float_ticks_on_states_that_need_arrays_or_times_are_refused_as_before():
    many = stream.Window(5, n_portfolios=3)
    timed = stream.Exponential(halflife=2.0, time_based=True)
    for s in (many, timed):
        with pytest.raises(ValueError) as quick:
            s.update(0.01, 0.02)
        with pytest.raises(ValueError) as general:
            s._update(0.01, 0.02)
        assert str(quick.value) == str(general.value)
    timed.update(0.01, 0.02, 1.0)  # a time: the general path, accepted
    assert timed.count == 1
