// Rolling metrics over windows of time rather than of rows.
//
// Row t's window holds the rows whose time lies in (times[t] - span,
// times[t]]: pandas' offset windows (`rolling("30D")`), for irregular ticks
// (blocks, trades, oracle updates). The window grows and shrinks with the
// ticks, so each row adds its value and removes those that left, with the
// general add/remove steps of the guarded window state (window.hpp): the same
// running error bound, the same rebuild from the window's rows when it fires,
// constant windows exactly 0. min_periods counts observations (default 1, as
// pandas); a NaN on either side is not an observation, an inf makes the
// windows holding it NaN.
//
// The sums of squares and products are compensated (TimeMoments below): a
// wide window's bound no longer grows by u M2 at each step, so rebuilds, which
// read the whole window, are rare.
#pragma once

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "detail/parallel.hpp"
#include "rolling.hpp"

namespace trackerr {
TRACKERR_ISA_BEGIN

namespace detail {

// sum + x into the pair (sum, comp) exactly: the new sum rounded, and its
// rounding error added to comp (Knuth's TwoSum).
TRACKERR_HOT void add_compensated(double& sum, double& comp, double x) noexcept {
    const double s = sum + x, z = s - sum;
    comp += (sum - (s - z)) + (x - z);
    sum = s;
}

// WindowMoments' add and remove with M2 kept as a compensated sum m2 + c.
// A time window grows and shrinks by single steps and can be wide; the
// plain state's bound grows by u M2 at every step (the rounding of M2's own
// addition), so a wide window was rebuilt, in full, every few hundred ticks.
// Here that addition is exact (its error goes to c), and the bound keeps
// only the step's own terms. value() gives the plain state with M2 = m2 + c,
// for the guard, the rebuild and the read-out.
struct TimeMoments {
    WindowMoments w;
    double c = 0.0;

    void add(double x) noexcept {
        w.observe(x);
        if (!std::isfinite(x)) {
            w.n_bad += 1.0;
            return;
        }
        const double u = x - w.level;
        w.n += 1.0;
        const double d = u - w.mean;
        w.mean += d / w.n;
        const double t = d * (u - w.mean);
        add_compensated(w.m2, c, t);
        w.err_mean += eps * (std::fabs(w.mean) + std::fabs(d) / w.n);
        w.err += eps * (2.0 * std::fabs(t) + 0.5 * std::fabs(c)) + 2.0 * std::fabs(d) * w.err_mean;
    }
    void remove(double x) noexcept {
        if (!std::isfinite(x)) {
            w.n_bad -= 1.0;
            return;
        }
        if (w.n <= 1.0) {
            w.n = w.mean = w.m2 = w.err = w.err_mean = c = 0.0;
            return;
        }
        const double u = x - w.level, n1 = w.n - 1.0, d = u - w.mean;
        w.mean -= d / n1;
        const double t = d * (u - w.mean);
        add_compensated(w.m2, c, -t);
        w.n = n1;
        w.err_mean += eps * (std::fabs(w.mean) + std::fabs(d) / n1);
        w.err += eps * (2.0 * std::fabs(t) + 0.5 * std::fabs(c)) + 2.0 * std::fabs(d) * w.err_mean;
    }
    WindowMoments value() const noexcept {
        WindowMoments v = w;
        v.m2 = w.m2 + c;
        return v;
    }
    void set(const WindowMoments& v) noexcept {
        w = v;
        c = 0.0;
    }
};

// WindowCoMoments' add and remove with C_pp, C_bb and C_pb compensated.
struct TimeCoMoments {
    WindowCoMoments w;
    double cpp = 0.0, cbb = 0.0, cpb = 0.0;

    void add(double p, double b) noexcept {
        w.observe(p, b);
        if (!WindowCoMoments::finite(p, b)) {
            w.n_bad += 1.0;
            return;
        }
        const double up = p - w.level_p, ub = b - w.level_b;
        w.n += 1.0;
        const double dp = up - w.mean_p, db = ub - w.mean_b;
        w.mean_p += dp / w.n;
        w.mean_b += db / w.n;
        const double tp = dp * (up - w.mean_p), tb = db * (ub - w.mean_b);
        add_compensated(w.c_pp, cpp, tp);
        add_compensated(w.c_bb, cbb, tb);
        add_compensated(w.c_pb, cpb, dp * (ub - w.mean_b));
        bound(std::fabs(dp), std::fabs(db), std::fabs(tp), std::fabs(tb), 1.0 / w.n);
    }
    void remove(double p, double b) noexcept {
        if (!WindowCoMoments::finite(p, b)) {
            w.n_bad -= 1.0;
            return;
        }
        if (w.n <= 1.0) {
            w.n = w.mean_p = w.mean_b = w.c_pp = w.c_bb = w.c_pb = 0.0;
            w.err_p = w.err_b = w.err_mp = w.err_mb = 0.0;
            cpp = cbb = cpb = 0.0;
            return;
        }
        const double up = p - w.level_p, ub = b - w.level_b;
        const double n1 = w.n - 1.0;
        const double dp = up - w.mean_p, db = ub - w.mean_b;
        w.mean_p -= dp / n1;
        w.mean_b -= db / n1;
        const double tp = dp * (up - w.mean_p), tb = db * (ub - w.mean_b);
        add_compensated(w.c_pp, cpp, -tp);
        add_compensated(w.c_bb, cbb, -tb);
        add_compensated(w.c_pb, cpb, -(dp * (ub - w.mean_b)));
        w.n = n1;
        bound(std::fabs(dp), std::fabs(db), std::fabs(tp), std::fabs(tb), 1.0 / n1);
    }
    WindowCoMoments value() const noexcept {
        WindowCoMoments v = w;
        v.c_pp = w.c_pp + cpp;
        v.c_bb = w.c_bb + cbb;
        v.c_pb = w.c_pb + cpb;
        return v;
    }
    // Takes v when the guard changed it (a constant side settled, a rebuild).
    void take(const WindowCoMoments& v) noexcept {
        const WindowCoMoments u = value();
        if (v.level_p != u.level_p || v.level_b != u.level_b || v.mean_p != u.mean_p || v.mean_b != u.mean_b ||
            v.c_pp != u.c_pp || v.c_bb != u.c_bb || v.c_pb != u.c_pb || v.err_p != u.err_p || v.err_b != u.err_b ||
            v.err_mp != u.err_mp || v.err_mb != u.err_mb) {
            w = v;
            cpp = cbb = cpb = 0.0;
        }
    }

private:
    // WindowCoMoments' bound without the rounding of the sums' own additions
    // (exact here), plus that of the compensations.
    void bound(double adp, double adb, double tp, double tb, double inv_n) noexcept {
        w.err_mp += eps * (std::fabs(w.mean_p) + adp * inv_n);
        w.err_mb += eps * (std::fabs(w.mean_b) + adb * inv_n);
        w.err_p += eps * (2.0 * tp + 0.5 * std::fabs(cpp)) + 2.0 * adp * w.err_mp;
        w.err_b += eps * (2.0 * tb + 0.5 * std::fabs(cbb)) + 2.0 * adb * w.err_mb;
    }
};

template <bool Act, bool Pair, class TP, class TB>
void rolling_time_series(View<TP> p, View<TB> b, const std::int64_t* times, std::int64_t span,
                         const RollingParams& prm, const RollingOutputs& out, double* scratch) {
    const std::ptrdiff_t T = p.size;
    RollingParams q = prm;
    q.window = T;  // the longest a window can be (read-outs of n < T compute 1 / (n - ddof))
    q.min_periods = prm.min_periods > 0 ? prm.min_periods : 1;
    SeriesSteps<Act, Pair, false, TP, TB> st(p, b, q, out);
    st.scratch = scratch;
    TimeMoments ta;
    TimeCoMoments tc;
    std::ptrdiff_t left = 0;
    constexpr std::int64_t lowest = std::numeric_limits<std::int64_t>::min();
    for (std::ptrdiff_t t = 0; t < T; ++t) {
        // (times[t] - span, times[t]]: rows at or before the edge leave; a
        // NaN on either side was never an observation
        const std::int64_t edge = times[t] < lowest + span ? lowest : times[t] - span;
        for (; left < t && times[left] <= edge; ++left) {
            if constexpr (Act) {
                const double x = st.a_at(left);
                if (x == x) ta.remove(x);
            }
            if constexpr (Pair) {
                const double x = st.p_at(left), y = st.b_at(left);
                if (x == x && y == y) tc.remove(x, y);
            }
        }
        if constexpr (Act) {
            const double x = st.a_at(t);
            if (ta.w.count() == 0.0 && std::isfinite(x)) {  // an empty window: keep it relative to the data
                ta.w.level = x;
                ta.w.mean = ta.w.m2 = ta.w.err = ta.w.err_mean = ta.c = 0.0;
            }
            if (x == x) ta.add(x);
            WindowMoments v = ta.value();
            if (v.settle_constant() || (v.needs_recompute() && (st.rebuild(v, left, t + 1), true))) ta.set(v);
            st.emit_a(t, v.count() >= st.need && v.n_bad == 0.0, v);
        }
        if constexpr (Pair) {
            const double x = st.p_at(t), y = st.b_at(t);
            if (tc.w.count() == 0.0 && std::isfinite(x) && std::isfinite(y)) {
                tc.w.level_p = x;
                tc.w.level_b = y;
                tc.w.mean_p = tc.w.mean_b = tc.w.c_pp = tc.w.c_bb = tc.w.c_pb = 0.0;
                tc.w.err_p = tc.w.err_b = tc.w.err_mp = tc.w.err_mb = 0.0;
                tc.cpp = tc.cbb = tc.cpb = 0.0;
            }
            if (x == x && y == y) tc.add(x, y);
            WindowCoMoments v = tc.value();
            if (!v.settle_constant() && v.needs_recompute()) st.rebuild(v, left, t + 1);
            tc.take(v);
            st.emit_c(t, v.count() >= st.need && v.n_bad == 0.0, v);
        }
    }
}

// The checks both forms below make once: a positive span, times that do not go back.
inline void check_times(const std::int64_t* times, std::ptrdiff_t rows, std::int64_t span) {
    if (span <= 0) throw std::invalid_argument("span (=" + std::to_string(span) + ") must be positive");
    for (std::ptrdiff_t t = 1; t < rows; ++t)
        if (times[t] < times[t - 1])
            throw std::invalid_argument("times must not go back (row " + std::to_string(t) + ")");
}

// One series (checked already), with scratch for 2 p.size doubles.
template <class TP, class TB>
void rolling_time_checked(View<TP> p, View<TB> b, const std::int64_t* times, std::int64_t span,
                          const RollingParams& prm, const RollingOutputs& out, double* scratch) {
    if (out.any_active()) rolling_time_series<true, false>(p, b, times, span, prm, out, scratch);
    if (out.any_pair()) rolling_time_series<false, true>(p, b, times, span, prm, out, scratch);
}

}  // namespace detail

/// Rolling metrics of one series over time windows: row t's window is the
/// rows with times in (times[t] - span, times[t]]. `times` holds p.size
/// non-decreasing integers (any unit: nanoseconds from pandas), `span` > 0
/// in the same unit; prm.window is ignored, prm.min_periods counts
/// observations (0: 1). Throws std::invalid_argument on a span <= 0 or times
/// that go back.
template <class TP, class TB>
void rolling_time(View<TP> p, View<TB> b, const std::int64_t* times, std::int64_t span, const RollingParams& prm,
                  const RollingOutputs& out) {
    if (b.size != p.size) throw std::invalid_argument("portfolio and benchmark lengths differ");
    detail::check_times(times, p.size, span);
    if (p.size == 0 || (!out.any_active() && !out.any_pair())) return;
    std::vector<double> scratch(static_cast<std::size_t>(2 * p.size));
    detail::rolling_time_checked(p, b, times, span, prm, out, scratch.data());
}

/// Every column of a panel (against a broadcast or per-column benchmark), on
/// up to `threads` threads (results do not depend on it).
template <class TP, class TB>
void rolling_time(const Panel<TP>& p, const Panel<TB>& b, const std::int64_t* times, std::int64_t span,
                  const RollingParams& prm, const OutPanel& out, int threads = 1) {
    detail::check_times(times, p.rows, span);
    const RollingOutputs& o = out.columns;
    if (p.rows == 0 || (!o.any_active() && !o.any_pair())) return;
    const std::ptrdiff_t n = p.cols;
    const std::ptrdiff_t k = std::max<std::ptrdiff_t>(1, std::min<std::ptrdiff_t>(threads, n));
    detail::run_parts(k, [&](std::ptrdiff_t part) {
        std::vector<double> scratch(static_cast<std::size_t>(2 * p.rows));  // one per thread
        for (std::ptrdiff_t c = n * part / k; c < n * (part + 1) / k; ++c)
            detail::rolling_time_checked(p.column(c), b.column(c), times, span, prm, out.column(c),
                                         scratch.data());
    });
}

TRACKERR_ISA_END
}  // namespace trackerr
