"""Issue 11's time-window figures: rolling over '30D' on irregular ticks, against pandas.

Speed: one interleaved race (bench/race.py) on 1e6 irregular ticks (gaps drawn
from an exponential law, mean 60 s, one tick in 20 at the same instant as the
one before; a '30D' window then holds about 43,000 ticks) of

* the tracking error: ``rolling_tracking_error(p, b, '30D', times=t)`` on one
  thread and on default threads, against pandas' ``(p - b).rolling('30D').std()``
  (the subtraction counts: it is part of what a pandas user writes);
* beta: ``rolling_beta``, against ``p.rolling('30D').cov(b) / b.rolling('30D').var()``.

Ratios are pandas' time / trackerr's (> 1: trackerr is faster), medians of
per-round ratios.

Accuracy: the largest relative difference from pandas on that data, and on
three adversarial series (large level with tiny noise, a regime change where
huge values leave the window, stale prices) the largest relative error of
trackerr and of pandas against an exact per-window computation in rational
arithmetic (``fractions.Fraction``) on sampled rows.

Also the timing functions of issue 11, part 1 (no peer computes them): time
per call on 2520 daily rows (ten years) and on 1e5 rows.

    python bench/time_windows.py            # ~1 minute on a 2-core VM
    TRACKERR_BENCH_QUICK=1 python bench/time_windows.py   # 1e5 ticks, seconds
"""

from __future__ import annotations

import os
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import trackerr
from race import median, race, ratio

try:
    import pandas as pd
except ImportError:  # pragma: no cover - depends on the environment
    pd = None

SEED = 20241130
SPAN = "30D"
QUICK = os.environ.get("TRACKERR_BENCH_QUICK", "") not in ("", "0")


def ticks(n: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Irregular ticks: (times as datetime64[ns], portfolio, benchmark)."""
    rng = np.random.default_rng([seed, n])
    gaps = (rng.exponential(60.0, n) * 1e9).astype(np.int64) + 1
    gaps[rng.random(n) < 0.05] = 0  # one tick in 20 at the instant before
    stamps = np.datetime64("2024-01-01T00:00:00", "ns") + np.cumsum(gaps).astype("timedelta64[ns]")
    p = rng.normal(0.0, 0.01, n)
    return stamps, p, p + rng.normal(0.0, 0.002, n)


def exact_windows(
    times: np.ndarray, p: np.ndarray, b: np.ndarray, span_ns: int, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The tracking error (ddof 1, per period) and beta of the (t - span, t]
    window ending at each of ``rows``, in rational arithmetic."""
    t = times.astype("datetime64[ns]").astype(np.int64)
    te = np.empty(len(rows))
    beta = np.empty(len(rows))
    for i, r in enumerate(rows):
        first = int(np.searchsorted(t, t[r] - span_ns, side="right"))
        ps = [Fraction(float(x)) for x in p[first : r + 1]]
        bs = [Fraction(float(x)) for x in b[first : r + 1]]
        n = len(ps)
        a = [x - y for x, y in zip(ps, bs, strict=True)]
        ma = sum(a) / n
        te[i] = float(sum((x - ma) ** 2 for x in a) / (n - 1)) ** 0.5
        mp, mb = sum(ps) / n, sum(bs) / n
        cov = sum((x - mp) * (y - mb) for x, y in zip(ps, bs, strict=True))
        var = sum((y - mb) ** 2 for y in bs)
        beta[i] = float(cov / var)
    return te, beta


def adversarial(kind: str, n: int = 20_000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Irregular ticks (mean gap 60 s) with values that break running sums."""
    times, p, b = ticks(n, seed=SEED + 1)
    rng = np.random.default_rng([SEED, 7])
    if kind == "large level":  # prices, not returns: 1e9 with noise of 1e-3
        p = 1e9 + rng.normal(0.0, 1e-3, n)
        b = 1e9 + rng.normal(0.0, 1e-3, n)
    elif kind == "regime change":  # huge values that then leave the window
        p = p.copy()
        b = b.copy()
        p[: n // 4] *= 1e8
        b[: n // 4] *= 1e8
    elif kind == "stale prices":  # long runs of zero returns, then moves
        p = np.where(rng.random(n) < 0.9, 0.0, p)
        b = np.where(rng.random(n) < 0.9, 0.0, b)
    return times, p, b


def worst_rel(x: np.ndarray, ref: np.ndarray) -> float:
    ok = np.isfinite(ref) & (ref != 0)
    if not ok.any():
        return 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(np.nanmax(np.abs(x[ok] / ref[ok] - 1.0)))


def main() -> None:
    if pd is None:
        print("pandas is not installed: nothing to race against", file=sys.stderr)
        raise SystemExit(2)
    n = 100_000 if QUICK else 1_000_000
    rounds = 5 if QUICK else 11
    times, p, b = ticks(n)
    idx = pd.DatetimeIndex(times)
    sp, sb = pd.Series(p, idx), pd.Series(b, idx)
    span_ns = int(pd.Timedelta(SPAN).value)
    te = trackerr.rolling_tracking_error
    beta = trackerr.rolling_beta
    print(f"trackerr {trackerr.__version__}, simd {trackerr.simd()}, pandas {pd.__version__}")
    print(f"{n:,} irregular ticks over {(times[-1] - times[0]) / np.timedelta64(1, 'D'):.0f} days,")
    window_rows = n * span_ns / float((times[-1] - times[0]).astype(np.int64))
    print(f"window {SPAN!r} (about {window_rows:,.0f} ticks), {rounds} interleaved rounds\n")

    samples = race(
        {
            "te 1t": lambda: te(p, b, SPAN, times=times, threads=1),
            "te dt": lambda: te(p, b, SPAN, times=times),
            "te pandas": lambda: (sp - sb).rolling(SPAN).std(),
            "beta 1t": lambda: beta(p, b, SPAN, times=times, threads=1),
            "beta dt": lambda: beta(p, b, SPAN, times=times),
            "beta pandas": lambda: sp.rolling(SPAN).cov(sb) / sb.rolling(SPAN).var(),
        },
        rounds=rounds,
        target=0.05,
    )
    print(
        "| metric | trackerr 1 thread | trackerr default threads | pandas | ratio 1t | ratio dt |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name in ("te", "beta"):
        print(
            f"| {name} | {median(samples, name + ' 1t') * 1e3:.1f} ms "
            f"| {median(samples, name + ' dt') * 1e3:.1f} ms "
            f"| {median(samples, name + ' pandas') * 1e3:.1f} ms "
            f"| {ratio(samples, name + ' pandas', name + ' 1t'):.2f} "
            f"| {ratio(samples, name + ' pandas', name + ' dt'):.2f} |"
        )
    ours_te = te(p, b, SPAN, times=times)
    ours_beta = beta(p, b, SPAN, times=times)
    theirs_te = (sp - sb).rolling(SPAN).std().to_numpy()
    theirs_beta = (sp.rolling(SPAN).cov(sb) / sb.rolling(SPAN).var()).to_numpy()
    print(
        f"\nagreement with pandas on this data: TE {worst_rel(ours_te, theirs_te):.1e}, "
        f"beta {worst_rel(ours_beta, theirs_beta):.1e} (largest relative difference)"
    )

    print("\nadversarial series, 20,000 ticks, window '1D' (about 1,440 ticks), 40 sampled rows")
    print("| series | trackerr TE | pandas TE | trackerr beta | pandas beta |")
    print("|---|---:|---:|---:|---:|")
    for kind in ("large level", "regime change", "stale prices"):
        t_a, p_a, b_a = adversarial(kind)
        span = int(pd.Timedelta("1D").value)
        rows = np.linspace(len(p_a) // 2, len(p_a) - 1, 40).astype(np.int64)
        ref_te, ref_beta = exact_windows(t_a, p_a, b_a, span, rows)
        ia = pd.DatetimeIndex(t_a)
        spa, sba = pd.Series(p_a, ia), pd.Series(b_a, ia)
        got_te = te(p_a, b_a, "1D", times=t_a)[rows]
        got_beta = beta(p_a, b_a, "1D", times=t_a)[rows]
        pd_te = (spa - sba).rolling("1D").std().to_numpy()[rows]
        pd_beta = (spa.rolling("1D").cov(sba) / sba.rolling("1D").var()).to_numpy()[rows]
        print(
            f"| {kind} | {worst_rel(got_te, ref_te):.1e} | {worst_rel(pd_te, ref_te):.1e} "
            f"| {worst_rel(got_beta, ref_beta):.1e} | {worst_rel(pd_beta, ref_beta):.1e} |"
        )

    print("\ntiming functions (issue 11, part 1), time per call:")
    for rows_n in (2520, 100_000):
        rng = np.random.default_rng([SEED, rows_n])
        bb = rng.normal(0.0, 0.01, rows_n)
        e = rng.normal(0.0, 0.005, rows_n + 1)
        pp = bb + np.diff(e)  # endpoint noise: the clock's signature
        functions = {
            "tracking_error_by_horizon": trackerr.tracking_error_by_horizon,
            "timing_decomposition": trackerr.timing_decomposition,
            "lead_lag": trackerr.lead_lag,
        }
        out = []
        for name, fn in functions.items():
            fn(pp, bb)
            reps = 5
            t0 = time.perf_counter()
            for _ in range(reps):
                fn(pp, bb)
            out.append(f"{name} {(time.perf_counter() - t0) / reps * 1e3:.2f} ms")
        print(f"  {rows_n:>7,} rows: " + ", ".join(out))


if __name__ == "__main__":
    main()
