// Metrics read off the accumulator states. `periods` is periods per year;
// NaN means "leave per period". Every function is noexcept and returns NaN
// where the metric is undefined (too few samples, zero variance, a growth
// factor below zero).
//
// Compounded metrics (geometric tracking difference, active return and
// information ratio, geometric alpha; risk.hpp's drawdown and capture ratios
// follow the same rule) are NaN when a growth factor 1 + r is negative or
// infinite: a return below -1 or an infinite return has no meaning as a
// period's growth, and a product of two negative factors would otherwise pass
// for a real one. A return of exactly -1 is a total loss (growth 0).
//
// `scale` arguments are the binary exponents of a scaled state (see
// Accumulated in batch.hpp): 0 for ordinary data.
#pragma once

#include "detail/isa.hpp"

#include <cmath>

#include "comoments.hpp"

namespace trackerr {
TRACKERR_ISA_BEGIN
namespace metrics {

namespace detail {
inline bool annualize(double periods) noexcept {
    return periods == periods;
}
inline double sqrt_periods(double periods) noexcept {
    return annualize(periods) ? std::sqrt(periods) : 1.0;
}
inline double per_year(double periods) noexcept {
    return annualize(periods) ? periods : 1.0;
}
}  // namespace detail

/// std(a, ddof) * sqrt(P), a = p - b.
inline double tracking_error(const Moments& a, double ddof, double periods, int scale = 0) noexcept {
    return std::ldexp(a.stddev(ddof), scale) * detail::sqrt_periods(periods);
}

/// Arithmetic active return: mean(a) * P.
inline double active_return(const Moments& a, double periods, int scale = 0) noexcept {
    return std::ldexp(a.mean_or_nan(), scale) * detail::per_year(periods);
}

/// Geometric active return (1 + R_p) / (1 + R_b) - 1, with R the compounded
/// return of the period, or the CAGR when periods is given.
inline double active_return_geometric(const Growth& g, double periods) noexcept {
    if (!(g.n > 0.0)) return trackerr::detail::nan_v;
    if (detail::annualize(periods)) return (1.0 + g.cagr_p(periods)) / (1.0 + g.cagr_b(periods)) - 1.0;
    return g.growth_p() / g.growth_b() - 1.0;
}

/// Tracking difference: prod(1 + p) - prod(1 + b) over the period, or
/// CAGR_p - CAGR_b when periods is given.
inline double tracking_difference(const Growth& g, double periods) noexcept {
    if (!(g.n > 0.0)) return trackerr::detail::nan_v;
    if (detail::annualize(periods)) return g.cagr_p(periods) - g.cagr_b(periods);
    return g.growth_p() - g.growth_b();
}

/// Arithmetic tracking difference: sum(a), or mean(a) * P when periods is given.
inline double tracking_difference_arithmetic(const Moments& a, double periods, int scale = 0) noexcept {
    if (!(a.n > 0.0)) return trackerr::detail::nan_v;
    const double mean = std::ldexp(a.mean, scale);
    return detail::annualize(periods) ? mean * periods : mean * a.n;
}

/// mean(a) / std(a, ddof) * sqrt(P); NaN when the tracking error is zero.
inline double information_ratio(const Moments& a, double ddof, double periods) noexcept {
    const double s = a.stddev(ddof);
    if (!(s > 0.0)) return trackerr::detail::nan_v;
    return a.mean / s * detail::sqrt_periods(periods);
}

/// (CAGR_p - CAGR_b) / (std(a, ddof) sqrt(P)); needs periods.
inline double information_ratio_geometric(const Moments& a, const Growth& g, double ddof, double periods,
                                          int scale = 0) noexcept {
    const double te = tracking_error(a, ddof, periods, scale);
    if (!(te > 0.0)) return trackerr::detail::nan_v;
    return tracking_difference(g, periods) / te;
}

inline double beta(const CoMoments& c, int scale_p = 0, int scale_b = 0) noexcept {
    return std::ldexp(c.beta(), scale_p - scale_b);
}
inline double correlation(const CoMoments& c) noexcept {
    return c.correlation();
}
inline double r_squared(const CoMoments& c) noexcept {
    const double r = c.correlation();
    return r * r;
}

/// Per-period Jensen's alpha (mean_p - rf) - beta (mean_b - rf), in the data's units.
/// For a scaled state the product beta (mean_b - rf) is formed from the
/// scaled beta and a mantissa of (mean_b - rf), with one exponent adjustment at
/// the end: beta alone may underflow (p at 1e-200 against b at 1e250) while
/// the product is an ordinary number.
inline double alpha_per_period(const CoMoments& c, double risk_free, int scale_p = 0, int scale_b = 0) noexcept {
    if (scale_p == 0 && scale_b == 0) return c.alpha(risk_free);
    int e = 0;
    const double excess_b = std::frexp(std::ldexp(c.mean_b, scale_b) - risk_free, &e);
    return (std::ldexp(c.mean_p, scale_p) - risk_free) - std::ldexp(c.beta() * excess_b, scale_p - scale_b + e);
}

/// (1 + a)^P - 1: a per-period return compounded over P periods; NaN when it
/// compounds (P != 1) a negative growth factor 1 + a (see the domain note
/// above: pow would make (-2)^252 a gain). With P = 1 nothing is compounded
/// and the value is a itself, as the arithmetic form.
inline double compound(double a, double per_year) noexcept {
    const double g = 1.0 + a;
    if (g < 0.0 && per_year != 1.0) return trackerr::detail::nan_v;
    return std::pow(g, per_year) - 1.0;
}

/// Jensen's alpha, arithmetic: ((mean_p - rf) - beta (mean_b - rf)) * P.
inline double alpha(const CoMoments& c, double risk_free, double periods, int scale_p = 0,
                    int scale_b = 0) noexcept {
    return alpha_per_period(c, risk_free, scale_p, scale_b) * detail::per_year(periods);
}

/// Jensen's alpha compounded over a year: (1 + per-period alpha)^P - 1; NaN
/// when 1 + per-period alpha is negative and P != 1.
inline double alpha_geometric(const CoMoments& c, double risk_free, double periods, int scale_p = 0,
                              int scale_b = 0) noexcept {
    return compound(alpha_per_period(c, risk_free, scale_p, scale_b), detail::per_year(periods));
}

}  // namespace metrics
TRACKERR_ISA_END
}  // namespace trackerr
