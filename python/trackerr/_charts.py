"""Charts and the self-contained HTML pages of ``trackerr report --out`` and
``trackerr replicate --out`` (private; needs matplotlib, the ``report`` extra)."""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .report import FIELDS, Report

if TYPE_CHECKING:
    from ._cli_replicate import Replicated

_PCT = {
    "tracking_error",
    "tracking_difference",
    "active_return",
    "alpha",
    "max_drawdown",
    "benchmark_max_drawdown",
    "rolling_tracking_error",
}

# Up to this many portfolios each gets its own line (colours and a legend stay
# readable); above it, one line per portfolio is a solid block, so the rolling
# tracking error becomes a heatmap and the other charts name only the worst few.
MANY = 5
# How many of the worst portfolios the many-portfolio charts draw by name.
WORST = 6


def available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def fmt(field: str, value: Any) -> str:
    """A metric as shown in tables: percentages for returns and risk, else 3 decimals."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "nan"
    return f"{100 * value:.2f}%" if field in _PCT else f"{value:.3f}"


def write(rep: Report, out: Path, *, title: str) -> Path:
    """Write the charts and report.html to ``out``; return the HTML path.

    Up to ``MANY`` portfolios: rolling_te.png (one line each), growth.png and
    drawdown.png. Above that, rolling_te.png is a heatmap (portfolio x time)
    and rolling_te_worst.png small multiples of the ``WORST`` highest latest
    rolling tracking errors; growth.png and drawdown.png draw those few by name
    over the rest in grey. te_by_horizon.png when the report has timing
    figures. Images are also embedded in the HTML, so the file stands alone."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    many = len(rep.series) > MANY
    if many:
        pngs = {
            "rolling_te.png": _heatmap(plt, rep),
            "rolling_te_worst.png": _small_multiples(plt, rep),
        }
    else:
        pngs = {"rolling_te.png": _rolling_te(plt, rep)}
    pngs["growth.png"] = _growth(plt, rep)
    pngs["drawdown.png"] = _drawdown(plt, rep)
    if rep.timing:
        pngs["te_by_horizon.png"] = _by_horizon(plt, rep)
    for name, fig in pngs.items():
        fig.savefig(out / name, dpi=110, bbox_inches="tight")
        plt.close(fig)
    page = out / "report.html"
    alts = {
        "rolling_te.png": "rolling tracking error heatmap, portfolio by time"
        if many
        else "rolling tracking error, one line per portfolio",
        "rolling_te_worst.png": "rolling tracking error of the highest few, small multiples",
        "growth.png": "cumulative growth",
        "drawdown.png": "drawdown from the running peak",
        "te_by_horizon.png": "tracking error by horizon",
    }
    images = {alts[n]: (out / n).read_bytes() for n in pngs}
    page.write_text(_html(rep, title, images), encoding="utf-8")
    return page


def _axes(plt: Any, ylabel: str) -> tuple[Any, Any]:
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    return fig, ax


def _te_label(rep: Report) -> str:
    obs = f"{rep.window} obs" if rep.uniform else "window per portfolio"
    return f"rolling tracking error, {obs}, annualized"


def _latest(values: Any) -> float:
    """The last finite value of a series (NaN when there is none)."""
    v = np.asarray(values, dtype=np.float64)
    ok = np.flatnonzero(np.isfinite(v))
    return float(v[ok[-1]]) if ok.size else math.nan


def _worst(rep: Report, key: Any, k: int = WORST) -> list[str]:
    """The ``k`` portfolios with the largest ``key(name)``; NaN ranks last."""

    def rank(name: str) -> float:
        v = float(key(name))
        return v if math.isfinite(v) else -math.inf

    return sorted(rep.series, key=rank, reverse=True)[:k]


def _worst_te(rep: Report, k: int = WORST) -> list[str]:
    return _worst(rep, lambda n: _latest(rep.series[n]["rolling_tracking_error"]), k)


def _rolling_te(plt: Any, rep: Report) -> Any:
    fig, ax = _axes(plt, _te_label(rep))
    for name, s in rep.series.items():
        te = 100 * s["rolling_tracking_error"]
        (line,) = ax.plot(s["dates"], te, lw=1.2, label=name)
        if rep.limit is not None and rep.breaches.get(name):
            # a breach is shaded between the line and the limit, not over the
            # whole height, where spans of several portfolios hid each other
            dates = np.asarray(s["dates"], dtype="datetime64[ns]")
            during = np.zeros(len(dates), dtype=bool)
            for b in rep.breaches[name]:
                during |= (dates >= _day(b.start)) & (dates <= _day(b.end))
            ax.fill_between(
                dates, 100 * rep.limit, te, where=during, color=line.get_color(), alpha=0.2, lw=0
            )
    if rep.limit is not None:
        ax.axhline(100 * rep.limit, color="crimson", ls="--", lw=1, label=f"limit {rep.limit:.2%}")
    ax.set_title(f"Rolling tracking error vs {rep.benchmark} (%)")
    _legend_beside(ax)
    return fig


def _grid(rep: Report, names: Sequence[str], key: str, columns: int = 800) -> Any:
    """Each portfolio's ``key`` series on one time grid: ``columns`` equal bins
    from the first to the last date of the report, holding each bin's largest
    value (so a breach of a day still shows at 100 portfolios x 13 years) and
    the last value across bins with no date of that portfolio (weekends of a
    business-day fund against a 24/7 benchmark). NaN before a portfolio's
    first value and after its last date. Returns (edges in ns, matrix)."""
    stamps = {
        n: np.asarray(rep.series[n]["dates"], dtype="datetime64[ns]").view("i8") for n in names
    }
    lo = min(int(t[0]) for t in stamps.values())
    hi = max(int(t[-1]) for t in stamps.values())
    distinct = len(np.unique(np.concatenate(list(stamps.values()))))
    cols = max(1, min(columns, distinct))
    width = max(hi - lo, 1) / cols
    grid = np.full((len(names), cols), np.nan)
    for row, n in enumerate(names):
        t = stamps[n]
        v = np.asarray(rep.series[n][key], dtype=np.float64)
        at = np.minimum(((t - lo) / width).astype(np.int64), cols - 1)
        np.fmax.at(grid[row], at, v)
        seen = np.zeros(cols, dtype=bool)
        seen[at] = True
        # step-hold: a bin without a date shows the last value before it
        last = np.maximum.accumulate(np.where(seen, np.arange(cols), 0))
        filled = grid[row][last]
        filled[at[-1] + 1 :] = np.nan
        grid[row] = filled
    edges = lo + width * np.arange(cols + 1)
    return edges, grid


def _heatmap(plt: Any, rep: Report) -> Any:
    from matplotlib import dates as mdates
    from matplotlib.colors import ListedColormap, Normalize, TwoSlopeNorm

    names = _worst_te(rep, len(rep.series))  # highest latest rolling TE on top
    edges, grid = _grid(rep, names, "rolling_tracking_error")
    grid = 100 * grid
    n = len(names)
    fig, ax = plt.subplots(figsize=(10, min(max(3.5, 1.6 + 0.13 * n), 16)))
    # the colour scale stops at the 99th percentile so one wild portfolio does
    # not wash out the rest; values above it show in the top colour
    top = float(np.nanpercentile(grid, 99)) if np.isfinite(grid).any() else 1.0
    over = bool(np.nanmax(grid, initial=0.0) > top) if np.isfinite(grid).any() else False
    limit = rep.limit
    if limit is not None and limit > 0:
        # Two colour maps joined at the limit: greys up to it, yellow to red
        # above, so a breach reads at a glance whatever the portfolio count.
        below = plt.get_cmap("Greys")(np.linspace(0.05, 0.55, 128))
        above = plt.get_cmap("YlOrRd")(np.linspace(0.3, 1.0, 128))
        cmap: Any = ListedColormap(np.vstack([below, above]))
        top = max(top, 200 * limit)
        norm: Any = TwoSlopeNorm(vmin=0.0, vcenter=100 * limit, vmax=top)
    else:
        cmap = plt.get_cmap("viridis")
        norm = Normalize(vmin=0.0, vmax=max(top, 1e-9))
    cmap = cmap.with_extremes(bad="white")
    x0, x1 = mdates.date2num(  # type: ignore[no-untyped-call]
        np.array([edges[0], edges[-1]]).astype("datetime64[ns]")
    )
    im = ax.imshow(
        np.ma.masked_invalid(grid),
        aspect="auto",
        interpolation="nearest",
        cmap=cmap,
        norm=norm,
        extent=(x0, x1, n - 0.5, -0.5),
    )
    ax.xaxis_date()
    step = max(1, math.ceil(n / 110))  # about 110 labels fit the tallest figure
    ax.set_yticks(range(0, n, step))
    ax.set_yticklabels(names[::step], fontsize=6 if n > 40 else 8)
    bar = fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02, extend="max" if over else "neither")
    bar.set_label("rolling tracking error, annualized (%)", fontsize="small")
    if limit is not None and limit > 0:
        # each half of the bar is linear in its own range: ticks on both, the
        # limit itself named, and a line across the bar at the break
        from matplotlib.ticker import MaxNLocator

        lim = 100 * limit
        upper = [v for v in MaxNLocator(5).tick_values(lim, top) if lim * 1.15 < v <= top]
        ticks = [0.0, lim / 2, lim, *upper]
        bar.set_ticks(ticks)
        bar.set_ticklabels(
            [f"{v:.3g}" for v in ticks[:2]] + [f"limit {lim:.3g}%"] + [f"{v:.3g}" for v in upper]
        )
        bar.ax.axhline(lim, color="black", lw=2)
    ax.set_title(
        f"Rolling tracking error vs {rep.benchmark}, {n} portfolios, "
        f"{f'{rep.window}-obs window' if rep.uniform else 'window per portfolio'}"
        "\nhighest latest value on top; white: no value yet",
        fontsize="medium",
    )
    return fig


def _small_multiples(plt: Any, rep: Report) -> Any:
    worst = _worst_te(rep)
    ncols = 3
    nrows = math.ceil(len(worst) / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(10, 0.4 + 2.1 * nrows), sharex=True, squeeze=False
    )
    # Each panel on its own scale, from 0: one portfolio's spike to 30 % would
    # flatten the others on a shared one; the dashed limit is the common mark.
    for ax, name in zip(axes.flat, worst, strict=False):
        s = rep.series[name]
        ax.plot(s["dates"], 100 * s["rolling_tracking_error"], lw=1.0, color="tab:blue")
        for b in rep.breaches.get(name, []):
            ax.axvspan(_day(b.start), _day(b.end), color="crimson", alpha=0.15, lw=0)
        if rep.limit is not None:
            ax.axhline(100 * rep.limit, color="crimson", ls="--", lw=0.8)
        latest = _latest(s["rolling_tracking_error"])
        ax.set_title(f"{name}: latest {latest:.2%}", fontsize="small")
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        ax.tick_params(labelsize="x-small")
    for ax in list(axes.flat)[len(worst) :]:
        ax.set_visible(False)
    fig.suptitle(
        f"The {len(worst)} highest latest rolling tracking errors (%)"
        + (f"; dashed: limit {rep.limit:.2%}, shaded: breaches" if rep.limit is not None else ""),
        fontsize="medium",
    )
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def _many_lines(
    ax: Any, rep: Report, named: list[str], ys: dict[str, Any], bench: Any, what: str
) -> None:
    """Many portfolios on one axis: every one as a thin grey line (the spread of
    the whole book stays visible without a legend of 100 colours), ``named``
    ones in colour on top with a legend, the ones a reader must check."""
    for name, s in rep.series.items():
        if name not in named:
            ax.plot(s["dates"], ys[name], lw=0.6, color="0.75", alpha=0.7)
    first = next(iter(rep.series.values()))
    ax.plot(first["dates"], bench, color="black", lw=1.3, label=rep.benchmark)
    for name in named:
        ax.plot(rep.series[name]["dates"], ys[name], lw=1.2, label=name)
    ax.plot([], [], lw=0.6, color="0.75", label=f"the other {len(rep.series) - len(named)}")
    _legend_beside(ax)
    ax.set_title(ax.get_title() + f"\nnamed: the {len(named)} {what}", fontsize="medium")


def _growth(plt: Any, rep: Report) -> Any:
    fig, ax = _axes(plt, "growth of 1")
    first = next(iter(rep.series.values()))
    bench = np.cumprod(1 + np.nan_to_num(first["benchmark"]))
    ys = {n: np.cumprod(1 + np.nan_to_num(s["portfolio"])) for n, s in rep.series.items()}
    ax.set_title(f"Cumulative growth: portfolios vs {rep.benchmark}")
    if len(rep.series) > MANY:
        # Growth lines of many portfolios overlap; what sets one apart is how far
        # it ends from the benchmark, so name the largest |tracking difference|.
        named = _worst(rep, lambda n: abs(rep.metrics[n].get("tracking_difference", math.nan)))
        _many_lines(ax, rep, named, ys, bench, "largest |tracking difference|")
    else:
        for name, s in rep.series.items():
            ax.plot(s["dates"], ys[name], lw=1.1, label=name)
        ax.plot(first["dates"], bench, color="black", lw=1.5, label=rep.benchmark)
        _legend_beside(ax)
    return fig


def _dd(r: Any) -> Any:
    wealth = np.cumprod(1 + np.nan_to_num(r))
    return 100 * (wealth / np.maximum.accumulate(np.maximum(wealth, 1.0)) - 1)


def _drawdown(plt: Any, rep: Report) -> Any:
    fig, ax = _axes(plt, "drawdown (%)")
    first = next(iter(rep.series.values()))
    ys = {n: _dd(s["portfolio"]) for n, s in rep.series.items()}
    ax.set_title("Drawdown from the running peak (%)")
    if len(rep.series) > MANY:
        # the deepest drawdowns are the ones to read by name; the rest show the spread
        named = _worst(rep, lambda n: -rep.metrics[n].get("max_drawdown", math.nan))
        _many_lines(ax, rep, named, ys, _dd(first["benchmark"]), "deepest max drawdowns")
    else:
        for name, s in rep.series.items():
            ax.plot(s["dates"], ys[name], lw=1.1, label=name)
        ax.plot(first["dates"], _dd(first["benchmark"]), color="black", lw=1.5, label=rep.benchmark)
        _legend_beside(ax)
    return fig


def _by_horizon(plt: Any, rep: Report) -> Any:
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.set_xlabel("horizon (periods per return)")
    ax.set_ylabel("tracking error, annualized (%)")
    ax.grid(True, alpha=0.3)
    timing = rep.timing
    title = f"Tracking error by horizon vs {rep.benchmark}: timing noise falls like 1/sqrt(k)"
    if len(timing) > MANY:  # three lines each: only the highest naive tracking errors
        shown = sorted(timing, key=lambda n: -_finite(timing[n]["naive_tracking_error"]))
        timing = {n: timing[n] for n in shown[:WORST]}
        title += f"\nthe {len(timing)} highest naive tracking errors; all in the table"
    for name, t in timing.items():
        ks = np.asarray(t["horizons"])
        (line,) = ax.plot(
            ks,
            100 * np.asarray(t["tracking_error_by_horizon"]),
            "o-",
            ms=3,
            lw=1.2,
            label=f"{name}: measured",
        )
        g = t["genuine_tracking_error"]
        share = t["timing_share"]
        # the fitted model, Var A(k) = k s^2 + 2 v, on the same scale
        naive_fit = g / math.sqrt(1 - share) if 0 <= share < 1 else math.nan
        if math.isfinite(naive_fit):
            fitted = np.sqrt(g**2 + (naive_fit**2 - g**2) / ks)
            ax.plot(ks, 100 * fitted, ls=":", color=line.get_color(), lw=1)
        ax.axhline(
            100 * g, ls="--", color=line.get_color(), lw=0.8, label=f"{name}: genuine {g:.2%}"
        )
    if rep.limit is not None:
        ax.axhline(100 * rep.limit, color="crimson", ls="--", lw=1, label=f"limit {rep.limit:.2%}")
    ax.set_xscale("log")
    longest = max(max(t["horizons"]) for t in timing.values())
    ticks = [k for k in (1, 2, 3, 5, 10, 21, 42, 63) if k <= longest]
    ax.set_xticks(ticks)
    ax.set_xticklabels([str(k) for k in ticks])
    ax.minorticks_off()
    ax.set_title(title)
    _legend_beside(ax)
    return fig


def _legend_beside(ax: Any) -> None:
    """The legend to the right of the plot, where it never hides a line (inside,
    a fixed corner covered the start of a falling growth line, and "best" moves
    from chart to chart)."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")


def _finite(v: Any) -> float:
    return float(v) if v is not None and math.isfinite(v) else -math.inf


def _day(text: str) -> Any:
    return np.datetime64(text)


# --- per-portfolio sparklines (inline SVG) -------------------------------------------
#
# Each portfolio's section has two small charts. They are inline SVG, not PNG:
# a decimated polyline is 2-3 kB where a legible PNG is 15-30 kB and 0.1 s of
# matplotlib each, so 100 portfolios cost about 0.6 MB and no render time, and
# they stay sharp when zoomed. Still one file, no script, no network.

_SW, _SH = 440, 110  # drawn size in px
_ML, _MR, _MT, _MB = 44, 4, 6, 14  # margins for the value and date labels


def _decimate(t: Any, y: Any, buckets: int = 100) -> tuple[Any, Any]:
    """At most 2 points per bucket: each bucket's lowest and highest, in time
    order, so peaks (breaches) survive; NaN kept where a bucket has only NaN."""
    n = len(t)
    if n <= 2 * buckets:
        return t, y
    k = math.ceil(n / buckets)
    rows = math.ceil(n / k)
    flat = np.full(rows * k, np.nan)
    flat[:n] = y
    v = flat.reshape(rows, k)
    ok = np.isfinite(v)
    lo = np.argmin(np.where(ok, v, np.inf), axis=1)
    hi = np.argmax(np.where(ok, v, -np.inf), axis=1)
    lo = np.where(ok.any(axis=1), lo, 0)  # an all-NaN bucket keeps its first point
    hi = np.where(ok.any(axis=1), hi, 0)
    start = k * np.arange(rows)
    idx = np.unique(np.minimum(np.concatenate([start + lo, start + hi]), n - 1))
    return t[idx], y[idx]


def _svg(
    t: Any,
    lines: Sequence[tuple[Any, str]],
    *,
    label: str,
    hline: float | None = None,
    spans: Sequence[tuple[Any, Any]] = (),
    unit: str = "",
) -> str:
    """A small line chart: ``lines`` are (values, colour) over stamps ``t`` (ns)."""
    t = np.asarray(t, dtype="datetime64[ns]")
    ti = t.view("i8").astype(np.float64)
    vals = np.concatenate([np.asarray(v, dtype=np.float64) for v, _ in lines])
    finite = vals[np.isfinite(vals)]
    lo = float(finite.min()) if finite.size else 0.0
    hi = float(finite.max()) if finite.size else 1.0
    if hline is not None and math.isfinite(hline):
        lo, hi = min(lo, hline), max(hi, hline)
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    t0, t1 = ti[0], max(ti[-1], ti[0] + 1)
    pw, ph = _SW - _ML - _MR, _SH - _MT - _MB

    def x(v: Any) -> Any:
        return _ML + (np.asarray(v, dtype=np.float64) - t0) / (t1 - t0) * pw

    def y(v: Any) -> Any:
        return _MT + (1 - (np.asarray(v, dtype=np.float64) - lo) / (hi - lo)) * ph

    parts = [
        f'<svg width="{_SW}" height="{_SH}" '
        f'viewBox="0 0 {_SW} {_SH}" role="img" aria-label="{html.escape(label)}">',
        f'<rect x="{_ML}" y="{_MT}" width="{pw}" height="{ph}" fill="none" stroke="#ddd"/>',
    ]
    for a, b in spans:
        xa, xb = x(np.datetime64(a, "ns").view("i8")), x(np.datetime64(b, "ns").view("i8"))
        parts.append(
            f'<rect x="{xa:.1f}" y="{_MT}" width="{max(xb - xa, 1.0):.1f}" height="{ph}" '
            'fill="crimson" fill-opacity="0.15"/>'
        )
    if hline is not None and math.isfinite(hline):
        yh = float(y(hline))
        parts.append(
            f'<line x1="{_ML}" x2="{_SW - _MR}" y1="{yh:.1f}" y2="{yh:.1f}" '
            'stroke="crimson" stroke-dasharray="4 3"/>'
        )
    for values, colour in lines:
        tt, vv = _decimate(ti, np.asarray(values, dtype=np.float64))
        xs, ys = x(tt), y(vv)
        # whole pixels: a sparkline needs no more, and it halves the text
        d, pen, prev = [], False, ""
        for xv, yv in zip(xs, ys, strict=True):
            if not math.isfinite(yv):
                pen = False
                continue
            point = f"{xv:.0f} {yv:.0f}"
            if not (pen and point == prev):
                d.append(("L" if pen else "M") + point)
            pen, prev = True, point
        parts.append(f'<path d="{"".join(d)}" fill="none" stroke="{colour}" stroke-width="1.2"/>')
    style = 'font-size="9" fill="#555"'
    parts += [
        f'<text x="{_ML - 3}" y="{_MT + 8}" text-anchor="end" {style}>{hi:.2f}{unit}</text>',
        f'<text x="{_ML - 3}" y="{_MT + ph}" text-anchor="end" {style}>{lo:.2f}{unit}</text>',
        f'<text x="{_ML}" y="{_SH - 2}" {style}>{str(t[0])[:10]}</text>',
        f'<text x="{_SW - _MR}" y="{_SH - 2}" text-anchor="end" {style}>{str(t[-1])[:10]}</text>',
        "</svg>",
    ]
    return "".join(parts)


# --- report.html -----------------------------------------------------------------------

# Sorts a table.sortable on a header click, numbers by their data-v value
# (NaN last), text with numeric awareness (P2 before P10); a second click reverses.
_SORT_JS = """<script>
document.querySelectorAll("table.sortable").forEach(function (t) {
  t.querySelectorAll("thead th").forEach(function (h, col) {
    h.addEventListener("click", function () {
      var up = h.getAttribute("aria-sort") !== "ascending";
      t.querySelectorAll("thead th").forEach(function (o) { o.removeAttribute("aria-sort"); });
      h.setAttribute("aria-sort", up ? "ascending" : "descending");
      var key = function (r) {
        var c = r.cells[col];
        return c.hasAttribute("data-v") ? parseFloat(c.getAttribute("data-v")) : c.textContent;
      };
      var rows = Array.prototype.slice.call(t.tBodies[0].rows);
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        if (typeof x === "number") {
          if (isNaN(x) || isNaN(y)) { return isNaN(x) - isNaN(y); }
          return up ? x - y : y - x;
        }
        var c = x.localeCompare(y, undefined, {numeric: true});
        return up ? c : -c;
      });
      rows.forEach(function (r) { t.tBodies[0].appendChild(r); });
    });
  });
});
</script>"""


def _sort_key(value: Any) -> str:
    """A cell's raw value for the sort script: numbers as text, NaN as NaN."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return repr(float(value)) if math.isfinite(value) else "NaN"
    return "NaN"


def _img(name: str, data: bytes) -> str:
    return (
        f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,'
        f'{base64.b64encode(data).decode("ascii")}"></figure>'
    )


def _section(rep: Report, name: str, anchor: str, fields: Sequence[str]) -> str:
    esc = html.escape
    s = rep.series[name]
    m = rep.metrics[name]
    cells = "".join(
        f"<div><span>{esc(f.replace('_', ' '))}</span> <b>{esc(fmt(f, m.get(f)))}</b></div>"
        for f in fields
    )
    items = [
        f"<li>{esc(b.start)} to {esc(b.end)}, peak {b.peak:.2%}{' (ongoing)' * b.ongoing}</li>"
        for b in rep.breaches.get(name, [])
    ]
    breaches = ""
    if rep.limit is not None:
        breaches = f"<p>Breaches of the {rep.limit:.2%} limit: " + (
            f"</p><ul>{''.join(items)}</ul>" if items else "none.</p>"
        )
    t = rep.timing.get(name)
    timing = (
        f"<p>Timing: naive {t['naive_tracking_error']:.2%}, genuine "
        f"{t['genuine_tracking_error']:.2%}, timing share {t['timing_share']:.0%}"
        f"{'; ' * bool(t['verdict'])}{esc(t['verdict'])}.</p>"
        if t
        else ""
    )
    te = _svg(
        s["dates"],
        [(100 * np.asarray(s["rolling_tracking_error"]), "#1f77b4")],
        label=f"rolling tracking error of {name}",
        hline=None if rep.limit is None else 100 * rep.limit,
        spans=[(b.start, b.end) for b in rep.breaches.get(name, [])],
        unit="%",
    )
    growth = _svg(
        s["dates"],
        [
            (np.cumprod(1 + np.nan_to_num(s["benchmark"])), "#000"),
            (np.cumprod(1 + np.nan_to_num(s["portfolio"])), "#1f77b4"),
        ],
        label=f"growth of 1, {name} and {rep.benchmark}",
    )
    limit = "" if rep.limit is None else f", dashed: the {rep.limit:.2%} limit, shaded: breaches"
    return (
        f'<section id="{anchor}"><h3>{esc(name)} <a href="#summary" class="up">'
        "back to the table</a></h3>"
        f'<div class="figs">{cells}</div>'
        f'<div class="sparks"><figure>{te}<figcaption>rolling tracking error (%){limit}'
        f"</figcaption></figure><figure>{growth}<figcaption>growth of 1 "
        f"(blue; black: {esc(rep.benchmark)})</figcaption></figure></div>"
        f"{breaches}{timing}</section>"
    )


# Longer lists and tables than this start folded (<details>): each portfolio's
# section repeats its own lines, so the page stays scannable at 100 portfolios.
_FOLD = 20


def _html(rep: Report, title: str, images: dict[str, bytes]) -> str:
    """The page; ``images`` are PNG bytes by their alt text."""
    esc = html.escape
    fields = [f for f in FIELDS if any(f in m for m in rep.metrics.values())]
    if rep.limit is not None:
        fields.append("breach_now")
    anchors = {name: f"p{k}" for k, name in enumerate(rep.metrics, 1)}
    head = "".join(f"<th>{esc(f.replace('_', ' '))}</th>" for f in fields)
    rows = "".join(
        f'<tr><th><a href="#{anchors[name]}">{esc(name)}</a></th>'
        + "".join(
            f'<td data-v="{_sort_key(m.get(f))}">{esc(fmt(f, m.get(f)))}</td>' for f in fields
        )
        + "</tr>"
        for name, m in rep.metrics.items()
    )
    breaches = ""
    if rep.limit is not None:
        items = []
        for name, bs in rep.breaches.items():
            for b in bs:
                tail = " (ongoing)" if b.ongoing else ""
                items.append(
                    f'<li><a href="#{anchors[name]}">{esc(name)}</a>: {esc(b.start)} to '
                    f"{esc(b.end)}, peak {b.peak:.2%}{tail}</li>"
                )
        listed = f"<ul>{''.join(items)}</ul>" if items else "<p>None.</p>"
        if len(items) > _FOLD:
            listed = f"<details><summary>{len(items)} breaches</summary>{listed}</details>"
        breaches = f"<h2>Breaches of the {rep.limit:.2%} limit</h2>" + listed
    timing = ""
    if rep.timing:
        trows = "".join(
            f'<tr><th><a href="#{anchors[name]}">{esc(name)}</a></th>'
            f'<td data-v="{_sort_key(t["naive_tracking_error"])}">'
            f"{t['naive_tracking_error']:.2%}</td>"
            f'<td data-v="{_sort_key(t["genuine_tracking_error"])}">'
            f"{t['genuine_tracking_error']:.2%}</td>"
            f'<td class="nw">{t["genuine_interval"][0]:.2%} .. {t["genuine_interval"][1]:.2%}</td>'
            f'<td data-v="{_sort_key(t["timing_share"])}">{t["timing_share"]:.0%}</td>'
            f'<td data-v="{_sort_key(t["best_lag"])}">{t["best_lag"]}</td>'
            f'<td data-v="{_sort_key(t["dimson_beta"])}">{t["dimson_beta"]:.2f}</td>'
            f'<td style="text-align:left">{esc(t["verdict"])}</td></tr>'
            for name, t in rep.timing.items()
        )
        table = (
            '<table class="sortable"><thead><tr><th>portfolio</th><th>naive TE</th>'
            "<th>genuine TE</th><th>interval</th><th>timing share</th><th>best lag</th>"
            f"<th>Dimson beta</th><th>verdict</th></tr></thead><tbody>{trows}</tbody></table>"
        )
        if len(rep.timing) > _FOLD:
            table = f"<details><summary>{len(rep.timing)} portfolios</summary>{table}</details>"
        timing = (
            "<h2>Timing: how much of the tracking error is the clock</h2>"
            "<p>Prices taken at different moments (or gaps that close within a period) add noise "
            "at the ends of each period that does not build up over longer horizons; the genuine "
            "tracking error is what remains (trackerr.timing_decomposition).</p>" + table
        )
    figs = "".join(_img(n, data) for n, data in images.items())
    sections = "".join(_section(rep, name, anchors[name], fields) for name in rep.metrics)
    notes = "".join(f"<li>{esc(n)}</li>" for n in rep.notes)
    if rep.uniform:
        sampling = (
            f"{rep.periods_per_year:g} periods a year ({esc(rep.periods_reason)}); rolling window "
            f"{rep.window} observations."
        )
    else:
        sampling = (
            "Periods per year and rolling window, per portfolio: "
            + "; ".join(
                f"{esc(name)} {m.get('periods_per_year', math.nan):g} a year, window "
                f"{m.get('window', 0)}"
                for name, m in rep.metrics.items()
            )
            + "."
        )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1300px; color: #222; }}
table {{ border-collapse: collapse; font-size: 0.8em; }}
th, td {{ border: 1px solid #ccc; padding: 0.25em 0.4em; text-align: right; }}
thead th {{ background: #f3f3f3; }}
table.sortable thead th {{ cursor: pointer; }}
th[aria-sort="ascending"]::after {{ content: " \\25B2"; }}
th[aria-sort="descending"]::after {{ content: " \\25BC"; }}
tbody th {{ text-align: left; }}
.wide {{ overflow-x: auto; }}
.nw {{ white-space: nowrap; }}
img {{ max-width: 100%; }}
section {{ border-top: 1px solid #ddd; margin-top: 1.5em; }}
.figs {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(15em, 1fr));
  gap: 0.1em 1em; font-size: 0.85em; }}
.figs span {{ color: #666; }}
.sparks {{ display: flex; flex-wrap: wrap; gap: 1em; }}
.sparks figure {{ margin: 0.5em 0; }}
figcaption {{ font-size: 0.8em; color: #555; }}
a.up {{ font-size: 0.6em; font-weight: normal; margin-left: 1em; }}
</style></head><body>
<h1>{esc(title)}</h1>
<p>Benchmark <b>{esc(rep.benchmark)}</b>, {esc(rep.start)} to {esc(rep.end)};
{sampling} Figures are annualized where that applies. Click a column to sort;
click a portfolio for its own section.</p>
<div class="wide"><table class="sortable" id="summary"><thead><tr><th>portfolio</th>{head}
</tr></thead><tbody>{rows}</tbody></table></div>
{breaches}
{timing}
{f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""}
<h2>Charts</h2>
{figs}
<h2>Portfolios</h2>
{sections}
<p><small>Generated by trackerr.</small></p>
{_SORT_JS}
</body></html>
"""


# --- trackerr replicate --out ----------------------------------------------------------


def write_replication(
    rep: Replicated,
    out: Path,
    *,
    title: str,
    tables: Sequence[tuple[str, list[str], list[list[str]], str]] = (),
) -> Path:
    """Write replicate_growth.png, replicate_contributions.png and replicate.html
    to ``out``; return the HTML path (the images are embedded in it too).
    ``tables`` are more tables for the page: (title, head, rows, note)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    pngs = {
        "replicate_growth.png": _replica_growth(plt, rep),
        "replicate_contributions.png": _replica_contributions(plt, rep),
    }
    for name, fig in pngs.items():
        fig.savefig(out / name, dpi=110, bbox_inches="tight")
        plt.close(fig)
    page = out / "replicate.html"
    page.write_text(
        _replica_html(rep, title, {n: (out / n).read_bytes() for n in pngs}, tables),
        encoding="utf-8",
    )
    return page


def _replica_growth(plt: Any, rep: Replicated) -> Any:
    fig, (ax, gap) = plt.subplots(
        2, 1, figsize=(10, 5.5), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    dates = np.concatenate(
        [[np.datetime64(rep.first_price)], rep.returns.index.to_numpy(dtype="datetime64[ns]")]
    )
    port = np.concatenate([[1.0], np.cumprod(1 + rep.portfolio().to_numpy())])
    bench = np.concatenate([[1.0], np.cumprod(1 + rep.bench.to_numpy())])
    names = rep.result.names
    ax.plot(dates, bench, color="black", lw=1.5, label=rep.benchmark)
    ax.plot(
        dates,
        port,
        color="tab:blue",
        lw=1.2,
        label=f"replicating portfolio ({names} name{'s' * (names != 1)}, fixed weights)",
    )
    gap.plot(dates, 100 * (port / bench - 1), color="tab:blue", lw=1.0)
    gap.axhline(0, color="black", lw=0.8)
    for a in (ax, gap):
        a.grid(True, alpha=0.3)
    title = f"Replicating portfolio vs {rep.benchmark}: growth of 1"
    if rep.split:
        cut = np.datetime64(rep.returns.index[rep.fit_rows])
        for a in (ax, gap):
            a.axvspan(cut, dates[-1], color="tab:orange", alpha=0.08, lw=0)
            a.axvline(cut, color="tab:orange", ls="--", lw=1)
        oos = rep.out_of_sample
        te = f", realised tracking error {oos:.2%}" if oos is not None else ""
        title += f"\nfitted before {str(cut)[:10]}; shaded: out of sample, same weights{te}"
    ax.set_ylabel("growth of 1")
    ax.set_title(title)
    ax.legend(loc="best", fontsize="small")
    gap.set_ylabel("portfolio / bench. - 1 (%)", fontsize="small")
    fig.tight_layout()
    return fig


def _replica_contributions(plt: Any, rep: Replicated) -> Any:
    te = rep.result.contributions.tracking_error
    total = rep.part("total")
    shown = rep.ranked()[:20]
    labels = [*map(str, shown), f"{rep.benchmark} (benchmark)"]
    values = 100 * np.array([float(total[a]) for a in [*shown, rep.benchmark]])
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(labels) + 1.4))
    colors = ["tab:blue" if v >= 0 else "tab:red" for v in values[:-1]] + ["0.55"]
    y = np.arange(len(labels))
    ax.barh(y, values, color=colors)
    ax.set_yticks(y)
    ax.set_yticklabels(labels)
    ax.invert_yaxis()
    ax.axvline(0, color="black", lw=0.8)
    ax.grid(True, axis="x", alpha=0.3)
    span = float(np.max(np.abs(values))) if values.size else 0.0
    for k, v in enumerate(values):
        ax.annotate(
            f"{v:.2f}%",
            xy=(v, k),
            xytext=(4 if v >= 0 else -4, 0),
            textcoords="offset points",
            ha="left" if v >= 0 else "right",
            va="center",
            fontsize="small",
        )
    if span > 0:
        ax.set_xlim(min(0.0, values.min()) - 0.15 * span, max(0.0, values.max()) + 0.15 * span)
    ax.set_xlabel("contribution to the tracking error, annualized (%)")
    ax.set_title(f"Contributions to the ex-ante tracking error ({te:.2%}): they sum to it")
    fig.tight_layout()
    return fig


def _html_table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    esc = html.escape
    top = "".join(f"<th>{esc(h)}</th>" for h in head)
    body = "".join(
        "<tr>"
        + "".join(f"<th>{esc(c)}</th>" if k == 0 else f"<td>{esc(c)}</td>" for k, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{top}</tr></thead><tbody>{body}</tbody></table>"


def _replica_html(
    rep: Replicated,
    title: str,
    images: dict[str, bytes],
    tables: Sequence[tuple[str, list[str], list[list[str]], str]] = (),
) -> str:
    esc = html.escape
    more = "".join(
        f"<h2>{esc(name)}</h2>{_html_table(head, rows)}<p>{esc(note)}</p>"
        for name, head, rows, note in tables
    )
    about = "".join(f"<li>{esc(line)}</li>" for line in rep.describe())
    figures = _html_table(
        ["tracking error, annualized", ""],
        [
            [label, "n/a" if v is None or not math.isfinite(v) else f"{v:.2%}"]
            for _, label, v in rep.figures()
        ],
    )
    weights = _html_table(*rep.weight_table())
    head, rows, note = rep.contribution_table()
    contributions = _html_table(head, rows) + (f"<p>{esc(note)}.</p>" if note else "")
    notes = "".join(f"<li>{esc(n)}</li>" for n in rep.notes)
    figs = "".join(
        f'<figure><img alt="{esc(n)}" src="data:image/png;base64,'
        f'{base64.b64encode(data).decode("ascii")}"></figure>'
        for n, data in images.items()
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }}
table {{ border-collapse: collapse; font-size: 0.85em; margin-bottom: 1em; }}
th, td {{ border: 1px solid #ccc; padding: 0.3em 0.5em; text-align: right; }}
tbody th {{ text-align: left; font-weight: normal; }}
thead th {{ background: #f3f3f3; }}
img {{ max-width: 100%; }}
</style></head><body>
<h1>{esc(title)}</h1>
<ul>{about}</ul>
{figures}
<h2>Weights of the names held</h2>
{weights}
<h2>Contributions to the ex-ante tracking error</h2>
<p>Euler's decomposition: each position's part of the tracking error (the benchmark's own
position is -100 %); they sum to it. A negative contribution offsets the others.</p>
{contributions}
{more}
{f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""}
{figs}
<p><small>Generated by trackerr.</small></p>
</body></html>
"""
