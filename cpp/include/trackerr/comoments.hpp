// Plain-data accumulator states: one series (Moments), a pair of series
// (CoMoments) and compounded growth of a pair (Growth).
//
// Each state has an insert (`add`), a merge (`operator+=`) that makes the
// states a monoid (merge of two halves == one pass over the whole, up to
// rounding), and noexcept getters that return NaN where the quantity is not
// defined. No allocation, no virtual calls: they are cheap to copy, to keep
// one per portfolio, and to checkpoint.
#pragma once

#include "detail/isa.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace trackerr {
TRACKERR_ISA_BEGIN

namespace detail {
inline constexpr double nan_v = std::numeric_limits<double>::quiet_NaN();
}  // namespace detail

/// Count, mean and sum of squared deviations M2 = sum (x - mean)^2 of one series.
struct Moments {
    double n = 0.0;
    double mean = 0.0;
    double m2 = 0.0;

    /// Welford (1962): d = x - mean; mean += d / n; M2 += d (x - mean_new).
    /// The product d (x - mean_new) is never negative, so M2 only grows.
    void add(double x) noexcept {
        n += 1.0;
        const double d = x - mean;
        mean += d / n;
        m2 += d * (x - mean);
    }

    /// Chan, Golub & LeVeque: with delta = mean_b - mean_a and n = n_a + n_b,
    ///   mean = mean_a + delta n_b / n,
    ///   M2   = M2_a + M2_b + delta^2 n_a n_b / n.
    /// Every term of M2 is non-negative, so the merge loses no accuracy to
    /// cancellation; an empty side leaves the other unchanged.
    Moments& operator+=(const Moments& o) noexcept {
        if (o.n == 0.0) return *this;
        if (n == 0.0) return *this = o;
        const double nt = n + o.n;
        const double delta = o.mean - mean;
        const double f = o.n / nt;
        mean += delta * f;
        m2 += o.m2 + delta * delta * n * f;
        n = nt;
        return *this;
    }

    /// Variance M2 / (n - ddof); NaN when n <= ddof. Never negative.
    double variance(double ddof = 1.0) const noexcept {
        if (!(n > ddof)) return detail::nan_v;
        return (m2 > 0.0 ? m2 : (m2 == m2 ? 0.0 : m2)) / (n - ddof);
    }
    double stddev(double ddof = 1.0) const noexcept { return std::sqrt(variance(ddof)); }
    /// Mean; NaN when empty.
    double mean_or_nan() const noexcept { return n > 0.0 ? mean : detail::nan_v; }
};

/// Joint moments of a portfolio p and a benchmark b:
/// n, means, C_pp = sum dp^2, C_bb = sum db^2, C_pb = sum dp db (centred sums).
struct CoMoments {
    double n = 0.0;
    double mean_p = 0.0;
    double mean_b = 0.0;
    double c_pp = 0.0;
    double c_bb = 0.0;
    double c_pb = 0.0;

    /// Bivariate Welford: dp, db against the old means; the co-moment uses
    /// dp times (b - new mean_b), which is exact algebra for the centred sum.
    void add(double p, double b) noexcept {
        n += 1.0;
        const double dp = p - mean_p;
        const double db = b - mean_b;
        mean_p += dp / n;
        mean_b += db / n;
        c_pp += dp * (p - mean_p);
        c_bb += db * (b - mean_b);
        c_pb += dp * (b - mean_b);
    }

    /// Chan's merge, for co-moments: C = C_a + C_b + dP dB n_a n_b / n.
    CoMoments& operator+=(const CoMoments& o) noexcept {
        if (o.n == 0.0) return *this;
        if (n == 0.0) return *this = o;
        const double nt = n + o.n;
        const double dp = o.mean_p - mean_p;
        const double db = o.mean_b - mean_b;
        const double f = o.n / nt;
        const double w = n * f;  // n_a n_b / n
        mean_p += dp * f;
        mean_b += db * f;
        c_pp += o.c_pp + dp * dp * w;
        c_bb += o.c_bb + db * db * w;
        c_pb += o.c_pb + dp * db * w;
        n = nt;
        return *this;
    }

    /// cov(p, b) / var(b); NaN when var(b) is zero or undefined (n < 2).
    double beta() const noexcept {
        if (!(n >= 2.0) || !(c_bb > 0.0)) return detail::nan_v;
        return c_pb / c_bb;
    }
    /// Pearson correlation, clamped to [-1, 1]; NaN when either variance is zero.
    double correlation() const noexcept {
        if (!(n >= 2.0) || !(c_pp > 0.0) || !(c_bb > 0.0)) return detail::nan_v;
        const double r = c_pb / std::sqrt(c_pp * c_bb);
        if (r != r) return r;
        return r > 1.0 ? 1.0 : (r < -1.0 ? -1.0 : r);
    }
    /// Per-period Jensen alpha: (mean_p - rf) - beta (mean_b - rf).
    double alpha(double risk_free = 0.0) const noexcept {
        const double bt = beta();
        return (mean_p - risk_free) - bt * (mean_b - risk_free);
    }
};

/// Compounded growth of a pair: G_p = prod (1 + p), G_b = prod (1 + b), kept as
/// a mantissa and a binary exponent so that long products neither overflow nor
/// underflow.
///
/// Domain. A growth factor 1 + r is a ratio of wealths, so it is at least 0:
/// a return of exactly -1 (factor 0) is a total loss, and compounds to a
/// growth of 0; a return below -1 (a negative factor) or an infinite return
/// has no meaning as a period's growth. Such pairs are counted in `bad`, and
/// every read-out of a state holding one is NaN, as max_drawdown and the
/// capture ratios are NaN for the same returns. (Two negative factors would
/// otherwise multiply into a plausible positive growth.)
struct Growth {
    double n = 0.0;
    double mant_p = 1.0;
    double mant_b = 1.0;
    std::int64_t exp_p = 0;
    std::int64_t exp_b = 0;
    double bad = 0.0;  // pairs with a return below -1 or infinite, on either side

    /// True when a return is outside the domain of a growth factor.
    static bool out_of_domain(double r) noexcept { return !(r >= -1.0 && r <= std::numeric_limits<double>::max()); }

    void normalize() noexcept {
        int e = 0;
        mant_p = std::frexp(mant_p, &e);
        exp_p += e;
        mant_b = std::frexp(mant_b, &e);
        exp_b += e;
    }
    void add(double p, double b) noexcept {
        n += 1.0;
        if (out_of_domain(p) || out_of_domain(b)) bad += 1.0;
        mant_p *= 1.0 + p;
        mant_b *= 1.0 + b;
        normalize();
    }
    Growth& operator+=(const Growth& o) noexcept {
        n += o.n;
        bad += o.bad;
        mant_p *= o.mant_p;
        mant_b *= o.mant_b;
        exp_p += o.exp_p;
        exp_b += o.exp_b;
        normalize();
        return *this;
    }

    static double value(double m, std::int64_t e) noexcept {
        if (m == 0.0 || m != m) return m;
        if (e > 4096) return m > 0 ? HUGE_VAL : -HUGE_VAL;
        if (e < -4096) return 0.0 * m;
        return std::ldexp(m, static_cast<int>(e));
    }
    /// True when the state has pairs and none outside the domain.
    bool defined() const noexcept { return n > 0.0 && bad == 0.0; }
    /// Growth factors prod (1 + r); NaN when empty or with a return below -1 or infinite.
    double growth_p() const noexcept { return defined() ? value(mant_p, exp_p) : detail::nan_v; }
    double growth_b() const noexcept { return defined() ? value(mant_b, exp_b) : detail::nan_v; }

    /// Compound annual growth rate G^(P/n) - 1 computed in the log domain;
    /// NaN when empty or when the growth factor is negative (a return below
    /// -100 %), -1 when it is zero.
    static double cagr(double m, std::int64_t e, double n, double periods) noexcept {
        if (!(n > 0.0) || m != m || m < 0.0) return detail::nan_v;
        if (m == 0.0) return -1.0;
        const double log_g = std::log(m) + static_cast<double>(e) * 0.69314718055994530942;
        return std::expm1(log_g * (periods / n));
    }
    double cagr_p(double periods) const noexcept {
        return bad == 0.0 ? cagr(mant_p, exp_p, n, periods) : detail::nan_v;
    }
    double cagr_b(double periods) const noexcept {
        return bad == 0.0 ? cagr(mant_b, exp_b, n, periods) : detail::nan_v;
    }
};

namespace detail {

/// Binary-counter insert into a cascade of levels: merging carries upwards
/// like an increment, so level l holds the merge of 2^l pushed states.
template <class State>
void cascade_push(State* levels, std::uint64_t& occupied, State s) noexcept {
    int level = 0;
    while (occupied >> level & 1u) {
        State merged = levels[level];
        merged += s;
        s = merged;
        occupied &= ~(std::uint64_t{1} << level);
        ++level;
    }
    levels[level] = s;
    occupied |= std::uint64_t{1} << level;
}

/// Merge of every occupied level, smallest first.
template <class State>
State cascade_total(const State* levels, std::uint64_t occupied, int depth) noexcept {
    State t{};
    for (int level = 0; level < depth; ++level) {
        if (occupied >> level & 1u) {
            State u = levels[level];
            u += t;
            t = u;
        }
    }
    return t;
}

}  // namespace detail

/// Pairwise (binary-counter) merging of a stream of block states: the merge
/// tree has depth log2(#blocks), so rounding error grows with log n, not n.
template <class State>
class Cascade {
public:
    void push(State s) noexcept { detail::cascade_push(level_, occupied_, s); }
    State total() const noexcept { return detail::cascade_total(level_, occupied_, 64); }

private:
    State level_[64]{};
    std::uint64_t occupied_ = 0;
};

/// Pairwise cascades for many series at once (one per portfolio of a panel),
/// sized for a known number of pushes per series: depth log2(pushes) + 1
/// levels each, in one allocation.
template <class State>
class CascadeSet {
public:
    CascadeSet(std::ptrdiff_t series, int pushes)
        : depth_(depth_for(pushes)),
          levels_(static_cast<std::size_t>(series) * static_cast<std::size_t>(depth_)),
          occupied_(static_cast<std::size_t>(series), 0) {}

    /// Push a state for series i; at most `pushes` per series (the size given).
    void push(std::ptrdiff_t i, State s) noexcept {
        detail::cascade_push(levels_of(i), occupied_[static_cast<std::size_t>(i)], s);
    }
    State total(std::ptrdiff_t i) const noexcept {
        return detail::cascade_total(&levels_[offset(i)], occupied_[static_cast<std::size_t>(i)], depth_);
    }

private:
    static int depth_for(int pushes) noexcept {
        int d = 1;
        while ((1LL << (d - 1)) < pushes) ++d;
        return d;
    }
    std::size_t offset(std::ptrdiff_t i) const noexcept {
        return static_cast<std::size_t>(i) * static_cast<std::size_t>(depth_);
    }
    State* levels_of(std::ptrdiff_t i) noexcept { return &levels_[offset(i)]; }

    int depth_;
    std::vector<State> levels_;
    std::vector<std::uint64_t> occupied_;
};

TRACKERR_ISA_END
}  // namespace trackerr
