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

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "batch.hpp"
#include "detail/parallel.hpp"
#include "metrics.hpp"
#include "panel.hpp"
#include "view.hpp"
#include "window.hpp"

namespace trackerr {

struct RollingParams {
    std::ptrdiff_t window = 0;
    std::ptrdiff_t min_periods = 0;  // observations needed for a value; 0 = window
    double ddof = 1.0;
    double periods = detail::nan_v;  // periods per year; NaN = per period
    double risk_free = 0.0;
    bool geometric_alpha = false;
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

namespace detail {
/// Length of the independent segments a long series is cut into (rows).
inline constexpr std::ptrdiff_t rolling_segment = std::ptrdiff_t{1} << 16;
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
    double wd, inv_dof, ddof, sqrt_p, per_year, risk_free, periods;
    bool geometric_alpha;
    // Which outputs are wanted: the others are not computed (left NaN).
    bool want_sd = true, want_alpha = true, want_corr = true;

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

// The rolling loop, specialised on which states it keeps. Each step either
// takes the fast path (window full of finite values, a replace step, no
// constant run, guard quiet: straight-line code on register copies of the
// states) or the general one (add/remove, constant windows, recomputes,
// min_periods, non-finite values).
template <bool Contig, class T>
TRACKERR_HOT double value_at(const View<T>& v, std::ptrdiff_t i) noexcept {
    if constexpr (Contig)
        return static_cast<double>(v.data[i]);
    else
        return static_cast<double>(v[i]);
}

template <bool Act, bool Pair, bool Contig, class TP, class TB>
void rolling_impl(const View<TP>& p, const View<TB>& b, const RollingParams& prm, const RollingOutputs& out,
                  std::ptrdiff_t first_out = 0) {
    const std::ptrdiff_t T = p.size, w = prm.window;
    const double need = static_cast<double>(prm.min_periods > 0 ? prm.min_periods : w);
    const double wd = static_cast<double>(w), inv_w = 1.0 / wd;
    auto a_at = [&](std::ptrdiff_t i) { return active_at(p, b, i); };
    auto p_at = [&](std::ptrdiff_t i) { return static_cast<double>(p[i]); };
    auto b_at = [&](std::ptrdiff_t i) { return static_cast<double>(b[i]); };
    WindowMoments wa;
    WindowCoMoments wc;

    const Emit em(prm, out);
    auto emit_a = [&](std::ptrdiff_t t, bool ok, const WindowMoments& s) {
        double v[3];
        em.active(s, ok, v);
        write_active(out, t, v);
    };
    auto emit_c = [&](std::ptrdiff_t t, bool ok, const WindowCoMoments& s) {
        double v[4];
        em.pair(s, ok, v);
        write_pair(out, t, v);
    };
    // Rebuilds from a window of contiguous data with the vectorized block
    // kernels of batch.hpp; false when the window holds a NaN or inf (the
    // general recompute handles those).
    auto block_rebuild_a = [&](std::ptrdiff_t first, std::ptrdiff_t last) {
        if constexpr (Contig) {
            const std::ptrdiff_t k = last - first;
            const double m = mean_active(p.data + first, b.data + first, k);
            if (!std::isfinite(m) || wa.n != static_cast<double>(k)) return false;
            const Moments s = centred_active(p.data + first, b.data + first, k, m, m);
            if (!std::isfinite(s.m2)) return false;
            wa.level = m;
            wa.mean = s.mean;
            wa.m2 = s.m2;
            wa.err = 2.0 * eps * s.m2;
            wa.err_mean = 0.0;
            return true;
        } else {
            (void)first;
            (void)last;
            return false;
        }
    };
    auto block_rebuild_c = [&](std::ptrdiff_t first, std::ptrdiff_t last) {
        if constexpr (Contig) {
            const std::ptrdiff_t k = last - first;
            double mx = 0.0, my = 0.0;
            mean_pair(p.data + first, b.data + first, k, mx, my);
            if (!std::isfinite(mx) || !std::isfinite(my) || wc.n != static_cast<double>(k)) return false;
            const CoMoments s = centred_pair(p.data + first, b.data + first, k, mx, my, mx, my);
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
        } else {
            (void)first;
            (void)last;
            return false;
        }
    };
    auto finish = [&](std::ptrdiff_t t) {
        const std::ptrdiff_t first = t >= w ? t - w + 1 : 0;
        if constexpr (Act) {
            if (!wa.settle_constant() && wa.needs_recompute() && !block_rebuild_a(first, t + 1))
                wa = rebuilt(wa, a_at, first, t + 1);
            if (t >= first_out) emit_a(t, wa.count() >= need && wa.n_bad == 0.0, wa);
        }
        if constexpr (Pair) {
            if (!wc.settle_constant() && wc.needs_recompute() && !block_rebuild_c(first, t + 1))
                wc = rebuilt(wc, p_at, b_at, first, t + 1);
            if (t >= first_out) emit_c(t, wc.count() >= need && wc.n_bad == 0.0, wc);
        }
    };
    auto general_step = [&](std::ptrdiff_t t) {
        const bool has_old = t >= w;
        if constexpr (Act) update(wa, a_at(t), has_old ? a_at(t - w) : nan_v);
        if constexpr (Pair)
            update(wc, p_at(t), b_at(t), has_old ? p_at(t - w) : nan_v, has_old ? b_at(t - w) : nan_v);
        finish(t);
    };
    auto steady = [&] {
        bool ok = true;
        if constexpr (Act) ok = ok && wa.n == wd && wa.n_bad == 0.0;
        if constexpr (Pair) ok = ok && wc.n == wd && wc.n_bad == 0.0;
        return ok;
    };

    std::ptrdiff_t t = 0;
    while (t < T) {
        if (t < w || !steady()) {
            general_step(t++);
            continue;
        }
        // Fast path on register copies of the states.
        WindowMoments ha = wa;
        WindowCoMoments hc = wc;
        for (; t < T; ++t) {
            double an = 0.0, ao = 0.0, pn = 0.0, bn = 0.0, po = 0.0, bo = 0.0;
            bool finite = true;
            if constexpr (Act) {
                an = value_at<Contig>(p, t) - value_at<Contig>(b, t);
                ao = value_at<Contig>(p, t - w) - value_at<Contig>(b, t - w);
                finite = finite & (an - an == 0.0) & (ao - ao == 0.0);
            }
            if constexpr (Pair) {
                pn = value_at<Contig>(p, t);
                bn = value_at<Contig>(b, t);
                po = value_at<Contig>(p, t - w);
                bo = value_at<Contig>(b, t - w);
                finite = finite & (pn - pn == 0.0) & (bn - bn == 0.0) & (po - po == 0.0) & (bo - bo == 0.0);
            }
            if (!finite) break;  // a NaN or inf enters or leaves: general step
            bool quiet = true;
            if constexpr (Act) {
                ha.replace(an, ao, inv_w);
                quiet = quiet & (ha.run < wd) & ha.guard_quiet();
            }
            if constexpr (Pair) {
                hc.replace(pn, bn, po, bo, inv_w);
                quiet = quiet & (hc.run_p < wd) & (hc.run_b < wd) & hc.guard_quiet();
            }
            if (!quiet) {
                wa = ha;
                wc = hc;
                finish(t);
                ha = wa;
                hc = wc;
                continue;
            }
            if constexpr (Act) emit_a(t, true, ha);
            if constexpr (Pair) emit_c(t, true, hc);
        }
        wa = ha;
        wc = hc;
        if (t < T) general_step(t++);
    }
}

}  // namespace detail

namespace detail {

/// The rolling loop over one series, cut into segments run on `threads`.
template <class TP, class TB>
void rolling_plain(View<TP> p, View<TB> b, const RollingParams& prm, const RollingOutputs& out, int threads) {
    const bool act = out.any_active(), pair = out.any_pair();
    const bool contiguous = p.contiguous() && b.contiguous();
    // One stretch [first, last) of the series, outputs from `from` on: the
    // kernel starts `window` rows early so that its first output sees a
    // full window built from scratch.
    auto stretch = [&](std::ptrdiff_t from, std::ptrdiff_t last) {
        const std::ptrdiff_t first = std::max<std::ptrdiff_t>(0, from - prm.window);
        const View<TP> ps(detail::offset(p.data, first * p.stride), last - first, p.stride);
        const View<TB> bs(detail::offset(b.data, first * b.stride), last - first, b.stride);
        const RollingOutputs os{out.tracking_error.offset_by(first * out.tracking_error.stride),
                                out.active_return.offset_by(first * out.active_return.stride),
                                out.information_ratio.offset_by(first * out.information_ratio.stride),
                                out.beta.offset_by(first * out.beta.stride),
                                out.alpha.offset_by(first * out.alpha.stride),
                                out.correlation.offset_by(first * out.correlation.stride),
                                out.r_squared.offset_by(first * out.r_squared.stride)};
        const std::ptrdiff_t k = from - first;
        if (contiguous) {
            if (act && pair) return detail::rolling_impl<true, true, true>(ps, bs, prm, os, k);
            if (act) return detail::rolling_impl<true, false, true>(ps, bs, prm, os, k);
            if (pair) return detail::rolling_impl<false, true, true>(ps, bs, prm, os, k);
            return;
        }
        if (act && pair) return detail::rolling_impl<true, true, false>(ps, bs, prm, os, k);
        if (act) return detail::rolling_impl<true, false, false>(ps, bs, prm, os, k);
        if (pair) return detail::rolling_impl<false, true, false>(ps, bs, prm, os, k);
    };
    // A long series is cut into segments of fixed length (independent of
    // `threads`, so results are too), each rebuilt from scratch over the
    // window before it: the segments are independent and run in parallel.
    // A window of 8 T or more (any window, from 2^60 on: 8 w would overflow)
    // means one segment.
    const std::ptrdiff_t T = p.size;
    if (prm.window > (T - 1) / 8) return stretch(0, T);
    const std::ptrdiff_t L = std::max<std::ptrdiff_t>(detail::rolling_segment, 8 * prm.window);
    const std::ptrdiff_t segments = (T + L - 1) / L;
    if (segments <= 1) return stretch(0, T);
    const std::ptrdiff_t k = std::min<std::ptrdiff_t>(threads, segments);
    detail::run_parts(k, [&](std::ptrdiff_t i) {
        for (std::ptrdiff_t s = segments * i / k; s < segments * (i + 1) / k; ++s)
            stretch(s * L, std::min(T, (s + 1) * L));
    });
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

// Largest finite |x|: four independent maxima (a branch-free loop the
// compiler can keep in vector registers), NaN and inf skipped.
TRACKERR_HOT double finite_abs(double x) noexcept {
    const double a = std::fabs(x);
    return a <= std::numeric_limits<double>::max() ? a : 0.0;
}
template <class T, class At>
double largest_finite_at(std::ptrdiff_t n, const At& at) noexcept {
    double m[4] = {0.0, 0.0, 0.0, 0.0};
    std::ptrdiff_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (int j = 0; j < 4; ++j) {
            const double a = finite_abs(static_cast<double>(at(i + j)));
            m[j] = a > m[j] ? a : m[j];
        }
    for (; i < n; ++i) {
        const double a = finite_abs(static_cast<double>(at(i)));
        m[0] = a > m[0] ? a : m[0];
    }
    return std::max(std::max(m[0], m[1]), std::max(m[2], m[3]));
}
template <class T>
double largest_finite(const View<T>& v) noexcept {
    if (v.contiguous()) {
        const T* d = v.data;
        return largest_finite_at<T>(v.size, [d](std::ptrdiff_t i) { return d[i]; });
    }
    return largest_finite_at<T>(v.size, [&v](std::ptrdiff_t i) { return v[i]; });
}

/// Largest finite |x| of each column c0..c1-1 of a panel whose columns sit
/// next to each other (row-wise pass, in memory order) into top[0..c1-c0).
template <class T>
void largest_finite_columns(const Panel<T>& p, std::ptrdiff_t c0, std::ptrdiff_t c1, double* top) noexcept {
    for (std::ptrdiff_t c = c0; c < c1; ++c) top[c - c0] = 0.0;
    if (p.col_stride == 0) {  // a broadcast column
        const double t = largest_finite(p.column(0));
        for (std::ptrdiff_t c = c0; c < c1; ++c) top[c - c0] = t;
        return;
    }
    for (std::ptrdiff_t r = 0; r < p.rows; ++r) {
        const T* row = offset(p.data, r * p.row_stride + c0 * p.col_stride);
        for (std::ptrdiff_t c = 0; c < c1 - c0; ++c) {
            const double a = finite_abs(static_cast<double>(at<2>(row, c, p.col_stride)));
            top[c] = a > top[c] ? a : top[c];
        }
    }
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
    detail::rolling_plain(p, b, prm, out, threads);
    detail::rolling_rescaled(p, b, prm, out, threads, detail::largest_finite(p), detail::largest_finite(b));
}

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

inline constexpr std::ptrdiff_t rolling_group = 64;  // portfolios updated together per row
inline constexpr std::ptrdiff_t rolling_block =
    128;  // portfolios whose state stays in L1 (a multiple of the group)

// Row-wise rolling over a group of portfolios that sit next to each other in
// memory: at each row, one state per portfolio is updated in a loop across
// the group (independent chains the CPU overlaps, and a loop the compiler can
// vectorize), with the per-portfolio fallbacks of the 1-D kernel (add/remove,
// constant windows, recomputes, non-finite values) taken column by column
// when a row needs them. Each column's arithmetic is exactly what the general
// step would do, so results do not depend on the grouping.
template <bool Act, bool Pair, int PMode, int BMode, class TP, class TB>
void rolling_rowwise(const Panel<TP>& p, const Panel<TB>& b, const RollingParams& prm, const OutPanel& out,
                     std::ptrdiff_t c_begin, std::ptrdiff_t c_end) {
    constexpr std::ptrdiff_t G = rolling_group;
    // One kind of state alone runs on structure-of-arrays copies (the fast path
    // vectorizes across portfolios); rolling_stats keeps both the general way.
    constexpr bool soa = Act && !Pair;
    constexpr bool soa_pair = Pair && !Act;
    const std::ptrdiff_t T = p.rows, w = prm.window, N = c_end - c_begin;
    const double need = static_cast<double>(prm.min_periods > 0 ? prm.min_periods : w);
    const double wd = static_cast<double>(w), inv_w = 1.0 / wd;
    const Emit em(prm, out.columns);
    const auto un = static_cast<std::size_t>(N);
    // Per-portfolio state for the whole column range; rows are read whole
    // (in memory order), groups of G portfolios are the unit of the fast path.
    std::vector<WindowMoments> sa(Act ? un : 0);
    std::vector<WindowCoMoments> sc(Pair ? un : 0);
    std::vector<RollingOutputs> outs(un);
    for (std::ptrdiff_t j = 0; j < N; ++j) outs[static_cast<std::size_t>(j)] = out.column(c_begin + j);
    std::vector<double> soa_buf(soa ? 7 * un : (soa_pair ? 15 * un : 0));
    double* const lv_all = soa || soa_pair ? soa_buf.data() : nullptr;
    std::vector<char> steady_all(static_cast<std::size_t>((N + G - 1) / G), 0);
    double pn_buf[G], bn_buf[G], po_buf[G], bo_buf[G], xa_buf[G], ya_buf[G];
    const double *pn = pn_buf, *bn = bn_buf, *po = po_buf, *bo = bo_buf, *xa = xa_buf, *ya = ya_buf;
    double k0[G], k1[G], s1[G], s2[G], s3[G], s4[G], s5[G], ot[G], oa[G], oi[G];
    bool quiet[G];
    const std::ptrdiff_t rebuild_every = std::max<std::ptrdiff_t>(128, w);

    // Blocks of columns outside, rows inside, groups innermost: a block's
    // state stays in L1 while its rows stream by.
    for (std::ptrdiff_t cb = 0; cb < N; cb += rolling_block)
        for (std::ptrdiff_t t = 0; t < T; ++t) {
            const bool has_old = t >= w;
            for (std::ptrdiff_t g0 = cb; g0 < std::min(N, cb + rolling_block); g0 += G) {
                const std::ptrdiff_t g = std::min(G, N - g0);
                const std::ptrdiff_t c0 = c_begin + g0;
                WindowMoments* sa_g = Act ? sa.data() + g0 : nullptr;
                WindowCoMoments* sc_g = Pair ? sc.data() + g0 : nullptr;
                const RollingOutputs* outs_g = outs.data() + g0;
                // structure-of-arrays copies of the active state (soa only)
                double *lv = nullptr, *mn = nullptr, *m2 = nullptr, *er = nullptr, *erm = nullptr,
                       *rn = nullptr, *ls = nullptr;
                if constexpr (soa) {
                    lv = lv_all + g0;
                    mn = lv + N;
                    m2 = mn + N;
                    er = m2 + N;
                    erm = er + N;
                    rn = erm + N;
                    ls = rn + N;
                }
                // structure-of-arrays copies of the pair state (soa_pair only)
                double *lp = nullptr, *lb = nullptr, *mp = nullptr, *mb = nullptr, *cpp = nullptr,
                       *cbb = nullptr, *cpb = nullptr, *ep = nullptr, *eb = nullptr, *emp = nullptr,
                       *emb = nullptr, *rp = nullptr, *rb = nullptr, *lsp = nullptr, *lsb = nullptr;
                if constexpr (soa_pair) {
                    double** arrays[15] = {&lp, &lb,  &mp,  &mb, &cpp, &cbb, &cpb, &ep,
                                           &eb, &emp, &emb, &rp, &rb,  &lsp, &lsb};
                    for (int k = 0; k < 15; ++k) *arrays[k] = lv_all + g0 + k * N;
                }
                auto to_soa = [&](std::ptrdiff_t j) {
                    if constexpr (soa_pair) {
                        const WindowCoMoments& c = sc_g[j];
                        lp[j] = c.level_p;
                        lb[j] = c.level_b;
                        mp[j] = c.mean_p;
                        mb[j] = c.mean_b;
                        cpp[j] = c.c_pp;
                        cbb[j] = c.c_bb;
                        cpb[j] = c.c_pb;
                        ep[j] = c.err_p;
                        eb[j] = c.err_b;
                        emp[j] = c.err_mp;
                        emb[j] = c.err_mb;
                        rp[j] = c.run_p;
                        rb[j] = c.run_b;
                        lsp[j] = c.last_p;
                        lsb[j] = c.last_b;
                    }
                    if constexpr (soa) {
                        lv[j] = sa_g[j].level;
                        mn[j] = sa_g[j].mean;
                        m2[j] = sa_g[j].m2;
                        er[j] = sa_g[j].err;
                        erm[j] = sa_g[j].err_mean;
                        rn[j] = sa_g[j].run;
                        ls[j] = sa_g[j].last;
                    }
                };
                auto from_soa = [&](std::ptrdiff_t j) {
                    if constexpr (soa_pair) {
                        WindowCoMoments& c = sc_g[j];
                        c.level_p = lp[j];
                        c.level_b = lb[j];
                        c.mean_p = mp[j];
                        c.mean_b = mb[j];
                        c.c_pp = cpp[j];
                        c.c_bb = cbb[j];
                        c.c_pb = cpb[j];
                        c.err_p = ep[j];
                        c.err_b = eb[j];
                        c.err_mp = emp[j];
                        c.err_mb = emb[j];
                        c.run_p = rp[j];
                        c.run_b = rb[j];
                        c.last_p = lsp[j];
                        c.last_b = lsb[j];
                    }
                    if constexpr (soa) {
                        sa_g[j].level = lv[j];
                        sa_g[j].mean = mn[j];
                        sa_g[j].m2 = m2[j];
                        sa_g[j].err = er[j];
                        sa_g[j].err_mean = erm[j];
                        sa_g[j].run = rn[j];
                        sa_g[j].last = ls[j];
                    }
                };
                const TP* pcol = offset(p.data, c0 * p.col_stride);
                const TB* bcol = offset(b.data, c0 * b.col_stride);
                // Row r of the group as doubles: a pointer straight into the panel
                // when it already holds contiguous doubles, else a converted copy.
                auto load_row = [&](std::ptrdiff_t r, const double*& xs, const double*& ys, double* xbuf,
                                    double* ybuf) {
                    const TP* pr = offset(pcol, r * p.row_stride);
                    const TB* br = offset(bcol, r * b.row_stride);
                    if constexpr (PMode == 1 && std::is_same_v<TP, double>) {
                        xs = pr;
                    } else {
                        for (std::ptrdiff_t j = 0; j < g; ++j) xbuf[j] = at<PMode>(pr, j, p.col_stride);
                        xs = xbuf;
                    }
                    if constexpr (BMode == 1 && std::is_same_v<TB, double>) {
                        ys = br;
                    } else {
                        const double y0 = static_cast<double>(br[0]);
                        for (std::ptrdiff_t j = 0; j < g; ++j)
                            ybuf[j] = BMode == 0 ? y0 : at<BMode>(br, j, b.col_stride);
                        ys = ybuf;
                    }
                };
                // The end of a step for column j: constant windows, guard, outputs.
                auto finish = [&](std::ptrdiff_t j) {
                    const std::ptrdiff_t first = has_old ? t - w + 1 : 0;
                    const View<TP> pv = p.column(c0 + j);
                    const View<TB> bv = b.column(c0 + j);
                    if constexpr (Act) {
                        WindowMoments& s = sa_g[j];
                        if (!s.settle_constant() && s.needs_recompute())
                            s = rebuilt(
                                s, [&](std::ptrdiff_t i) { return active_at(pv, bv, i); }, first, t + 1);
                        double v[3];
                        em.active(s, s.count() >= need && s.n_bad == 0.0, v);
                        write_active(outs_g[j], t, v);
                    }
                    if constexpr (Pair) {
                        WindowCoMoments& s = sc_g[j];
                        if (!s.settle_constant() && s.needs_recompute())
                            s = rebuilt(
                                s, [&](std::ptrdiff_t i) { return static_cast<double>(pv[i]); },
                                [&](std::ptrdiff_t i) { return static_cast<double>(bv[i]); }, first, t + 1);
                        double v[4];
                        em.pair(s, s.count() >= need && s.n_bad == 0.0, v);
                        write_pair(outs_g[j], t, v);
                    }
                };
                // Columns whose guard fired on a fast step finish the general way.
                auto finish_loud = [&] {
                    for (std::ptrdiff_t j = 0; j < g; ++j)
                        if (!quiet[j]) {
                            from_soa(j);
                            finish(j);
                            to_soa(j);
                        }
                };
                char& steady = steady_all[static_cast<std::size_t>(g0 / G)];

                // Scheduled rebuild of the group from its window [t - w, t - 1],
                // row-wise and vectorized: on ordinary data it keeps every guard
                // quiet, so no column needs a (strided, one-column) recompute; the
                // error-driven guard still catches what the schedule does not.
                if (steady && t % rebuild_every == 0) {
                    const std::ptrdiff_t r0 = t - w, last = t - 1;
                    load_row(r0, xa, ya, xa_buf, ya_buf);
                    for (std::ptrdiff_t j = 0; j < g; ++j) {
                        k0[j] = soa ? xa[j] - ya[j] : xa[j];
                        k1[j] = ya[j];
                        s1[j] = s2[j] = s3[j] = s4[j] = s5[j] = 0.0;
                    }
                    for (std::ptrdiff_t r = r0; r <= last; ++r) {
                        load_row(r, xa, ya, xa_buf, ya_buf);
                        for (std::ptrdiff_t j = 0; j < g; ++j) {
                            if constexpr (soa) {
                                s1[j] += (xa[j] - ya[j]) - k0[j];
                            } else {
                                s1[j] += xa[j] - k0[j];
                                s2[j] += ya[j] - k1[j];
                            }
                        }
                    }
                    for (std::ptrdiff_t j = 0; j < g; ++j) {
                        k0[j] += s1[j] / wd;
                        k1[j] += s2[j] / wd;
                        s1[j] = s2[j] = 0.0;
                    }
                    for (std::ptrdiff_t r = r0; r <= last; ++r) {
                        load_row(r, xa, ya, xa_buf, ya_buf);
                        for (std::ptrdiff_t j = 0; j < g; ++j) {
                            if constexpr (soa) {
                                const double d = (xa[j] - ya[j]) - k0[j];
                                s1[j] += d;
                                s2[j] += d * d;
                            } else {
                                const double dx = xa[j] - k0[j], dy = ya[j] - k1[j];
                                s1[j] += dx;
                                s2[j] += dy;
                                s3[j] += dx * dx;
                                s4[j] += dy * dy;
                                s5[j] += dx * dy;
                            }
                        }
                    }
                    for (std::ptrdiff_t j = 0; j < g; ++j) {
                        if constexpr (soa) {
                            const double m = s2[j] - s1[j] * s1[j] / wd;
                            lv[j] = k0[j];
                            mn[j] = s1[j] / wd;
                            m2[j] = m > 0.0 ? m : 0.0;
                            er[j] = 2.0 * eps * m2[j];
                            erm[j] = 0.0;
                        } else {
                            if constexpr (Act) {  // rolling_stats: the active state the general way
                                WindowMoments& a = sa_g[j];
                                a = rebuilt(
                                    a,
                                    [&](std::ptrdiff_t i) {
                                        return active_at(p.column(c0 + j), b.column(c0 + j), i);
                                    },
                                    r0, last + 1);
                            }
                            const double vpp = s3[j] - s1[j] * s1[j] / wd, vbb = s4[j] - s2[j] * s2[j] / wd;
                            if constexpr (soa_pair) {
                                lp[j] = k0[j];
                                lb[j] = k1[j];
                                mp[j] = s1[j] / wd;
                                mb[j] = s2[j] / wd;
                                cpp[j] = vpp > 0.0 ? vpp : 0.0;
                                cbb[j] = vbb > 0.0 ? vbb : 0.0;
                                cpb[j] = s5[j] - s1[j] * s2[j] / wd;
                                ep[j] = 2.0 * eps * cpp[j];
                                eb[j] = 2.0 * eps * cbb[j];
                                emp[j] = emb[j] = 0.0;
                                continue;
                            }
                            WindowCoMoments& c = sc_g[j];
                            c.level_p = k0[j];
                            c.level_b = k1[j];
                            c.mean_p = s1[j] / wd;
                            c.mean_b = s2[j] / wd;
                            c.c_pp = vpp > 0.0 ? vpp : 0.0;
                            c.c_bb = vbb > 0.0 ? vbb : 0.0;
                            c.c_pb = s5[j] - s1[j] * s2[j] / wd;
                            c.err_p = 2.0 * eps * c.c_pp;
                            c.err_b = 2.0 * eps * c.c_bb;
                            c.err_mp = c.err_mb = 0.0;
                        }
                    }
                }

                load_row(t, pn, bn, pn_buf, bn_buf);
                if (has_old) load_row(t - w, po, bo, po_buf, bo_buf);
                if (steady) {
                    // Fast path: every value of both rows finite, then replace steps
                    // across the group; columns whose guard fires finish alone.
                    // x - x is 0 for finite x and NaN otherwise: summed over the
                    // rows, one NaN test tells whether every value is finite.
                    int bad = 0;
                    std::ptrdiff_t jb = 0;
#ifdef TRACKERR_VECTOR_LANES
                    {
                        vd2 chk = splat2(0.0);
                        for (; jb + 2 <= g; jb += 2) {
                            const vd2 x1 = load2(pn + jb), x2 = load2(bn + jb), x3 = load2(po + jb),
                                      x4 = load2(bo + jb);
                            chk += ((x1 - x1) + (x2 - x2)) + ((x3 - x3) + (x4 - x4));
                        }
                        bad = static_cast<int>(!(chk[0] + chk[1] == 0.0));
                    }
#endif
                    {
                        double chk = 0.0;
                        for (std::ptrdiff_t j = jb; j < g; ++j)
                            chk += ((pn[j] - pn[j]) + (bn[j] - bn[j])) + ((po[j] - po[j]) + (bo[j] - bo[j]));
                        bad |= static_cast<int>(!(chk == 0.0));
                    }
                    if (!bad) {
                        int loud = 0;
                        if constexpr (soa) {
                            // WindowMoments::replace, observe and guard_quiet and
                            // Emit::active, across the group and branch-free.
                            constexpr double tol = recompute_tol;
                            std::ptrdiff_t j0 = 0;
#ifdef TRACKERR_VECTOR_LANES
                            {  // two portfolios per step in vector registers; same arithmetic as below
                                const vd2 inv = splat2(inv_w), width = splat2(wd), one = splat2(1.0);
                                const vd2 epsv = splat2(eps), tolv = splat2(tol), tol2 = splat2(tol * tol);
                                const vd2 zero = splat2(0.0), three = splat2(3.0), two = splat2(2.0);
                                const vd2 idof = splat2(em.inv_dof), sp = splat2(em.sqrt_p),
                                          py = splat2(em.per_year);
                                const vd2 nanv = splat2(nan_v);
                                vi2 loud2 = {0, 0};
                                for (; j0 + 2 <= g; j0 += 2) {
                                    const vd2 x_new = load2(pn + j0) - load2(bn + j0);
                                    const vd2 x_old = load2(po + j0) - load2(bo + j0);
                                    const vd2 r = select2(x_new == load2(ls + j0), load2(rn + j0) + one, one);
                                    const vd2 lvl = load2(lv + j0);
                                    const vd2 u_new = x_new - lvl, u_old = x_old - lvl;
                                    const vd2 dx = u_new - u_old;
                                    const vd2 mean_old = load2(mn + j0);
                                    const vd2 mean = mean_old + dx * inv;
                                    const vd2 a = u_new - mean, bq = u_old - mean_old;
                                    const vd2 m = load2(m2 + j0) + dx * (a + bq);
                                    const vd2 adx = abs2(dx);
                                    const vd2 em_ = load2(erm + j0) + epsv * (abs2(mean) + adx * inv);
                                    const vd2 e = load2(er + j0) +
                                                  (epsv * (three * adx * (abs2(a) + abs2(bq)) + abs2(m)) +
                                                   two * adx * em_);
                                    store2(rn + j0, r);
                                    store2(ls + j0, x_new);
                                    store2(mn + j0, mean);
                                    store2(m2 + j0, m);
                                    store2(er + j0, e);
                                    store2(erm + j0, em_);
                                    const vi2 q = (r < width) & (m > zero) & (e <= tolv * m) &
                                                  (em_ * em_ * width <= tol2 * m);
                                    quiet[j0] = q[0] != 0;
                                    quiet[j0 + 1] = q[1] != 0;
                                    loud2 |= ~q;
                                    const vd2 sd = sqrt2(select2(m > zero, m, zero) * idof);
                                    const vd2 level_mean = lvl + mean;
                                    const vd2 ir = level_mean / sd * sp;
                                    store2(ot + j0, sd * sp);
                                    store2(oa + j0, level_mean * py);
                                    store2(oi + j0, select2(sd > zero, ir, nanv));
                                }
                                loud |= static_cast<int>((loud2[0] | loud2[1]) != 0);
                            }
#endif
                            for (std::ptrdiff_t j = j0; j < g; ++j) {
                                const double x_new = pn[j] - bn[j], x_old = po[j] - bo[j];
                                const double r = (x_new == ls[j]) ? rn[j] + 1.0 : 1.0;
                                const double u_new = x_new - lv[j], u_old = x_old - lv[j];
                                const double dx = u_new - u_old;
                                const double mean_old = mn[j];
                                const double mean = mean_old + dx * inv_w;
                                const double a = u_new - mean, bq = u_old - mean_old;
                                const double m = m2[j] + dx * (a + bq);
                                const double adx = std::fabs(dx);
                                const double em_ = erm[j] + eps * (std::fabs(mean) + adx * inv_w);
                                const double e =
                                    er[j] +
                                    (eps * (3.0 * adx * (std::fabs(a) + std::fabs(bq)) + std::fabs(m)) +
                                     2.0 * adx * em_);
                                rn[j] = r;
                                ls[j] = x_new;
                                mn[j] = mean;
                                m2[j] = m;
                                er[j] = e;
                                erm[j] = em_;
                                const bool q =
                                    (r < wd) & (m > 0.0) & (e <= tol * m) & (em_ * em_ * wd <= tol * tol * m);
                                quiet[j] = q;
                                loud |= static_cast<int>(!q);
                                const double sd = std::sqrt((m > 0.0 ? m : 0.0) * em.inv_dof);
                                const double level_mean = lv[j] + mean;
                                const double ir = level_mean / sd * em.sqrt_p;
                                ot[j] = sd * em.sqrt_p;
                                oa[j] = level_mean * em.per_year;
                                oi[j] = sd > 0.0 ? ir : nan_v;
                            }
                            const double* vals[3] = {ot, oa, oi};
                            const OutView* views[3] = {&out.columns.tracking_error,
                                                       &out.columns.active_return,
                                                       &out.columns.information_ratio};
                            for (int f = 0; f < 3; ++f) {
                                const OutView& o = *views[f];
                                if (!o) continue;
                                char* row =
                                    reinterpret_cast<char*>(o.data) + t * o.stride + c0 * out.col_stride[f];
                                const std::ptrdiff_t cs = out.col_stride[f];
                                if (!loud && cs == static_cast<std::ptrdiff_t>(sizeof(double))) {
                                    std::memcpy(row, vals[f], static_cast<std::size_t>(g) * sizeof(double));
                                    continue;
                                }
                                for (std::ptrdiff_t j = 0; j < g; ++j)
                                    if (quiet[j]) *reinterpret_cast<double*>(row + j * cs) = vals[f][j];
                            }
                            if (loud) finish_loud();
                            continue;
                        }
                        if constexpr (soa_pair) {
                            // WindowCoMoments::replace, observe and guard_quiet and Emit::pair,
                            // across the group and branch-free.
                            constexpr double tol = recompute_tol;
                            double ob[G], oal[G], oc[G];
                            auto lane = [&](std::ptrdiff_t j) {  // the scalar form, for the tail
                                const double p_new = pn[j], b_new = bn[j], p_old = po[j], b_old = bo[j];
                                const double r_p = (p_new == lsp[j]) ? rp[j] + 1.0 : 1.0;
                                const double r_b = (b_new == lsb[j]) ? rb[j] + 1.0 : 1.0;
                                const double up = p_new - lp[j], ub = b_new - lb[j];
                                const double vp = p_old - lp[j], vb = b_old - lb[j];
                                const double dp = up - vp, db = ub - vb;
                                const double mp_old = mp[j], mb_old = mb[j];
                                const double mpn = mp_old + dp * inv_w, mbn = mb_old + db * inv_w;
                                const double ap = up - mpn, bp = vp - mp_old, ab = ub - mbn, bb = vb - mb_old;
                                const double c1 = cpp[j] + dp * (ap + bp), c2 = cbb[j] + db * (ab + bb);
                                const double c3 = cpb[j] + 0.5 * (dp * (ab + bb) + db * (ap + bp));
                                const double adp = std::fabs(dp), adb = std::fabs(db);
                                const double tp = 1.5 * adp * (std::fabs(ap) + std::fabs(bp));
                                const double tb = 1.5 * adb * (std::fabs(ab) + std::fabs(bb));
                                const double e_mp = emp[j] + eps * (std::fabs(mpn) + adp * inv_w);
                                const double e_mb = emb[j] + eps * (std::fabs(mbn) + adb * inv_w);
                                const double e_p =
                                    ep[j] + (eps * (2.0 * tp + std::fabs(c1)) + 2.0 * adp * e_mp);
                                const double e_b =
                                    eb[j] + (eps * (2.0 * tb + std::fabs(c2)) + 2.0 * adb * e_mb);
                                rp[j] = r_p;
                                rb[j] = r_b;
                                lsp[j] = p_new;
                                lsb[j] = b_new;
                                mp[j] = mpn;
                                mb[j] = mbn;
                                cpp[j] = c1;
                                cbb[j] = c2;
                                cpb[j] = c3;
                                emp[j] = e_mp;
                                emb[j] = e_mb;
                                ep[j] = e_p;
                                eb[j] = e_b;
                                const bool q = (r_p < wd) & (r_b < wd) & (c1 > 0.0) & (c2 > 0.0) &
                                               (e_p <= tol * c1) & (e_b <= tol * c2) &
                                               (e_mp * e_mp * wd <= tol * tol * c1) &
                                               (e_mb * e_mb * wd <= tol * tol * c2);
                                quiet[j] = q;
                                loud |= static_cast<int>(!q);
                                const double beta = c3 / c2;
                                const double a1 =
                                    ((lp[j] + mpn) - em.risk_free) - beta * ((lb[j] + mbn) - em.risk_free);
                                const double rr = c3 / std::sqrt(c1 * c2);
                                ob[j] = beta;
                                oal[j] = a1;
                                oc[j] = rr > 1.0 ? 1.0 : (rr < -1.0 ? -1.0 : rr);
                            };
                            std::ptrdiff_t j0 = 0;
#ifdef TRACKERR_VECTOR_LANES
                            {  // two portfolios per step in vector registers; the same arithmetic as `lane`
                                const vd2 inv = splat2(inv_w), width = splat2(wd), one = splat2(1.0),
                                          half = splat2(0.5);
                                const vd2 epsv = splat2(eps), tolv = splat2(tol), tol2 = splat2(tol * tol);
                                const vd2 zero = splat2(0.0), two = splat2(2.0), onehalf = splat2(1.5);
                                const vd2 rf = splat2(em.risk_free), mone = splat2(-1.0);
                                vi2 loud2 = {0, 0};
                                for (; j0 + 2 <= g; j0 += 2) {
                                    const vd2 p_new = load2(pn + j0), b_new = load2(bn + j0);
                                    const vd2 p_old = load2(po + j0), b_old = load2(bo + j0);
                                    const vd2 r_p =
                                        select2(p_new == load2(lsp + j0), load2(rp + j0) + one, one);
                                    const vd2 r_b =
                                        select2(b_new == load2(lsb + j0), load2(rb + j0) + one, one);
                                    const vd2 lpv = load2(lp + j0), lbv = load2(lb + j0);
                                    const vd2 up = p_new - lpv, ub = b_new - lbv, vp = p_old - lpv,
                                              vb = b_old - lbv;
                                    const vd2 dp = up - vp, db = ub - vb;
                                    const vd2 mp_old = load2(mp + j0), mb_old = load2(mb + j0);
                                    const vd2 mpn = mp_old + dp * inv, mbn = mb_old + db * inv;
                                    const vd2 ap = up - mpn, bp = vp - mp_old, ab = ub - mbn,
                                              bb = vb - mb_old;
                                    const vd2 c1 = load2(cpp + j0) + dp * (ap + bp);
                                    const vd2 c2 = load2(cbb + j0) + db * (ab + bb);
                                    const vd2 c3 = load2(cpb + j0) + half * (dp * (ab + bb) + db * (ap + bp));
                                    const vd2 adp = abs2(dp), adb = abs2(db);
                                    const vd2 tp = onehalf * adp * (abs2(ap) + abs2(bp));
                                    const vd2 tb = onehalf * adb * (abs2(ab) + abs2(bb));
                                    const vd2 e_mp = load2(emp + j0) + epsv * (abs2(mpn) + adp * inv);
                                    const vd2 e_mb = load2(emb + j0) + epsv * (abs2(mbn) + adb * inv);
                                    const vd2 e_p =
                                        load2(ep + j0) + (epsv * (two * tp + abs2(c1)) + two * adp * e_mp);
                                    const vd2 e_b =
                                        load2(eb + j0) + (epsv * (two * tb + abs2(c2)) + two * adb * e_mb);
                                    store2(rp + j0, r_p);
                                    store2(rb + j0, r_b);
                                    store2(lsp + j0, p_new);
                                    store2(lsb + j0, b_new);
                                    store2(mp + j0, mpn);
                                    store2(mb + j0, mbn);
                                    store2(cpp + j0, c1);
                                    store2(cbb + j0, c2);
                                    store2(cpb + j0, c3);
                                    store2(emp + j0, e_mp);
                                    store2(emb + j0, e_mb);
                                    store2(ep + j0, e_p);
                                    store2(eb + j0, e_b);
                                    const vi2 q = (r_p < width) & (r_b < width) & (c1 > zero) & (c2 > zero) &
                                                  (e_p <= tolv * c1) & (e_b <= tolv * c2) &
                                                  (e_mp * e_mp * width <= tol2 * c1) &
                                                  (e_mb * e_mb * width <= tol2 * c2);
                                    quiet[j0] = q[0] != 0;
                                    quiet[j0 + 1] = q[1] != 0;
                                    loud2 |= ~q;
                                    const vd2 beta = c3 / c2;
                                    const vd2 a1 = ((lpv + mpn) - rf) - beta * ((lbv + mbn) - rf);
                                    const vd2 rr = c3 / sqrt2(c1 * c2);
                                    store2(ob + j0, beta);
                                    store2(oal + j0, a1);
                                    store2(oc + j0, select2(rr > one, one, select2(rr < mone, mone, rr)));
                                }
                                loud |= static_cast<int>((loud2[0] | loud2[1]) != 0);
                            }
#endif
                            for (std::ptrdiff_t j = j0; j < g; ++j) lane(j);
                            for (std::ptrdiff_t j = 0; j < g; ++j) {
                                if (!quiet[j]) continue;
                                double v[4];
                                v[0] = ob[j];
                                v[1] = em.geometric_alpha ? metrics::compound(oal[j], em.per_year)
                                                          : oal[j] * em.per_year;
                                v[2] = oc[j];
                                v[3] = oc[j] * oc[j];
                                write_pair(outs_g[j], t, v);
                            }
                            if (loud) finish_loud();
                            continue;
                        }
                        for (std::ptrdiff_t j = 0; j < g; ++j) {
                            bool q = true;
                            if constexpr (Act) {
                                sa_g[j].replace(pn[j] - bn[j], po[j] - bo[j], inv_w);
                                q = q && sa_g[j].run < wd && sa_g[j].guard_quiet();
                            }
                            if constexpr (Pair) {
                                sc_g[j].replace(pn[j], bn[j], po[j], bo[j], inv_w);
                                q = q && sc_g[j].run_p < wd && sc_g[j].run_b < wd && sc_g[j].guard_quiet();
                            }
                            quiet[j] = q;
                            loud |= static_cast<int>(!q);
                        }
                        for (std::ptrdiff_t j = 0; j < g; ++j) {
                            if (loud && !quiet[j]) {
                                finish(j);
                                continue;
                            }
                            if constexpr (Act) {
                                double v[3];
                                em.active(sa_g[j], true, v);
                                write_active(outs_g[j], t, v);
                            }
                            if constexpr (Pair) {
                                double v[4];
                                em.pair(sc_g[j], true, v);
                                write_pair(outs_g[j], t, v);
                            }
                        }
                        continue;
                    }
                }
                // General step for every column of the group.
                if (steady)  // leaving the fast path: the arrays hold the latest state
                    for (std::ptrdiff_t j = 0; j < g; ++j) from_soa(j);
                bool now_steady = has_old;
                for (std::ptrdiff_t j = 0; j < g; ++j) {
                    const double x_old = has_old ? po[j] : nan_v, y_old = has_old ? bo[j] : nan_v;
                    if constexpr (Act) {
                        const double an = (pn[j] != pn[j] || bn[j] != bn[j]) ? nan_v : pn[j] - bn[j];
                        const double ao = (x_old != x_old || y_old != y_old) ? nan_v : x_old - y_old;
                        update(sa_g[j], an == an || pn[j] != pn[j] || bn[j] != bn[j] ? an : HUGE_VAL,
                               ao == ao || x_old != x_old || y_old != y_old ? ao : HUGE_VAL);
                        now_steady = now_steady && sa_g[j].n == wd && sa_g[j].n_bad == 0.0;
                    }
                    if constexpr (Pair) {
                        update(sc_g[j], pn[j], bn[j], x_old, y_old);
                        now_steady = now_steady && sc_g[j].n == wd && sc_g[j].n_bad == 0.0;
                    }
                    finish(j);
                }
                steady = now_steady;
                if (steady)  // entering the fast path
                    for (std::ptrdiff_t j = 0; j < g; ++j) to_soa(j);
            }
        }
}

template <bool Act, bool Pair, class TP, class TB>
void rolling_rowwise_dispatch(const Panel<TP>& p, const Panel<TB>& b, const RollingParams& prm,
                              const OutPanel& out, std::ptrdiff_t c0, std::ptrdiff_t c1) {
    const int pm = access_mode(p.col_stride, sizeof(TP)) == 1 ? 1 : 2;
    const int bm = access_mode(b.col_stride, sizeof(TB));
    if (pm == 1) {
        if (bm == 0) return rolling_rowwise<Act, Pair, 1, 0>(p, b, prm, out, c0, c1);
        if (bm == 1) return rolling_rowwise<Act, Pair, 1, 1>(p, b, prm, out, c0, c1);
        return rolling_rowwise<Act, Pair, 1, 2>(p, b, prm, out, c0, c1);
    }
    if (bm == 0) return rolling_rowwise<Act, Pair, 2, 0>(p, b, prm, out, c0, c1);
    if (bm == 1) return rolling_rowwise<Act, Pair, 2, 1>(p, b, prm, out, c0, c1);
    return rolling_rowwise<Act, Pair, 2, 2>(p, b, prm, out, c0, c1);
}

}  // namespace detail

/// Rolling metrics of every column of a T x N panel against its benchmark
/// (a broadcast column, see `broadcast`, or a T x N panel). Portfolios that
/// sit next to each other in memory (C order) are updated row by row in
/// groups; otherwise each column runs the 1-D kernel. Columns are split into
/// ranges of whole groups across `threads` threads (1 = the calling thread
/// only); no column's result depends on the split.
template <class TP, class TB>
void rolling(const Panel<TP>& p, const Panel<TB>& b, const RollingParams& prm, const OutPanel& out,
             int threads = 1) {
    detail::check_panels(p, b);
    check_rolling(prm, p.rows, b.rows);
    detail::check_rolling_options(prm);
    detail::check_threads(threads);
    const bool act = out.columns.any_active(), pair = out.columns.any_pair();
    const bool rowwise = detail::prefer_rowwise(p);
    auto run_columns = [&](std::ptrdiff_t c0, std::ptrdiff_t c1) {
        if (!rowwise) {
            for (std::ptrdiff_t c = c0; c < c1; ++c) rolling(p.column(c), b.column(c), prm, out.column(c), 1);
            return;
        }
        if (act && pair)
            detail::rolling_rowwise_dispatch<true, true>(p, b, prm, out, c0, c1);
        else if (act)
            detail::rolling_rowwise_dispatch<true, false>(p, b, prm, out, c0, c1);
        else if (pair)
            detail::rolling_rowwise_dispatch<false, true>(p, b, prm, out, c0, c1);
        // Tiny or huge columns, as in the 1-D kernel.
        std::vector<double> tops(static_cast<std::size_t>(2 * (c1 - c0)));
        detail::largest_finite_columns(p, c0, c1, tops.data());
        detail::largest_finite_columns(b, c0, c1, tops.data() + (c1 - c0));
        for (std::ptrdiff_t c = c0; c < c1; ++c)
            detail::rolling_rescaled(p.column(c), b.column(c), prm, out.column(c), 1,
                                     tops[static_cast<std::size_t>(c - c0)],
                                     tops[static_cast<std::size_t>(c - c0 + (c1 - c0))]);
    };
    const std::ptrdiff_t N = p.cols;
    const std::ptrdiff_t G = detail::rolling_group;
    const std::ptrdiff_t groups = (N + G - 1) / G;
    const std::ptrdiff_t k = std::max<std::ptrdiff_t>(1, std::min<std::ptrdiff_t>(threads, groups));
    auto bound = [&](std::ptrdiff_t i) { return std::min(N, (groups * i / k) * G); };
    detail::run_parts(k, [&](std::ptrdiff_t i) { run_columns(bound(i), bound(i + 1)); });
}

}  // namespace trackerr
