"""The comparison table of bench/comparisons.py, checked on small inputs.

The table that the benchmarks time (every public metric, its reference and its
peers) is also a test: every entry must agree with trackerr within the
tolerance it declares, on small random inputs (peers that are not installed are
skipped), and every public metric must have an entry, so a new metric cannot
ship without a benchmark and a cross-check.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import types
from pathlib import Path

import numpy as np
import pytest

import trackerr
from trackerr import stream

BENCH = Path(__file__).resolve().parent.parent / "bench"
if not (BENCH / "comparisons.py").is_file():  # an sdist ships tests/ without bench/
    pytest.skip("bench/comparisons.py is not in this tree", allow_module_level=True)

import comparisons  # noqa: E402  (tests/conftest.py puts bench/ on the path)

COMPARISONS = comparisons.COMPARISONS
BASELINE = comparisons.BASELINE
WINDOW = 21
ROWS = 600  # > the stream window (252), so Window read-outs are defined
PANEL = (300, 7)

ENTRIES = [
    pytest.param(case, name, id=f"{case}-{name}")
    for case, entry in COMPARISONS.items()
    for name in entry.impls
    if name != BASELINE
]


def _data(case: str) -> tuple[np.ndarray, np.ndarray]:
    """Daily-like returns: a benchmark and a portfolio tracking it (1-D or a panel)."""
    rng = np.random.default_rng(20261129)
    if comparisons.is_panel(case):
        t, n = PANEL
        b = rng.normal(4e-4, 0.01, t)
        return 1.1 * b[:, None] + rng.normal(1e-4, 0.003, (t, n)), b
    b = rng.normal(4e-4, 0.01, ROWS)
    return 1.1 * b + rng.normal(1e-4, 0.003, ROWS), b


def _fields(result: object) -> dict[str, np.ndarray]:
    if hasattr(result, "_asdict"):
        result = result._asdict()
    if not isinstance(result, dict):
        result = {"value": result}
    return {k: np.asarray(v, dtype=np.float64) for k, v in result.items()}


def _call(impl: comparisons.Impl, p: np.ndarray, b: np.ndarray, window: int | None) -> object:
    args = impl.prepare(p, b) if impl.prepare else (p, b)
    return impl.run(*args) if window is None else impl.run(*args, window)


@pytest.mark.parametrize(("case", "name"), ENTRIES)
def test_entry_agrees_with_trackerr(case: str, name: str) -> None:
    _check(case, name, *_data(case), need_finite=True)


# Windows where a ratio is undefined (no return below 0 for Sortino and Omega,
# no period where the benchmark rose or fell for the capture ratios): trackerr
# says NaN, and so must the peers' formulas (a running sum is not exactly 0
# there unless the peer masks those windows; inf counts as not finite too).
UNDEFINED = {
    "rolling_sortino_ratio": ("p", 1.0),
    "rolling_omega_ratio": ("p", 1.0),
    "sortino_ratio": ("p", 1.0),
    "omega_ratio": ("p", 1.0),
    "rolling_up_capture": ("b", -1.0),
    "rolling_down_capture": ("b", 1.0),
    "rolling_up_capture_annualized": ("b", -1.0),
    "rolling_down_capture_annualized": ("b", 1.0),
}


@pytest.mark.parametrize(("case", "name"), [e for e in ENTRIES if e.values[0] in UNDEFINED])
def test_undefined_windows_agree(case: str, name: str) -> None:
    p, b = _data(case)
    which, sign = UNDEFINED[case]
    x = p if which == "p" else b
    rows = slice(200, 260) if COMPARISONS[case].kind == "rolling" else slice(None)
    x[rows] = sign * np.abs(x[rows])  # 60 rows > the window, all of one sign
    _check(case, name, p, b, need_finite=COMPARISONS[case].kind == "rolling")


def _check(case: str, name: str, p: np.ndarray, b: np.ndarray, *, need_finite: bool) -> None:
    entry = COMPARISONS[case]
    impl = entry.impls[name]
    if impl.requires:
        pytest.importorskip(impl.requires)
    p_before, b_before = p.copy(), b.copy()
    window = WINDOW if entry.kind == "rolling" else None

    want = _fields(_call(entry.impls[BASELINE], p, b, window))
    got = _fields(_call(impl, p, b, window))

    assert got, f"{case}/{name}: no result"
    assert set(got) <= set(want), f"{case}/{name}: unknown fields {set(got) - set(want)}"
    for field, values in got.items():
        expected = want[field]
        where = f"{case}/{name}/{field}"
        assert values.shape == expected.shape, where
        if window is not None:  # NaN for everyone before the first full window
            assert np.isnan(values[: window - 1]).all(), where
            assert np.isnan(expected[: window - 1]).all(), where
            values, expected = values[window - 1 :], expected[window - 1 :]
        finite = np.isfinite(expected)
        assert finite.any() or not need_finite, f"{where}: trackerr has nothing finite to compare"
        np.testing.assert_array_equal(np.isfinite(values), finite, err_msg=where)
        np.testing.assert_allclose(
            values[finite],
            expected[finite],
            rtol=impl.rtol,
            atol=impl.atol_for(field),
            err_msg=where,
        )
    assert np.array_equal(p, p_before) and np.array_equal(b, b_before), f"{case}/{name}: input"


def _public_metrics() -> set[str]:
    names = {n for n in trackerr.__all__ if n not in comparisons.NOT_METRICS}
    return names | {f"stream.{n}" for n in stream.__all__}


def test_every_public_metric_has_a_case() -> None:
    covered = {entry.metric for entry in COMPARISONS.values()}
    missing = sorted(_public_metrics() - covered)
    assert not missing, (
        f"public metrics without an entry in bench/comparisons.py: {missing} "
        "(add a case with its reference and peers, or list the name in NOT_METRICS with why)"
    )


def test_the_table_names_only_public_things() -> None:
    stale = sorted(set(comparisons.NOT_METRICS) - set(trackerr.__all__))
    assert not stale, f"NOT_METRICS names no longer public: {stale}"
    unknown = sorted({e.metric for e in COMPARISONS.values()} - _public_metrics())
    assert not unknown, f"cases for names that are not public metrics: {unknown}"


def test_every_case_has_a_baseline_and_something_to_race() -> None:
    for case, entry in COMPARISONS.items():
        assert BASELINE in entry.impls, case
        assert len(entry.impls) >= 2, f"{case}: trackerr alone, nothing to compare with"


def test_every_metric_with_a_reference_is_checked_against_it() -> None:
    with_reference = {e.metric for e in COMPARISONS.values() if comparisons.REFERENCE in e.impls}
    for metric in _public_metrics():
        if hasattr(trackerr.reference, metric):
            assert metric in with_reference, (
                f"{metric}: trackerr.reference has it, no entry uses it"
            )
    assert "stream.Window" in with_reference and "stream.Cumulative" in with_reference


def test_every_case_is_benchmarked() -> None:
    """The benchmark suite parametrizes over these two views of the table."""
    assert set(comparisons.CASES) | set(comparisons.ROLLING_CASES) == set(COMPARISONS)
    assert not set(comparisons.CASES) & set(comparisons.ROLLING_CASES)


def test_merge_adds_cases_and_implementations() -> None:
    """The hook for bench/risk_cases.py: a table of Impl-like objects or callables."""

    class Other:  # an Impl-like object from another module
        def __init__(self, run: object) -> None:
            self.run = run
            self.requires = "empyrical"
            self.smallest_only = True

    table = {
        "max_drawdown": {"empyrical_v2": Other(lambda p, b: 0.0)},
        "new_case": {BASELINE: lambda p, b: 1.0, "numpy": lambda p, b: 1.0},
        "up_capture": {BASELINE: lambda p, b: 2.0, "empyrical": lambda p, b: 2.0},
    }
    into = {"max_drawdown": COMPARISONS["max_drawdown"], "up_capture": COMPARISONS["up_capture"]}
    merged = comparisons.merge_cases(table, into=into, suffix="risk")
    added = merged["max_drawdown"].impls["empyrical_v2"]
    assert added.requires == "empyrical" and added.smallest_only
    assert merged["max_drawdown"].impls[BASELINE] is COMPARISONS["max_drawdown"].impls[BASELINE]
    assert merged["new_case"].metric == "new_case"
    assert math.isclose(merged["new_case"].impls["numpy"].run(None, None), 1.0)
    # its own baseline (options may differ): a case apart, for the same metric
    assert merged["up_capture"] is COMPARISONS["up_capture"]
    assert merged["up_capture_risk"].metric == "up_capture"
    assert merged["up_capture_risk"].impls[BASELINE].run(None, None) == 2.0
    with pytest.raises(ValueError, match="no 'trackerr' baseline"):
        comparisons.merge_cases({"orphan": {"numpy": lambda p, b: 1.0}}, into={})
    assert "new_case" not in COMPARISONS  # `into` was a copy: the table is untouched


def test_merge_module_reads_limits_data_and_tolerance() -> None:
    """A module shaped like bench/risk_cases.py: a table, PEER_LIMITS, risk_data, RTOL."""

    def drift(p: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return p + 1e-4, b + 1e-4

    module = types.SimpleNamespace(
        RISK_CASES={
            "max_drawdown": {
                BASELINE: comparisons.Impl(lambda p, b: trackerr.max_drawdown(p)),
                "empyrical": comparisons.Impl(lambda p, b: 0.0, requires="empyrical"),
            }
        },
        PEER_LIMITS={("max_drawdown", "empyrical"): (10**5, "overflows")},
        risk_data=drift,
        RTOL=1e-8,
    )
    into: dict[str, comparisons.Case] = {"max_drawdown": COMPARISONS["max_drawdown"]}
    assert comparisons.merge_module(module, into, suffix="risk")
    case = into["max_drawdown_risk"]
    peer, base = case.impls["empyrical"], case.impls[BASELINE]
    assert (peer.max_rows, peer.note, peer.rtol) == (10**5, "overflows", 1e-8)
    assert peer.prepare is drift and base.prepare is drift
    assert base.rtol == comparisons.PEER_RTOL and base.max_rows is None  # baseline unchanged
    assert not comparisons.merge_module(types.SimpleNamespace(), {})


def test_risk_cases_are_merged_when_present() -> None:
    path = BENCH / "risk_cases.py"
    if not path.is_file():
        assert comparisons.MERGED_FROM is None
        pytest.skip("bench/risk_cases.py does not exist (yet)")
    assert comparisons.MERGED_FROM == str(path)
    module = importlib.import_module("risk_cases")
    for attr in ("COMPARISONS", "RISK_CASES", "CASES", "ROLLING_CASES"):
        for case, impls in dict(getattr(module, attr, None) or {}).items():
            names = set(impls.impls if isinstance(impls, comparisons.Case) else impls)
            # a colliding case with its own baseline is kept apart, suffixed
            merged = COMPARISONS.get(f"{case}_risk") if BASELINE in names else None
            assert names <= set((merged or COMPARISONS[case]).impls), case


def test_tests_registry_sweeps_the_same_metrics() -> None:
    """tests/registry.py sweeps options against the reference (the risk metrics
    are swept in tests/test_risk.py, the timing analyses in tests/test_timing.py):
    it names only metrics of this table and forgets none of the
    benchmark-relative ones."""
    spec = importlib.util.spec_from_file_location(
        "_tests_registry", Path(__file__).with_name("registry.py")
    )
    assert spec is not None and spec.loader is not None
    reg = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reg)
    swept = set(reg.METRICS) | set(reg.ROLLING) | {"rolling_stats"}
    covered = {e.metric for e in COMPARISONS.values() if e.kind != "stream"}
    elsewhere = {  # swept in tests/test_risk.py and tests/test_timing.py
        n
        for n in trackerr.__all__
        if getattr(getattr(trackerr, n), "__module__", "") in ("trackerr._risk", "trackerr._timing")
    }
    assert swept <= covered, sorted(swept - covered)
    assert covered - elsewhere <= swept, sorted(covered - elsewhere - swept)
