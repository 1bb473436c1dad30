// Guarded, shifted fixed-window states: the moments of the values currently
// inside a window, updated in O(1) as values enter and leave.
//
// Why guarded. Adding and removing values (the replace step
//   mean' = mean + (x_new - x_old) / n,
//   M2'   = M2 + (x_new - x_old) ((x_new - mean') + (x_old - mean)))
// is exact algebra, but each step rounds, and the rounding is relative to the
// *terms*, not to M2: after a large value leaves, M2 can be left with an error
// far above its size (pandas reports nonzero std for constant windows and
// negative variances for this reason). So every step also adds a bound on the
// rounding it made (a few ulps of each term); when the accumulated bound
// exceeds `recompute_tol` times M2, or M2 is not positive, the state is
// recomputed from the values in the window with a shifted two-pass sum.
// The trigger is driven by the error, not by a schedule, so accuracy does not
// depend on the data's history or on where the series starts.
//
// Why shifted. Means are kept relative to a reference level K (re-chosen at
// each recompute as the window's mean), so they stay near 0 and keep the
// digits that a mean stored at the series' level would round away.
//
// Constant windows. The trailing run of equal values is counted; when it
// covers every value in the window the state is set exactly: M2 = 0, mean = the
// value. Stale prices therefore give a tracking error of exactly 0.
//
// Non-finite values (inf, or inf - inf) count as observations but are kept
// out of the moments; a window holding one reports NaN, and recovers when it
// leaves.
#pragma once

#include "detail/isa.hpp"

#include <cmath>
#include <cstdint>
#include <limits>

#include "comoments.hpp"
#include "detail/simd.hpp"
#include "view.hpp"

namespace trackerr {
TRACKERR_ISA_BEGIN

namespace detail {
inline constexpr double eps = std::numeric_limits<double>::epsilon();
/// Relative bound on accumulated rounding in M2 before a recompute.
inline constexpr double recompute_tol = 1e-13;
/// 1 / tol^2: the mean's guard compares err_mean^2 n / tol^2 with M2.
inline constexpr double inv_tol2 = 1.0 / (recompute_tol * recompute_tol);
}  // namespace detail

namespace detail {

// The steady step of the window states, written once over a lane type V
// (detail/simd.hpp): `double` for the scalar states below, vectors of 2, 4 or
// 8 doubles for the kernels that step several windows at once (segments of a
// long series, columns of a panel, portfolios of a stream). Every lane
// computes exactly what the scalar step computes on its data.
//
// The step is the replace step of a full window of finite values (n fixed):
//   mean' = mean + dx / n,  M2' = M2 + dx ((x_new - mean') + (x_old - mean)),
// with dx = x_new - x_old (all relative to the reference level), plus the
// running bounds on the rounding it made and the trailing run of equal
// values. The bound's terms, per step, with u = eps / 2 the unit roundoff:
// the rounding of dx ((x_new - mean') + (x_old - mean)) (its subtractions,
// sum and product: 3 eps |dx| (|a| + |b|), with slack), the error the mean
// carries into a and b (2 |dx| err_mean), and the rounding of the addition
// into M2 itself: u |M2'| (Higham, "Accuracy and Stability of Numerical
// Algorithms", 2nd ed., eq. 2.5: fl(x + y) = (x + y) / (1 + d), |d| <= u, so
// the error is at most u times the *computed* sum). That last term dominates
// on ordinary data (M2 is a window's worth of squares, the others one step's),
// so it sets how often a window is rebuilt: counting it as eps |M2'| (twice
// what it can be) rebuilt twice as often for nothing.
// `quiet` says whether the result can be used as it is: M2 > 0, both
// bounds under the tolerance, and the run shorter than the window. A lane
// that is not quiet goes through the general step (constant windows,
// recomputes) of the scalar state.
template <class V>
struct MomentLanes {
    V level, mean, m2, err, err_mean, run, last;

    TRACKERR_HOT void replace(const V& x_new, const V& x_old, const V& inv_n) noexcept {
        run = simd::select<V>(x_new == last, run + 1.0, simd::splat<V>(1.0));
        last = x_new;
        const V u_new = x_new - level, u_old = x_old - level;
        const V dx = u_new - u_old;
        const V mean_old = mean;
        mean += dx * inv_n;
        const V a = u_new - mean, b = u_old - mean_old;
        m2 += dx * (a + b);
        const V adx = simd::abs(dx);
        err_mean += eps * (simd::abs(mean) + adx * inv_n);
        err += ((3.0 * eps) * adx) * (simd::abs(a) + simd::abs(b)) + ((0.5 * eps) * simd::abs(m2) + (adx + adx) * err_mean);
    }

    /// The guard of a full window of n values.
    TRACKERR_HOT simd::mask<V> quiet(const V& n) const noexcept {
        // & rather than &&: no branches on the per-element path. err >= 0,
        // so err < tol M2 also says M2 > 0 (and is false for a NaN).
        return (err < recompute_tol * m2) & (err_mean * err_mean * (n * inv_tol2) <= m2);
    }
};

/// The pair's steady step: MomentLanes for p and b, and the co-moment
///   C_pb' = C_pb + (dp (b_new - mean_b' + b_old - mean_b) + db (...p...)) / 2.
template <class V>
struct CoMomentLanes {
    V level_p, level_b, mean_p, mean_b, c_pp, c_bb, c_pb, err_p, err_b, err_mp, err_mb, run_p, run_b, last_p,
        last_b;

    TRACKERR_HOT void replace(const V& p_new, const V& b_new, const V& p_old, const V& b_old,
                              const V& inv_n) noexcept {
        const V one = simd::splat<V>(1.0);
        run_p = simd::select<V>(p_new == last_p, run_p + 1.0, one);
        run_b = simd::select<V>(b_new == last_b, run_b + 1.0, one);
        last_p = p_new;
        last_b = b_new;
        const V up = p_new - level_p, ub = b_new - level_b;
        const V vp = p_old - level_p, vb = b_old - level_b;
        const V dp = up - vp, db = ub - vb;
        const V mp_old = mean_p, mb_old = mean_b;
        mean_p += dp * inv_n;
        mean_b += db * inv_n;
        const V ap = up - mean_p, bp = vp - mp_old;
        const V ab = ub - mean_b, bb = vb - mb_old;
        c_pp += dp * (ap + bp);
        c_bb += db * (ab + bb);
        c_pb += 0.5 * (dp * (ab + bb) + db * (ap + bp));
        const V adp = simd::abs(dp), adb = simd::abs(db);
        err_mp += eps * (simd::abs(mean_p) + adp * inv_n);
        err_mb += eps * (simd::abs(mean_b) + adb * inv_n);
        err_p += ((3.0 * eps) * adp) * (simd::abs(ap) + simd::abs(bp)) +
                 ((0.5 * eps) * simd::abs(c_pp) + (adp + adp) * err_mp);
        err_b += ((3.0 * eps) * adb) * (simd::abs(ab) + simd::abs(bb)) +
                 ((0.5 * eps) * simd::abs(c_bb) + (adb + adb) * err_mb);
    }

    TRACKERR_HOT simd::mask<V> quiet(const V& n) const noexcept {
        const V nt = n * inv_tol2;
        return (err_p < recompute_tol * c_pp) & (err_b < recompute_tol * c_bb) & (err_mp * err_mp * nt <= c_pp) &
               (err_mb * err_mb * nt <= c_bb);
    }
};

}  // namespace detail

/// Guarded moments of one series over a window. `Source` is any callable
/// `double(std::ptrdiff_t i)` giving value i of the series (NaN = missing);
/// the window is the index range handed to `recompute`.
struct WindowMoments {
    double n = 0.0;      // finite values in the window
    double n_bad = 0.0;  // non-finite (but not missing) values in the window
    double level = 0.0;  // reference level K
    double mean = 0.0;   // mean - K
    double m2 = 0.0;
    double err = 0.0;       // bound on the rounding error accumulated in m2
    double err_mean = 0.0;  // bound on the rounding error accumulated in mean
    double run = 0.0;       // trailing run of equal observations
    double last = detail::nan_v;

    /// Observations in the window (finite or not), for min_periods.
    double count() const noexcept { return n + n_bad; }

    void add(double x) noexcept {
        observe(x);
        if (!std::isfinite(x)) {
            n_bad += 1.0;
            return;
        }
        const double u = x - level;
        n += 1.0;
        const double d = u - mean;
        mean += d / n;
        const double t = d * (u - mean);
        m2 += t;
        err_mean += detail::eps * (std::fabs(mean) + std::fabs(d) / n);
        err += detail::eps * (2.0 * std::fabs(t) + 0.5 * m2) + 2.0 * std::fabs(d) * err_mean;
    }

    void remove(double x) noexcept {
        if (!std::isfinite(x)) {
            n_bad -= 1.0;
            return;
        }
        if (n <= 1.0) {
            n = mean = m2 = err = err_mean = 0.0;
            return;
        }
        const double u = x - level;
        const double n1 = n - 1.0;
        const double d = u - mean;
        mean -= d / n1;
        const double t = d * (u - mean);
        m2 -= t;
        n = n1;
        err_mean += detail::eps * (std::fabs(mean) + std::fabs(d) / n1);
        err += detail::eps * (2.0 * std::fabs(t) + 0.5 * std::fabs(m2)) + 2.0 * std::fabs(d) * err_mean;
    }

    /// Replace step for a full window (n unchanged), with 1/n precomputed
    /// (detail::MomentLanes, one lane).
    TRACKERR_HOT void replace(double x_new, double x_old, double inv_n) noexcept {
        detail::MomentLanes<double> s{level, mean, m2, err, err_mean, run, last};
        s.replace(x_new, x_old, inv_n);
        mean = s.mean;
        m2 = s.m2;
        err = s.err;
        err_mean = s.err_mean;
        run = s.run;
        last = s.last;
    }

    /// Records an observation that will not enter the moments (a missing
    /// value breaks nothing: runs are over observations).
    TRACKERR_HOT void observe(double x) noexcept {
        run = (x == last) ? run + 1.0 : 1.0;
        last = x;
    }

    /// True when the state must be rebuilt from the window's values.
    bool needs_recompute() const noexcept {
        // With a non-finite value inside, the window reports NaN whatever the
        // moments hold; the bound keeps growing and triggers once it leaves.
        if (n < 2.0 || n_bad > 0.0) return false;
        return !guard_quiet();
    }

    /// The moments are trusted: M2 > 0 and both error bounds under the
    /// tolerance (the mean's error compared with the standard deviation).
    TRACKERR_HOT bool guard_quiet() const noexcept {
        // as detail::MomentLanes::quiet, the same operations
        return (err < detail::recompute_tol * m2) & (err_mean * err_mean * (n * detail::inv_tol2) <= m2);
    }

    /// When the trailing run covers the window, its values are all equal:
    /// set the exact state and report true.
    bool settle_constant() noexcept {
        if (n_bad > 0.0 || n < 1.0 || run < n) return false;
        level = last;
        mean = m2 = err = err_mean = 0.0;
        return true;
    }

    /// Rebuilds the state from the finite values source(i), i in [first, last).
    template <class Source>
    void recompute(const Source& source, std::ptrdiff_t first, std::ptrdiff_t last_) noexcept {
        double k = 0.0, x0 = detail::nan_v, s = 0.0;
        for (std::ptrdiff_t i = first; i < last_; ++i) {
            const double x = source(i);
            if (!std::isfinite(x)) continue;
            if (x0 != x0) x0 = x;
            s += x - x0;
            k += 1.0;
        }
        n = k;
        err = err_mean = 0.0;
        if (k == 0.0) {
            mean = m2 = 0.0;
            return;
        }
        level = x0 + s / k;  // the window's mean becomes the new reference level
        double s1 = 0.0, s2 = 0.0;
        for (std::ptrdiff_t i = first; i < last_; ++i) {
            const double x = source(i);
            if (!std::isfinite(x)) continue;
            const double d = x - level;
            s1 += d;
            s2 += d * d;
        }
        mean = s1 / k;
        const double m = s2 - s1 * s1 / k;
        m2 = m > 0.0 ? m : 0.0;
        err = 2.0 * detail::eps * m2;  // the two-pass sum is good to a few ulps
    }

    /// Plain moments of the window (mean at the data's level).
    Moments moments() const noexcept {
        Moments out;
        out.n = n;
        out.mean = level + mean;
        out.m2 = m2 > 0.0 ? m2 : 0.0;
        return out;
    }
};

/// Guarded joint moments of a pair (p, b) over a window: the same scheme as
/// WindowMoments with levels for both series and C_pp, C_bb, C_pb. The guard
/// watches C_pp and C_bb; C_pb's error is bounded by theirs (Cauchy-Schwarz).
struct WindowCoMoments {
    double n = 0.0, n_bad = 0.0;
    double level_p = 0.0, level_b = 0.0;
    double mean_p = 0.0, mean_b = 0.0;
    double c_pp = 0.0, c_bb = 0.0, c_pb = 0.0;
    double err_p = 0.0, err_b = 0.0, err_mp = 0.0, err_mb = 0.0;
    double run_p = 0.0, run_b = 0.0;
    double last_p = detail::nan_v, last_b = detail::nan_v;

    double count() const noexcept { return n + n_bad; }

    static bool finite(double p, double b) noexcept { return std::isfinite(p) && std::isfinite(b); }

    TRACKERR_HOT void observe(double p, double b) noexcept {
        run_p = (p == last_p) ? run_p + 1.0 : 1.0;
        run_b = (b == last_b) ? run_b + 1.0 : 1.0;
        last_p = p;
        last_b = b;
    }

    void add(double p, double b) noexcept {
        observe(p, b);
        if (!finite(p, b)) {
            n_bad += 1.0;
            return;
        }
        const double up = p - level_p, ub = b - level_b;
        n += 1.0;
        const double dp = up - mean_p, db = ub - mean_b;
        mean_p += dp / n;
        mean_b += db / n;
        const double tp = dp * (up - mean_p), tb = db * (ub - mean_b);
        c_pp += tp;
        c_bb += tb;
        c_pb += dp * (ub - mean_b);
        bound(std::fabs(dp), std::fabs(db), std::fabs(tp), std::fabs(tb), 1.0 / n);
    }

    void remove(double p, double b) noexcept {
        if (!finite(p, b)) {
            n_bad -= 1.0;
            return;
        }
        if (n <= 1.0) {
            n = mean_p = mean_b = c_pp = c_bb = c_pb = 0.0;
            err_p = err_b = err_mp = err_mb = 0.0;
            return;
        }
        const double up = p - level_p, ub = b - level_b;
        const double n1 = n - 1.0;
        const double dp = up - mean_p, db = ub - mean_b;
        mean_p -= dp / n1;
        mean_b -= db / n1;
        const double tp = dp * (up - mean_p), tb = db * (ub - mean_b);
        c_pp -= tp;
        c_bb -= tb;
        c_pb -= dp * (ub - mean_b);
        n = n1;
        bound(std::fabs(dp), std::fabs(db), std::fabs(tp), std::fabs(tb), 1.0 / n1);
    }

    /// Replace step for a full window (detail::CoMomentLanes, one lane).
    TRACKERR_HOT void replace(double p_new, double b_new, double p_old, double b_old, double inv_n) noexcept {
        detail::CoMomentLanes<double> s{level_p, level_b, mean_p, mean_b, c_pp,  c_bb,   c_pb,  err_p,
                                        err_b,   err_mp,  err_mb, run_p,  run_b, last_p, last_b};
        s.replace(p_new, b_new, p_old, b_old, inv_n);
        mean_p = s.mean_p;
        mean_b = s.mean_b;
        c_pp = s.c_pp;
        c_bb = s.c_bb;
        c_pb = s.c_pb;
        err_p = s.err_p;
        err_b = s.err_b;
        err_mp = s.err_mp;
        err_mb = s.err_mb;
        run_p = s.run_p;
        run_b = s.run_b;
        last_p = s.last_p;
        last_b = s.last_b;
    }

    /// A series that is constant over the window is exact (settle_constant
    /// set it), so only the other one's guard decides: when p is stale while
    /// a huge b leaves the window, C_bb must still be rebuilt.
    bool needs_recompute() const noexcept {
        if (n < 2.0 || n_bad > 0.0) return false;
        // as detail::CoMomentLanes::quiet, the same operations, per series
        constexpr double tol = detail::recompute_tol;
        const double nt = n * detail::inv_tol2;
        const bool ok_p = run_p >= n || ((err_p < tol * c_pp) & (err_mp * err_mp * nt <= c_pp));
        const bool ok_b = run_b >= n || ((err_b < tol * c_bb) & (err_mb * err_mb * nt <= c_bb));
        return !(ok_p && ok_b);
    }

    /// As WindowMoments::guard_quiet, for both series.
    TRACKERR_HOT bool guard_quiet() const noexcept {
        constexpr double tol = detail::recompute_tol;
        const double nt = n * detail::inv_tol2;
        return (err_p < tol * c_pp) & (err_b < tol * c_bb) & (err_mp * err_mp * nt <= c_pp) &
               (err_mb * err_mb * nt <= c_bb);
    }

    /// Exact state for windows where either series is constant; returns true
    /// when both are (nothing left to update). With one side constant the
    /// other may still need a rebuild: see needs_recompute.
    bool settle_constant() noexcept {
        if (n_bad > 0.0 || n < 1.0) return false;
        const bool const_p = run_p >= n, const_b = run_b >= n;
        if (const_p) {
            level_p = last_p;
            mean_p = c_pp = c_pb = err_p = err_mp = 0.0;
        }
        if (const_b) {
            level_b = last_b;
            mean_b = c_bb = c_pb = err_b = err_mb = 0.0;
        }
        return const_p && const_b;
    }

    template <class SourceP, class SourceB>
    void recompute(const SourceP& sp, const SourceB& sb, std::ptrdiff_t first, std::ptrdiff_t last) noexcept {
        double k = 0.0, p0 = detail::nan_v, b0 = 0.0, s_p = 0.0, s_b = 0.0;
        for (std::ptrdiff_t i = first; i < last; ++i) {
            const double p = sp(i), b = sb(i);
            if (!finite(p, b)) continue;
            if (p0 != p0) {
                p0 = p;
                b0 = b;
            }
            s_p += p - p0;
            s_b += b - b0;
            k += 1.0;
        }
        n = k;
        err_p = err_b = err_mp = err_mb = 0.0;
        if (k == 0.0) {
            mean_p = mean_b = c_pp = c_bb = c_pb = 0.0;
            return;
        }
        level_p = p0 + s_p / k;
        level_b = b0 + s_b / k;
        double ap = 0.0, ab = 0.0, app = 0.0, abb = 0.0, apb = 0.0;
        for (std::ptrdiff_t i = first; i < last; ++i) {
            const double p = sp(i), b = sb(i);
            if (!finite(p, b)) continue;
            const double dp = p - level_p, db = b - level_b;
            ap += dp;
            ab += db;
            app += dp * dp;
            abb += db * db;
            apb += dp * db;
        }
        mean_p = ap / k;
        mean_b = ab / k;
        const double cpp = app - ap * ap / k, cbb = abb - ab * ab / k;
        c_pp = cpp > 0.0 ? cpp : 0.0;
        c_bb = cbb > 0.0 ? cbb : 0.0;
        c_pb = apb - ap * ab / k;
        err_p = 2.0 * detail::eps * c_pp;
        err_b = 2.0 * detail::eps * c_bb;
    }

    CoMoments comoments() const noexcept {
        CoMoments out;
        out.n = n;
        out.mean_p = level_p + mean_p;
        out.mean_b = level_b + mean_b;
        out.c_pp = c_pp > 0.0 ? c_pp : 0.0;
        out.c_bb = c_bb > 0.0 ? c_bb : 0.0;
        out.c_pb = c_pb;
        return out;
    }

private:
    TRACKERR_HOT void bound(double adp, double adb, double tp, double tb, double inv_n) noexcept {
        err_mp += detail::eps * (std::fabs(mean_p) + adp * inv_n);
        err_mb += detail::eps * (std::fabs(mean_b) + adb * inv_n);
        err_p += detail::eps * (2.0 * tp + 0.5 * std::fabs(c_pp)) + 2.0 * adp * err_mp;
        err_b += detail::eps * (2.0 * tb + 0.5 * std::fabs(c_bb)) + 2.0 * adb * err_mb;
    }
};

namespace detail {

// Lane j of a lane state from and to a scalar state: every field the steady
// step reads or writes (n and n_bad are the window's, left to the scalar).
template <class V>
TRACKERR_HOT void set_lane(MomentLanes<V>& l, int j, const WindowMoments& s) noexcept {
    simd::set(l.level, j, s.level);
    simd::set(l.mean, j, s.mean);
    simd::set(l.m2, j, s.m2);
    simd::set(l.err, j, s.err);
    simd::set(l.err_mean, j, s.err_mean);
    simd::set(l.run, j, s.run);
    simd::set(l.last, j, s.last);
}
template <class V>
TRACKERR_HOT void get_lane(const MomentLanes<V>& l, int j, WindowMoments& s) noexcept {
    s.level = simd::get(l.level, j);
    s.mean = simd::get(l.mean, j);
    s.m2 = simd::get(l.m2, j);
    s.err = simd::get(l.err, j);
    s.err_mean = simd::get(l.err_mean, j);
    s.run = simd::get(l.run, j);
    s.last = simd::get(l.last, j);
}
template <class V>
TRACKERR_HOT void set_lane(CoMomentLanes<V>& l, int j, const WindowCoMoments& s) noexcept {
    simd::set(l.level_p, j, s.level_p);
    simd::set(l.level_b, j, s.level_b);
    simd::set(l.mean_p, j, s.mean_p);
    simd::set(l.mean_b, j, s.mean_b);
    simd::set(l.c_pp, j, s.c_pp);
    simd::set(l.c_bb, j, s.c_bb);
    simd::set(l.c_pb, j, s.c_pb);
    simd::set(l.err_p, j, s.err_p);
    simd::set(l.err_b, j, s.err_b);
    simd::set(l.err_mp, j, s.err_mp);
    simd::set(l.err_mb, j, s.err_mb);
    simd::set(l.run_p, j, s.run_p);
    simd::set(l.run_b, j, s.run_b);
    simd::set(l.last_p, j, s.last_p);
    simd::set(l.last_b, j, s.last_b);
}
template <class V>
TRACKERR_HOT void get_lane(const CoMomentLanes<V>& l, int j, WindowCoMoments& s) noexcept {
    s.level_p = simd::get(l.level_p, j);
    s.level_b = simd::get(l.level_b, j);
    s.mean_p = simd::get(l.mean_p, j);
    s.mean_b = simd::get(l.mean_b, j);
    s.c_pp = simd::get(l.c_pp, j);
    s.c_bb = simd::get(l.c_bb, j);
    s.c_pb = simd::get(l.c_pb, j);
    s.err_p = simd::get(l.err_p, j);
    s.err_b = simd::get(l.err_b, j);
    s.err_mp = simd::get(l.err_mp, j);
    s.err_mb = simd::get(l.err_mb, j);
    s.run_p = simd::get(l.run_p, j);
    s.run_b = simd::get(l.run_b, j);
    s.last_p = simd::get(l.last_p, j);
    s.last_b = simd::get(l.last_b, j);
}

}  // namespace detail

TRACKERR_ISA_END
}  // namespace trackerr
