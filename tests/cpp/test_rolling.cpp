// Rolling kernels and window states against a long double per-window
// reference: contiguous, strided and panel layouts, NaN and inf, min_periods,
// constant windows, threads, and bad arguments.
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <trackerr/trackerr.hpp>
#include <vector>

#include "check.hpp"

namespace {

using trackerr::OutPanel;
using trackerr::OutView;
using trackerr::Panel;
using trackerr::RollingOutputs;
using trackerr::RollingParams;
using trackerr::View;

constexpr double nan_v = std::numeric_limits<double>::quiet_NaN();

// Per-window reference in long double: pandas semantics (NaN pairs skipped,
// min_periods observations, any inf -> NaN).
struct Ref {
    double te, beta, corr;
};
Ref window_ref(const std::vector<double>& p, const std::vector<double>& b, long t, long w, long need) {
    long double sa = 0, sp = 0, sb = 0;
    long n = 0, obs = 0;
    bool inf = false;
    const long first = t - w + 1 < 0 ? 0 : t - w + 1;
    for (long i = first; i <= t; ++i) {
        if (std::isnan(p[i]) || std::isnan(b[i])) continue;
        ++obs;
        if (!std::isfinite(p[i]) || !std::isfinite(b[i])) {
            inf = true;
            continue;
        }
        sa += (long double)p[i] - b[i];
        sp += p[i];
        sb += b[i];
        ++n;
    }
    if (obs < need || inf) return {nan_v, nan_v, nan_v};
    const long double ma = sa / n, mp = sp / n, mb = sb / n;
    long double caa = 0, cpp = 0, cbb = 0, cpb = 0;
    for (long i = first; i <= t; ++i) {
        if (std::isnan(p[i]) || std::isnan(b[i])) continue;
        const long double da = ((long double)p[i] - b[i]) - ma, dp = p[i] - mp, db = b[i] - mb;
        caa += da * da;
        cpp += dp * dp;
        cbb += db * db;
        cpb += dp * db;
    }
    Ref r;
    r.te = n > 1 ? (double)std::sqrt(caa / (n - 1)) : nan_v;
    r.beta = n > 1 && cbb > 0 ? (double)(cpb / cbb) : nan_v;
    r.corr = n > 1 && cpp > 0 && cbb > 0 ? (double)(cpb / std::sqrt(cpp * cbb)) : nan_v;
    return r;
}

void one_series(std::mt19937_64& g, long T, long w, long need, double nan_share, bool with_inf) {
    std::normal_distribution<double> N(0.0, 0.01);
    std::uniform_real_distribution<double> U(0.0, 1.0);
    std::vector<double> p(T), b(T);
    for (long i = 0; i < T; ++i) {
        b[i] = N(g);
        p[i] = 0.9 * b[i] + N(g) * 0.3;
        if (U(g) < nan_share) p[i] = nan_v;
        if (U(g) < nan_share) b[i] = nan_v;
    }
    if (with_inf && T > 50) p[40] = INFINITY;
    std::vector<double> te(T), beta(T), corr(T);
    RollingParams prm;
    prm.window = w;
    prm.min_periods = need;
    RollingOutputs out;
    out.tracking_error = OutView{te.data(), sizeof(double)};
    out.beta = OutView{beta.data(), sizeof(double)};
    out.correlation = OutView{corr.data(), sizeof(double)};
    trackerr::rolling(View<double>(p.data(), T), View<double>(b.data(), T), prm, out);
    for (long t = 0; t < T; ++t) {
        const Ref r = window_ref(p, b, t, w, need > 0 ? need : w);
        CHECK_NEAR(te[t], r.te, 1e-12, 0.0);
        CHECK_NEAR(beta[t], r.beta, 1e-11, 1.0);
        CHECK_NEAR(corr[t], r.corr, 1e-11, 1.0);
    }
    // the same series strided (every other element of a doubled buffer)
    std::vector<double> p2(2 * T), b2(2 * T), te2(T);
    for (long i = 0; i < T; ++i) {
        p2[2 * i] = p[i];
        b2[2 * i] = b[i];
    }
    RollingOutputs o2;
    o2.tracking_error = OutView{te2.data(), sizeof(double)};
    trackerr::rolling(View<double>(p2.data(), T, 2 * sizeof(double)),
                      View<double>(b2.data(), T, 2 * sizeof(double)), prm, o2);
    for (long t = 0; t < T; ++t) CHECK_NEAR(te2[t], te[t], 1e-13, 0.0);
}

void panels(std::mt19937_64& g) {
    std::normal_distribution<double> N(0.0, 0.01);
    const long T = 300, C = 150, w = 20;
    std::vector<double> P(T * C), B(T);
    for (auto& x : B) x = N(g);
    for (long t = 0; t < T; ++t)
        for (long c = 0; c < C; ++c) P[t * C + c] = (c % 7 == 3 && t % 11 == 5) ? nan_v : B[t] + N(g);
    for (long c = 0; c < C; c += 13) P[100 * C + c] = INFINITY;
    for (long t = 150; t < 200; ++t) P[t * C + 5] = B[t];  // a stretch where p == b: active return 0
    RollingParams prm;
    prm.window = w;
    std::vector<double> te1(T * C), be1(T * C), teN(T * C), beN(T * C);
    auto run = [&](std::vector<double>& te, std::vector<double>& be, int threads) {
        OutPanel out{};
        out.columns.tracking_error = OutView{te.data(), (std::ptrdiff_t)(C * sizeof(double))};
        out.columns.beta = OutView{be.data(), (std::ptrdiff_t)(C * sizeof(double))};
        for (auto& s : out.col_stride) s = sizeof(double);
        trackerr::rolling(Panel<double>(P.data(), T, C, C * sizeof(double), sizeof(double)),
                          trackerr::broadcast(View<double>(B.data(), T), C), prm, out, threads);
    };
    run(te1, be1, 1);
    run(teN, beN, 3);
    long same = 0;
    for (long i = 0; i < T * C; ++i)
        same += (te1[i] == teN[i] || (std::isnan(te1[i]) && std::isnan(teN[i]))) &&
                (be1[i] == beN[i] || (std::isnan(be1[i]) && std::isnan(beN[i])));
    CHECK_EQ(same, T * C);  // threads do not change a bit
    for (long c = 0; c < C; ++c) {
        std::vector<double> pc(T);
        for (long t = 0; t < T; ++t) pc[t] = P[t * C + c];
        for (long t = 0; t < T; ++t) {
            const Ref r = window_ref(pc, B, t, w, w);
            CHECK_NEAR(te1[t * C + c], r.te, 1e-12, 0.0);
            CHECK_NEAR(be1[t * C + c], r.beta, 1e-11, 1.0);
        }
    }
    for (long t = 169; t < 200; ++t) CHECK_EQ(te1[t * C + 5], 0.0);  // constant windows exactly 0
}

void bad_arguments() {
    std::vector<double> p(10, 0.0), b(10, 0.0), o(10);
    RollingOutputs out;
    out.tracking_error = OutView{o.data(), sizeof(double)};
    RollingParams prm;
    prm.window = 1;
    CHECK_THROWS(trackerr::rolling(View<double>(p.data(), 10), View<double>(b.data(), 10), prm, out),
                 std::invalid_argument);
    prm.window = 3;
    prm.ddof = 3;
    CHECK_THROWS(trackerr::rolling(View<double>(p.data(), 10), View<double>(b.data(), 10), prm, out),
                 std::invalid_argument);
    prm.ddof = 1;
    CHECK_THROWS(trackerr::rolling(View<double>(p.data(), 10), View<double>(b.data(), 9), prm, out),
                 std::invalid_argument);
    prm.min_periods = 4;
    CHECK_THROWS(trackerr::rolling(View<double>(p.data(), 10), View<double>(b.data(), 10), prm, out),
                 std::invalid_argument);
}

}  // namespace

int main() {
    std::mt19937_64 g(20261124);
    for (long w : {2L, 5L, 21L, 64L})
        for (long need : {0L, 1L})
            for (double share : {0.0, 0.05, 0.3}) one_series(g, 400, w, need, share, share > 0.1);
    panels(g);
    bad_arguments();
    return check::report("test_rolling");
}
