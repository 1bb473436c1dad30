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
    from .cli import Replicated

_PCT = {
    "tracking_error",
    "tracking_difference",
    "active_return",
    "alpha",
    "max_drawdown",
    "benchmark_max_drawdown",
    "rolling_tracking_error",
}


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
    """Write rolling_te.png, growth.png, drawdown.png and report.html to
    ``out``; return the HTML path. Images are also embedded in the HTML, so
    the file stands alone."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    pngs = {
        "rolling_te.png": _rolling_te(plt, rep),
        "growth.png": _growth(plt, rep),
        "drawdown.png": _drawdown(plt, rep),
    }
    if rep.timing:
        pngs["te_by_horizon.png"] = _by_horizon(plt, rep)
    for name, fig in pngs.items():
        fig.savefig(out / name, dpi=110, bbox_inches="tight")
        plt.close(fig)
    page = out / "report.html"
    page.write_text(_html(rep, title, {n: (out / n).read_bytes() for n in pngs}), encoding="utf-8")
    return page


def _axes(plt: Any, ylabel: str) -> tuple[Any, Any]:
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    return fig, ax


def _rolling_te(plt: Any, rep: Report) -> Any:
    obs = f"{rep.window} obs" if rep.uniform else "window per portfolio"
    fig, ax = _axes(plt, f"rolling tracking error, {obs}, annualized")
    for name, s in rep.series.items():
        (line,) = ax.plot(s["dates"], 100 * s["rolling_tracking_error"], lw=1.2, label=name)
        for b in rep.breaches.get(name, []):
            ax.axvspan(_day(b.start), _day(b.end), color=line.get_color(), alpha=0.15, lw=0)
    if rep.limit is not None:
        ax.axhline(100 * rep.limit, color="crimson", ls="--", lw=1, label=f"limit {rep.limit:.2%}")
    ax.set_title(f"Rolling tracking error vs {rep.benchmark} (%)")
    ax.legend(loc="upper left", fontsize="small")
    return fig


def _growth(plt: Any, rep: Report) -> Any:
    fig, ax = _axes(plt, "growth of 1")
    first = next(iter(rep.series.values()))
    bench = np.cumprod(1 + np.nan_to_num(first["benchmark"]))
    ax.plot(first["dates"], bench, color="black", lw=1.5, label=rep.benchmark)
    for name, s in rep.series.items():
        ax.plot(s["dates"], np.cumprod(1 + np.nan_to_num(s["portfolio"])), lw=1.1, label=name)
    ax.set_title(f"Cumulative growth: portfolios vs {rep.benchmark}")
    ax.legend(loc="upper left", fontsize="small")
    return fig


def _drawdown(plt: Any, rep: Report) -> Any:
    fig, ax = _axes(plt, "drawdown (%)")

    def dd(r: Any) -> Any:
        wealth = np.cumprod(1 + np.nan_to_num(r))
        return 100 * (wealth / np.maximum.accumulate(np.maximum(wealth, 1.0)) - 1)

    first = next(iter(rep.series.values()))
    ax.plot(first["dates"], dd(first["benchmark"]), color="black", lw=1.5, label=rep.benchmark)
    for name, s in rep.series.items():
        ax.plot(s["dates"], dd(s["portfolio"]), lw=1.1, label=name)
    ax.set_title("Drawdown from the running peak (%)")
    ax.legend(loc="lower left", fontsize="small")
    return fig


def _by_horizon(plt: Any, rep: Report) -> Any:
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.set_xlabel("horizon (periods per return)")
    ax.set_ylabel("tracking error, annualized (%)")
    ax.grid(True, alpha=0.3)
    for name, t in rep.timing.items():
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
    longest = max(max(t["horizons"]) for t in rep.timing.values())
    ticks = [k for k in (1, 2, 3, 5, 10, 21, 42, 63) if k <= longest]
    ax.set_xticks(ticks)
    ax.set_xticklabels([str(k) for k in ticks])
    ax.minorticks_off()
    ax.set_title(f"Tracking error by horizon vs {rep.benchmark}: timing noise falls like 1/sqrt(k)")
    ax.legend(loc="upper right", fontsize="small")
    return fig


def _day(text: str) -> Any:
    return np.datetime64(text)


def _html(rep: Report, title: str, images: dict[str, bytes]) -> str:
    esc = html.escape
    fields = [f for f in FIELDS if any(f in m for m in rep.metrics.values())]
    if rep.limit is not None:
        fields.append("breach_now")
    head = "".join(f"<th>{esc(f.replace('_', ' '))}</th>" for f in fields)
    rows = "".join(
        f"<tr><th>{esc(name)}</th>"
        + "".join(f"<td>{esc(fmt(f, m.get(f)))}</td>" for f in fields)
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
                    f"<li>{esc(name)}: {esc(b.start)} to {esc(b.end)}, peak {b.peak:.2%}{tail}</li>"
                )
        breaches = f"<h2>Breaches of the {rep.limit:.2%} limit</h2>" + (
            f"<ul>{''.join(items)}</ul>" if items else "<p>None.</p>"
        )
    timing = ""
    if rep.timing:
        trows = "".join(
            f"<tr><th>{esc(name)}</th><td>{t['naive_tracking_error']:.2%}</td>"
            f"<td>{t['genuine_tracking_error']:.2%}</td>"
            f"<td>{t['genuine_interval'][0]:.2%} .. {t['genuine_interval'][1]:.2%}</td>"
            f"<td>{t['timing_share']:.0%}</td><td>{t['best_lag']}</td>"
            f"<td>{t['dimson_beta']:.2f}</td>"
            f'<td style="text-align:left">{esc(t["verdict"])}</td></tr>'
            for name, t in rep.timing.items()
        )
        timing = (
            "<h2>Timing: how much of the tracking error is the clock</h2>"
            "<p>Prices taken at different moments (or gaps that close within a period) add noise "
            "at the ends of each period that does not build up over longer horizons; the genuine "
            "tracking error is what remains (trackerr.timing_decomposition).</p>"
            "<table><thead><tr><th>portfolio</th><th>naive TE</th><th>genuine TE</th>"
            "<th>interval</th><th>timing share</th><th>best lag</th><th>Dimson beta</th>"
            f"<th>verdict</th></tr></thead><tbody>{trows}</tbody></table>"
        )
    figs = "".join(
        f'<figure><img alt="{esc(n)}" src="data:image/png;base64,'
        f'{base64.b64encode(data).decode("ascii")}"></figure>'
        for n, data in images.items()
    )
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
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }}
table {{ border-collapse: collapse; font-size: 0.85em; }}
th, td {{ border: 1px solid #ccc; padding: 0.3em 0.5em; text-align: right; }}
thead th {{ background: #f3f3f3; }}
img {{ max-width: 100%; }}
</style></head><body>
<h1>{esc(title)}</h1>
<p>Benchmark <b>{esc(rep.benchmark)}</b>, {esc(rep.start)} to {esc(rep.end)};
{sampling} Figures are annualized where that applies.</p>
<table><thead><tr><th>portfolio</th>{head}</tr></thead><tbody>{rows}</tbody></table>
{breaches}
{timing}
{figs}
<p><small>Generated by trackerr.</small></p>
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
