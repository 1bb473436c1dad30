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
// read the whole window, are rare. The mean's step multiplies by 1 / n (the
// division off the chain of dependent steps; its bound counts the extra
// rounding).
//
// A long series runs as segments (time_segment_length), each from its first
// window rebuilt, on up to `threads` threads; a panel runs its columns on the
// threads, each column as the 1-D kernel runs it. Results depend on neither.
#pragma once

#include <algorithm>
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

// The bound on the rounding of d * (1 / n), the mean's step: 1 / n rounded
// and the product rounded, at most (2u + u^2) |d| / n, taken as 1.5 eps = 3u.
inline constexpr double inv_eps_step = 1.5 * eps;

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
        const double inv = 1.0 / w.n;
        const double d = u - w.mean;
        w.mean += d * inv;
        const double t = d * (u - w.mean);
        add_compensated(w.m2, c, t);
        w.err_mean += eps * std::fabs(w.mean) + inv_eps_step * std::fabs(d) * inv;
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
        const double inv = 1.0 / n1;
        w.mean -= d * inv;
        const double t = d * (u - w.mean);
        add_compensated(w.m2, c, -t);
        w.n = n1;
        w.err_mean += eps * std::fabs(w.mean) + inv_eps_step * std::fabs(d) * inv;
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

    // One row of a time window, as the kernel and stream::TimeWindow step
    // it: each row at or before the edge leaves (a NaN never entered), then
    // the new row enters an empty window re-levelled to it, and the state
    // settles: a constant window exactly, else `rebuild(v)` from the window's
    // rows when the guard fires. enter returns the state to read out.
    void leave(double x) noexcept {
        if (x == x) remove(x);
    }
    template <class Rebuild>
    WindowMoments enter(double x, const Rebuild& rebuild) noexcept {
        if (w.count() == 0.0 && std::isfinite(x)) {  // an empty window: keep it relative to the data
            w.level = x;
            w.mean = w.m2 = w.err = w.err_mean = c = 0.0;
        }
        if (x == x) add(x);
        WindowMoments v = value();
        if (v.settle_constant() || (v.needs_recompute() && (rebuild(v), true))) set(v);
        return v;
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
    // TimeMoments' leave and enter, for the pair.
    void leave(double p, double b) noexcept {
        if (p == p && b == b) remove(p, b);
    }
    template <class Rebuild>
    WindowCoMoments enter(double p, double b, const Rebuild& rebuild) noexcept {
        if (w.count() == 0.0 && std::isfinite(p) && std::isfinite(b)) {
            w.level_p = p;
            w.level_b = b;
            w.mean_p = w.mean_b = w.c_pp = w.c_bb = w.c_pb = 0.0;
            w.err_p = w.err_b = w.err_mp = w.err_mb = 0.0;
            cpp = cbb = cpb = 0.0;
        }
        if (p == p && b == b) add(p, b);
        WindowCoMoments v = value();
        if (!v.settle_constant() && v.needs_recompute()) rebuild(v);
        take(v);
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

// The rows' edges: row t's window drops the rows with times <= edge(t).
inline std::int64_t time_edge(std::int64_t time, std::int64_t span) noexcept {
    constexpr std::int64_t lowest = std::numeric_limits<std::int64_t>::min();
    return time < lowest + span ? lowest : time - span;
}

// The first row of row `from - 1`'s window (0 for from = 0).
inline std::ptrdiff_t time_left(const std::int64_t* times, std::int64_t span, std::ptrdiff_t from) noexcept {
    if (from == 0) return 0;
    return std::upper_bound(times, times + from - 1, time_edge(times[from - 1], span)) - times;
}

// A long series is cut into segments, each starting from the window before
// it rebuilt, so segments run on any thread and give the same bits. Their
// length depends on the data alone (the first and last times, the row count
// and the span): at least 2^16 rows and at least twice the rows an average
// window holds (a start reads its window); the whole series when shorter.
// The cuts fall at every `length` rows from row 0, or, given
// RollingParams::segment and origin (a piece of a longer series, as
// trackerr.dask runs one), at `origin` and every `segment` rows after it.
inline std::ptrdiff_t time_segment_length(std::int64_t first, std::int64_t last, std::ptrdiff_t rows,
                                          std::int64_t span) noexcept {
    if (rows < 2) return std::max<std::ptrdiff_t>(rows, 1);
    const double spread = static_cast<double>(last) - static_cast<double>(first);
    const double per_window = static_cast<double>(rows) * static_cast<double>(span) / (spread + 1.0);
    const double length = std::max(65536.0, 2.0 * per_window);
    return length >= static_cast<double>(rows) ? rows : static_cast<std::ptrdiff_t>(length);
}

// The cuts of `rows` rows of times under prm (see time_segment_length).
inline Cuts time_cuts(const std::int64_t* times, std::ptrdiff_t rows, std::int64_t span,
                      const RollingParams& prm) noexcept {
    const std::ptrdiff_t L =
        prm.segment > 0 ? prm.segment : time_segment_length(times[0], times[rows - 1], rows, span);
    return Cuts{rows, std::max<std::ptrdiff_t>(L, 1), std::min(prm.origin, rows)};
}

// The states of the window of rows [first, from) (first < from), as a
// segment starting at row `from` needs them: SeriesSteps::start_window (the
// count windows' segment start), then a window whose run covers it exact.
template <bool Act, bool Pair, class Steps>
void start_time(const Steps& st, TimeMoments& ta, TimeCoMoments& tc, std::ptrdiff_t first,
                std::ptrdiff_t from) noexcept {
    WindowMoments wa;
    WindowCoMoments wc;
    st.start_window(wa, wc, first, from);
    ta = TimeMoments{};
    tc = TimeCoMoments{};
    if constexpr (Act) {
        wa.settle_constant();
        ta.set(wa);
    }
    if constexpr (Pair) {
        wc.settle_constant();
        tc.w = wc;
    }
}

// Rows [from, to) of one series, starting from the window of row from - 1
// (rows [left, from), rebuilt). `scratch` grows when a rebuild needs it.
template <bool Act, bool Pair, class TP, class TB>
void rolling_time_rows(View<TP> p, View<TB> b, const std::int64_t* times, std::int64_t span,
                       const RollingParams& prm, const RollingOutputs& out, std::ptrdiff_t from,
                       std::ptrdiff_t to, std::vector<double>& scratch) {
    RollingParams q = prm;
    q.window = p.size;  // the longest a window can be (read-outs of n < T compute 1 / (n - ddof))
    q.min_periods = prm.min_periods > 0 ? prm.min_periods : 1;
    SeriesSteps<Act, Pair, false, TP, TB> st(p, b, q, out);
    // Room to copy rows [first, last) before a rebuild.
    auto room = [&](std::ptrdiff_t first, std::ptrdiff_t last) {
        const auto k = static_cast<std::size_t>(2 * (last - first));
        if (scratch.size() < k) scratch.resize(std::max(k, 2 * scratch.size()));
        st.scratch = scratch.data();
    };
    TimeMoments ta;
    TimeCoMoments tc;
    std::ptrdiff_t left = 0;
    if (from > 0) {  // the window of row from - 1, rebuilt
        left = time_left(times, span, from);
        room(left, from);
        start_time<Act, Pair>(st, ta, tc, left, from);
    }
    for (std::ptrdiff_t t = from; t < to; ++t) {
        // (times[t] - span, times[t]]: rows at or before the edge leave
        const std::int64_t edge = time_edge(times[t], span);
        for (; left < t && times[left] <= edge; ++left) {
            if constexpr (Act) ta.leave(st.a_at(left));
            if constexpr (Pair) tc.leave(st.p_at(left), st.b_at(left));
        }
        auto rebuild = [&](auto& v) {
            room(left, t + 1);
            st.rebuild(v, left, t + 1);
        };
        if constexpr (Act) {
            const WindowMoments v = ta.enter(st.a_at(t), rebuild);
            st.emit_a(t, v.count() >= st.need && v.n_bad == 0.0, v);
        }
        if constexpr (Pair) {
            const WindowCoMoments v = tc.enter(st.p_at(t), st.b_at(t), rebuild);
            st.emit_c(t, v.count() >= st.need && v.n_bad == 0.0, v);
        }
    }
}

// The checks both forms below make once: a positive span, times that do not
// go back, cuts that are not negative.
inline void check_times(const std::int64_t* times, std::ptrdiff_t rows, std::int64_t span) {
    if (span <= 0) throw std::invalid_argument("span (=" + std::to_string(span) + ") must be positive");
    for (std::ptrdiff_t t = 1; t < rows; ++t)
        if (times[t] < times[t - 1])
            throw std::invalid_argument("times must not go back (row " + std::to_string(t) + ")");
}

inline void check_time_cuts(const RollingParams& prm) {
    if (prm.segment < 0 || prm.origin < 0)
        throw std::invalid_argument("segment (=" + std::to_string(prm.segment) + ") and origin (=" +
                                    std::to_string(prm.origin) + ") must be >= 0");
}

// One series (checked already): its segments on up to `threads` threads.
template <class TP, class TB>
void rolling_time_checked(View<TP> p, View<TB> b, const std::int64_t* times, std::int64_t span,
                          const RollingParams& prm, const RollingOutputs& out, int threads) {
    const Cuts cuts = time_cuts(times, p.size, span, prm);
    const std::ptrdiff_t segs = cuts.count();
    const std::ptrdiff_t k = std::max<std::ptrdiff_t>(1, std::min<std::ptrdiff_t>(threads, segs));
    auto part = [&](std::ptrdiff_t i) {
        std::vector<double> scratch;  // for rebuilds, grown when one needs it
        const std::ptrdiff_t s0 = segs * i / k, s1 = segs * (i + 1) / k;
        for (std::ptrdiff_t s = s0; s < s1; ++s) {
            const auto [from, to] = cuts.at(s);
            if (out.any_active()) rolling_time_rows<true, false>(p, b, times, span, prm, out, from, to, scratch);
            if (out.any_pair()) rolling_time_rows<false, true>(p, b, times, span, prm, out, from, to, scratch);
        }
    };
    if (k == 1)
        part(0);
    else
        run_parts(k, part);
}

}  // namespace detail

/// Rolling metrics of one series over time windows: row t's window is the
/// rows with times in (times[t] - span, times[t]]. `times` holds p.size
/// non-decreasing integers (any unit: nanoseconds from pandas), `span` > 0
/// in the same unit; prm.window is ignored, prm.min_periods counts
/// observations (0: 1), prm.segment and prm.origin place the segment cuts
/// (0, 0: the series' own; see time_segment_length). Throws
/// std::invalid_argument on a span <= 0, times that go back or negative cuts.
template <class TP, class TB>
void rolling_time(View<TP> p, View<TB> b, const std::int64_t* times, std::int64_t span, const RollingParams& prm,
                  const RollingOutputs& out, int threads = 1) {
    if (b.size != p.size) throw std::invalid_argument("portfolio and benchmark lengths differ");
    detail::check_times(times, p.size, span);
    detail::check_time_cuts(prm);
    if (p.size == 0 || (!out.any_active() && !out.any_pair())) return;
    detail::rolling_time_checked(p, b, times, span, prm, out, threads);
}

/// Every column of a panel (against a broadcast or per-column benchmark), on
/// up to `threads` threads (results do not depend on it).
template <class TP, class TB>
void rolling_time(const Panel<TP>& p, const Panel<TB>& b, const std::int64_t* times, std::int64_t span,
                  const RollingParams& prm, const OutPanel& out, int threads = 1) {
    detail::check_times(times, p.rows, span);
    detail::check_time_cuts(prm);
    const RollingOutputs& o = out.columns;
    if (p.rows == 0 || (!o.any_active() && !o.any_pair())) return;
    const std::ptrdiff_t n = p.cols;
    const std::ptrdiff_t k = std::max<std::ptrdiff_t>(1, std::min<std::ptrdiff_t>(threads, n));
    detail::run_parts(k, [&](std::ptrdiff_t part) {
        for (std::ptrdiff_t c = n * part / k; c < n * (part + 1) / k; ++c)
            detail::rolling_time_checked(p.column(c), b.column(c), times, span, prm, out.column(c), 1);
    });
}

TRACKERR_ISA_END
}  // namespace trackerr
