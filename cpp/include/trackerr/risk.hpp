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
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "detail/parallel.hpp"
#include "rolling.hpp"
#include "rolling_time.hpp"
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
    /// Windows of time instead of rows (rolling only): with `times` (one
    /// non-decreasing int64 per row) row t's window is the rows with times in
    /// (times[t] - span, times[t]]; `window` is then ignored and min_periods
    /// (0: 1) counts observations.
    const std::int64_t* times = nullptr;
    std::int64_t span = 0;
    /// Time windows only: the slide also rebuilds its stacks at every cut
    /// of the series into segments (time_segment_length rows from row 0),
    /// so a segment's values depend only on its rows and the window before
    /// its first. Given (a piece of a longer series, as trackerr.dask runs
    /// one), the cuts fall at `origin` and every `segment` rows after it.
    std::ptrdiff_t segment = 0;
    std::ptrdiff_t origin = 0;
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

// ---- full-sample fast paths --------------------------------------------------
//
// `fold` combines one summary per row: a log1p per row for the drawdown and a
// renormalised TwoSum per row and sum, each step waiting for the previous one.
// The full-sample forms of three metrics have cheaper exact forms; each falls
// back to `fold` (returns false) on rows its arithmetic does not cover, so the
// fast path only ever answers when its error is within the bound stated below.

/// Lanes and block of the compensated sums: each of kSumLanes lanes keeps its
/// own TwoSum pair (s, c) (Ogita, Rump & Oishi's cascaded Sum2: s is the plain
/// running sum, c collects the exact rounding error of every addition), and
/// every kSumBlock rows the lanes are added, in lane order, into a Sum2. The
/// lane of row i is i mod kSumLanes whatever the vector width the compiler
/// picks, so the result is the same on every instruction set. The error of a
/// lane's s + c is one rounding of the sum plus (m eps)^2 of the sum of |terms|
/// for m = kSumBlock / kSumLanes terms per lane: no more than the Sum2 fold.
inline constexpr int kSumLanes = 8;
inline constexpr std::ptrdiff_t kSumBlock = 4096;
inline constexpr std::ptrdiff_t kSumAhead = 256;  // rows read ahead (prefetched)
inline constexpr int kSumRun = 8;  // rows per lane in a plain partial sum of the b terms

/// Asks for row i of v (if there is one) to be brought into cache: the loops
/// here read rows one after the other but, measured on the development VM, the
/// hardware prefetcher alone left them waiting on memory once the series is
/// out of cache (the sums 4.3 ns a row at 1e7 rows instead of 1.2).
template <class T>
TRACKERR_HOT void prefetch_row(View<T> v, std::ptrdiff_t i) noexcept {
#if defined(__GNUC__) || defined(__clang__)
    if (i < v.size) __builtin_prefetch(reinterpret_cast<const char*>(v.data) + i * v.stride);
#else
    (void)v;
    (void)i;
#endif
}

// The lanes live in GCC/clang vector-extension registers of two doubles where
// available (SSE2 or wider, without reassociating anything), else in plain
// doubles: slot k holds lanes k * width .. (k + 1) * width - 1 either way,
// and each lane's arithmetic is the same, so are the results.
#if defined(__GNUC__) || defined(__clang__)
typedef double risk_v2 __attribute__((vector_size(16)));
typedef float risk_vf2 __attribute__((vector_size(8)));
using risk_m2 = decltype(risk_v2{} == risk_v2{});  // per-lane all-ones / all-zeros
struct SumSlots {
    using V = risk_v2;
    static constexpr int width = 2;
    static V zero() noexcept { return V{0.0, 0.0}; }
    static V splat(double x) noexcept { return V{x, x}; }
    template <bool Contiguous, class T>
    static V load(View<T> v, std::ptrdiff_t i) noexcept {
        if constexpr (Contiguous && std::is_same_v<T, double>) {
            V out;
            std::memcpy(&out, v.data + i, sizeof out);
            return out;
        } else if constexpr (Contiguous && std::is_same_v<T, float>) {
            risk_vf2 f;
            std::memcpy(&f, v.data + i, sizeof f);
            return __builtin_convertvector(f, V);
        } else {
            return V{static_cast<double>(v[i]), static_cast<double>(v[i + 1])};
        }
    }
    // x where mask, else 0 (masks are all-ones or all-zeros per lane)
    static V keep(risk_m2 mask, V x) noexcept {
        risk_m2 bits;
        std::memcpy(&bits, &x, sizeof bits);
        bits &= mask;
        V out;
        std::memcpy(&out, &bits, sizeof out);
        return out;
    }
    static double lane(V x, int j) noexcept { return x[j]; }
};
#else
struct SumSlots {
    using V = double;
    static constexpr int width = 1;
    static V zero() noexcept { return 0.0; }
    static V splat(double x) noexcept { return x; }
    template <bool Contiguous, class T>
    static V load(View<T> v, std::ptrdiff_t i) noexcept {
        return static_cast<double>(v[i]);
    }
    static V keep(bool mask, V x) noexcept { return mask ? x : 0.0; }
    static double lane(V x, int) noexcept { return x; }
};
#endif

TRACKERR_HOT double keep_if(bool mask, double x) noexcept {
    return mask ? x : 0.0;
}
#if defined(__GNUC__) || defined(__clang__)
TRACKERR_HOT risk_v2 keep_if(risk_m2 mask, risk_v2 x) noexcept {
    return SumSlots::keep(mask, x);
}
#endif

template <class V>
TRACKERR_HOT void two_sum_into(V& s, V& c, V x) noexcept {
    const V t = s + x;
    const V z = t - s;
    c += (s - (t - z)) + (x - z);
    s = t;
}

/// The two sums a and b of terms(d) over the non-NaN rows, d = x - shift, and
/// the number of those rows. The b terms must be >= 0 (squares, or the losses
/// below a threshold): they cannot cancel, so each lane adds kSumRun of them
/// plainly before TwoSum takes the partial sum, which leaves b within
/// (kSumRun - 1) eps = 7 eps of its exact value at worst (Sortino and Omega
/// stay within 2.3e-16 of exact rational sums on tests/test_risk_fast.py's
/// cases) for a fifth less time a row; the a terms, which may cancel, take TwoSum one
/// by one. Returns false when a sum is not finite (an inf row, or terms
/// overflowing): `fold` then decides, row by row.
template <bool Contiguous, class T, class Terms>
bool lane_sums(View<T> v, double shift, Terms terms, Sum2& a, Sum2& b, std::int64_t& obs) noexcept {
    using S = SumSlots;
    using V = S::V;
    constexpr int slots = kSumLanes / S::width;
    a = Sum2{};
    b = Sum2{};
    double count = 0.0;  // exact: at most 2^53 rows
    const V sh = S::splat(shift), one = S::splat(1.0);
    for (std::ptrdiff_t b0 = 0; b0 < v.size; b0 += kSumBlock) {
        const std::ptrdiff_t end = b0 + std::min(kSumBlock, v.size - b0);
        V sa[slots], ca[slots], sb[slots], cb[slots], n[slots];
        for (int k = 0; k < slots; ++k) sa[k] = ca[k] = sb[k] = cb[k] = n[k] = S::zero();
        std::ptrdiff_t i = b0;
        while (i + kSumLanes <= end) {
            // The b terms are never negative: a plain sum of kSumRun of them per
            // lane is within (kSumRun - 1) eps of its value, and only these
            // partial sums go through TwoSum.
            V part[slots];
            for (int k = 0; k < slots; ++k) part[k] = S::zero();
            for (int run = 0; run < kSumRun && i + kSumLanes <= end; ++run, i += kSumLanes) {
                if constexpr (Contiguous) prefetch_row(v, i + kSumAhead);  // one a cache line
                for (int k = 0; k < slots; ++k) {
                    const V x = S::template load<Contiguous>(v, i + k * S::width);
                    const auto valid = x == x;
                    const V d = S::keep(valid, x - sh);  // a NaN row adds 0
                    n[k] += S::keep(valid, one);
                    V ta, tb;
                    terms(d, ta, tb);
                    two_sum_into(sa[k], ca[k], ta);
                    part[k] += tb;
                }
            }
            for (int k = 0; k < slots; ++k) two_sum_into(sb[k], cb[k], part[k]);
        }
        // The last rows (fewer than kSumLanes) go to lanes 0, 1, ..., one at a time.
        double ta_[kSumLanes], ca_[kSumLanes], tb_[kSumLanes], cb_[kSumLanes], n_[kSumLanes];
        for (int j = 0; j < kSumLanes; ++j) {
            ta_[j] = S::lane(sa[j / S::width], j % S::width);
            ca_[j] = S::lane(ca[j / S::width], j % S::width);
            tb_[j] = S::lane(sb[j / S::width], j % S::width);
            cb_[j] = S::lane(cb[j / S::width], j % S::width);
            n_[j] = S::lane(n[j / S::width], j % S::width);
        }
        for (int j = 0; i < end; ++i, ++j) {
            const double x = static_cast<double>(v[i]);
            const bool valid = x == x;
            const double dx = x - shift;
            const double d = valid ? dx : 0.0;
            n_[j] += valid ? 1.0 : 0.0;
            double ta, tb;
            terms(d, ta, tb);
            two_sum_into(ta_[j], ca_[j], ta);
            two_sum_into(tb_[j], cb_[j], tb);
        }
        for (int j = 0; j < kSumLanes; ++j) {
            a = add(add(a, ta_[j]), ca_[j]);
            b = add(add(b, tb_[j]), cb_[j]);
            count += n_[j];
        }
    }
    obs = static_cast<std::int64_t>(count);
    return std::isfinite(a.hi) && std::isfinite(a.lo) && std::isfinite(b.hi) && std::isfinite(b.lo);
}

template <class T, class Terms>
bool lane_sums(View<T> v, double shift, Terms terms, Sum2& a, Sum2& b, std::int64_t& obs) noexcept {
    return v.contiguous() ? lane_sums<true>(v, shift, terms, a, b, obs)
                          : lane_sums<false>(v, shift, terms, a, b, obs);
}

template <class T>
bool sortino_fast(const SortinoOf<T>& m, RiskResult& out) noexcept {
    SortinoSummary s;
    // d and min(d, 0)^2, for one double or one slot of lanes.
    const auto terms = [](auto d, auto& ta, auto& tb) {
        const auto down = keep_if(d < 0.0, d);
        ta = d;
        tb = down * down;
    };
    if (!lane_sums(m.r, m.target, terms, s.s1, s.s2, s.n)) return false;
    s.rows.obs = s.n;
    out = {m.value(s), static_cast<std::int64_t>(m.r.size) - s.n};
    return true;
}

template <class T>
bool omega_fast(const OmegaOf<T>& m, RiskResult& out) noexcept {
    OmegaSummary s;
    // max(d, 0) and max(-d, 0).
    const auto terms = [](auto d, auto& ta, auto& tb) {
        const auto neg = -d;
        ta = keep_if(d > 0.0, d);
        tb = keep_if(neg > 0.0, neg);
    };
    if (!lane_sums(m.r, m.threshold, terms, s.gain, s.loss, s.n)) return false;
    s.rows.obs = s.n;
    out = {m.value(s), static_cast<std::int64_t>(m.r.size) - s.n};
    return true;
}

// Max drawdown from the wealth itself, kept as an unevaluated pair W = hi + lo
// (the issue's "plain running product per block, compensated at the block
// boundaries": hi is the plain running product, lo collects what its roundings
// lose, and the pair is renormalised every kDdRenorm rows).
//
// A row multiplies W by 1 + x as W + W x: p = hi * x is rounded (relative
// error eps |x| / |1 + x| <= eps of the new wealth for x >= -1/2, the same
// order as the rounding of log1p(x) in `fold`), hi + p is split exactly into
// the new hi and its error e (FastTwoSum, as |p| <= |hi| for |x| <= 1; TwoSum
// above), and lo becomes lo (1 + x) + e. Every other rounding falls on lo,
// whose size stays below 17 eps |W| between renormalisations: each row adds at
// most 64 eps^2 |W| of such second-order error (3 roundings of a term of
// 17 eps |W| and one of e). A ratio of two wealths W_t / W_s carries only the
// roundings of the rows between s and t.
//
// The running peak M and the lowest wealth T since M was set (an "epoch") are
// kept as normalised pairs and compared exactly (lexicographically; hi alone
// settles all but the rows within 2^-45 of M or T), so the drawdown of every
// epoch, T / M - 1, is the one these wealths give. It is evaluated in
// double-double when the epoch ends (and at the end), if a test in plain
// doubles with a margin says it may beat the best so far.
//
// A series of 128 rows or more runs as two chains, one per half, in step (the
// multiply-add of each row waits on the previous row's, so one chain leaves
// the arithmetic units half idle), joined as the log summaries of `fold` are:
// the drawdown is the lower of each half's and of the one across, the first
// half's final wealth times the second half's lowest over the first half's
// peak, minus 1.
//
// Rows outside [-1/2, 1] go a slower way: x < -1/2 (W x would cancel)
// multiplies by 1 + x, exact there, with Dekker's exact product; x > 1 takes
// TwoSum; NaN rows are skipped; a -1 ruins and an inf or a row below -1 is out
// of domain (the value is then known, -1 or NaN, and only the rows are
// counted). W, M and T are rescaled together by powers of two (exact) to keep
// hi within [2^-256, 2^256]; once T / M falls below 2^-300 the drawdown is -1
// to double precision. Returns above 2^64 go to `fold`, and so does a result
// the second-order error could move by more than eps (|value| <
// 64 (n + 4) eps: a drawdown below 7e-9 after a million rows, which only
// near-constant wealth gives).

inline constexpr std::ptrdiff_t kDdRenorm = 16;

struct DD {
    double hi = 0.0;
    double lo = 0.0;
};

TRACKERR_HOT bool dd_less(DD a, DD b) noexcept {
    return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo);
}

// Dekker's exact product a b = hi + lo without a fused multiply-add (|a|, |b| < 2^995).
TRACKERR_HOT DD two_prod(double a, double b) noexcept {
    constexpr double split = 134217729.0;  // 2^27 + 1
    const double ca = split * a, cb = split * b;
    const double ah = ca - (ca - a), al = a - ah;
    const double bh = cb - (cb - b), bl = b - bh;
    const double p = a * b;
    return {p, ((ah * bh - p) + ah * bl + al * bh) + al * bl};
}

TRACKERR_HOT DD fast_two_sum(double a, double b) noexcept {  // |a| >= |b|
    const double s = a + b;
    return {s, b - (s - a)};
}

/// T / M - 1 in double-double, for normalised pairs 0 < T <= M.
inline DD epoch_drawdown(DD t, DD m) noexcept {
    const double s = t.hi - m.hi;  // with its error e (TwoSum): T - M to about eps^2 M
    const double z = s - t.hi;
    const double e = (t.hi - (s - z)) + (-m.hi - z);
    const double c = e + (t.lo - m.lo);
    const double dh = s + c, dz = dh - s;
    const DD diff{dh, (s - (dh - dz)) + (c - dz)};
    const double q1 = diff.hi / m.hi;
    const DD qm = two_prod(q1, m.hi);
    const double rem = (((diff.hi - qm.hi) - qm.lo) + diff.lo) - q1 * m.lo;
    return fast_two_sum(q1, rem / m.hi);
}

/// The state of the drawdown walk over one stretch of rows, its wealth
/// starting at 1: W = hi + lo, the peak M and the lowest wealth (both with the
/// start), the trough T of the current epoch and the best epoch drawdown;
/// wealths are stored scaled by 2^-exp.
struct DrawdownChain {
    enum class Stop { no, known, fold };  // known: the value is -1 or NaN whatever follows
    double hi = 1.0, lo = 0.0;
    DD peak{1.0, 0.0}, trough{1.0, 0.0}, best{};
    double gate = 1.0 + 0x1p-40;  // an epoch is evaluated when trough.hi < gate
    std::int64_t exp = 0, nan_rows = 0;
    // The lowest wealth is low 2^low_exp, with a scale of its own: the wealth
    // may rise far above it later (rescaling it with W would underflow).
    DD low{1.0, 0.0};
    std::int64_t low_exp = 0;

    // An epoch can beat `best` only if T / M - 1 < best, i.e. T < M (1 + best):
    // the gate is that bound from above with a margin of 2^-40 for the
    // roundings of this product and for the .lo parts, so no epoch that could
    // win is missed (1 + best.hi is exact for best.hi <= -1/2, where best.lo
    // matters).
    void set_gate() noexcept { gate = peak.hi * ((1.0 + best.hi) + best.lo) * (1.0 + 0x1p-40); }
    void end_epoch() noexcept {
        if (trough.hi < gate && (trough.hi != peak.hi || trough.lo != peak.lo)) {
            const DD v = epoch_drawdown(trough, peak);
            if (dd_less(v, best)) best = v;
        }
    }
    /// After a row: a new peak ends the epoch; else a new trough (and low).
    void compare() noexcept {
        const DD w = fast_two_sum(hi, lo);
        if (dd_less(peak, w)) {
            end_epoch();
            peak = w;
            trough = w;
            set_gate();
        } else if (dd_less(w, trough)) {
            trough = w;
        }
        // w 2^exp < low 2^low_exp? (w and low are both within 2^+-600 of 1)
        const std::int64_t d = low_exp - exp;
        const bool lower = d > 1200 ? true
                           : d < -1200
                               ? false
                               : dd_less(w, DD{std::ldexp(low.hi, static_cast<int>(d)),
                                               std::ldexp(low.lo, static_cast<int>(d))});
        if (lower) {
            low = w;
            low_exp = exp;
        }
    }
    /// Keeps hi within [2^-256, 2^256] (W, M and T scaled by one power of two).
    Stop rescale() noexcept {
        if (hi >= 0x1p-256 && hi <= 0x1p256) return Stop::no;
        if (trough.hi < peak.hi * 0x1p-300) return Stop::known;  // T <= W: the drawdown rounds to -1
        const int k = -std::ilogb(hi);
        hi = std::ldexp(hi, k);
        lo = std::ldexp(lo, k);
        peak = {std::ldexp(peak.hi, k), std::ldexp(peak.lo, k)};
        trough = {std::ldexp(trough.hi, k), std::ldexp(trough.lo, k)};
        exp -= k;
        set_gate();
        return Stop::no;
    }
    /// A row outside [-1/2, 1].
    Stop odd_row(double x) noexcept {
        if (x != x) {
            ++nan_rows;
            return Stop::no;
        }
        if (x == -1.0 || !(x > -1.0) || x == risk_inf) return Stop::known;  // ruin, or out of domain
        if (x > 0x1p64) return Stop::fold;
        if (x < -0.5) {
            const double f = 1.0 + x;  // exact for x in [-1, -1/2]
            const DD p = two_prod(hi, f);
            hi = p.hi;
            lo = lo * f + p.lo;
        } else {
            const double p = hi * x, s = hi + p, z = s - hi;
            lo = lo * (1.0 + x) + ((hi - (s - z)) + (p - z));
            hi = s;
        }
        compare();
        return rescale();
    }
    /// One row, any value (the rare path of the loops below).
    Stop row(double x) noexcept {
        if (!(x >= -0.5 && x <= 1.0)) return odd_row(x);
        const double p = hi * x, s = hi + p;
        lo = lo * (1.0 + x) + (p - (s - hi));
        hi = s;
        compare();
        return Stop::no;
    }
    /// Renormalises hi + lo at the end of a block of rows, and rescales.
    Stop end_block() noexcept {
        const DD w = fast_two_sum(hi, lo);
        hi = w.hi;
        lo = w.lo;
        return rescale();
    }
};

/// Rows [begin, end) of r through one chain (the hot state in locals).
template <bool Contiguous, class T>
DrawdownChain::Stop drawdown_rows(DrawdownChain& c, View<T> r, std::ptrdiff_t begin, std::ptrdiff_t end) noexcept {
    using Stop = DrawdownChain::Stop;
    std::ptrdiff_t i = begin;
    while (i < end) {
        const std::ptrdiff_t block_end = std::min(end, i + kDdRenorm);
        double h = c.hi, l = c.lo;
        DD pk = c.peak, tr = c.trough;
        for (; i < block_end; ++i) {
            const double x = static_cast<double>(Contiguous ? r.data[i] : r[i]);
            if (!(x >= -0.5 && x <= 1.0)) {
                c.hi = h, c.lo = l, c.peak = pk, c.trough = tr;
                const Stop stop = c.odd_row(x);
                if (stop != Stop::no) return stop;
                h = c.hi, l = c.lo, pk = c.peak, tr = c.trough;
                continue;
            }
            // |p| <= |h| for |x| <= 1: FastTwoSum gives the error of h + p.
            const double p = h * x;
            const double s = h + p;
            l = l * (1.0 + x) + (p - (s - h));
            h = s;
            // |l| < 2^-48 h between renormalisations: h alone settles a
            // comparison with M or T unless it is within 2^-45 of them; only
            // those rows (new peaks, new troughs, near ties) are normalised
            // and compared exactly, in `compare`.
            if (!(h < pk.hi * (1.0 - 0x1p-45) && h > tr.hi * (1.0 + 0x1p-45))) {
                c.hi = h, c.lo = l, c.peak = pk, c.trough = tr;
                c.compare();
                pk = c.peak, tr = c.trough;
            }
        }
        c.hi = h, c.lo = l, c.peak = pk, c.trough = tr;
        const Stop stop = c.end_block();
        if (stop != Stop::no) return stop;
    }
    return Stop::no;
}

/// Rows [0, half) through chain a and [half, 2 half) through chain b, in step:
/// each row's multiplication waits on the one before it in its chain, so two
/// chains keep the arithmetic units busier (measured on the development VM,
/// with the gates: 2.8 ns a row against 4.0 for one chain without them).
template <bool Contiguous, class T>
DrawdownChain::Stop drawdown_rows2(DrawdownChain& a, DrawdownChain& b, View<T> r, std::ptrdiff_t half) noexcept {
    using Stop = DrawdownChain::Stop;
    std::ptrdiff_t i = 0;
    while (i < half) {
        const std::ptrdiff_t block_end = std::min(half, i + kDdRenorm);
        double ha = a.hi, la = a.lo, hb = b.hi, lb = b.lo;
        DD pka = a.peak, tra = a.trough, pkb = b.peak, trb = b.trough;
        for (; i < block_end; ++i) {
            const double x = static_cast<double>(Contiguous ? r.data[i] : r[i]);
            const double y = static_cast<double>(Contiguous ? r.data[i + half] : r[i + half]);
            if (!(x >= -0.5 && x <= 1.0 && y >= -0.5 && y <= 1.0)) {
                a.hi = ha, a.lo = la, a.peak = pka, a.trough = tra;
                b.hi = hb, b.lo = lb, b.peak = pkb, b.trough = trb;
                Stop stop = a.row(x);
                if (stop == Stop::no) stop = b.row(y);
                if (stop != Stop::no) return stop;
                ha = a.hi, la = a.lo, pka = a.peak, tra = a.trough;
                hb = b.hi, lb = b.lo, pkb = b.peak, trb = b.trough;
                continue;
            }
            const double pa = ha * x, sa = ha + pa;
            la = la * (1.0 + x) + (pa - (sa - ha));
            ha = sa;
            const double pb = hb * y, sb = hb + pb;
            lb = lb * (1.0 + y) + (pb - (sb - hb));
            hb = sb;
            // As in drawdown_rows.
            if (!(ha < pka.hi * (1.0 - 0x1p-45) && ha > tra.hi * (1.0 + 0x1p-45))) {
                a.hi = ha, a.lo = la, a.peak = pka, a.trough = tra;
                a.compare();
                pka = a.peak, tra = a.trough;
            }
            if (!(hb < pkb.hi * (1.0 - 0x1p-45) && hb > trb.hi * (1.0 + 0x1p-45))) {
                b.hi = hb, b.lo = lb, b.peak = pkb, b.trough = trb;
                b.compare();
                pkb = b.peak, trb = b.trough;
            }
        }
        a.hi = ha, a.lo = la, a.peak = pka, a.trough = tra;
        b.hi = hb, b.lo = lb, b.peak = pkb, b.trough = trb;
        Stop stop = a.end_block();
        if (stop == Stop::no) stop = b.end_block();
        if (stop != Stop::no) return stop;
    }
    return Stop::no;
}

/// a then b joined: b's epochs measured from a's peak too. The lowest wealth
/// of b after a's end, G_a L_b, against a's peak M_a gives the one drawdown
/// that spans both: G_a L_b / M_a - 1 (a's scale cancels; L_b's is
/// 2^low_exp), in double-double.
inline DD joined_drawdown(const DrawdownChain& a, const DrawdownChain& b) noexcept {
    const DD g = fast_two_sum(a.hi, a.lo);
    const double q1 = g.hi / a.peak.hi;  // G_a / M_a <= 1
    const DD qm = two_prod(q1, a.peak.hi);
    const DD q = fast_two_sum(q1, ((((g.hi - qm.hi) - qm.lo) + g.lo) - q1 * a.peak.lo) / a.peak.hi);
    const DD ql = two_prod(q.hi, b.low.hi);
    DD c = fast_two_sum(ql.hi, ql.lo + (q.hi * b.low.lo + q.lo * b.low.hi));
    const int e = static_cast<int>(std::max<std::int64_t>(-2000, std::min<std::int64_t>(2000, b.low_exp)));
    c = {std::ldexp(c.hi, e), std::ldexp(c.lo, e)};
    if (!(c.hi < 1.0)) return DD{};  // b never falls below a's peak
    const double s = c.hi - 1.0;  // exact for c.hi >= 1/2, else with its error
    const double z = s - c.hi;
    const double err = (c.hi - (s - z)) + (-1.0 - z);
    return fast_two_sum(s, err + c.lo);
}

/// The drawdown of r: two chains over its halves, joined, or one chain for a
/// short series. Returns false for `fold` to answer (see above).
template <bool Contiguous, class T>
bool drawdown_fast(View<T> r, RiskResult& out) noexcept {
    using Stop = DrawdownChain::Stop;
    DrawdownChain a, b;
    Stop stop;
    std::int64_t nan_rows;
    DD best;
    if (r.size < 8 * kDdRenorm) {
        stop = drawdown_rows<Contiguous>(a, r, 0, r.size);
        a.end_epoch();
        best = a.best;
        nan_rows = a.nan_rows;
    } else {
        const std::ptrdiff_t half = r.size / 2;
        stop = drawdown_rows2<Contiguous>(a, b, r, half);
        if (stop == Stop::no) stop = drawdown_rows<Contiguous>(b, r, 2 * half, r.size);
        a.end_epoch();
        b.end_epoch();
        best = dd_less(b.best, a.best) ? b.best : a.best;
        const DD joined = joined_drawdown(a, b);
        if (dd_less(joined, best)) best = joined;
        nan_rows = a.nan_rows + b.nan_rows;
    }
    if (stop == Stop::fold) return false;
    if (stop == Stop::known) {  // -1 (ruin, or total), or NaN if a row is out of domain
        nan_rows = 0;
        bool bad = false;
        for (std::ptrdiff_t i = 0; i < r.size; ++i) {
            const double x = static_cast<double>(Contiguous ? r.data[i] : r[i]);
            if (x != x)
                ++nan_rows;
            else if (!(x >= -1.0) || x == risk_inf)
                bad = true;
        }
        out = {bad ? risk_nan : -1.0, nan_rows};
        return true;
    }
    const double bound = 64.0 * (static_cast<double>(r.size) + 4.0) * 0x1p-53;
    if (best.hi != 0.0 && !(-best.hi >= bound)) return false;
    out = {nan_rows == r.size ? risk_nan : best.hi, nan_rows};
    return true;
}

template <class T>
bool drawdown_fast(const DrawdownOf<T>& m, RiskResult& out) noexcept {
    return m.r.contiguous() ? drawdown_fast<true>(m.r, out) : drawdown_fast<false>(m.r, out);
}

// Capture ratios: the sums of log1p over the selected rows are the logs of
// two products of growth factors, kept as unevaluated pairs with the step of
// `drawdown_fast` (same first-order rounding per row as log1p, 64 eps^2 per row
// of second-order error), scaled by powers of two into (hi + lo) 2^exp so that
// neither overflows however long the series, and taken to logs once at the end.
// A row not selected multiplies by exactly 1 (x = 0 in the step: no rounding).

/// x, hidden from the optimiser: it may not branch on where x came from (GCC
/// otherwise turns a multiplication by a 0/1 select back into a branch on the
/// select's condition, which for the benchmark's sign is a coin flip: a
/// misprediction every other row, measured at twice the loop's cost).
TRACKERR_HOT double opaque(double x) noexcept {
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
    __asm__("" : "+x"(x));
#elif (defined(__GNUC__) || defined(__clang__)) && defined(__aarch64__)
    __asm__("" : "+w"(x));
#endif
    return x;
}

/// The running product of growth factors 1 + x as (hi + lo) 2^exp.
struct Growth {
    double hi = 1.0;
    double lo = 0.0;
    std::int64_t exp = 0;

    TRACKERR_HOT void step(double x) noexcept {  // -1/2 <= x <= 1: FastTwoSum
        const double p = hi * x, s = hi + p;
        lo = lo * (1.0 + x) + (p - (s - hi));
        hi = s;
    }
    void step_high(double x) noexcept {  // x > 1: TwoSum
        const double p = hi * x, s = hi + p, z = s - hi;
        lo = lo * (1.0 + x) + ((hi - (s - z)) + (p - z));
        hi = s;
    }
    void step_low(double x) noexcept {  // -1 < x < -1/2: 1 + x is exact
        const double f = 1.0 + x;
        const DD q = two_prod(hi, f);
        hi = q.hi;
        lo = lo * f + q.lo;
    }
    /// Normalises hi + lo and keeps hi within [2^-256, 2^256] (exact scaling).
    void renormalise() noexcept {
        const DD w = fast_two_sum(hi, lo);
        hi = w.hi;
        lo = w.lo;
        if (hi >= 0x1p-256 && hi <= 0x1p256) return;
        const int k = -std::ilogb(hi);
        hi = std::ldexp(hi, k);
        lo = std::ldexp(lo, k);
        exp -= k;
    }
    /// log of the product, as a pair: exp ln 2 + log(m) with m in [2^-1/2, 2^1/2),
    /// or log1p(m - 1) when exp is 0 (so a log near 0 keeps its digits).
    Sum2 log() const noexcept {
        constexpr double ln2_hi = 0x1.62e42fefa39efp-1, ln2_lo = 0x1.abc9e3b39803fp-56;
        DD w = fast_two_sum(hi, lo);
        std::int64_t e = exp + std::ilogb(w.hi);
        const int k = -std::ilogb(w.hi);
        w = {std::ldexp(w.hi, k), std::ldexp(w.lo, k)};  // [1, 2)
        if (w.hi > 1.4142135623730951) {
            w = {w.hi * 0.5, w.lo * 0.5};
            ++e;
        }
        if (e == 0) return Sum2{std::log1p((w.hi - 1.0) + w.lo), 0.0};  // w.hi - 1 exact
        const double ed = static_cast<double>(e);
        const DD t = two_prod(ed, ln2_hi);
        return add(add(Sum2{t.hi, t.lo}, std::log(w.hi)), ed * ln2_lo + w.lo / w.hi);
    }
};

template <class TP, class TB>
bool capture_fast(const CaptureOf<TP, TB>& m, RiskResult& out) noexcept {
    const View<TP> pv = m.p;
    const View<TB> bv = m.b;
    const std::ptrdiff_t rows = pv.size;
    enum class Stop { no, bad, fold };
    Growth gp, gb;
    std::int64_t k = 0, nan_rows = 0;
    bool ruin_p = false, ruin_b = false;
    const double sign = m.sign;
    Stop stop = Stop::no;

    // A row with a side outside [-1/2, 1] (or NaN).
    const auto odd_row = [&](double x, double y) -> Stop {
        if (x != x || y != y) {
            ++nan_rows;
            return Stop::no;
        }
        if (!(x >= -1.0) || !(y >= -1.0) || x == risk_inf || y == risk_inf) return Stop::bad;
        if (x > 0x1p64 || y > 0x1p64) return Stop::fold;
        if (!(sign * y > 0.0)) return Stop::no;
        ++k;
        if (x == -1.0)
            ruin_p = true;
        else if (x < -0.5)
            gp.step_low(x);
        else if (x > 1.0)
            gp.step_high(x);
        else
            gp.step(x);
        if (y == -1.0)
            ruin_b = true;
        else if (y < -0.5)
            gb.step_low(y);
        else if (y > 1.0)
            gb.step_high(y);
        else
            gb.step(y);
        gp.renormalise();
        gb.renormalise();
        return Stop::no;
    };

    std::ptrdiff_t i = 0;
    while (stop == Stop::no && i < rows) {
        const std::ptrdiff_t block_end = std::min(rows, i + kDdRenorm);
        // Local copies: the products stay in registers (the rare path, which
        // takes the states by reference, gets them written back first).
        Growth p = gp, b = gb;
        std::int64_t selected_rows = 0;
        for (; i < block_end; ++i) {
            const double x = static_cast<double>(pv[i]), y = static_cast<double>(bv[i]);
            if (!(x >= -0.5 && x <= 1.0 && y >= -0.5 && y <= 1.0)) {
                gp = p;
                gb = b;
                stop = odd_row(x, y);
                p = gp;
                b = gb;
                if (stop != Stop::no) {
                    ++i;
                    break;
                }
                continue;
            }
            // A row not selected multiplies by 1 + 0 (x * 0 is 0 for finite x):
            // no branch on the benchmark's sign, which is a coin flip.
            const bool selected = sign * y > 0.0;
            const double keep = opaque(selected ? 1.0 : 0.0);
            selected_rows += selected ? 1 : 0;
            p.step(x * keep);
            b.step(y * keep);
        }
        k += selected_rows;
        p.renormalise();
        b.renormalise();
        gp = p;
        gb = b;
    }
    if (stop == Stop::fold) return false;
    if (stop == Stop::bad) {  // out of domain: NaN; only count the NaN rows
        for (; i < rows; ++i) {
            const double x = static_cast<double>(pv[i]), y = static_cast<double>(bv[i]);
            nan_rows += (x != x || y != y) ? 1 : 0;
        }
        out = {risk_nan, nan_rows};
        return true;
    }
    CaptureSummary s;
    s.k = k;
    s.ruin_p = ruin_p ? 1 : 0;
    s.ruin_b = ruin_b ? 1 : 0;
    s.rows.obs = static_cast<std::int64_t>(rows) - nan_rows;
    s.lp = gp.log();
    s.lb = gb.log();
    // The second-order error (64 eps^2 a row) must stay below eps of each log sum.
    const double bound = 64.0 * (static_cast<double>(rows) + 4.0) * 0x1p-53;
    if (k != 0 && ((!ruin_p && !(std::fabs(value_of(s.lp)) >= bound)) ||
                   (!ruin_b && !(std::fabs(value_of(s.lb)) >= bound))))
        return false;
    out = {m.value(s), nan_rows};
    return true;
}

/// Full sample: the rows' summaries folded left to right.
template <class M>
RiskResult fold(const M& m, std::ptrdiff_t rows) {
    typename M::Summary s{};
    for (std::ptrdiff_t i = 0; i < rows; ++i) s = M::combine(s, m.leaf(i));
    return {m.value(s), static_cast<std::int64_t>(rows) - s.rows.obs};
}

/// Full sample: the fast path where a metric has one and it answers, else `fold`.
template <class M>
RiskResult full_sample(const M& m, std::ptrdiff_t rows) {
    return fold(m, rows);
}
template <class T>
RiskResult full_sample(const DrawdownOf<T>& m, std::ptrdiff_t rows) {
    RiskResult r;
    return drawdown_fast(m, r) ? r : fold(m, rows);
}
template <class T>
RiskResult full_sample(const SortinoOf<T>& m, std::ptrdiff_t rows) {
    RiskResult r;
    return sortino_fast(m, r) ? r : fold(m, rows);
}
template <class T>
RiskResult full_sample(const OmegaOf<T>& m, std::ptrdiff_t rows) {
    RiskResult r;
    return omega_fast(m, r) ? r : fold(m, rows);
}
template <class TP, class TB>
RiskResult full_sample(const CaptureOf<TP, TB>& m, std::ptrdiff_t rows) {
    RiskResult r;
    return capture_fast(m, r) ? r : fold(m, rows);
}

/// Rolling values of metric `m` over `rows` rows into `out`: row t's window
/// is rows [start(t), t], start non-decreasing (pandas' rules: t - w + 1
/// clipped at 0 for a window of w rows, the first row inside (t - span, t]
/// for a span of time); a value needs `min_obs` observations. No window
/// holds more than `most` rows.
///
/// Two stacks: the window is split at a row b into a front part [s, b), whose
/// suffix aggregates front[i] = rows [i, b) are stored, and a back part
/// [b, t] kept as one running aggregate. Sliding drops the front's first rows
/// by moving to a later stored suffix and appends to the back by one
/// combine. When the front runs out (s reaches b), the suffix aggregates of
/// the window's rows [s, t] are rebuilt from their leaf summaries (kept in a
/// ring of `most`) and the back restarts empty. Each row is combined a
/// bounded number of times, and each output is front[s] + back: only this
/// window's rows, each aggregate built from scratch at most a window earlier.
///
/// `ring` and `front` are scratch buffers of min(most, rows) summaries each:
/// neither ever holds more than a window's rows, nor more rows than there
/// are, so a window far longer than the series costs nothing extra.
template <class M, class Start>
void slide(const M& m, std::ptrdiff_t rows, std::ptrdiff_t most, const Start& start, std::ptrdiff_t min_obs,
           OutView out, std::vector<typename M::Summary>& ring, std::vector<typename M::Summary>& front,
           std::ptrdiff_t cut = -1, std::ptrdiff_t step = 0) {
    using Summary = typename M::Summary;
    const auto need = static_cast<std::size_t>(std::min(most, rows));
    ring.resize(need);  // std::bad_alloc / std::length_error if the rows' summaries do not fit
    front.resize(need);
    Summary back{};
    std::ptrdiff_t fb = 0, b = 0;  // front holds rows [fb, b); back holds [b, t]
    for (std::ptrdiff_t t = 0; t < rows; ++t) {
        const Summary x = m.leaf(t);
        ring[static_cast<std::size_t>(t % most)] = x;
        const std::ptrdiff_t s = start(t);
        Summary agg;
        if (s >= b || t == cut) {  // the front ran out, or a segment starts
            if (t == cut) cut += step;
            Summary acc = x;
            front[static_cast<std::size_t>(t - s)] = acc;
            for (std::ptrdiff_t i = t - 1; i >= s; --i) {
                acc = M::combine(ring[static_cast<std::size_t>(i % most)], acc);
                front[static_cast<std::size_t>(i - s)] = acc;
            }
            fb = s;
            b = t + 1;
            back = Summary{};
            agg = front[0];
        } else {
            back = M::combine(back, x);
            agg = M::combine(front[static_cast<std::size_t>(s - fb)], back);
        }
        out.set(t, agg.rows.obs >= min_obs ? m.value(agg) : risk_nan);
    }
}

/// slide over the windows `prm` describes: w rows, or a span of time (whose
/// segment cuts, see RiskParams::segment, also rebuild the stacks).
template <class M>
void slide_windows(const M& m, std::ptrdiff_t rows, const RiskParams& prm, OutView out,
                   std::vector<typename M::Summary>& ring, std::vector<typename M::Summary>& front) {
    if (prm.times == nullptr) {
        const std::ptrdiff_t w = prm.window;
        const std::ptrdiff_t min_obs = prm.min_periods == 0 ? w : prm.min_periods;
        slide(m, rows, w, [w](std::ptrdiff_t t) { return t - w + 1 > 0 ? t - w + 1 : 0; }, min_obs, out, ring,
              front);
        return;
    }
    if (rows == 0) return;
    const std::int64_t* times = prm.times;
    auto edge = [&](std::ptrdiff_t t) { return time_edge(times[t], prm.span); };
    std::ptrdiff_t most = 1;  // the most rows a window holds
    for (std::ptrdiff_t t = 0, left = 0; t < rows; ++t) {
        while (left < t && times[left] <= edge(t)) ++left;
        most = std::max(most, t - left + 1);
    }
    std::ptrdiff_t left = 0;
    auto start = [&](std::ptrdiff_t t) {
        while (left < t && times[left] <= edge(t)) ++left;
        return left;
    };
    RollingParams cuts_prm;
    cuts_prm.segment = prm.segment;
    cuts_prm.origin = prm.origin;
    const Cuts cuts = time_cuts(times, rows, prm.span, cuts_prm);
    const std::ptrdiff_t first_cut = cuts.origin > 0 ? cuts.origin : cuts.L;
    slide(m, rows, most, start, prm.min_periods > 0 ? prm.min_periods : 1, out, ring, front, first_cut, cuts.L);
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

inline void check_risk_window(const RiskParams& prm, std::ptrdiff_t rows) {
    if (prm.times != nullptr) {
        if (prm.min_periods < 0)
            throw std::invalid_argument("min_periods (=" + std::to_string(prm.min_periods) + ") must be at least 0");
        check_times(prm.times, rows, prm.span);
        if (prm.segment < 0 || prm.origin < 0)
            throw std::invalid_argument("segment (=" + std::to_string(prm.segment) + ") and origin (=" +
                                        std::to_string(prm.origin) + ") must be >= 0");
        return;
    }
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
    return detail::with_policy(metric, p, b, prm,
                               [&](const auto& m) { return detail::full_sample(m, p.size); });
}

// ---- mergeable summaries ---------------------------------------------------
//
// The summary of a stretch of rows, as bytes, for computing a full-sample
// metric in parts (a distributed reduction: trackerr.dask): the parts'
// summaries combine in order (left before right) into the whole's, whose
// value is the metric. The combine is the monoid's, so any bracketing of the
// merges gives the sums to about one rounding (Sum2 pairs); the result agrees
// with the full-sample function (which may take a fast path) to rounding.
// Bytes are the summary struct's: the same build on both ends of a transport.

/// Bytes of `metric`'s summary.
inline std::size_t risk_summary_size(Risk metric) noexcept {
    switch (metric) {
        case Risk::max_drawdown:
            return sizeof(detail::DrawdownSummary);
        case Risk::sortino_ratio:
            return sizeof(detail::SortinoSummary);
        case Risk::omega_ratio:
            return sizeof(detail::OmegaSummary);
        default:
            return sizeof(detail::CaptureSummary);
    }
}

/// Writes the summary of every row of (p, b) (b: the benchmark of a capture
/// ratio, ignored otherwise) into out[0 .. risk_summary_size(metric)).
template <class TP, class TB>
void risk_summary(Risk metric, View<TP> p, View<TB> b, const RiskParams& prm, unsigned char* out) {
    detail::check_risk_params(metric, prm);
    if (detail::two_series(metric) && b.size != p.size)
        throw std::invalid_argument("portfolio has length " + std::to_string(p.size) +
                                    " but benchmark has length " + std::to_string(b.size));
    detail::with_policy(metric, p, b, prm, [&](const auto& m) {
        typename std::decay_t<decltype(m)>::Summary s{};
        for (std::ptrdiff_t i = 0; i < p.size; ++i) s = std::decay_t<decltype(m)>::combine(s, m.leaf(i));
        std::memcpy(out, &s, sizeof(s));
    });
}

namespace detail {
/// f(m) with the metric's policy object; its views are empty (summaries only).
template <class F>
decltype(auto) with_summary_policy(Risk metric, const RiskParams& prm, F&& f) {
    const View<double> none(nullptr, 0, sizeof(double));
    return with_policy(metric, none, none, prm, std::forward<F>(f));
}
}  // namespace detail

/// out = the summary of `left`'s rows followed by `right`'s.
inline void risk_merge(Risk metric, const unsigned char* left, const unsigned char* right,
                       unsigned char* out) {
    RiskParams prm;
    prm.periods = 1.0;  // any valid value: a merge reads no option
    detail::with_summary_policy(metric, prm, [&](const auto& m) {
        using M = std::decay_t<decltype(m)>;
        typename M::Summary a, b;
        std::memcpy(&a, left, sizeof(a));
        std::memcpy(&b, right, sizeof(b));
        const typename M::Summary c = M::combine(a, b);
        std::memcpy(out, &c, sizeof(c));
    });
}

/// The metric of a summary and the rows skipped as NaN, as `risk` gives them
/// for the `rows` rows the summary covers.
inline RiskResult risk_summary_value(Risk metric, const unsigned char* summary, const RiskParams& prm,
                                     std::int64_t rows) {
    detail::check_risk_params(metric, prm);
    return detail::with_summary_policy(metric, prm, [&](const auto& m) {
        typename std::decay_t<decltype(m)>::Summary s;
        std::memcpy(&s, summary, sizeof(s));
        return RiskResult{m.value(s), rows - s.rows.obs};
    });
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
    detail::check_risk_window(prm, p.size);
    if (detail::two_series(metric) && b.size != p.size)
        throw std::invalid_argument("portfolio has length " + std::to_string(p.size) +
                                    " but benchmark has length " + std::to_string(b.size));
    detail::with_policy(metric, p, b, prm, [&](const auto& m) {
        std::vector<typename std::decay_t<decltype(m)>::Summary> ring, front;
        detail::slide_windows(m, p.size, prm, out, ring, front);
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
    detail::check_risk_window(prm, p.rows);
    detail::check_threads(threads);
    if (detail::two_series(metric) && (b.rows != p.rows || (b.col_stride != 0 && b.cols != p.cols)))
        throw std::invalid_argument("benchmark panel does not match the portfolio panel");
    auto run = [&](std::ptrdiff_t c0, std::ptrdiff_t c1) {
        for (std::ptrdiff_t c = c0; c < c1; ++c)
            detail::with_policy(metric, p.column(c), b.column(detail::two_series(metric) ? c : 0), prm,
                                [&](const auto& m) {
                                    // a window's summaries each: small next to a column of T rows.
                                    std::vector<typename std::decay_t<decltype(m)>::Summary> ring, front;
                                    detail::slide_windows(m, p.rows, prm, out.offset_by(c * out_col_stride),
                                                          ring, front);
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
