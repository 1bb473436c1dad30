// metrics.hpp on small inputs whose results are worked out by hand (exact
// decimals in the comments) and in long double, with and without
// annualization (periods = NaN leaves the metric per period).
#include <cmath>
#include <cstddef>
#include <limits>
#include <trackerr/batch.hpp>
#include <trackerr/metrics.hpp>
#include <vector>

#include "check.hpp"

namespace m = trackerr::metrics;
using trackerr::CoMoments;
using trackerr::Growth;
using trackerr::Moments;
using trackerr::View;

namespace {

constexpr double nan_v = std::numeric_limits<double>::quiet_NaN();
constexpr double P = 252.0;
// The decimal inputs are not exact in binary, so results match the exact
// decimal values to ~1e-15; 1e-13 leaves room without hiding a real error.
constexpr double tol = 1e-13;

// p = { 1 %, 2 %, -1 %, 3 %}, b = {0.5 %, 1 %, 0 %, 2 %}
const std::vector<double> p = {0.01, 0.02, -0.01, 0.03};
const std::vector<double> b = {0.005, 0.01, 0.0, 0.02};

// Hand-computed:
//   a = p - b = {0.005, 0.01, -0.01, 0.01}, sum 0.015, mean 0.00375
//   a - mean = {0.00125, 0.00625, -0.01375, 0.00625}
//   M2 = 1.5625e-6 + 3.90625e-5 + 1.890625e-4 + 3.90625e-5 = 2.6875e-4
//   var(ddof 1) = 2.6875e-4 / 3, var(ddof 0) = 2.6875e-4 / 4 = 6.71875e-5
//   mean_p = 0.0125, mean_b = 0.00875
//   dp = {-0.0025, 0.0075, -0.0225, 0.0175}, db = {-0.00375, 0.00125, -0.00875, 0.01125}
//   C_pp = 8.75e-4, C_bb = 2.1875e-4, C_pb = 4.125e-4
//   beta = 4.125 / 2.1875 = 66/35, sqrt(C_pp C_bb) = 4.375e-4, corr = 33/35
//   alpha = 0.0125 - 66/35 * 0.00875 = 0.0125 - 0.0165 = -0.004
//   G_p = 1.01 * 1.02 * 0.99 * 1.03 = 1.05049494
//   G_b = 1.005 * 1.01 * 1.00 * 1.02 = 1.035351
constexpr long double sum_a = 0.015L, mean_a = 0.00375L, m2_a = 2.6875e-4L;
constexpr long double var1 = m2_a / 3.0L, var0 = m2_a / 4.0L;
constexpr long double beta_v = 66.0L / 35.0L, corr_v = 33.0L / 35.0L, alpha_v = -0.004L;
constexpr long double g_p = 1.05049494L, g_b = 1.035351L;

struct States {
    Moments a;
    CoMoments c;
    Growth g;
};

States by_insert() {
    States s;
    for (std::size_t i = 0; i < p.size(); ++i) {
        s.a.add(p[i] - b[i]);
        s.c.add(p[i], b[i]);
        s.g.add(p[i], b[i]);
    }
    return s;
}

States by_kernel() {
    // Through the 1-D kernels, with a NaN pair that must be skipped.
    static const std::vector<double> pn = {0.01, nan_v, 0.02, -0.01, 0.03};
    static const std::vector<double> bn = {0.005, 0.07, 0.01, 0.0, 0.02};
    const View<double> vp(pn.data(), 5), vb(bn.data(), 5);
    States s;
    const auto a = trackerr::active_moments(vp, vb);
    const auto c = trackerr::comoments(vp, vb);
    const auto g = trackerr::growth(vp, vb);
    CHECK_EQ(a.skipped, std::int64_t{1});
    CHECK_EQ(c.skipped, std::int64_t{1});
    CHECK_EQ(g.skipped, std::int64_t{1});
    s.a = a.state;
    s.c = c.state;
    s.g = g.state;
    return s;
}

void test_values(const States& s) {
    // The states themselves.
    CHECK_EQ(s.a.n, 4.0);
    CHECK_CLOSE(s.a.mean, mean_a, tol);
    CHECK_CLOSE(s.a.m2, m2_a, tol);
    CHECK_CLOSE(s.c.mean_p, 0.0125L, tol);
    CHECK_CLOSE(s.c.mean_b, 0.00875L, tol);
    CHECK_CLOSE(s.c.c_pp, 8.75e-4L, tol);
    CHECK_CLOSE(s.c.c_bb, 2.1875e-4L, tol);
    CHECK_CLOSE(s.c.c_pb, 4.125e-4L, tol);
    CHECK_CLOSE(s.g.growth_p(), g_p, tol);
    CHECK_CLOSE(s.g.growth_b(), g_b, tol);

    // Tracking error: std(a) per period, times sqrt(P) annualized.
    CHECK_CLOSE(m::tracking_error(s.a, 1.0, nan_v), std::sqrt(var1), tol);
    CHECK_CLOSE(m::tracking_error(s.a, 0.0, nan_v), std::sqrt(var0), tol);
    CHECK_CLOSE(m::tracking_error(s.a, 1.0, P), std::sqrt(var1 * 252.0L), tol);  // sqrt(0.022575)
    CHECK_CLOSE(m::tracking_error(s.a, 1.0, P), 0.150249792013167192936L, 1e-13);
    CHECK_CLOSE(m::tracking_error(s.a, 1.0, 12.0), std::sqrt(var1 * 12.0L), tol);

    // Arithmetic active return and tracking difference.
    CHECK_CLOSE(m::active_return(s.a, nan_v), mean_a, tol);
    CHECK_CLOSE(m::active_return(s.a, P), 0.945L, tol);  // 0.00375 * 252
    CHECK_CLOSE(m::tracking_difference_arithmetic(s.a, nan_v), sum_a, tol);
    CHECK_CLOSE(m::tracking_difference_arithmetic(s.a, P), 0.945L, tol);

    // Information ratio: mean / std * sqrt(P).
    CHECK_CLOSE(m::information_ratio(s.a, 1.0, nan_v), mean_a / std::sqrt(var1), tol);
    CHECK_CLOSE(m::information_ratio(s.a, 1.0, P), mean_a / std::sqrt(var1) * std::sqrt(252.0L), tol);
    CHECK_CLOSE(m::information_ratio(s.a, 0.0, P), mean_a / std::sqrt(var0) * std::sqrt(252.0L), tol);

    // Geometric: per period the compounded return of the whole sample,
    // annualized the CAGR G^(P/n) - 1 = G^63 - 1.
    const long double cagr_p = std::pow(g_p, 63.0L) - 1.0L;
    const long double cagr_b = std::pow(g_b, 63.0L) - 1.0L;
    CHECK_CLOSE(s.g.cagr_p(P), cagr_p, 1e-12);
    CHECK_CLOSE(s.g.cagr_b(P), cagr_b, 1e-12);
    CHECK_CLOSE(m::tracking_difference(s.g, nan_v), g_p - g_b, 1e-12);  // 0.01514394
    CHECK_CLOSE(m::tracking_difference(s.g, nan_v), 0.01514394L, 1e-12);
    CHECK_CLOSE(m::tracking_difference(s.g, P), cagr_p - cagr_b, 1e-12);
    CHECK_CLOSE(m::active_return_geometric(s.g, nan_v), g_p / g_b - 1.0L, 1e-12);
    CHECK_CLOSE(m::active_return_geometric(s.g, P), (1.0L + cagr_p) / (1.0L + cagr_b) - 1.0L, 1e-12);
    CHECK_CLOSE(m::information_ratio_geometric(s.a, s.g, 1.0, P),
                (cagr_p - cagr_b) / std::sqrt(var1 * 252.0L), 1e-12);
    CHECK_CLOSE(m::information_ratio_geometric(s.a, s.g, 1.0, nan_v), (g_p - g_b) / std::sqrt(var1), 1e-12);

    // Regression statistics.
    CHECK_CLOSE(m::beta(s.c), beta_v, tol);
    CHECK_CLOSE(m::correlation(s.c), corr_v, tol);
    CHECK_CLOSE(m::r_squared(s.c), corr_v * corr_v, tol);  // 1089/1225
    CHECK_CLOSE(m::alpha(s.c, 0.0, nan_v), alpha_v, tol);
    CHECK_CLOSE(m::alpha(s.c, 0.0, P), alpha_v * 252.0L, tol);  // -1.008
    // With a risk-free rate of 1 bp per period: 0.0124 - 66/35 * 0.00865.
    const long double alpha_rf = 0.0124L - beta_v * 0.00865L;
    CHECK_CLOSE(m::alpha(s.c, 1e-4, nan_v), alpha_rf, tol);
    CHECK_CLOSE(m::alpha(s.c, 1e-4, P), alpha_rf * 252.0L, tol);
    CHECK_CLOSE(m::alpha_geometric(s.c, 0.0, nan_v), alpha_v, tol);
    CHECK_CLOSE(m::alpha_geometric(s.c, 0.0, P), std::pow(1.0L + alpha_v, 252.0L) - 1.0L,
                1e-12);  // 0.996^252 - 1
    CHECK_CLOSE(m::alpha_geometric(s.c, 1e-4, 12.0), std::pow(1.0L + alpha_rf, 12.0L) - 1.0L, 1e-12);
}

void test_undefined() {
    const Moments a0;
    const CoMoments c0;
    const Growth g0;
    for (double periods : {nan_v, P}) {
        CHECK_NAN(m::tracking_error(a0, 1.0, periods));
        CHECK_NAN(m::active_return(a0, periods));
        CHECK_NAN(m::tracking_difference_arithmetic(a0, periods));
        CHECK_NAN(m::information_ratio(a0, 1.0, periods));
        CHECK_NAN(m::information_ratio_geometric(a0, g0, 1.0, periods));
        CHECK_NAN(m::active_return_geometric(g0, periods));
        CHECK_NAN(m::tracking_difference(g0, periods));
        CHECK_NAN(m::beta(c0));
        CHECK_NAN(m::correlation(c0));
        CHECK_NAN(m::r_squared(c0));
        CHECK_NAN(m::alpha(c0, 0.0, periods));
        CHECK_NAN(m::alpha_geometric(c0, 0.0, periods));
    }

    // One observation: TE with ddof 1 undefined, with ddof 0 zero; IR undefined either way.
    Moments a1;
    a1.add(0.002);
    CHECK_NAN(m::tracking_error(a1, 1.0, P));
    CHECK_EQ(m::tracking_error(a1, 0.0, P), 0.0);
    CHECK_NAN(m::information_ratio(a1, 0.0, P));
    CHECK_EQ(m::active_return(a1, nan_v), 0.002);
    CHECK_CLOSE(m::active_return(a1, P), 0.504L, tol);
    CHECK_EQ(m::tracking_difference_arithmetic(a1, nan_v), 0.002);

    // Zero tracking error: IR undefined (not +-inf).
    Moments flat;
    for (int i = 0; i < 10; ++i) flat.add(0.001);
    Growth gflat;
    for (int i = 0; i < 10; ++i) gflat.add(0.011, 0.01);
    CHECK_EQ(m::tracking_error(flat, 1.0, P), 0.0);
    CHECK_NAN(m::information_ratio(flat, 1.0, P));
    CHECK_NAN(m::information_ratio_geometric(flat, gflat, 1.0, P));

    // A flat benchmark: beta, correlation, r^2, alpha undefined.
    CoMoments cflat;
    for (int i = 0; i < 10; ++i) cflat.add(0.001 * i, 0.003);
    CHECK_NAN(m::beta(cflat));
    CHECK_NAN(m::correlation(cflat));
    CHECK_NAN(m::r_squared(cflat));
    CHECK_NAN(m::alpha(cflat, 0.0, P));
    CHECK_NAN(m::alpha_geometric(cflat, 0.0, P));

    // A total loss: G_p = 0, CAGR_p = -1.
    Growth loss;
    loss.add(-1.0, 0.01);
    loss.add(0.05, 0.01);
    CHECK_CLOSE(m::tracking_difference(loss, nan_v), -1.0201L, tol);
    CHECK_CLOSE(m::tracking_difference(loss, 1.0), -1.0L - 0.01L, tol);    // CAGR_b = 1.0201^(1/2) - 1 = 1 %
    CHECK_CLOSE(m::tracking_difference(loss, 2.0), -1.0L - 0.0201L, tol);  // P = n: CAGR_b = G_b - 1
    CHECK_CLOSE(m::active_return_geometric(loss, nan_v), -1.0L, tol);
    // A loss beyond -100 %: every compounded metric is undefined, annualized
    // or not (as max drawdown is), and an infinite return likewise.
    Growth beyond;
    beyond.add(-1.5, 0.0);
    CHECK_NAN(m::tracking_difference(beyond, P));
    CHECK_NAN(m::active_return_geometric(beyond, P));
    CHECK_NAN(m::tracking_difference(beyond, nan_v));
    CHECK_NAN(m::active_return_geometric(beyond, nan_v));
    Growth infinite;
    infinite.add(HUGE_VAL, 0.0);
    infinite.add(0.0, 0.0);
    CHECK_NAN(m::tracking_difference(infinite, nan_v));
    CHECK_NAN(m::active_return_geometric(infinite, P));
    // Geometric alpha compounds 1 + alpha: NaN when that factor is negative,
    // even for an even number of periods (where pow would make it positive);
    // with one period per year nothing compounds.
    CHECK_NAN(m::compound(-3.0, 252.0));
    CHECK_NAN(m::compound(-1.5, 2.0));
    CHECK_NAN(m::compound(-1.5, 0.5));
    CHECK_EQ(m::compound(-1.5, 1.0), -1.5);
    CHECK_EQ(m::compound(-1.0, 252.0), -1.0);
    CHECK_CLOSE(m::compound(0.01, 2.0), 0.0201L, tol);
}

}  // namespace

int main() {
    test_values(by_insert());
    test_values(by_kernel());
    test_undefined();
    return check::report("test_metrics");
}
