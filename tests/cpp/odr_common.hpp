// Shared body of odr_a.cpp / odr_b.cpp: uses every public function and the
// non-template helpers of the headers, and folds the results into a number.
// summary() is inline, so this header itself obeys the ODR.
#pragma once

#include <trackerr/trackerr.hpp>

#include <cstddef>
#include <limits>
#include <vector>

namespace odr {

inline double summary() {
    namespace m = trackerr::metrics;
    constexpr std::ptrdiff_t T = 300, N = 3;
    std::vector<double> p(T * N);
    std::vector<float> bf(T);
    for (std::ptrdiff_t i = 0; i < T * N; ++i)
        p[static_cast<std::size_t>(i)] = 0.001 * static_cast<double>(i % 17) - 0.008;
    for (std::ptrdiff_t i = 0; i < T; ++i) bf[static_cast<std::size_t>(i)] = 0.0005f * static_cast<float>(i % 11) - 0.002f;
    p[5] = std::numeric_limits<double>::quiet_NaN();

    const trackerr::View<double> vp(p.data(), T, 8 * N);  // first column of the C-order panel
    const trackerr::View<float> vb(bf.data(), T);
    const auto a = trackerr::active_moments(vp, vb);
    const auto c = trackerr::comoments(vp, vb);
    const auto g = trackerr::growth(vp, vb);

    const trackerr::Panel<double> panel(p.data(), T, N, 8 * N, 8);
    const auto bcast = trackerr::broadcast(vb, N);
    std::vector<trackerr::Accumulated<trackerr::Moments>> pa(N);
    std::vector<trackerr::Accumulated<trackerr::CoMoments>> pc(N);
    std::vector<trackerr::Accumulated<trackerr::Growth>> pg(N);
    trackerr::active_moments(panel, bcast, pa.data());
    trackerr::comoments(panel, bcast, pc.data());
    trackerr::growth(panel, bcast, pg.data());

    trackerr::Cascade<trackerr::Moments> cascade;
    cascade.push(a.state);
    cascade.push(pa[1].state);
    trackerr::Moments merged = cascade.total();
    merged += pa[2].state;

    // Non-template helpers of the headers, called directly.
    const double helpers = static_cast<double>(trackerr::detail::access_mode(8, sizeof(double))) +
                           (trackerr::detail::is_nan(p[5]) ? 1.0 : 0.0) +
                           trackerr::detail::block_growth(p.data() + 6, p.data() + 7, 100).growth_p() +
                           trackerr::Growth::value(0.5, 3) + trackerr::Growth::cagr(0.75, 1, 10.0, 252.0);
    trackerr::detail::check_lengths(3, 3);

    const double periods = 252.0, per = std::numeric_limits<double>::quiet_NaN();
    return m::tracking_error(a.state, 1.0, periods) + m::active_return(a.state, periods) +
           m::active_return_geometric(g.state, per) + m::tracking_difference(g.state, periods) +
           m::tracking_difference_arithmetic(a.state, per) + m::information_ratio(a.state, 1.0, periods) +
           m::information_ratio_geometric(a.state, g.state, 1.0, periods) + m::beta(c.state) +
           m::correlation(c.state) + m::r_squared(c.state) + m::alpha(c.state, 0.0, periods) +
           m::alpha_geometric(c.state, 1e-4, periods) + pa[0].state.variance() + pc[2].state.beta() +
           pg[1].state.growth_b() + static_cast<double>(a.skipped + pa[0].skipped) + merged.variance() +
           helpers;
}

}  // namespace odr
