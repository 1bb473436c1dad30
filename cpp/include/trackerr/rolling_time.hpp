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
// Speed, measured (1e6 ticks a minute apart, '30D' windows of ~43,000 ticks):
// about 140 ns a tick, slower than pandas (39 ns), because the guard's bound
// grows by u M2 with every add and remove and a rebuild reads the whole
// window: wide windows rebuild often and expensively. A compensated M2 (or
// two stacks of mergeable summaries, each relative to its own level) would
// remove that; until then this is the exact path, not the fast one.
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

template <bool Act, bool Pair, class TP, class TB>
void rolling_time_series(View<TP> p, View<TB> b, const std::int64_t* times, std::int64_t span,
                         const RollingParams& prm, const RollingOutputs& out, double* scratch) {
    const std::ptrdiff_t T = p.size;
    RollingParams q = prm;
    q.window = T;  // the longest a window can be (read-outs of n < T compute 1 / (n - ddof))
    q.min_periods = prm.min_periods > 0 ? prm.min_periods : 1;
    SeriesSteps<Act, Pair, false, TP, TB> st(p, b, q, out);
    st.scratch = scratch;
    WindowMoments wa;
    WindowCoMoments wc;
    std::ptrdiff_t left = 0;
    constexpr std::int64_t lowest = std::numeric_limits<std::int64_t>::min();
    for (std::ptrdiff_t t = 0; t < T; ++t) {
        // (times[t] - span, times[t]]: rows at or before the edge leave
        const std::int64_t edge = times[t] < lowest + span ? lowest : times[t] - span;
        for (; left < t && times[left] <= edge; ++left) {
            if constexpr (Act) update(wa, nan_v, st.a_at(left));
            if constexpr (Pair) update(wc, nan_v, nan_v, st.p_at(left), st.b_at(left));
        }
        if constexpr (Act) {
            const double x = st.a_at(t);
            if (wa.count() == 0.0 && std::isfinite(x)) {  // an empty window: keep it relative to the data
                wa.level = x;
                wa.mean = wa.m2 = wa.err = wa.err_mean = 0.0;
            }
            update(wa, x, nan_v);
            if (!wa.settle_constant() && wa.needs_recompute()) st.rebuild(wa, left, t + 1);
            st.emit_a(t, wa.count() >= st.need && wa.n_bad == 0.0, wa);
        }
        if constexpr (Pair) {
            const double x = st.p_at(t), y = st.b_at(t);
            if (wc.count() == 0.0 && std::isfinite(x) && std::isfinite(y)) {
                wc.level_p = x;
                wc.level_b = y;
            }
            update(wc, x, y, nan_v, nan_v);
            if (!wc.settle_constant() && wc.needs_recompute()) st.rebuild(wc, left, t + 1);
            st.emit_c(t, wc.count() >= st.need && wc.n_bad == 0.0, wc);
        }
    }
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
    if (span <= 0) throw std::invalid_argument("span (=" + std::to_string(span) + ") must be positive");
    if (b.size != p.size) throw std::invalid_argument("portfolio and benchmark lengths differ");
    for (std::ptrdiff_t t = 1; t < p.size; ++t)
        if (times[t] < times[t - 1])
            throw std::invalid_argument("times must not go back (row " + std::to_string(t) + ")");
    if (p.size == 0 || (!out.any_active() && !out.any_pair())) return;
    std::vector<double> scratch(static_cast<std::size_t>(2 * p.size));
    if (out.any_active())
        detail::rolling_time_series<true, false>(p, b, times, span, prm, out, scratch.data());
    if (out.any_pair()) detail::rolling_time_series<false, true>(p, b, times, span, prm, out, scratch.data());
}

/// Every column of a panel (against a broadcast or per-column benchmark), on
/// up to `threads` threads (results do not depend on it).
template <class TP, class TB>
void rolling_time(const Panel<TP>& p, const Panel<TB>& b, const std::int64_t* times, std::int64_t span,
                  const RollingParams& prm, const OutPanel& out, int threads = 1) {
    if (span <= 0) throw std::invalid_argument("span (=" + std::to_string(span) + ") must be positive");
    for (std::ptrdiff_t t = 1; t < p.rows; ++t)
        if (times[t] < times[t - 1])
            throw std::invalid_argument("times must not go back (row " + std::to_string(t) + ")");
    const std::ptrdiff_t n = p.cols;
    const std::ptrdiff_t k = std::max<std::ptrdiff_t>(1, std::min<std::ptrdiff_t>(threads, n));
    detail::run_parts(k, [&](std::ptrdiff_t part) {
        for (std::ptrdiff_t c = n * part / k; c < n * (part + 1) / k; ++c)
            rolling_time(p.column(c), b.column(c), times, span, prm, out.column(c));
    });
}

TRACKERR_ISA_END
}  // namespace trackerr
