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
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "batch.hpp"
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
    void set(std::ptrdiff_t i, double v) const noexcept {
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

// The rolling loop, specialised on which states it keeps. Each step either
// takes the fast path (window full of finite values, a replace step, no
// constant run, guard quiet: straight-line code on register copies of the
// states) or the general one (add/remove, constant windows, recomputes,
// min_periods, non-finite values).
template <bool Contig, class T>
inline double value_at(const View<T>& v, std::ptrdiff_t i) noexcept {
    if constexpr (Contig)
        return static_cast<double>(v.data[i]);
    else
        return static_cast<double>(v[i]);
}

template <bool Act, bool Pair, bool Contig, class TP, class TB>
void rolling_impl(const View<TP>& p, const View<TB>& b, const RollingParams& prm, const RollingOutputs& out) {
    const std::ptrdiff_t T = p.size, w = prm.window;
    const double need = static_cast<double>(prm.min_periods > 0 ? prm.min_periods : w);
    const double wd = static_cast<double>(w), inv_w = 1.0 / wd;
    const bool annual = prm.periods == prm.periods;
    const double per_year = annual ? prm.periods : 1.0, sqrt_p = std::sqrt(per_year);
    const double inv_dof = wd > prm.ddof ? 1.0 / (wd - prm.ddof) : nan_v;
    auto a_at = [&](std::ptrdiff_t i) { return active_at(p, b, i); };
    auto p_at = [&](std::ptrdiff_t i) { return static_cast<double>(p[i]); };
    auto b_at = [&](std::ptrdiff_t i) { return static_cast<double>(b[i]); };
    WindowMoments wa;
    WindowCoMoments wc;

    // Outputs of one step. The fast path and the general one share these, so
    // a metric is computed by the same arithmetic whichever path a step took
    // and whichever other metrics were asked for.
    auto emit_a = [&](std::ptrdiff_t t, bool ok, const WindowMoments& s) {
        if (!ok) {
            if (out.tracking_error) out.tracking_error.set(t, nan_v);
            if (out.active_return) out.active_return.set(t, nan_v);
            if (out.information_ratio) out.information_ratio.set(t, nan_v);
            return;
        }
        const double idof = s.n == wd ? inv_dof : (s.n > prm.ddof ? 1.0 / (s.n - prm.ddof) : nan_v);
        const double sd = std::sqrt((s.m2 > 0.0 ? s.m2 : 0.0) * idof);
        const double mean = s.level + s.mean;
        if (out.tracking_error) out.tracking_error.set(t, sd * sqrt_p);
        if (out.active_return) out.active_return.set(t, mean * per_year);
        if (out.information_ratio) out.information_ratio.set(t, sd > 0.0 ? mean / sd * sqrt_p : nan_v);
    };
    auto emit_c = [&](std::ptrdiff_t t, bool ok, const WindowCoMoments& s) {
        const CoMoments c = s.comoments();
        if (out.beta) out.beta.set(t, ok ? metrics::beta(c) : nan_v);
        if (out.alpha)
            out.alpha.set(t, !ok ? nan_v
                                 : (prm.geometric_alpha ? metrics::alpha_geometric(c, prm.risk_free, prm.periods)
                                                        : metrics::alpha(c, prm.risk_free, prm.periods)));
        if (out.correlation) out.correlation.set(t, ok ? metrics::correlation(c) : nan_v);
        if (out.r_squared) out.r_squared.set(t, ok ? metrics::r_squared(c) : nan_v);
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
            emit_a(t, wa.count() >= need && wa.n_bad == 0.0, wa);
        }
        if constexpr (Pair) {
            if (!wc.settle_constant() && wc.needs_recompute() && !block_rebuild_c(first, t + 1))
                wc = rebuilt(wc, p_at, b_at, first, t + 1);
            emit_c(t, wc.count() >= need && wc.n_bad == 0.0, wc);
        }
    };
    auto general_step = [&](std::ptrdiff_t t) {
        const bool has_old = t >= w;
        if constexpr (Act) {
            const double an = a_at(t), ao = has_old ? a_at(t - w) : nan_v;
            const bool vn = an == an, vo = ao == ao;
            if (vn && vo && std::isfinite(an) && std::isfinite(ao) && wa.n_bad == 0.0 && wa.n > 0.0) {
                wa.replace(an, ao, 1.0 / wa.n);
            } else {
                if (vo) wa.remove(ao);
                if (vn) wa.add(an);
            }
        }
        if constexpr (Pair) {
            const double pn = p_at(t), bn = b_at(t);
            const double po = has_old ? p_at(t - w) : nan_v, bo = has_old ? b_at(t - w) : nan_v;
            const bool vn = pn == pn && bn == bn, vo = po == po && bo == bo;
            if (vn && vo && WindowCoMoments::finite(pn, bn) && WindowCoMoments::finite(po, bo) &&
                wc.n_bad == 0.0 && wc.n > 0.0) {
                wc.replace(pn, bn, po, bo, 1.0 / wc.n);
            } else {
                if (vo) wc.remove(po, bo);
                if (vn) wc.add(pn, bn);
            }
        }
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
                finite = finite && (an - an == 0.0) && (ao - ao == 0.0);
            }
            if constexpr (Pair) {
                pn = value_at<Contig>(p, t);
                bn = value_at<Contig>(b, t);
                po = value_at<Contig>(p, t - w);
                bo = value_at<Contig>(b, t - w);
                finite =
                    finite && (pn - pn == 0.0) && (bn - bn == 0.0) && (po - po == 0.0) && (bo - bo == 0.0);
            }
            if (!finite) break;  // a NaN or inf enters or leaves: general step
            bool quiet = true;
            if constexpr (Act) {
                ha.replace(an, ao, inv_w);
                quiet = quiet && ha.run < wd && ha.guard_quiet();
            }
            if constexpr (Pair) {
                hc.replace(pn, bn, po, bo, inv_w);
                quiet = quiet && hc.run_p < wd && hc.run_b < wd && hc.guard_quiet();
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

/// Rolling metrics of one portfolio against one benchmark (both length T).
template <class TP, class TB>
void rolling(View<TP> p, View<TB> b, const RollingParams& prm, const RollingOutputs& out) {
    check_rolling(prm, p.size, b.size);
    const bool act = out.any_active(), pair = out.any_pair();
    if (p.contiguous() && b.contiguous()) {
        if (act && pair) return detail::rolling_impl<true, true, true>(p, b, prm, out);
        if (act) return detail::rolling_impl<true, false, true>(p, b, prm, out);
        if (pair) return detail::rolling_impl<false, true, true>(p, b, prm, out);
        return;
    }
    if (act && pair) return detail::rolling_impl<true, true, false>(p, b, prm, out);
    if (act) return detail::rolling_impl<true, false, false>(p, b, prm, out);
    if (pair) return detail::rolling_impl<false, true, false>(p, b, prm, out);
}

/// A T x N output panel: column j of metric k is at data + j * col_stride.
struct OutPanel {
    RollingOutputs columns;        // views of column 0
    std::ptrdiff_t col_stride[7];  // bytes between columns, per metric (same order as RollingOutputs)
};

/// Rolling metrics of every column of a T x N panel against its benchmark
/// (a broadcast column, see `broadcast`, or a T x N panel). Columns are split
/// into contiguous ranges across `threads` threads (1 = the calling thread
/// only); each column's result does not depend on the split.
template <class TP, class TB>
void rolling(const Panel<TP>& p, const Panel<TB>& b, const RollingParams& prm, const OutPanel& out,
             int threads = 1) {
    detail::check_panels(p, b);
    check_rolling(prm, p.rows, b.rows);
    auto run_columns = [&](std::ptrdiff_t c0, std::ptrdiff_t c1) {
        for (std::ptrdiff_t c = c0; c < c1; ++c) {
            const RollingOutputs& o = out.columns;
            RollingOutputs oc{o.tracking_error.offset_by(c * out.col_stride[0]),
                              o.active_return.offset_by(c * out.col_stride[1]),
                              o.information_ratio.offset_by(c * out.col_stride[2]),
                              o.beta.offset_by(c * out.col_stride[3]),
                              o.alpha.offset_by(c * out.col_stride[4]),
                              o.correlation.offset_by(c * out.col_stride[5]),
                              o.r_squared.offset_by(c * out.col_stride[6])};
            rolling(p.column(c), b.column(c), prm, oc);
        }
    };
    const std::ptrdiff_t N = p.cols;
    const std::ptrdiff_t k = std::max<std::ptrdiff_t>(1, std::min<std::ptrdiff_t>(threads, N));
    if (k == 1) return run_columns(0, N);
    std::vector<std::thread> pool;
    pool.reserve(static_cast<std::size_t>(k - 1));
    for (std::ptrdiff_t i = 1; i < k; ++i) pool.emplace_back(run_columns, N * i / k, N * (i + 1) / k);
    run_columns(0, N / k);
    for (auto& th : pool) th.join();
}

}  // namespace trackerr
