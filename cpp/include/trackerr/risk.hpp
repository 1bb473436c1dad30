// Risk metrics of one return series (max drawdown, Sortino, Omega) and the
// capture ratios of a portfolio against its benchmark: full-sample and
// rolling, over strided views.
//
// One idea serves every metric here: each is a function of a small summary
// of its rows, and two summaries of adjacent stretches combine into the
// summary of the joined stretch (an associative `combine` with an identity:
// a monoid). The full-sample value folds the rows' summaries left to right;
// a rolling value combines a window's rows with the two-stacks scheme
// (see `detail::slide`): O(1) amortised per step, nothing ever subtracted, so
// no drift however long the series and no residue when a huge value leaves
// the window; every output is an exact function of its own window's rows.
//
// Sums inside the summaries are kept as unevaluated pairs hi + lo (TwoSum,
// Knuth), so a window's sums are exact to about one rounding whatever the
// cancellation among its terms.
//
// Missing data: a NaN row (a NaN on either side for the capture ratios) is not
// an observation and is skipped; the count of skipped rows is reported so the
// caller can apply its NaN policy. A row outside a metric's domain (an
// infinite return; for max drawdown and the capture ratios also a return
// below -1, whose growth factor is negative) makes the value NaN; in a rolling
// window, only the windows that contain it.
//
// float inputs are read in place and promoted to double.
#pragma once

#include "detail/isa.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "detail/parallel.hpp"
#include "rolling.hpp"
#include "view.hpp"

namespace trackerr {
TRACKERR_ISA_BEGIN

/// A full-sample risk figure and the number of rows skipped because they held NaN.
struct RiskResult {
    double value = std::numeric_limits<double>::quiet_NaN();
    std::int64_t skipped = 0;
};

/// The risk metrics, for the panel and generic entry points.
enum class Risk { max_drawdown, sortino_ratio, omega_ratio, up_capture, down_capture };

/// Options of a risk metric. `target` is Sortino's target return or Omega's
/// threshold (per period); `periods` is periods per year (NaN: per period;
/// required by the capture ratios). `window` and `min_periods` are read by the
/// rolling forms only (min_periods 0 means window).
struct RiskParams {
    double target = 0.0;
    double periods = std::numeric_limits<double>::quiet_NaN();
    std::ptrdiff_t window = 0;
    std::ptrdiff_t min_periods = 0;
};

namespace detail {

inline constexpr double risk_inf = std::numeric_limits<double>::infinity();
inline constexpr double risk_nan = std::numeric_limits<double>::quiet_NaN();

/// An unevaluated sum hi + lo with |lo| <= ulp(hi) / 2 after each operation.
/// Adding with TwoSum keeps the rounding error of every addition, so a sum of
/// k terms is off by about one rounding of the result plus k^2 eps^2 of the
/// terms, instead of k eps of the terms.
struct Sum2 {
    double hi = 0.0;
    double lo = 0.0;
};

TRACKERR_HOT Sum2 add(Sum2 a, Sum2 b) noexcept {
    const double s = a.hi + b.hi;
    const double bb = s - a.hi;
    const double err = (a.hi - (s - bb)) + (b.hi - bb);
    const double lo = (a.lo + b.lo) + err;
    const double hi = s + lo;
    return {hi, lo - (hi - s)};
}
TRACKERR_HOT Sum2 add(Sum2 a, double b) noexcept {
    return add(a, Sum2{b, 0.0});
}
TRACKERR_HOT Sum2 negate(Sum2 a) noexcept {
    return {-a.hi, -a.lo};
}
TRACKERR_HOT double value_of(Sum2 a) noexcept {
    return a.hi + a.lo;
}
// Normalised pairs order lexicographically.
TRACKERR_HOT bool less(Sum2 a, Sum2 b) noexcept {
    return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo);
}
TRACKERR_HOT Sum2 min2(Sum2 a, Sum2 b) noexcept {
    return less(b, a) ? b : a;
}
TRACKERR_HOT Sum2 max2(Sum2 a, Sum2 b) noexcept {
    return less(a, b) ? b : a;
}

/// Row counts every summary carries: observations (non-NaN rows) and rows
/// outside the metric's domain.
struct RowCounts {
    std::int64_t obs = 0;
    std::int64_t bad = 0;
};
TRACKERR_HOT RowCounts operator+(RowCounts a, RowCounts b) noexcept {
    return {a.obs + b.obs, a.bad + b.bad};
}

// ---- max drawdown ----------------------------------------------------------
//
// In logs, with l_t = log1p(r_t) and L_t = l_1 + ... + l_t (L_0 = 0), the
// drawdown at t is exp(L_t - max_{s<=t} L_s) - 1. A stretch is summarised by
//   g      its log growth, sum of l;
//   peak   max over its prefixes of L, including the empty prefix (>= 0);
//   trough min over its non-empty prefixes of L;
//   dd     its own max drawdown in logs, min_t (L_t - max_{s<=t} L_s) (<= 0);
// and L then R combine as
//   g = g_L + g_R, peak = max(peak_L, g_L + peak_R),
//   trough = min(trough_L, g_L + trough_R),
//   dd = min(dd_L, dd_R, g_L + trough_R - peak_L)
// (the last term: the lowest point of R measured from the highest point of L;
// a peak inside R is already in dd_R). These are the wealth formulas of the
// docstring (G = G_L G_R, ...) in logs: products become sums, which the Sum2
// pairs keep exact, and wealth cannot overflow however long the series.
// A return of exactly -1 ruins the portfolio: the wealth is 0 from then on
// and the drawdown is -1, the lowest possible; such rows are only counted.
// A return below -1 (negative wealth) or an infinite one is out of domain.

struct DrawdownSummary {
    Sum2 g{};
    Sum2 peak{};
    Sum2 trough{risk_inf, 0.0};
    Sum2 dd{};
    std::int64_t n = 0;     // finite log terms
    std::int64_t ruin = 0;  // returns of exactly -1
    RowCounts rows{};
};

template <class T>
struct DrawdownOf {
    using Summary = DrawdownSummary;
    View<T> r;

    TRACKERR_HOT Summary leaf(std::ptrdiff_t i) const noexcept {
        Summary s;
        const double x = static_cast<double>(r[i]);
        if (x != x) return s;
        s.rows.obs = 1;
        if (!(x > -1.0) || x == risk_inf) {
            if (x == -1.0)
                s.ruin = 1;
            else
                s.rows.bad = 1;
            return s;
        }
        const double l = std::log1p(x);
        s.n = 1;
        s.g = Sum2{l, 0.0};
        s.peak = Sum2{l > 0.0 ? l : 0.0, 0.0};
        s.trough = Sum2{l, 0.0};
        s.dd = Sum2{l < 0.0 ? l : 0.0, 0.0};
        return s;
    }

    static Summary combine(const Summary& a, const Summary& b) noexcept {
        Summary s = b.n == 0 ? a : (a.n == 0 ? b : Summary{});
        if (a.n != 0 && b.n != 0) {
            s.g = add(a.g, b.g);
            s.peak = max2(a.peak, add(a.g, b.peak));
            const Sum2 low = add(a.g, b.trough);
            s.trough = min2(a.trough, low);
            s.dd = min2(min2(a.dd, b.dd), add(low, negate(a.peak)));
            s.n = a.n + b.n;
        }
        s.ruin = a.ruin + b.ruin;
        s.rows = a.rows + b.rows;
        return s;
    }

    double value(const Summary& s) const noexcept {
        if (s.rows.bad != 0 || s.rows.obs == 0) return risk_nan;
        if (s.ruin != 0) return -1.0;
        return std::expm1(value_of(s.dd));
    }
};

// ---- Sortino ---------------------------------------------------------------
//
// d_t = r_t - target; sums n, S1 = sum d, S2 = sum min(d, 0)^2 over every
// valid row. Sortino = (S1 / n) / sqrt(S2 / n) * sqrt(P): the downside
// deviation averages over all n rows, not only the losing ones (empyrical's
// convention). NaN when S2 = 0 (no return below target).

struct SortinoSummary {
    Sum2 s1{}, s2{};
    std::int64_t n = 0;
    RowCounts rows{};
};

template <class T>
struct SortinoOf {
    using Summary = SortinoSummary;
    View<T> r;
    double target;
    double scale;  // sqrt(P), or 1 per period

    TRACKERR_HOT Summary leaf(std::ptrdiff_t i) const noexcept {
        Summary s;
        const double x = static_cast<double>(r[i]);
        if (x != x) return s;
        s.rows.obs = 1;
        const double d = x - target;
        if (!std::isfinite(d)) {
            s.rows.bad = 1;
            return s;
        }
        const double down = d < 0.0 ? d : 0.0;
        s.n = 1;
        s.s1 = Sum2{d, 0.0};
        s.s2 = Sum2{down * down, 0.0};
        return s;
    }

    static Summary combine(const Summary& a, const Summary& b) noexcept {
        return {add(a.s1, b.s1), add(a.s2, b.s2), a.n + b.n, a.rows + b.rows};
    }

    double value(const Summary& s) const noexcept {
        if (s.rows.bad != 0 || s.n == 0) return risk_nan;
        const double n = static_cast<double>(s.n);
        const double dd2 = value_of(s.s2) / n;
        if (!(dd2 > 0.0)) return risk_nan;
        return value_of(s.s1) / n / std::sqrt(dd2) * scale;
    }
};

// ---- Omega -----------------------------------------------------------------
//
// Omega = sum max(r - thr, 0) / sum max(thr - r, 0); NaN when no return is
// below the threshold (the denominator is 0), as empyrical.

struct OmegaSummary {
    Sum2 gain{}, loss{};
    std::int64_t n = 0;
    RowCounts rows{};
};

template <class T>
struct OmegaOf {
    using Summary = OmegaSummary;
    View<T> r;
    double threshold;

    TRACKERR_HOT Summary leaf(std::ptrdiff_t i) const noexcept {
        Summary s;
        const double x = static_cast<double>(r[i]);
        if (x != x) return s;
        s.rows.obs = 1;
        const double d = x - threshold;
        if (!std::isfinite(d)) {
            s.rows.bad = 1;
            return s;
        }
        s.n = 1;
        s.gain = Sum2{d > 0.0 ? d : 0.0, 0.0};
        s.loss = Sum2{d < 0.0 ? -d : 0.0, 0.0};
        return s;
    }

    static Summary combine(const Summary& a, const Summary& b) noexcept {
        return {add(a.gain, b.gain), add(a.loss, b.loss), a.n + b.n, a.rows + b.rows};
    }

    double value(const Summary& s) const noexcept {
        if (s.rows.bad != 0 || s.n == 0) return risk_nan;
        const double loss = value_of(s.loss);
        if (!(loss > 0.0)) return risk_nan;
        return value_of(s.gain) / loss;
    }
};

// ---- capture ratios ----------------------------------------------------------
//
// Over the k rows where the benchmark is above 0 (up) or below 0 (down):
// CAGR_x = exp(P / k * sum log1p(x)) - 1 for x = p and x = b, and the capture
// ratio is CAGR_p / CAGR_b. The sums of log1p keep small returns' digits that
// 1 + x would round away; expm1 returns them at the end. A return of exactly
// -1 makes that side's CAGR -1 (counted, not logged); a return below -1
// (negative growth) or an inf anywhere in the rows is out of domain.

struct CaptureSummary {
    Sum2 lp{}, lb{};
    std::int64_t k = 0;       // selected rows
    std::int64_t ruin_p = 0;  // selected rows with p = -1
    std::int64_t ruin_b = 0;  // selected rows with b = -1
    RowCounts rows{};
};

template <class TP, class TB>
struct CaptureOf {
    using Summary = CaptureSummary;
    View<TP> p;
    View<TB> b;
    double sign;  // +1 up capture, -1 down capture
    double periods;

    TRACKERR_HOT Summary leaf(std::ptrdiff_t i) const noexcept {
        Summary s;
        const double x = static_cast<double>(p[i]), y = static_cast<double>(b[i]);
        if (x != x || y != y) return s;
        s.rows.obs = 1;
        // Outside the domain anywhere in the window, selected row or not, as
        // an inf is (and as for max drawdown and metrics.hpp's compounded
        // metrics): a growth factor below 0 has no meaning.
        if (!std::isfinite(x) || !std::isfinite(y) || x < -1.0 || y < -1.0) {
            s.rows.bad = 1;
            return s;
        }
        if (!(sign * y > 0.0)) return s;
        s.k = 1;
        if (x == -1.0)
            s.ruin_p = 1;
        else
            s.lp = Sum2{std::log1p(x), 0.0};
        if (y == -1.0)
            s.ruin_b = 1;
        else
            s.lb = Sum2{std::log1p(y), 0.0};
        return s;
    }

    static Summary combine(const Summary& a, const Summary& b) noexcept {
        return {add(a.lp, b.lp),     add(a.lb, b.lb),     a.k + b.k,
                a.ruin_p + b.ruin_p, a.ruin_b + b.ruin_b, a.rows + b.rows};
    }

    double cagr(Sum2 logs, std::int64_t ruined, double k) const noexcept {
        return ruined != 0 ? -1.0 : std::expm1(value_of(logs) * (periods / k));
    }

    double value(const Summary& s) const noexcept {
        if (s.rows.bad != 0 || s.k == 0) return risk_nan;
        const double k = static_cast<double>(s.k);
        return cagr(s.lp, s.ruin_p, k) / cagr(s.lb, s.ruin_b, k);
    }
};

/// Full sample: the rows' summaries folded left to right.
template <class M>
RiskResult fold(const M& m, std::ptrdiff_t rows) {
    typename M::Summary s{};
    for (std::ptrdiff_t i = 0; i < rows; ++i) s = M::combine(s, m.leaf(i));
    return {m.value(s), static_cast<std::int64_t>(rows) - s.rows.obs};
}

/// Rolling values of metric `m` over `rows` rows into `out` (pandas' rules:
/// the window of row t is rows [t - w + 1, t] clipped at 0; a value needs
/// `min_obs` observations).
///
/// Two stacks: the window is split at a row b into a front part [s, b), whose
/// suffix aggregates front[i] = rows [i, b) are stored, and a back part
/// [b, t] kept as one running aggregate. Sliding drops the front's first row
/// by moving to the next stored suffix and appends to the back by one
/// combine. When the front runs out (s reaches b), the suffix aggregates of
/// the w rows [b, t] are rebuilt from their leaf summaries (kept in a ring of
/// w) and the back restarts empty. Each row is combined a bounded number of
/// times, and each output is front[s] + back: only this window's rows, each
/// aggregate built from scratch at most w steps earlier.
///
/// `ring` and `front` are scratch buffers of min(w, rows) summaries each:
/// neither ever holds more than a window's rows, nor more rows than there
/// are (when w >= rows, t % w is t and t - b < rows), so a window far longer
/// than the series costs nothing extra.
template <class M>
void slide(const M& m, std::ptrdiff_t rows, std::ptrdiff_t w, std::ptrdiff_t min_obs, OutView out,
           std::vector<typename M::Summary>& ring, std::vector<typename M::Summary>& front) {
    using Summary = typename M::Summary;
    const auto need = static_cast<std::size_t>(std::min(w, rows));
    ring.resize(need);  // std::bad_alloc / std::length_error if the rows' summaries do not fit
    front.resize(need);
    Summary back{};
    std::ptrdiff_t fb = 0, b = 0;  // front holds rows [fb, b); back holds [b, t]
    for (std::ptrdiff_t t = 0; t < rows; ++t) {
        const Summary x = m.leaf(t);
        ring[static_cast<std::size_t>(t % w)] = x;
        const std::ptrdiff_t s = t - w + 1 > 0 ? t - w + 1 : 0;
        Summary agg;
        if (s >= b) {
            Summary acc = x;
            front[static_cast<std::size_t>(t - b)] = acc;
            for (std::ptrdiff_t i = t - 1; i >= b; --i) {
                acc = M::combine(ring[static_cast<std::size_t>(i % w)], acc);
                front[static_cast<std::size_t>(i - b)] = acc;
            }
            fb = b;
            b = t + 1;
            back = Summary{};
            agg = front[static_cast<std::size_t>(s - fb)];
        } else {
            back = M::combine(back, x);
            agg = M::combine(front[static_cast<std::size_t>(s - fb)], back);
        }
        out.set(t, agg.rows.obs >= min_obs ? m.value(agg) : risk_nan);
    }
}

inline double sqrt_periods(double periods) noexcept {
    return periods == periods ? std::sqrt(periods) : 1.0;
}

inline void check_risk_params(Risk metric, const RiskParams& prm) {
    if (!std::isfinite(prm.target))
        throw std::invalid_argument("target (=" + std::to_string(prm.target) + ") must be finite");
    const bool capture = metric == Risk::up_capture || metric == Risk::down_capture;
    if (capture ? !(prm.periods > 0.0 && std::isfinite(prm.periods))
                : !(prm.periods != prm.periods || (prm.periods > 0.0 && std::isfinite(prm.periods))))
        throw std::invalid_argument("periods (=" + std::to_string(prm.periods) +
                                    ") must be positive and finite" +
                                    (capture ? " for a capture ratio" : " or NaN"));
}

inline void check_risk_window(const RiskParams& prm) {
    if (prm.window < 1)
        throw std::invalid_argument("window (=" + std::to_string(prm.window) + ") must be at least 1");
    if (prm.min_periods < 0 || prm.min_periods > prm.window)
        throw std::invalid_argument("min_periods (=" + std::to_string(prm.min_periods) +
                                    ") must be between 0 and window");
}

/// Calls f(metric policy) for `metric` on one column (p, b); b is ignored by
/// the one-series metrics.
template <class TP, class TB, class F>
decltype(auto) with_policy(Risk metric, View<TP> p, View<TB> b, const RiskParams& prm, F&& f) {
    switch (metric) {
        case Risk::max_drawdown:
            return f(DrawdownOf<TP>{p});
        case Risk::sortino_ratio:
            return f(SortinoOf<TP>{p, prm.target, sqrt_periods(prm.periods)});
        case Risk::omega_ratio:
            return f(OmegaOf<TP>{p, prm.target});
        case Risk::up_capture:
            return f(CaptureOf<TP, TB>{p, b, 1.0, prm.periods});
        case Risk::down_capture:
            break;
    }
    return f(CaptureOf<TP, TB>{p, b, -1.0, prm.periods});
}

inline bool two_series(Risk metric) noexcept {
    return metric == Risk::up_capture || metric == Risk::down_capture;
}

}  // namespace detail

/// Full-sample `metric` of the returns p (and, for the capture ratios, the
/// benchmark b, of p's length; ignored otherwise).
template <class TP, class TB>
RiskResult risk(Risk metric, View<TP> p, View<TB> b, const RiskParams& prm) {
    detail::check_risk_params(metric, prm);
    if (detail::two_series(metric) && b.size != p.size)
        throw std::invalid_argument("portfolio has length " + std::to_string(p.size) +
                                    " but benchmark has length " + std::to_string(b.size));
    return detail::with_policy(metric, p, b, prm, [&](const auto& m) { return detail::fold(m, p.size); });
}

/// Maximum drawdown min_t W_t / max_{s<=t} W_s - 1 of the wealth W compounding
/// r from W_0 = 1 (so a first-period loss counts): a number in [-1, 0], NaN
/// without observations or with a return below -1 or infinite.
template <class T>
RiskResult max_drawdown(View<T> r) {
    return risk(Risk::max_drawdown, r, r, RiskParams{});
}

/// Sortino ratio mean(d) / sqrt(mean(min(d, 0)^2)) * sqrt(periods), d = r - target.
template <class T>
RiskResult sortino_ratio(View<T> r, double target = 0.0, double periods = detail::risk_nan) {
    RiskParams prm;
    prm.target = target;
    prm.periods = periods;
    return risk(Risk::sortino_ratio, r, r, prm);
}

/// Omega ratio sum max(r - thr, 0) / sum max(thr - r, 0); NaN when nothing is below thr.
template <class T>
RiskResult omega_ratio(View<T> r, double threshold = 0.0) {
    RiskParams prm;
    prm.target = threshold;
    return risk(Risk::omega_ratio, r, r, prm);
}

/// Up capture: CAGR of p over the rows where b > 0 divided by CAGR of b there.
template <class TP, class TB>
RiskResult up_capture(View<TP> p, View<TB> b, double periods) {
    RiskParams prm;
    prm.periods = periods;
    return risk(Risk::up_capture, p, b, prm);
}

/// Down capture: as up_capture over the rows where b < 0.
template <class TP, class TB>
RiskResult down_capture(View<TP> p, View<TB> b, double periods) {
    RiskParams prm;
    prm.periods = periods;
    return risk(Risk::down_capture, p, b, prm);
}

/// Rolling `metric` of one column into `out` (p's length). Each value equals
/// the full-sample metric of its window's rows.
template <class TP, class TB>
void rolling_risk(Risk metric, View<TP> p, View<TB> b, const RiskParams& prm, OutView out) {
    detail::check_risk_params(metric, prm);
    detail::check_risk_window(prm);
    if (detail::two_series(metric) && b.size != p.size)
        throw std::invalid_argument("portfolio has length " + std::to_string(p.size) +
                                    " but benchmark has length " + std::to_string(b.size));
    const std::ptrdiff_t min_obs = prm.min_periods == 0 ? prm.window : prm.min_periods;
    detail::with_policy(metric, p, b, prm, [&](const auto& m) {
        std::vector<typename std::decay_t<decltype(m)>::Summary> ring, front;
        detail::slide(m, p.size, prm.window, min_obs, out, ring, front);
    });
}

/// Rolling `metric` of every column of a T x N panel p (against b: a T x N
/// panel or a broadcast column, see `broadcast`; ignored by one-series
/// metrics). Column j of the output starts at out.data + j * out_col_stride
/// bytes. Columns are split across `threads` threads (results do not depend
/// on it).
template <class TP, class TB>
void rolling_risk(Risk metric, const Panel<TP>& p, const Panel<TB>& b, const RiskParams& prm, OutView out,
                  std::ptrdiff_t out_col_stride, int threads) {
    detail::check_risk_params(metric, prm);
    detail::check_risk_window(prm);
    detail::check_threads(threads);
    if (detail::two_series(metric) && (b.rows != p.rows || (b.col_stride != 0 && b.cols != p.cols)))
        throw std::invalid_argument("benchmark panel does not match the portfolio panel");
    const std::ptrdiff_t min_obs = prm.min_periods == 0 ? prm.window : prm.min_periods;
    auto run = [&](std::ptrdiff_t c0, std::ptrdiff_t c1) {
        for (std::ptrdiff_t c = c0; c < c1; ++c)
            detail::with_policy(metric, p.column(c), b.column(detail::two_series(metric) ? c : 0), prm,
                                [&](const auto& m) {
                                    // w summaries each: small next to a column of T rows.
                                    std::vector<typename std::decay_t<decltype(m)>::Summary> ring, front;
                                    detail::slide(m, p.rows, prm.window, min_obs,
                                                  out.offset_by(c * out_col_stride), ring, front);
                                });
    };
    const std::ptrdiff_t k = std::max<std::ptrdiff_t>(1, std::min<std::ptrdiff_t>(threads, p.cols));
    detail::run_parts(k, [&](std::ptrdiff_t i) { run(p.cols * i / k, p.cols * (i + 1) / k); });
}

/// Full-sample `metric` of every column of a T x N panel into values[0..N)
/// and skipped[0..N).
template <class TP, class TB>
void risk(Risk metric, const Panel<TP>& p, const Panel<TB>& b, const RiskParams& prm, double* values,
          std::int64_t* skipped) {
    detail::check_risk_params(metric, prm);
    if (detail::two_series(metric) && (b.rows != p.rows || (b.col_stride != 0 && b.cols != p.cols)))
        throw std::invalid_argument("benchmark panel does not match the portfolio panel");
    for (std::ptrdiff_t c = 0; c < p.cols; ++c) {
        const RiskResult r = risk(metric, p.column(c), b.column(detail::two_series(metric) ? c : 0), prm);
        values[c] = r.value;
        skipped[c] = r.skipped;
    }
}

TRACKERR_ISA_END
}  // namespace trackerr
