// Rolling (fixed-window) metrics over strided views: one pass over the
// series, the guarded window states of window.hpp updated in O(1) per step,
// every requested metric written at every step.
//
// Semantics are pandas': the value at t uses the window of `window` periods
// ending at t (clipped at the start of the series) and is defined when the
// window holds at least `min_periods` observations. A pair with a NaN on
// either side is not an observation; a pair holding an inf (or inf - inf) is
// one, but makes its windows NaN until it leaves.
#pragma once

#include "detail/isa.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "batch.hpp"
#include "detail/parallel.hpp"
#include "metrics.hpp"
#include "panel.hpp"
#include "view.hpp"
#include "window.hpp"

namespace trackerr {
TRACKERR_ISA_BEGIN

struct RollingParams {
    std::ptrdiff_t window = 0;
    std::ptrdiff_t min_periods = 0;  // observations needed for a value; 0 = window
    double ddof = 1.0;
    double periods = detail::nan_v;  // periods per year; NaN = per period
    double risk_free = 0.0;
    bool geometric_alpha = false;
    // Where the series is cut into segments (see rolling_plain). 0, 0: every
    // segment_length(T, window) rows from row 0. Given, the cuts fall at
    // `origin` and every `segment` rows after it (rows before `origin` are
    // one more segment; origin is 0 or at least `window`). A caller that runs
    // a long series in pieces (the Dask blocks of trackerr.dask, each with
    // `window` rows of history before it) passes the whole series' cuts and
    // gets its bits: a segment's values depend only on its rows and the
    // `window` rows before it.
    std::ptrdiff_t segment = 0;
    std::ptrdiff_t origin = 0;
};

/// A writable strided run of doubles; a null view is skipped.
struct OutView {
    double* data = nullptr;
    std::ptrdiff_t stride = sizeof(double);

    explicit operator bool() const noexcept { return data != nullptr; }
    TRACKERR_HOT void set(std::ptrdiff_t i, double v) const noexcept {
        *reinterpret_cast<double*>(reinterpret_cast<char*>(data) + i * stride) = v;
    }
    OutView offset_by(std::ptrdiff_t bytes) const noexcept {
        return data ? OutView{reinterpret_cast<double*>(reinterpret_cast<char*>(data) + bytes), stride}
                    : OutView{};
    }
};

/// Where each rolling metric goes (length-T views); unset ones are not computed.
struct RollingOutputs {
    OutView tracking_error, active_return, information_ratio;  // from the active return
    OutView beta, alpha, correlation, r_squared;               // from the pair

    bool any_active() const noexcept { return tracking_error || active_return || information_ratio; }
    bool any_pair() const noexcept { return beta || alpha || correlation || r_squared; }
};

/// A T x N output panel: column j of metric k is at data + j * col_stride.
struct OutPanel {
    RollingOutputs columns;        // views of column 0
    std::ptrdiff_t col_stride[7];  // bytes between columns, per metric (same order as RollingOutputs)

    RollingOutputs column(std::ptrdiff_t c) const noexcept {
        const RollingOutputs& o = columns;
        return RollingOutputs{o.tracking_error.offset_by(c * col_stride[0]),
                              o.active_return.offset_by(c * col_stride[1]),
                              o.information_ratio.offset_by(c * col_stride[2]),
                              o.beta.offset_by(c * col_stride[3]),
                              o.alpha.offset_by(c * col_stride[4]),
                              o.correlation.offset_by(c * col_stride[5]),
                              o.r_squared.offset_by(c * col_stride[6])};
    }
};

namespace detail {
/// Length of the independent segments a long series is cut into (rows).
inline constexpr std::ptrdiff_t rolling_segment = 2048;
}  // namespace detail

inline void check_rolling(const RollingParams& prm, std::ptrdiff_t n_p, std::ptrdiff_t n_b) {
    if (n_p != n_b)
        throw std::invalid_argument("portfolio has length " + std::to_string(n_p) +
                                    " but benchmark has length " + std::to_string(n_b));
    if (prm.window < 2)
        throw std::invalid_argument("window (=" + std::to_string(prm.window) + ") must be at least 2");
    if (!(static_cast<double>(prm.window) > prm.ddof))
        throw std::invalid_argument("window (=" + std::to_string(prm.window) + ") must exceed ddof");
    if (prm.min_periods < 0 || prm.min_periods > prm.window)
        throw std::invalid_argument("min_periods (=" + std::to_string(prm.min_periods) +
                                    ") must be between 0 and window");
}

namespace detail {
/// ddof, periods and the risk-free rate of the batch kernels (the stream
/// states check their own options with their own messages).
inline void check_rolling_options(const RollingParams& prm) {
    if (!(prm.ddof >= 0.0))
        throw std::invalid_argument("ddof (=" + std::to_string(prm.ddof) + ") must be >= 0");
    if (!(prm.periods != prm.periods || (prm.periods > 0.0 && std::isfinite(prm.periods))))
        throw std::invalid_argument("periods (=" + std::to_string(prm.periods) +
                                    ") must be positive and finite, or NaN");
    if (!std::isfinite(prm.risk_free))
        throw std::invalid_argument("risk_free (=" + std::to_string(prm.risk_free) + ") must be finite");
    if (prm.segment < 0)
        throw std::invalid_argument("segment (=" + std::to_string(prm.segment) + ") must be >= 0");
    if (prm.origin < 0 || (prm.origin > 0 && prm.origin < prm.window))
        throw std::invalid_argument("origin (=" + std::to_string(prm.origin) +
                                    ") must be 0 or at least the window (" + std::to_string(prm.window) + ")");
}
}  // namespace detail

namespace detail {

// Value i of a pair's active return, coded for the window states: NaN when
// either side is missing, +inf when the pair holds a non-finite value.
template <class TP, class TB>
inline double active_at(const View<TP>& p, const View<TB>& b, std::ptrdiff_t i) noexcept {
    const double x = static_cast<double>(p[i]), y = static_cast<double>(b[i]);
    if (x != x || y != y) return nan_v;
    const double a = x - y;
    return a == a ? a : HUGE_VAL;
}

// The window states rebuilt from their window, by value: the states in the
// hot loop never have their address taken, so they live in registers.
template <class Source>
WindowMoments rebuilt(WindowMoments s, const Source& source, std::ptrdiff_t first,
                      std::ptrdiff_t last) noexcept {
    s.recompute(source, first, last);
    return s;
}
template <class SourceP, class SourceB>
WindowCoMoments rebuilt(WindowCoMoments s, const SourceP& sp, const SourceB& sb, std::ptrdiff_t first,
                        std::ptrdiff_t last) noexcept {
    s.recompute(sp, sb, first, last);
    return s;
}

}  // namespace detail

namespace detail {

// Outputs of one step from a window state. Every path (fast, general,
// 1-D, panel) goes through these, so a metric is computed by the same
// arithmetic whichever path a step took and whichever other metrics were
// asked for.
struct Emit {
    double wd = 0.0, inv_dof = 0.0, ddof = 0.0, sqrt_p = 1.0, per_year = 1.0, risk_free = 0.0, periods = 0.0;
    bool geometric_alpha = false;
    // Which outputs are wanted: the others are not computed (left NaN).
    bool want_sd = true, want_alpha = true, want_corr = true;

    Emit() noexcept = default;
    explicit Emit(const RollingParams& prm) noexcept
        : wd(static_cast<double>(prm.window)),
          inv_dof(wd > prm.ddof ? 1.0 / (wd - prm.ddof) : nan_v),
          ddof(prm.ddof),
          sqrt_p(std::sqrt(prm.periods == prm.periods ? prm.periods : 1.0)),
          per_year(prm.periods == prm.periods ? prm.periods : 1.0),
          risk_free(prm.risk_free),
          periods(prm.periods),
          geometric_alpha(prm.geometric_alpha) {}

    Emit(const RollingParams& prm, const RollingOutputs& out) noexcept : Emit(prm) {
        want_sd = out.tracking_error || out.information_ratio;
        want_alpha = bool(out.alpha);
        want_corr = out.correlation || out.r_squared;
    }

    /// tracking error, active return, information ratio
    TRACKERR_HOT void active(const WindowMoments& s, bool ok, double* v) const noexcept {
        if (!ok) {
            v[0] = v[1] = v[2] = nan_v;
            return;
        }
        const double mean = s.level + s.mean;
        v[1] = mean * per_year;
        if (!want_sd) {
            v[0] = v[2] = nan_v;
            return;
        }
        const double idof = s.n == wd ? inv_dof : (s.n > ddof ? 1.0 / (s.n - ddof) : nan_v);
        const double sd = std::sqrt((s.m2 > 0.0 ? s.m2 : 0.0) * idof);
        v[0] = sd * sqrt_p;
        v[2] = sd > 0.0 ? mean / sd * sqrt_p : nan_v;
    }
    /// beta, alpha, correlation, R^2
    TRACKERR_HOT void pair(const WindowCoMoments& s, bool ok, double* v) const noexcept {
        if (!ok) {
            v[0] = v[1] = v[2] = v[3] = nan_v;
            return;
        }
        const CoMoments c = s.comoments();
        v[0] = metrics::beta(c);
        v[1] = !want_alpha ? nan_v
                           : (geometric_alpha ? metrics::alpha_geometric(c, risk_free, periods)
                                              : metrics::alpha(c, risk_free, periods));
        v[2] = want_corr ? metrics::correlation(c) : nan_v;
        v[3] = v[2] * v[2];
    }
};

// One general step of a window state: replace when both values are finite
// and the window is steady, else remove the old and add the new. Active
// values are coded as in active_at (NaN = missing, inf = non-finite).
inline void update(WindowMoments& s, double an, double ao) noexcept {
    const bool vn = an == an, vo = ao == ao;
    if (vn && vo && std::isfinite(an) && std::isfinite(ao) && s.n_bad == 0.0 && s.n > 0.0) {
        s.replace(an, ao, 1.0 / s.n);
    } else {
        if (vo) s.remove(ao);
        if (vn) s.add(an);
    }
}
inline void update(WindowCoMoments& s, double pn, double bn, double po, double bo) noexcept {
    const bool vn = pn == pn && bn == bn, vo = po == po && bo == bo;
    if (vn && vo && WindowCoMoments::finite(pn, bn) && WindowCoMoments::finite(po, bo) && s.n_bad == 0.0 &&
        s.n > 0.0) {
        s.replace(pn, bn, po, bo, 1.0 / s.n);
    } else {
        if (vo) s.remove(po, bo);
        if (vn) s.add(pn, bn);
    }
}

// Writes the outputs of one step (k = index of the first field in v).
TRACKERR_HOT void write_active(const RollingOutputs& out, std::ptrdiff_t t, const double* v) noexcept {
    if (out.tracking_error) out.tracking_error.set(t, v[0]);
    if (out.active_return) out.active_return.set(t, v[1]);
    if (out.information_ratio) out.information_ratio.set(t, v[2]);
}
TRACKERR_HOT void write_pair(const RollingOutputs& out, std::ptrdiff_t t, const double* v) noexcept {
    if (out.beta) out.beta.set(t, v[0]);
    if (out.alpha) out.alpha.set(t, v[1]);
    if (out.correlation) out.correlation.set(t, v[2]);
    if (out.r_squared) out.r_squared.set(t, v[3]);
}

// A full window of contiguous values rebuilt with the vectorized two-pass
// block sums of batch.hpp (the sums in lanes, not one chain of dependent
// additions). False, leaving the state alone, when the window holds a NaN or
// inf or the state does not count k finite values (the scalar recompute of
// window.hpp handles those). Used by the rolling kernels and stream::Window.
template <class TX, class TY>
bool block_rebuild(WindowMoments& wa, const TX* x, const TY* y, std::ptrdiff_t k) noexcept {
    const double m = mean_active(x, y, k);
    if (!std::isfinite(m) || wa.n != static_cast<double>(k)) return false;
    const Moments s = centred_active(x, y, k, m, m);
    if (!std::isfinite(s.m2)) return false;
    wa.level = m;
    wa.mean = s.mean;
    wa.m2 = s.m2;
    wa.err = 2.0 * eps * s.m2;
    wa.err_mean = 0.0;
    return true;
}
template <class TX, class TY>
bool block_rebuild(WindowCoMoments& wc, const TX* x, const TY* y, std::ptrdiff_t k) noexcept {
    double mx = 0.0, my = 0.0;
    mean_pair(x, y, k, mx, my);
    if (!std::isfinite(mx) || !std::isfinite(my) || wc.n != static_cast<double>(k)) return false;
    const CoMoments s = centred_pair(x, y, k, mx, my, mx, my);
    if (!std::isfinite(s.c_pp) || !std::isfinite(s.c_bb) || !std::isfinite(s.c_pb)) return false;
    wc.level_p = mx;
    wc.level_b = my;
    wc.mean_p = s.mean_p;
    wc.mean_b = s.mean_b;
    wc.c_pp = s.c_pp;
    wc.c_bb = s.c_bb;
    wc.c_pb = s.c_pb;
    wc.err_p = 2.0 * eps * s.c_pp;
    wc.err_b = 2.0 * eps * s.c_bb;
    wc.err_mp = wc.err_mb = 0.0;
    return true;
}

// The general machinery of one series: the step of any row (add/remove,
// constant windows, recomputes, min_periods, non-finite values), the start
// of a segment from the window before it, and the read-outs. The lane driver
// below runs the steady steps of several segments at once and hands a lane to
// these functions whenever its step is not a quiet replace.
template <bool Act, bool Pair, bool Contig, class TP, class TB>
struct SeriesSteps {
    View<TP> p;
    View<TB> b;
    RollingOutputs out;
    std::ptrdiff_t w;
    double need, wd;
    Emit em;
    // 2 min(w, T) doubles: strided windows are copied here before a rebuild,
    // so every layout rebuilds with the same block kernels (same bits).
    double* scratch = nullptr;

    SeriesSteps() noexcept = default;
    SeriesSteps(const View<TP>& p_, const View<TB>& b_, const RollingParams& prm, const RollingOutputs& out_)
        : p(p_),
          b(b_),
          out(out_),
          w(prm.window),
          need(static_cast<double>(prm.min_periods > 0 ? prm.min_periods : prm.window)),
          wd(static_cast<double>(prm.window)),
          em(prm, out_) {}

    double a_at(std::ptrdiff_t i) const noexcept { return active_at(p, b, i); }
    double p_at(std::ptrdiff_t i) const noexcept { return static_cast<double>(p[i]); }
    double b_at(std::ptrdiff_t i) const noexcept { return static_cast<double>(b[i]); }

    void emit_a(std::ptrdiff_t t, bool ok, const WindowMoments& s) const noexcept {
        double v[3];
        em.active(s, ok, v);
        write_active(out, t, v);
    }
    void emit_c(std::ptrdiff_t t, bool ok, const WindowCoMoments& s) const noexcept {
        double v[4];
        em.pair(s, ok, v);
        write_pair(out, t, v);
    }

    // Rebuilds from a window of contiguous data with the vectorized block
    // kernels of batch.hpp; false when the window holds a NaN or inf (the
    // general recompute handles those).
    /// Points x, y at the window [first, last) of p and b, as contiguous runs
    /// (the data itself, or a copy in the scratch space).
    template <class F>
    bool with_window(std::ptrdiff_t first, std::ptrdiff_t last, const F& f) const noexcept {
        const std::ptrdiff_t k = last - first;
        if constexpr (Contig) {
            return f(p.data + first, b.data + first, k);
        } else {
            if (!scratch) return false;
            for (std::ptrdiff_t i = 0; i < k; ++i) {
                scratch[i] = static_cast<double>(p[first + i]);
                scratch[k + i] = static_cast<double>(b[first + i]);
            }
            return f(static_cast<const double*>(scratch), static_cast<const double*>(scratch + k), k);
        }
    }

    // Rebuilds from the window with the vectorized block kernels of batch.hpp;
    // false when the window holds a NaN or inf (the general recompute handles
    // those).
    bool block_rebuild(WindowMoments& wa, std::ptrdiff_t first, std::ptrdiff_t last) const noexcept {
        return with_window(first, last, [&wa](const auto* x, const auto* y, std::ptrdiff_t k) {
            return detail::block_rebuild(wa, x, y, k);
        });
    }
    bool block_rebuild(WindowCoMoments& wc, std::ptrdiff_t first, std::ptrdiff_t last) const noexcept {
        return with_window(first, last, [&wc](const auto* x, const auto* y, std::ptrdiff_t k) {
            return detail::block_rebuild(wc, x, y, k);
        });
    }
    void rebuild(WindowMoments& wa, std::ptrdiff_t first, std::ptrdiff_t last) const noexcept {
        if (!block_rebuild(wa, first, last))
            wa = rebuilt(wa, [this](std::ptrdiff_t i) { return a_at(i); }, first, last);
    }
    void rebuild(WindowCoMoments& wc, std::ptrdiff_t first, std::ptrdiff_t last) const noexcept {
        if (!block_rebuild(wc, first, last))
            wc = rebuilt(
                wc, [this](std::ptrdiff_t i) { return p_at(i); }, [this](std::ptrdiff_t i) { return b_at(i); },
                first, last);
    }

    /// One general step at row t, outputs written.
    void step(WindowMoments& wa, WindowCoMoments& wc, std::ptrdiff_t t) const noexcept {
        const bool has_old = t >= w;
        const std::ptrdiff_t first = has_old ? t - w + 1 : 0;
        if constexpr (Act) {
            update(wa, a_at(t), has_old ? a_at(t - w) : nan_v);
            if (!wa.settle_constant() && wa.needs_recompute()) rebuild(wa, first, t + 1);
            emit_a(t, wa.count() >= need && wa.n_bad == 0.0, wa);
        }
        if constexpr (Pair) {
            update(wc, p_at(t), b_at(t), has_old ? p_at(t - w) : nan_v, has_old ? b_at(t - w) : nan_v);
            if (!wc.settle_constant() && wc.needs_recompute()) rebuild(wc, first, t + 1);
            emit_c(t, wc.count() >= need && wc.n_bad == 0.0, wc);
        }
    }

    /// The states of the window of rows [from - w, from) (from >= w), as a
    /// segment starting at `from` needs them: counts and trailing runs from
    /// the observations, moments by a two-pass rebuild.
    void start(WindowMoments& wa, WindowCoMoments& wc, std::ptrdiff_t from) const noexcept {
        wa = WindowMoments{};
        wc = WindowCoMoments{};
        if (from == 0) return;
        start_window(wa, wc, from - w, from);
    }

    /// The states of the rows [first, from) (first < from): start's work for
    /// a window of any length (the time windows' segments start with it).
    void start_window(WindowMoments& wa, WindowCoMoments& wc, std::ptrdiff_t first,
                      std::ptrdiff_t from) const noexcept {
        const double k = static_cast<double>(from - first);
        // The trailing run of equal values ending at `from - 1` (a window of
        // finite values: nothing to skip).
        auto trailing = [&](auto at, double& run, double& last) {
            last = at(from - 1);
            std::ptrdiff_t i = from - 1;
            while (i > first && at(i - 1) == last) --i;
            run = static_cast<double>(from - i);
        };
        if constexpr (Act) {
            // Usually the window is w finite values: the block kernels find
            // that out (a NaN or inf makes them fail) and give the moments.
            wa.n = k;
            if (block_rebuild(wa, first, from)) {
                trailing([this](std::ptrdiff_t i) { return a_at(i); }, wa.run, wa.last);
            } else {
                wa = WindowMoments{};
                for (std::ptrdiff_t i = first; i < from; ++i) {
                    const double x = a_at(i);
                    if (x != x) continue;
                    wa.observe(x);
                    if (!std::isfinite(x)) wa.n_bad += 1.0;
                }
                wa = rebuilt(wa, [this](std::ptrdiff_t i) { return a_at(i); }, first, from);
            }
        }
        if constexpr (Pair) {
            wc.n = k;
            if (block_rebuild(wc, first, from)) {
                trailing([this](std::ptrdiff_t i) { return p_at(i); }, wc.run_p, wc.last_p);
                trailing([this](std::ptrdiff_t i) { return b_at(i); }, wc.run_b, wc.last_b);
            } else {
                wc = WindowCoMoments{};
                for (std::ptrdiff_t i = first; i < from; ++i) {
                    const double x = p_at(i), y = b_at(i);
                    if (x != x || y != y) continue;
                    wc.observe(x, y);
                    if (!WindowCoMoments::finite(x, y)) wc.n_bad += 1.0;
                }
                auto pa = [this](std::ptrdiff_t i) { return p_at(i); };
                auto ba = [this](std::ptrdiff_t i) { return b_at(i); };
                wc = rebuilt(wc, pa, ba, first, from);
            }
        }
    }

    /// Where a task's steps begin. A task starting the series with no
    /// partial windows wanted (min_periods = window) skips the first w - 1
    /// rows, whose outputs are NaN (fewer than `window` observations): it
    /// writes those, builds the first full window as a segment start would
    /// and finishes row w - 1 as the general step does. Returns the next row.
    std::ptrdiff_t begin(WindowMoments& wa, WindowCoMoments& wc, std::ptrdiff_t first,
                         std::ptrdiff_t end) const noexcept {
        if (first != 0 || need != wd || end < w) {
            start(wa, wc, first);
            return first;
        }
        for (std::ptrdiff_t t = 0; t + 1 < w; ++t) {
            if constexpr (Act) emit_a(t, false, wa);
            if constexpr (Pair) emit_c(t, false, wc);
        }
        start(wa, wc, w);
        if constexpr (Act) {
            if (!wa.settle_constant() && wa.needs_recompute()) rebuild(wa, 0, w);
            emit_a(w - 1, wa.count() >= need && wa.n_bad == 0.0, wa);
        }
        if constexpr (Pair) {
            if (!wc.settle_constant() && wc.needs_recompute()) rebuild(wc, 0, w);
            emit_c(w - 1, wc.count() >= need && wc.n_bad == 0.0, wc);
        }
        return w;
    }

    bool steady(const WindowMoments& wa, const WindowCoMoments& wc) const noexcept {
        bool ok = true;
        if constexpr (Act) ok = ok && wa.n == wd && wa.n_bad == 0.0;
        if constexpr (Pair) ok = ok && wc.n == wd && wc.n_bad == 0.0;
        return ok;
    }
};

// Read-outs of the steady lanes, as Emit computes them for a full window of
// finite values (same operations, same order: bit-identical). Field f goes
// to dst[f][k] when dst[f] is set.
template <class V>
TRACKERR_HOT void emit_lanes(const Emit& em, const MomentLanes<V>& s, V* const* dst, std::ptrdiff_t k) noexcept {
    const V mean = s.level + s.mean;
    if (dst[1]) dst[1][k] = mean * em.per_year;
    if (em.want_sd) {
        // the quiet guard holds: M2 > 0
        const V sd = simd::sqrt<V>(s.m2 * em.inv_dof);
        if (dst[0]) dst[0][k] = sd * em.sqrt_p;
        if (dst[2]) dst[2][k] = simd::select<V>(sd > V{}, mean / sd * em.sqrt_p, simd::splat<V>(nan_v));
    }
}
template <class V>
TRACKERR_HOT void emit_lanes(const Emit& em, const CoMomentLanes<V>& s, V* const* dst, std::ptrdiff_t k) noexcept {
    // The quiet guard holds: C_pp > 0, C_bb > 0 and n = window >= 2.
    const V beta = s.c_pb / s.c_bb;
    if (dst[3]) dst[3][k] = beta;
    if (dst[4]) {
        const V mp = s.level_p + s.mean_p, mb = s.level_b + s.mean_b;
        dst[4][k] = ((mp - em.risk_free) - beta * (mb - em.risk_free)) * em.per_year;
    }
    if (em.want_corr) {
        V r = s.c_pb / simd::sqrt<V>(s.c_pp * s.c_bb);
        const V one = simd::splat<V>(1.0);
        r = simd::select<V>(r > one, one, simd::select<V>(r < -one, -one, r));
        if (dst[5]) dst[5][k] = r;
        if (dst[6]) dst[6][k] = r * r;
    }
}

/// A lane whose quiet step failed: its state goes through the general step's
/// finish (a constant window, or a rebuild from rows [first, end) of the
/// series `st` reads) and its read-out is the scalar one, into v (3 values
/// for the active lane, 4 for the pair's). Shared by the lane drivers.
template <class Steps, class V>
void fix_lane(const Steps& st, MomentLanes<V>& l, int j, double n, std::ptrdiff_t first, std::ptrdiff_t end,
              double* v) noexcept {
    WindowMoments s;
    s.n = n;
    get_lane(l, j, s);
    if (!s.settle_constant() && s.needs_recompute()) st.rebuild(s, first, end);
    st.em.active(s, true, v);
    set_lane(l, j, s);
}
template <class Steps, class V>
void fix_lane(const Steps& st, CoMomentLanes<V>& l, int j, double n, std::ptrdiff_t first, std::ptrdiff_t end,
              double* v) noexcept {
    WindowCoMoments s;
    s.n = n;
    get_lane(l, j, s);
    if (!s.settle_constant() && s.needs_recompute()) st.rebuild(s, first, end);
    st.em.pair(s, true, v);
    set_lane(l, j, s);
}

/// The largest |p| and |b| of lane j's rows, W rows at a time (row vectors
/// before the transpose: lane j's next W values), folded into lane j of
/// top_p, top_b at the end.
template <class V>
struct LaneTops {
    V p[simd::width<V>], b[simd::width<V>];

    LaneTops() noexcept {
        for (int j = 0; j < simd::width<V>; ++j) p[j] = b[j] = V{};
    }
    TRACKERR_HOT void add(const V* pn, const V* bn) noexcept {
        for (int j = 0; j < simd::width<V>; ++j) {
            p[j] = simd::max<V>(p[j], simd::abs(pn[j]));
            b[j] = simd::max<V>(b[j], simd::abs(bn[j]));
        }
    }
    void fold(V& top_p, V& top_b) const noexcept {
        for (int j = 0; j < simd::width<V>; ++j) {
            double mp = simd::get(top_p, j), mb = simd::get(top_b, j);
            for (int i = 0; i < simd::width<V>; ++i) {
                mp = std::max(mp, simd::get(p[j], i));
                mb = std::max(mb, simd::get(b[j], i));
            }
            simd::set(top_p, j, mp);
            simd::set(top_b, j, mb);
        }
    }
};

/// A block's W output vectors (rows[i]: step i across the lanes) transposed
/// in registers and stored at dests[j] + k0, lane j's W values in one store;
/// a null lane (idle) is skipped.
template <class V>
TRACKERR_HOT void store_block(const V* rows, double* const* dests, std::ptrdiff_t k0) noexcept {
    constexpr int W = simd::width<V>;
    V o[W];
    for (int i = 0; i < W; ++i) o[i] = rows[i];
    simd::transpose(o);
    for (int j = 0; j < W; ++j)
        if (dests[j]) simd::store<V>(dests[j] + k0, o[j]);
}

/// The steady vector steps of a run where lane j reads its own stretch of a
/// contiguous 1-D series of doubles (p from pp[j], b from pb[j], the values
/// leaving w rows earlier), in blocks of W steps: each block loads W vectors
/// per input and transposes them into W steps (instead of W scalar loads per
/// input and step). Steps k of [0, K) are taken exactly as rolling_lanes'
/// own loop takes them (same operations, same order: bit-identical), and
/// `fix` is called on a step that was not quiet. Returns the steps done: the
/// start of the first block whose entering values are not all finite, or of
/// the last block shorter than W (both left to the caller's loop).
///
/// The block's entering values are checked finite in one test (x - x is 0
/// for a finite x and NaN otherwise) before its steps; the quiet test stays
/// per step here (series_blocks_te runs the block first and tests once, which
/// measured slower for the pair: saving its 15 state vectors spilled).
///
/// When `final_out` is given (field f of lane j at final_out[f * W + j], a
/// contiguous array, null for an idle lane), each block's outputs are also
/// transposed in registers and stored there, which the caller then need not
/// copy out of the lane-interleaved `dst`.
template <class V, bool Act, bool Pair, int Only, class Fix>
TRACKERR_APART std::ptrdiff_t series_blocks(MomentLanes<V>& ha_io, CoMomentLanes<V>& hc_io, const double* const* pp,
                                            const double* const* pb, std::ptrdiff_t K, std::ptrdiff_t w,
                                            const V& inv_n, const V& nv, const Emit& em, V* const* dst,
                                            V& top_p_io, V& top_b_io, double* const* final_out,
                                            const Fix& fix) noexcept {
    constexpr int W = simd::width<V>;
    // Locals (no pointer to them escapes but around `fix`): the compiler can
    // keep them in registers, as the output stores cannot alias them.
    MomentLanes<V> ha = ha_io;
    CoMomentLanes<V> hc = hc_io;
    const V inv = inv_n, n = nv;
    Emit e = em;  // a V store could otherwise alias the read-out's factors
    V* out[7];
    for (int f = 0; f < 7; ++f) out[f] = (Only < 0 || f == Only) ? dst[f] : nullptr;
    // One output field known at compile time (Only >= 0): the read-out's
    // tests of the other fields fold away.
    if constexpr (Only == 3) e.want_corr = false;
    if constexpr (Only == 5) e.want_corr = true;
    LaneTops<V> tops;
    std::ptrdiff_t k0 = 0;
    for (; k0 + W <= K; k0 += W) {
        V pn[W], bn[W], po[W], bo[W];
        V nan_any{};
        for (int j = 0; j < W; ++j) {
            pn[j] = simd::load<V>(pp[j] + k0);
            bn[j] = simd::load<V>(pb[j] + k0);
            po[j] = simd::load<V>(pp[j] + k0 - w);
            bo[j] = simd::load<V>(pb[j] + k0 - w);
            // the active lanes need a finite p - b (it implies finite p and
            // b), the pair's finite p and b
            if constexpr (Act) nan_any = nan_any + ((pn[j] - bn[j]) - (pn[j] - bn[j]));
            if constexpr (Pair) nan_any = nan_any + ((pn[j] - pn[j]) + (bn[j] - bn[j]));
        }
        if (!simd::all<V>(nan_any == V{})) break;
        tops.add(pn, bn);
        simd::transpose(pn);
        simd::transpose(bn);
        simd::transpose(po);
        simd::transpose(bo);
        for (int i = 0; i < W; ++i) {
            const std::ptrdiff_t k = k0 + i;
            simd::mask<V> qa{}, qc{};
            bool quiet = true;
            if constexpr (Act) {
                ha.replace(pn[i] - bn[i], po[i] - bo[i], inv);
                qa = ha.quiet(n) & (ha.run < n);
                quiet = simd::all<V>(qa);
                emit_lanes(e, ha, out, k);
            }
            if constexpr (Pair) {
                hc.replace(pn[i], bn[i], po[i], bo[i], inv);
                qc = hc.quiet(n) & (hc.run_p < n) & (hc.run_b < n);
                quiet = quiet & simd::all<V>(qc);
                emit_lanes(e, hc, out, k);
            }
            if (!quiet) {
                ha_io = ha;
                hc_io = hc;
                fix(k, qa, qc);  // writes the lanes it fixed into out[.][k]
                ha = ha_io;
                hc = hc_io;
            }
        }
        if (final_out)
            for (int f = 0; f < 7; ++f)
                if (out[f]) store_block(out[f] + k0, final_out + f * W, k0);
    }
    ha_io = ha;
    hc_io = hc;
    tops.fold(top_p_io, top_b_io);
    return k0;
}

/// series_blocks for the tracking error alone (the active lanes, output
/// field 0), the case users time most: the active values a = p - b are
/// formed before the transpose (the difference of transposed blocks is the
/// transpose of the difference), so two blocks are transposed per W steps
/// instead of four. Otherwise as series_blocks, bit for bit.
///
/// When `final_out` is given (lane j's contiguous output at final_out[j],
/// null for an idle lane), each block's outputs are also transposed in
/// registers and stored there (lane j's W outputs in one vector), which the
/// caller then need not copy out of the lane-interleaved `dst[0]`.
template <class V, class Fix>
TRACKERR_APART std::ptrdiff_t series_blocks_te(MomentLanes<V>& ha_io, const double* const* pp, const double* const* pb,
                                               std::ptrdiff_t K, std::ptrdiff_t w, const V& inv_n, const V& nv,
                                               const Emit& em, V* const* dst, V& top_p_io, V& top_b_io,
                                               double* const* final_out, const Fix& fix) noexcept {
    constexpr int W = simd::width<V>;
    MomentLanes<V> ha = ha_io;
    const V inv = inv_n, n = nv;
    // emit_lanes' tracking error, written out: sd * sqrt_p, and sd itself
    // when sqrt_p is 1 (x * 1 is x, bit for bit)
    V* const out = dst[0];
    const V idof = simd::splat<V>(em.inv_dof), sp = simd::splat<V>(em.sqrt_p);
    const bool scaled = em.sqrt_p != 1.0;
    auto emit = [&](std::ptrdiff_t k) {
        const V sd = simd::sqrt<V>(ha.m2 * idof);
        out[k] = scaled ? sd * sp : sd;
    };
    LaneTops<V> tops;
    std::ptrdiff_t k0 = 0;
    for (; k0 + W <= K; k0 += W) {
        V an[W], ao[W], pn[W], bn[W];
        V nan_any{};
        for (int j = 0; j < W; ++j) {
            pn[j] = simd::load<V>(pp[j] + k0);
            bn[j] = simd::load<V>(pb[j] + k0);
            an[j] = pn[j] - bn[j];
            ao[j] = simd::load<V>(pp[j] + k0 - w) - simd::load<V>(pb[j] + k0 - w);
            nan_any = nan_any + (an[j] - an[j]);
        }
        if (!simd::all<V>(nan_any == V{})) break;
        tops.add(pn, bn);
        simd::transpose(an);
        simd::transpose(ao);
        const MomentLanes<V> ha0 = ha;
        simd::mask<V> ok = n == n;
        for (int i = 0; i < W; ++i) {
            ha.replace(an[i], ao[i], inv);
            ok = ok & ha.quiet(n) & (ha.run < n);
            emit(k0 + i);
        }
        if (!simd::all<V>(ok)) {
            ha = ha0;
            for (int i = 0; i < W; ++i) {
                const std::ptrdiff_t k = k0 + i;
                ha.replace(an[i], ao[i], inv);
                const simd::mask<V> qa = ha.quiet(n) & (ha.run < n);
                emit(k);
                if (!simd::all<V>(qa)) {
                    ha_io = ha;
                    fix(k, qa, simd::mask<V>{});  // writes the lanes it fixed into out[k]
                    ha = ha_io;
                }
            }
        }
        if (final_out) store_block(out + k0, final_out, k0);
    }
    ha_io = ha;
    tops.fold(top_p_io, top_b_io);
    return k0;
}

inline constexpr std::ptrdiff_t lane_run = 128;  // steady steps between lane bookkeeping
inline constexpr std::ptrdiff_t prefetch_rows = 24;  // how far ahead panel rows are fetched

/// One stretch of work for a lane: rows [first, end) of one series (a
/// segment of a 1-D series, or of a panel's column), outputs from `first` on.
template <class TP, class TB>
struct LaneTask {
    View<TP> p;
    View<TB> b;
    RollingOutputs out;
    std::ptrdiff_t first = 0, end = 0;
    /// Where the largest finite |p|, |b| of rows [first, end) are max-folded
    /// (two doubles; may be shared by tasks of one series), for the rescaling
    /// of tiny or huge series.
    double* top = nullptr;
};

/// Runs tasks 0..n_tasks-1 (task(i) describes task i) W at a time in the lanes
/// of V: each lane takes the next task when its own ends, starts it from the
/// window before its first row, and every row where all busy lanes are steady
/// is one vector step. A task's results depend only on the task, never on the
/// lane, on the other lanes or on W. All tasks share the data's strides.
template <class V, bool Act, bool Pair, bool Contig, class TP, class TB, class Task>
void rolling_lanes(const RollingParams& prm, std::ptrdiff_t n_tasks, const Task& task) {
    constexpr int W = simd::width<V>;
    using Steps = SeriesSteps<Act, Pair, Contig, TP, TB>;
    const std::ptrdiff_t w = prm.window;
    const double wd = static_cast<double>(w);
    const V inv_n = simd::splat<V>(1.0 / wd), nv = simd::splat<V>(wd);

    struct Lane {
        std::ptrdiff_t t = 0, end = 0;
        bool busy = false;
        WindowMoments wa;
        WindowCoMoments wc;
        Steps st;
        double top_p = 0.0, top_b = 0.0;  // largest finite |p|, |b| seen
        double* sink = nullptr;           // the task's LaneTask::top
    };
    const LaneTask<TP, TB> t0 = task(0);
    const Steps st0(t0.p, t0.b, prm, t0.out);
    Lane lns[W] = {};
    std::vector<double> scratch;
    if constexpr (!Contig) {
        // rebuilds happen only on full windows, which fit in the series
        const std::ptrdiff_t longest = std::min(w, t0.p.size);
        scratch.resize(static_cast<std::size_t>(2 * longest * W));
    }
    for (int j = 0; j < W; ++j) {
        lns[j].st = st0;
        if constexpr (!Contig) lns[j].st.scratch = scratch.data() + 2 * std::min(w, t0.p.size) * j;
    }
    std::ptrdiff_t next = 0;
    auto flush = [](Lane& ln) {
        if (ln.sink) {
            ln.sink[0] = std::max(ln.sink[0], ln.top_p);
            ln.sink[1] = std::max(ln.sink[1], ln.top_b);
        }
        ln.top_p = ln.top_b = 0.0;
    };
    auto take = [&](Lane& ln) {
        flush(ln);
        ln.busy = next < n_tasks;
        if (!ln.busy) return;
        const LaneTask<TP, TB> tk = task(next++);
        ln.st.p = tk.p;
        ln.st.b = tk.b;
        ln.st.out = tk.out;
        ln.end = tk.end;
        ln.sink = tk.top;
        ln.t = ln.st.begin(ln.wa, ln.wc, tk.first, tk.end);
        // the rows begin() skipped still count for the largest |p|, |b|
        for (std::ptrdiff_t i = tk.first; i < ln.t; ++i) {
            const double x = std::fabs(ln.st.p_at(i)), y = std::fabs(ln.st.b_at(i));
            if (x <= std::numeric_limits<double>::max()) ln.top_p = std::max(ln.top_p, x);
            if (y <= std::numeric_limits<double>::max()) ln.top_b = std::max(ln.top_b, y);
        }
    };
    for (Lane& ln : lns) take(ln);
    const Steps& st = st0;
    const RollingOutputs& out = t0.out;
    const std::ptrdiff_t sp = t0.p.stride, sb = t0.b.stride;
    static constexpr OutView RollingOutputs::*field_of[7] = {
        &RollingOutputs::tracking_error, &RollingOutputs::active_return, &RollingOutputs::information_ratio,
        &RollingOutputs::beta,           &RollingOutputs::alpha,         &RollingOutputs::correlation,
        &RollingOutputs::r_squared};
    // The vector steps' outputs, lane-interleaved, copied out after each run.
    const OutView* ov[7] = {&out.tracking_error, &out.active_return, &out.information_ratio, &out.beta,
                            &out.alpha,          &out.correlation,   &out.r_squared};
    int fields[7], n_fields = 0;
    for (int f = 0; f < 7; ++f)
        if (*ov[f] && !(f == 4 && st.em.geometric_alpha)) fields[n_fields++] = f;
    const bool geo_alpha = Pair && out.alpha && st.em.geometric_alpha;
    // Plain doubles (no std::vector<V>: the standard library is compiled for
    // the baseline instruction set, and must never pass a wide vector by
    // value), aligned by hand for V.
    std::vector<double> buf(static_cast<std::size_t>((n_fields + (geo_alpha ? 6 : 0)) * lane_run * W + W));
    V* const bv_all = reinterpret_cast<V*>(
        buf.data() + ((sizeof(V) - reinterpret_cast<std::uintptr_t>(buf.data()) % sizeof(V)) % sizeof(V)) /
                         sizeof(double));

    for (;;) {
        bool any = false, vec = true;
        std::ptrdiff_t K = lane_run;
        for (const Lane& ln : lns) {
            if (!ln.busy) continue;
            any = true;
            vec = vec && ln.st.steady(ln.wa, ln.wc);
            K = std::min(K, ln.end - ln.t);
        }
        if (!any) break;
        std::ptrdiff_t done = 0, copied = 0;  // copied: rows whose outputs a kernel stored already
        if (vec) {
            // Register copies of the lanes' states and data pointers.
            MomentLanes<V> ha{};
            CoMomentLanes<V> hc{};
            const TP* pp[W];
            const TB* pb[W];
            // Idle lanes repeat a busy lane's work (its state and its data):
            // they are quiet exactly when it is, and their outputs are dropped.
            int first_busy = 0;
            while (!lns[first_busy].busy) ++first_busy;
            for (int j = 0; j < W; ++j) {
                const Lane& ln = lns[j].busy ? lns[j] : lns[first_busy];
                if constexpr (Act) set_lane(ha, j, ln.wa);
                if constexpr (Pair) set_lane(hc, j, ln.wc);
                pp[j] = offset(ln.st.p.data, ln.t * sp);
                pb[j] = offset(ln.st.b.data, ln.t * sb);
            }
            auto at_p = [&](int j, std::ptrdiff_t k) {
                if constexpr (Contig)
                    return static_cast<double>(pp[j][k]);
                else
                    return static_cast<double>(*offset(pp[j], k * sp));
            };
            auto at_b = [&](int j, std::ptrdiff_t k) {
                if constexpr (Contig)
                    return static_cast<double>(pb[j][k]);
                else
                    return static_cast<double>(*offset(pb[j], k * sb));
            };
            V* const bv = bv_all;
            V* dst[7] = {};
            for (int i = 0; i < n_fields; ++i) dst[fields[i]] = bv + i * lane_run;
            // Lanes on neighbouring columns of a C-order float64 panel, in step
            // (same rows): rows are read as vectors (the benchmark broadcast or
            // its own neighbouring columns) and outputs written as vectors.
            bool rows_p = false, rows_b = false, bcast_b = false, rows_out = false;
            if constexpr (std::is_same_v<TP, double> && W > 1) {
                rows_p = true;
                bcast_b = true;
                rows_b = std::is_same_v<TB, double>;
                rows_out = true;
                for (int j = 0; j < W; ++j) {
                    const Lane& ln = lns[j];
                    rows_p = rows_p && ln.busy && ln.t == lns[0].t && pp[j] == pp[0] + j;
                    bcast_b = bcast_b && pb[j] == pb[0];
                    rows_b = rows_b && reinterpret_cast<const char*>(pb[j]) ==
                                           reinterpret_cast<const char*>(pb[0]) + j * sizeof(double);
                    for (int i = 0; i < n_fields; ++i) {
                        const OutView& o = ln.st.out.*field_of[fields[i]];
                        const OutView& o0 = lns[0].st.out.*field_of[fields[i]];
                        rows_out = rows_out && o.stride == o0.stride && o.data == o0.data + j;
                    }
                }
                rows_out = rows_out && rows_p && !geo_alpha;
            }
            const bool vec_p = rows_p && (bcast_b || rows_b);
            V top_p = V{}, top_b = V{};
            std::ptrdiff_t t_lane[W];
            for (int j = 0; j < W; ++j) t_lane[j] = lns[j].busy ? lns[j].t : lns[first_busy].t;
            // A lane whose step was not quiet: its state goes through the
            // general step's finish (constant window, rebuild from the window)
            // and its outputs are written by the scalar read-out. The vector
            // step already did the general step's update, bit for bit.
            auto fix = [&](std::ptrdiff_t k, const simd::mask<V>& qa, const simd::mask<V>& qc) TRACKERR_COLD {
                for (int j = 0; j < W; ++j) {
                    const std::ptrdiff_t t = t_lane[j] + k, first = t - w + 1;
                    const Lane& ln = lns[j].busy ? lns[j] : lns[first_busy];
                    double* slot = reinterpret_cast<double*>(bv) + k * W + j;
                    if constexpr (Act) {
                        if (!simd::lane<V>(qa, j)) {
                            double v[3];
                            fix_lane(ln.st, ha, j, wd, first, t + 1, v);
                            for (int f = 0; f < 3; ++f)
                                if (dst[f]) slot[(dst[f] - bv) * W] = v[f];
                        }
                    }
                    if constexpr (Pair) {
                        if (!simd::lane<V>(qc, j)) {
                            double v[4];
                            fix_lane(ln.st, hc, j, wd, first, t + 1, v);
                            for (int f = 0; f < 4; ++f)
                                if (dst[3 + f]) slot[(dst[3 + f] - bv) * W] = v[f];
                        }
                    }
                }
            };
            if constexpr (Contig && W > 1 && std::is_same_v<TP, double> && std::is_same_v<TB, double>) {
                if (!vec_p && !geo_alpha) {
                    const double* pd[W];
                    const double* bd[W];
                    for (int j = 0; j < W; ++j) {
                        pd[j] = pp[j];
                        bd[j] = pb[j];
                    }
                    // the lone fields users ask for most: tracking error, beta, correlation
                    const int only = n_fields == 1 ? fields[0] : -1;
                    // Lanes whose output is a contiguous array get it stored by
                    // the kernels, block by block (field f of lane j at
                    // fo[f * W + j]). One field only: with all seven (W lanes
                    // times 7 arrays written at once) it measured slower than
                    // copying each out in turn after the run.
                    double* fo[7 * W] = {};
                    bool direct = n_fields == 1;
                    for (int i = 0; i < n_fields; ++i) {
                        const int f = fields[i];
                        for (int j = 0; j < W; ++j) {
                            const OutView& o = lns[j].st.out.*field_of[f];
                            direct = direct && o.stride == static_cast<std::ptrdiff_t>(sizeof(double));
                            fo[f * W + j] = lns[j].busy ? o.data + lns[j].t : nullptr;
                        }
                    }
                    double* const* const fo_or_null = direct ? fo : nullptr;
                    if (Act && !Pair && only == 0)
                        done = series_blocks_te<V>(ha, pd, bd, K, w, inv_n, nv, st.em, dst, top_p, top_b,
                                                   fo_or_null, fix);
                    else if (Pair && !Act && only == 3)
                        done = series_blocks<V, Act, Pair, 3>(ha, hc, pd, bd, K, w, inv_n, nv, st.em, dst, top_p,
                                                              top_b, fo_or_null, fix);
                    else if (Pair && !Act && only == 5)
                        done = series_blocks<V, Act, Pair, 5>(ha, hc, pd, bd, K, w, inv_n, nv, st.em, dst, top_p,
                                                              top_b, fo_or_null, fix);
                    else
                        done = series_blocks<V, Act, Pair, -1>(ha, hc, pd, bd, K, w, inv_n, nv, st.em, dst, top_p,
                                                               top_b, fo_or_null, fix);
                    if (direct) copied = done;
                }
            }
            for (; done < K; ++done) {
                const std::ptrdiff_t k = done;
                V pn{}, bn{};
                if (vec_p) {
                    // Rows of a C-order panel are far apart (a page or more):
                    // the hardware prefetchers do not follow, so ask ahead.
                    __builtin_prefetch(offset(pp[0], (k + prefetch_rows) * sp));
                    if constexpr (std::is_same_v<TP, double> && std::is_same_v<TB, double>) {
                        pn = simd::load<V>(offset(pp[0], k * sp));
                        bn = bcast_b ? simd::splat<V>(at_b(0, k)) : simd::load<V>(offset(pb[0], k * sb));
                    } else if constexpr (std::is_same_v<TP, double>) {
                        pn = simd::load<V>(offset(pp[0], k * sp));
                        bn = simd::splat<V>(at_b(0, k));
                    }
                } else {
                    for (int j = 0; j < W; ++j) {
                        simd::set(pn, j, at_p(j, k));
                        simd::set(bn, j, at_b(j, k));
                    }
                }
                // A steady window holds w finite values, so the values leaving
                // are finite: only the entering ones are checked, before the
                // step (a NaN or inf is a general step for the whole row).
                if constexpr (Act) {
                    if (!simd::all<V>(simd::finite<V>(pn - bn))) break;
                }
                if constexpr (Pair) {
                    if (!simd::all<V>(simd::finite(pn) & simd::finite(bn))) break;
                }
                top_p = simd::max<V>(top_p, simd::abs(pn));
                top_b = simd::max<V>(top_b, simd::abs(bn));
                simd::mask<V> qa{}, qc{};
                bool quiet = true;
                if constexpr (Act) {
                    V xo{};
                    if (vec_p) {
                        V po{}, bo{};
                        if constexpr (std::is_same_v<TP, double>) po = simd::load<V>(offset(pp[0], (k - w) * sp));
                        if constexpr (std::is_same_v<TB, double>)
                            bo = bcast_b ? simd::splat<V>(at_b(0, k - w)) : simd::load<V>(offset(pb[0], (k - w) * sb));
                        else
                            bo = simd::splat<V>(at_b(0, k - w));
                        xo = po - bo;
                    } else {
                        for (int j = 0; j < W; ++j) simd::set(xo, j, at_p(j, k - w) - at_b(j, k - w));
                    }
                    ha.replace(pn - bn, xo, inv_n);
                    qa = ha.quiet(nv) & (ha.run < nv);
                    quiet = simd::all<V>(qa);
                    emit_lanes(st.em, ha, dst, k);
                }
                if constexpr (Pair) {
                    V po{}, bo{};
                    if (vec_p) {
                        if constexpr (std::is_same_v<TP, double>) po = simd::load<V>(offset(pp[0], (k - w) * sp));
                        if constexpr (std::is_same_v<TB, double>)
                            bo = bcast_b ? simd::splat<V>(at_b(0, k - w)) : simd::load<V>(offset(pb[0], (k - w) * sb));
                        else
                            bo = simd::splat<V>(at_b(0, k - w));
                    } else {
                        for (int j = 0; j < W; ++j) {
                            simd::set(po, j, at_p(j, k - w));
                            simd::set(bo, j, at_b(j, k - w));
                        }
                    }
                    hc.replace(pn, bn, po, bo, inv_n);
                    qc = hc.quiet(nv) & (hc.run_p < nv) & (hc.run_b < nv);
                    quiet = quiet & simd::all<V>(qc);
                    emit_lanes(st.em, hc, dst, k);
                }
                if (!quiet) fix(k, qa, qc);
                if constexpr (Pair) {
                    if (geo_alpha) {
                        V* g = bv + n_fields * lane_run;
                        g[k] = hc.level_p + hc.mean_p;
                        g[lane_run + k] = hc.level_b + hc.mean_b;
                        g[2 * lane_run + k] = hc.c_pp;
                        g[3 * lane_run + k] = hc.c_bb;
                        g[4 * lane_run + k] = hc.c_pb;
                    }
                }
            }
            if (rows_out) {
                for (int i = 0; i < n_fields; ++i) {
                    const OutView& o = lns[0].st.out.*field_of[fields[i]];
                    const V* src = bv + i * lane_run;
                    for (std::ptrdiff_t k = 0; k < done; ++k) {
                        __builtin_prefetch(offset(o.data, (lns[0].t + k + prefetch_rows) * o.stride), 1);
                        simd::store(offset(o.data, (lns[0].t + k) * o.stride), src[k]);
                    }
                }
            }
            for (int j = 0; j < W; ++j) {
                Lane& ln = lns[j];
                if (!ln.busy) continue;
                const OutView* lo[7] = {&ln.st.out.tracking_error, &ln.st.out.active_return,
                                        &ln.st.out.information_ratio, &ln.st.out.beta,
                                        &ln.st.out.alpha,          &ln.st.out.correlation,
                                        &ln.st.out.r_squared};
                for (int i = 0; i < n_fields && !rows_out; ++i) {
                    const OutView& o = *lo[fields[i]];
                    const double* src = reinterpret_cast<const double*>(bv + i * lane_run) + j;
                    if (o.stride == static_cast<std::ptrdiff_t>(sizeof(double))) {
                        double* d = o.data + ln.t;
                        for (std::ptrdiff_t k = copied; k < done; ++k) d[k] = src[k * W];
                    } else {
                        for (std::ptrdiff_t k = copied; k < done; ++k) o.set(ln.t + k, src[k * W]);
                    }
                }
                if (geo_alpha) {
                    const V* g = bv + n_fields * lane_run;
                    for (std::ptrdiff_t k = 0; k < done; ++k) {
                        CoMoments c;
                        c.n = wd;
                        c.mean_p = simd::get(g[k], j);
                        c.mean_b = simd::get(g[lane_run + k], j);
                        c.c_pp = simd::get(g[2 * lane_run + k], j);
                        c.c_bb = simd::get(g[3 * lane_run + k], j);
                        c.c_pb = simd::get(g[4 * lane_run + k], j);
                        ln.st.out.alpha.set(ln.t + k, metrics::alpha_geometric(c, st.em.risk_free, st.em.periods));
                    }
                }
                if constexpr (Act) get_lane(ha, j, ln.wa);
                if constexpr (Pair) get_lane(hc, j, ln.wc);
                ln.top_p = std::max(ln.top_p, simd::get(top_p, j));
                ln.top_b = std::max(ln.top_b, simd::get(top_b, j));
                ln.t += done;
            }
        }
        if (done < K) {
            // A row where some lane is not steady or its step not quiet: every
            // busy lane takes the general step (for a steady lane with a quiet
            // step it computes exactly what the vector step would).
            for (Lane& ln : lns) {
                if (!ln.busy) continue;
                ln.st.step(ln.wa, ln.wc, ln.t);
                const double x = std::fabs(ln.st.p_at(ln.t)), y = std::fabs(ln.st.b_at(ln.t));
                if (x <= std::numeric_limits<double>::max()) ln.top_p = std::max(ln.top_p, x);
                if (y <= std::numeric_limits<double>::max()) ln.top_b = std::max(ln.top_b, y);
                ++ln.t;
            }
        }
        for (Lane& ln : lns)
            if (ln.busy && ln.t == ln.end) take(ln);
    }
    for (Lane& ln : lns) flush(ln);
}

/// The lane type of this build's kernels (see detail/simd.hpp).
#if defined(TRACKERR_SIMD_LANES) && defined(TRACKERR_LANES)
#if TRACKERR_LANES == 8
using lane_t = simd::d8;
#elif TRACKERR_LANES == 4
using lane_t = simd::d4;
#elif TRACKERR_LANES == 2
using lane_t = simd::d2;
#else
using lane_t = double;
#endif
#elif defined(TRACKERR_SIMD_LANES)
using lane_t = simd::d2;
#else
using lane_t = double;
#endif


/// Rows per segment of a series of window w: long enough that starting a
/// segment (a pass over the window before it) costs little, short enough that
/// a series of ordinary length fills the lanes. Fixed by w alone, so results
/// depend neither on the lanes nor on `threads`.
inline std::ptrdiff_t segment_rows(std::ptrdiff_t w) noexcept {
    return std::max<std::ptrdiff_t>(rolling_segment, 8 * w);
}

}  // namespace detail

namespace detail {

/// The segments of a series of T rows: [0, origin) when origin > 0, then
/// runs of L rows from origin (the last one shorter).
struct Cuts {
    std::ptrdiff_t T = 0, L = 1, origin = 0;

    std::ptrdiff_t count() const noexcept {
        const std::ptrdiff_t head = origin > 0 ? 1 : 0;
        return head + (T > origin ? (T - origin + L - 1) / L : 0);
    }
    /// Segment i as [first, end).
    std::pair<std::ptrdiff_t, std::ptrdiff_t> at(std::ptrdiff_t i) const noexcept {
        if (origin > 0) {
            if (i == 0) return {0, origin};
            --i;
        }
        const std::ptrdiff_t first = origin + i * L;
        return {first, std::min(T, first + L)};
    }
};

/// The (column, segment) tasks of columns [c0, c0 + n_cols) and segments
/// [s0, s0 + n_segs) of a panel (a 1-D series is a panel of one column). With
/// `by_row`, the columns of a segment come one after the other (neighbouring
/// columns of a C-order panel then sit in neighbouring lanes); else the
/// segments of a column.
template <class TP, class TB>
struct SegmentTasks {
    Panel<TP> p;
    Panel<TB> b;
    OutPanel out;
    std::ptrdiff_t c0 = 0, n_cols = 1, s0 = 0, n_segs = 1;
    Cuts cuts;
    bool by_row = false;
    double* tops = nullptr;  // |p|, |b| per column (index c - c0)

    LaneTask<TP, TB> operator()(std::ptrdiff_t i) const noexcept {
        const std::ptrdiff_t c = c0 + (by_row ? i % n_cols : i / n_segs);
        const std::ptrdiff_t s = s0 + (by_row ? i / n_cols : i % n_segs);
        const auto [first, end] = cuts.at(s);
        return LaneTask<TP, TB>{p.column(c), b.column(c), out.column(c), first, end, tops + 2 * (c - c0)};
    }
};

/// All the tasks, in the lanes of V.
template <class V, class TP, class TB>
void run_tasks_in(const RollingParams& prm, const SegmentTasks<TP, TB>& tasks) {
    const std::ptrdiff_t n = tasks.n_cols * tasks.n_segs;
    if (n <= 0) return;
    const bool act = tasks.out.columns.any_active(), pair = tasks.out.columns.any_pair();
    const bool contiguous = tasks.p.column(0).contiguous() && tasks.b.column(0).contiguous();
    if (contiguous) {
        if (act && pair) return rolling_lanes<V, true, true, true, TP, TB>(prm, n, tasks);
        if (act) return rolling_lanes<V, true, false, true, TP, TB>(prm, n, tasks);
        if (pair) return rolling_lanes<V, false, true, true, TP, TB>(prm, n, tasks);
        return;
    }
    if (act && pair) return rolling_lanes<V, true, true, false, TP, TB>(prm, n, tasks);
    if (act) return rolling_lanes<V, true, false, false, TP, TB>(prm, n, tasks);
    if (pair) return rolling_lanes<V, false, true, false, TP, TB>(prm, n, tasks);
}

/// All the tasks, in this build's lanes. (Wider lanes for C-order panels,
/// four vectors side by side, measured slower: the states spill.)
template <class TP, class TB>
void run_tasks(const RollingParams& prm, const SegmentTasks<TP, TB>& tasks) {
    run_tasks_in<lane_t>(prm, tasks);
}

/// Rows per segment for a series of T rows and window w: one segment when
/// w > (T - 1) / 8 (also any window from 2^60 on: 8 w would overflow). Else
/// about segment_rows(w) rows, with the number of segments rounded down to a
/// multiple of 8 (from 8 segments on), so that vectors of 2, 4 or 8 lanes
/// are all busy to the end. A function of T and w alone.
inline std::ptrdiff_t segment_length(std::ptrdiff_t T, std::ptrdiff_t w) noexcept {
    if (w > (T - 1) / 8) return std::max<std::ptrdiff_t>(T, 1);
    const std::ptrdiff_t L0 = segment_rows(w);
    std::ptrdiff_t S = (T + L0 - 1) / L0;
    if (S >= 8) S -= S % 8;
    return (T + S - 1) / S;
}

/// The cuts of a series of T rows under prm (see RollingParams::segment).
inline Cuts cuts_of(std::ptrdiff_t T, const RollingParams& prm) noexcept {
    const std::ptrdiff_t L = prm.segment > 0 ? prm.segment : segment_length(T, prm.window);
    return Cuts{T, std::max<std::ptrdiff_t>(L, 1), std::min(prm.origin, T)};
}

/// The rolling loop over one series, cut into segments run in lanes and on
/// `threads` threads. Returns the largest finite |p| and |b| of the series.
template <class TP, class TB>
std::pair<double, double> rolling_plain(View<TP> p, View<TB> b, const RollingParams& prm,
                                        const RollingOutputs& out, int threads) {
    if (!out.any_active() && !out.any_pair()) return {0.0, 0.0};
    const std::ptrdiff_t T = p.size;
    const Cuts cuts = cuts_of(T, prm);
    const std::ptrdiff_t segments = cuts.count();
    // Parts of whole groups of 8 segments (lanes stay full to the end of a
    // part), a few per thread and claimed as threads come free: a thread that
    // wakes late (tens of microseconds on a virtual machine) then takes fewer
    // instead of holding everyone up. Each segment's result is the same
    // whichever part or thread runs it.
    const std::ptrdiff_t groups = segments % 8 == 0 ? segments / 8 : 0;
    const bool grouped = threads > 1 && groups >= 2;
    const std::ptrdiff_t k = grouped ? std::min<std::ptrdiff_t>(groups, 4 * static_cast<std::ptrdiff_t>(threads))
                                     : std::max<std::ptrdiff_t>(1, std::min<std::ptrdiff_t>(threads, segments));
    std::vector<double> tops(static_cast<std::size_t>(2 * k), 0.0);
    OutPanel op{};
    op.columns = out;  // one column: column strides 0
    auto run = [&](std::ptrdiff_t part, std::ptrdiff_t s0, std::ptrdiff_t s1) {
        SegmentTasks<TP, TB> tasks;
        tasks.p = Panel<TP>(p.data, T, 1, p.stride, 0);
        tasks.b = Panel<TB>(b.data, T, 1, b.stride, 0);
        tasks.out = op;
        tasks.s0 = s0;
        tasks.n_segs = s1 - s0;
        tasks.cuts = cuts;
        tasks.tops = tops.data() + 2 * part;
        run_tasks(prm, tasks);
    };
    if (k == 1) {
        run(0, 0, segments);
    } else if (grouped) {
        detail::run_parts_shared(k, threads - 1, [&](std::ptrdiff_t i) {
            run(i, 8 * (groups * i / k), 8 * (groups * (i + 1) / k));
        });
    } else {
        detail::run_parts(k, [&](std::ptrdiff_t i) { run(i, segments * i / k, segments * (i + 1) / k); });
    }
    std::pair<double, double> out_top{0.0, 0.0};
    for (std::ptrdiff_t i = 0; i < k; ++i) {
        out_top.first = std::max(out_top.first, tops[static_cast<std::size_t>(2 * i)]);
        out_top.second = std::max(out_top.second, tops[static_cast<std::size_t>(2 * i + 1)]);
    }
    return out_top;
}

// ---- tiny or huge series ---------------------------------------------------
//
// As in the full-sample kernels (see Accumulated in batch.hpp): a series
// whose largest finite |value| lies outside [2^-300, 2^300] would underflow or
// overflow in the window's sums of squares (a correlation of 1e-200 data is
// NaN, its tracking error 0). Such a pair is run again on copies scaled by
// powers of two, and the outputs are put back in the data's units:
//   active metrics: p and b scaled by one factor 2^-e (the active return is
//     their difference), tracking error and active return times 2^e, the
//     information ratio unchanged;
//   beta, correlation, R^2: p and b scaled separately (2^-e_p, 2^-e_b), beta
//     times 2^(e_p - e_b), the others unchanged.
// Only windows whose own values are tiny or huge take the rescaled value, and
// only when scaling makes them ordinary. Left as they are: alpha (it mixes the
// means with the risk-free rate in the data's units; it comes from the plain
// pass), windows of tiny values inside an otherwise ordinary series (the
// trigger is the series' largest value), and windows of tiny values in a
// series that also holds huge ones (one factor cannot serve both).

// The largest finite |p| and |b| of a series come from the lane driver
// (LaneTask::top), which sees every value once.
TRACKERR_HOT double finite_abs(double x) noexcept {
    const double a = std::fabs(x);
    return a <= std::numeric_limits<double>::max() ? a : 0.0;
}

inline bool ordinary_top(double top) noexcept {
    return top == 0.0 || (top >= tiny_magnitude && top <= huge_magnitude);
}

/// The largest finite |x| over the window of each row (a monotone queue of
/// candidate rows: O(1) amortised per row).
template <class T>
std::vector<double> window_tops(const View<T>& v, std::ptrdiff_t w) {
    const auto n = static_cast<std::size_t>(v.size);
    std::vector<double> out(n);
    std::vector<std::ptrdiff_t> queue(n);
    std::size_t head = 0, tail = 0;
    for (std::ptrdiff_t t = 0; t < v.size; ++t) {
        const double a = finite_abs(static_cast<double>(v[t]));
        while (tail > head && finite_abs(static_cast<double>(v[queue[tail - 1]])) <= a) --tail;
        queue[tail++] = t;
        if (queue[head] <= t - w) ++head;
        out[static_cast<std::size_t>(t)] = finite_abs(static_cast<double>(v[queue[head]]));
    }
    return out;
}

/// Reruns the metrics of a tiny or huge pair on scaled copies (after the
/// plain pass wrote every output) and keeps the rescaled value of each window
/// whose own values are tiny or huge and become ordinary once scaled; every
/// other window keeps its plain value (a huge value elsewhere in the series
/// must not push an ordinary window's values into underflow). False when the
/// pair is ordinary. `tp`, `tb`: largest finite |p|, |b| of the series.
template <class TP, class TB>
bool rolling_rescaled(View<TP> p, View<TB> b, const RollingParams& prm, const RollingOutputs& out, int threads,
                      double tp, double tb) {
    if (!(out.tracking_error || out.active_return || out.information_ratio || out.beta || out.correlation ||
          out.r_squared))
        return false;
    if (ordinary_top(tp) && ordinary_top(tb)) return false;
    const std::ptrdiff_t T = p.size;
    const auto n = static_cast<std::size_t>(T);
    const std::vector<double> top_p = window_tops(p, prm.window), top_b = window_tops(b, prm.window);
    std::vector<double> xs(n), ys(n), r0(n), r1(n), r2(n);
    const OutView o0{r0.data()}, o1{r1.data()}, o2{r2.data()};
    auto scaled_run = [&](int ep, int eb, const RollingOutputs& o) {
        const double sp = std::ldexp(1.0, -ep), sb = std::ldexp(1.0, -eb);
        for (std::ptrdiff_t i = 0; i < T; ++i) {
            xs[static_cast<std::size_t>(i)] = static_cast<double>(p[i]) * sp;
            ys[static_cast<std::size_t>(i)] = static_cast<double>(b[i]) * sb;
        }
        rolling_plain(View<double>(xs.data(), T), View<double>(ys.data(), T), prm, o, threads);
    };
    // Does window t need the scaled value, and is it good there?
    auto rescue = [](double top, int e) { return !ordinary_top(top) && ordinary_top(std::ldexp(top, -e)); };
    if (out.any_active()) {
        const int e = scale_exponent(std::max(tp, tb));
        RollingOutputs o{};
        o.tracking_error = out.tracking_error ? o0 : OutView{};
        o.active_return = out.active_return ? o1 : OutView{};
        o.information_ratio = out.information_ratio ? o2 : OutView{};
        scaled_run(e, e, o);
        for (std::ptrdiff_t t = 0; t < T; ++t) {
            const auto u = static_cast<std::size_t>(t);
            if (!rescue(std::max(top_p[u], top_b[u]), e)) continue;
            if (out.tracking_error) out.tracking_error.set(t, std::ldexp(r0[u], e));
            if (out.active_return) out.active_return.set(t, std::ldexp(r1[u], e));
            if (out.information_ratio) out.information_ratio.set(t, r2[u]);
        }
    }
    if (out.beta || out.correlation || out.r_squared) {
        const int ep = ordinary_top(tp) ? 0 : scale_exponent(tp);
        const int eb = ordinary_top(tb) ? 0 : scale_exponent(tb);
        RollingOutputs o{};
        o.beta = out.beta ? o0 : OutView{};
        o.correlation = out.correlation ? o1 : OutView{};
        o.r_squared = out.r_squared ? o2 : OutView{};
        scaled_run(ep, eb, o);
        for (std::ptrdiff_t t = 0; t < T; ++t) {
            const auto u = static_cast<std::size_t>(t);
            const bool need = !ordinary_top(top_p[u]) || !ordinary_top(top_b[u]);
            if (!need || !ordinary_top(std::ldexp(top_p[u], -ep)) || !ordinary_top(std::ldexp(top_b[u], -eb)))
                continue;
            if (out.beta) out.beta.set(t, std::ldexp(r0[u], ep - eb));
            if (out.correlation) out.correlation.set(t, r1[u]);
            if (out.r_squared) out.r_squared.set(t, r2[u]);
        }
    }
    return true;
}

}  // namespace detail

/// Rolling metrics of one portfolio against one benchmark (both length T).
/// Tiny or huge series are rescaled (see detail::rolling_rescaled).
template <class TP, class TB>
void rolling(View<TP> p, View<TB> b, const RollingParams& prm, const RollingOutputs& out, int threads = 1) {
    check_rolling(prm, p.size, b.size);
    detail::check_rolling_options(prm);
    detail::check_threads(threads);
    const auto top = detail::rolling_plain(p, b, prm, out, threads);
    detail::rolling_rescaled(p, b, prm, out, threads, top.first, top.second);
}

TRACKERR_ISA_END
}  // namespace trackerr

// The panel kernel (rolling over T x N panels) lives in its own header, which
// includes this one; included here so that users of rolling.hpp keep it.
#include "rolling_panel.hpp"
