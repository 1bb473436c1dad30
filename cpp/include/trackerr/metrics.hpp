// Metrics read off the accumulator states, with the annualization
// conventions of METRICS.md. `periods` is periods per year; NaN means "leave
// per period". Every function is noexcept and returns NaN where the metric is
// undefined (too few samples, zero variance, a growth factor below zero).
#pragma once

#include <cmath>

#include "comoments.hpp"

namespace trackerr::metrics {

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
inline double tracking_error(const Moments& a, double ddof, double periods) noexcept {
    return a.stddev(ddof) * detail::sqrt_periods(periods);
}

/// Arithmetic active return: mean(a) * P.
inline double active_return(const Moments& a, double periods) noexcept {
    return a.mean_or_nan() * detail::per_year(periods);
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
inline double tracking_difference_arithmetic(const Moments& a, double periods) noexcept {
    if (!(a.n > 0.0)) return trackerr::detail::nan_v;
    return detail::annualize(periods) ? a.mean * periods : a.mean * a.n;
}

/// mean(a) / std(a, ddof) * sqrt(P); NaN when the tracking error is zero.
inline double information_ratio(const Moments& a, double ddof, double periods) noexcept {
    const double s = a.stddev(ddof);
    if (!(s > 0.0)) return trackerr::detail::nan_v;
    return a.mean / s * detail::sqrt_periods(periods);
}

/// (CAGR_p - CAGR_b) / (std(a, ddof) sqrt(P)); needs periods.
inline double information_ratio_geometric(const Moments& a, const Growth& g, double ddof,
                                          double periods) noexcept {
    const double te = tracking_error(a, ddof, periods);
    if (!(te > 0.0)) return trackerr::detail::nan_v;
    return tracking_difference(g, periods) / te;
}

inline double beta(const CoMoments& c) noexcept {
    return c.beta();
}
inline double correlation(const CoMoments& c) noexcept {
    return c.correlation();
}
inline double r_squared(const CoMoments& c) noexcept {
    const double r = c.correlation();
    return r * r;
}

/// Jensen's alpha, arithmetic: ((mean_p - rf) - beta (mean_b - rf)) * P.
inline double alpha(const CoMoments& c, double risk_free, double periods) noexcept {
    return c.alpha(risk_free) * detail::per_year(periods);
}

/// Jensen's alpha compounded over a year: (1 + per-period alpha)^P - 1.
inline double alpha_geometric(const CoMoments& c, double risk_free, double periods) noexcept {
    return std::pow(1.0 + c.alpha(risk_free), detail::per_year(periods)) - 1.0;
}

}  // namespace trackerr::metrics
