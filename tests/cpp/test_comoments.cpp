// Accumulator states (comoments.hpp): insert vs merge, the NaN contract of the
// getters, Growth's mantissa/exponent bookkeeping, and the pairwise Cascade.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <trackerr/comoments.hpp>
#include <vector>

#include "check.hpp"
#include "reference.hpp"

using trackerr::Cascade;
using trackerr::CoMoments;
using trackerr::Growth;
using trackerr::Moments;

namespace {

constexpr double nan_v = std::numeric_limits<double>::quiet_NaN();
constexpr double tol = 1e-14;

Moments moments_of(const std::vector<double>& x, std::size_t lo, std::size_t hi) {
    Moments m;
    for (std::size_t i = lo; i < hi; ++i) m.add(x[i]);
    return m;
}
CoMoments comoments_of(const std::vector<double>& p, const std::vector<double>& b, std::size_t lo,
                       std::size_t hi) {
    CoMoments c;
    for (std::size_t i = lo; i < hi; ++i) c.add(p[i], b[i]);
    return c;
}
Growth growth_of(const std::vector<double>& p, const std::vector<double>& b, std::size_t lo, std::size_t hi) {
    Growth g;
    for (std::size_t i = lo; i < hi; ++i) g.add(p[i], b[i]);
    return g;
}

// Means are compared against the spread of the data (a mean near zero has no
// meaningful relative error); second moments relative to themselves.
void check_moments(const Moments& got, const Moments& want, double rel, double mean_scale) {
    CHECK_EQ(got.n, want.n);
    CHECK_NEAR(got.mean, want.mean, rel, mean_scale);
    CHECK_CLOSE(got.m2, want.m2, rel);
}
void check_comoments(const CoMoments& got, const CoMoments& want, double rel, double mean_scale) {
    CHECK_EQ(got.n, want.n);
    CHECK_NEAR(got.mean_p, want.mean_p, rel, mean_scale);
    CHECK_NEAR(got.mean_b, want.mean_b, rel, mean_scale);
    CHECK_CLOSE(got.c_pp, want.c_pp, rel);
    CHECK_CLOSE(got.c_bb, want.c_bb, rel);
    CHECK_NEAR(got.c_pb, want.c_pb, rel, std::sqrt(want.c_pp * want.c_bb));
}
void check_growth(const Growth& got, const Growth& want, double rel) {
    CHECK_EQ(got.n, want.n);
    CHECK_CLOSE(got.growth_p(), want.growth_p(), rel);
    CHECK_CLOSE(got.growth_b(), want.growth_b(), rel);
}

void test_moments_add_vs_merge() {
    const auto x = ref::returns<double>(1000, 1);
    const Moments whole = moments_of(x, 0, x.size());

    // Against an independent long double two-pass reference.
    const std::vector<double> zero(x.size(), 0.0);
    const ref::Active r = ref::active(x, zero);
    CHECK_EQ(whole.n, 1000.0);
    CHECK_NEAR(whole.mean, r.mean, tol, 1e-2);
    CHECK_CLOSE(whole.m2, r.m2, tol);

    // Two halves merged == one pass, for several split points (incl. empty sides).
    for (std::size_t k : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{333}, std::size_t{500},
                          std::size_t{999}, std::size_t{1000}}) {
        Moments a = moments_of(x, 0, k);
        const Moments b = moments_of(x, k, x.size());
        a += b;
        check_moments(a, whole, tol, 1e-2);
    }

    // Merging with an empty state is the identity, exactly, on either side.
    Moments e;
    e += whole;
    CHECK_EQ(e.n, whole.n);
    CHECK_EQ(e.mean, whole.mean);
    CHECK_EQ(e.m2, whole.m2);
    Moments w = whole;
    w += Moments{};
    CHECK_EQ(w.n, whole.n);
    CHECK_EQ(w.mean, whole.mean);
    CHECK_EQ(w.m2, whole.m2);

    // A merge of ten singletons in sequence is the same as inserting them.
    Moments s;
    for (std::size_t i = 0; i < 10; ++i) {
        Moments one;
        one.add(x[i]);
        s += one;
    }
    check_moments(s, moments_of(x, 0, 10), tol, 1e-2);

    // Merging is associative up to rounding.
    Moments left = moments_of(x, 0, 100);
    left += moments_of(x, 100, 700);
    left += moments_of(x, 700, 1000);
    Moments right = moments_of(x, 700, 1000);
    Moments mid = moments_of(x, 100, 700);
    mid += right;
    Moments first = moments_of(x, 0, 100);
    first += mid;
    check_moments(left, first, tol, 1e-2);
}

void test_comoments_add_vs_merge() {
    const auto p = ref::returns<double>(1000, 2, 1e-3, 2e-2);
    auto b = ref::returns<double>(1000, 3, 5e-4, 1e-2);
    for (std::size_t i = 0; i < b.size(); ++i) b[i] += 0.5 * p[i];  // correlated
    const CoMoments whole = comoments_of(p, b, 0, p.size());

    const ref::Pair r = ref::pair(p, b);
    CHECK_EQ(whole.n, 1000.0);
    CHECK_NEAR(whole.mean_p, r.mean_p, tol, 2e-2);
    CHECK_NEAR(whole.mean_b, r.mean_b, tol, 2e-2);
    CHECK_CLOSE(whole.c_pp, r.c_pp, tol);
    CHECK_CLOSE(whole.c_bb, r.c_bb, tol);
    CHECK_CLOSE(whole.c_pb, r.c_pb, tol);

    for (std::size_t k :
         {std::size_t{0}, std::size_t{1}, std::size_t{500}, std::size_t{777}, std::size_t{1000}}) {
        CoMoments a = comoments_of(p, b, 0, k);
        a += comoments_of(p, b, k, p.size());
        check_comoments(a, whole, tol, 2e-2);
    }

    CoMoments e;
    e += whole;
    CHECK_EQ(e.c_pb, whole.c_pb);
    CHECK_EQ(e.mean_b, whole.mean_b);
    CoMoments w = whole;
    w += CoMoments{};
    CHECK_EQ(w.c_pp, whole.c_pp);
    CHECK_EQ(w.n, whole.n);

    // The getters agree with their definitions.
    CHECK_CLOSE(whole.beta(), r.c_pb / r.c_bb, tol);
    CHECK_CLOSE(whole.correlation(), r.c_pb / std::sqrt(r.c_pp * r.c_bb), tol);
    const long double alpha = (r.mean_p - 1e-4L) - (r.c_pb / r.c_bb) * (r.mean_b - 1e-4L);
    CHECK_NEAR(whole.alpha(1e-4), alpha, 1e-12, 1e-3);
}

void test_growth_add_vs_merge() {
    const auto p = ref::returns<double>(1000, 4);
    const auto b = ref::returns<double>(1000, 5);
    const Growth whole = growth_of(p, b, 0, p.size());
    const ref::Prod r = ref::prod(p, b);
    CHECK_EQ(whole.n, 1000.0);
    CHECK_CLOSE(whole.growth_p(), r.g_p, 1e-13);
    CHECK_CLOSE(whole.growth_b(), r.g_b, 1e-13);
    for (std::size_t k : {std::size_t{0}, std::size_t{1}, std::size_t{500}, std::size_t{1000}}) {
        Growth a = growth_of(p, b, 0, k);
        a += growth_of(p, b, k, p.size());
        check_growth(a, whole, tol);
    }
    // The mantissa stays normalised: [0.5, 1) after every insert and merge.
    CHECK(whole.mant_p >= 0.5 && whole.mant_p < 1.0);
    CHECK(whole.mant_b >= 0.5 && whole.mant_b < 1.0);

    // CAGR: G^(P/n) - 1.
    const long double cagr = std::pow(r.g_p, 252.0L / 1000.0L) - 1.0L;
    CHECK_CLOSE(whole.cagr_p(252.0), cagr, 1e-12);

    // Long products neither overflow nor underflow in the state.
    Growth up, down;
    for (int i = 0; i < 3000; ++i) {
        up.add(1.0, 1.0);      // x2 each period: 2^3000 overflows a double
        down.add(-0.5, -0.5);  // x0.5 each period: 2^-3000 underflows
    }
    CHECK_EQ(up.exp_p, std::int64_t{3001});
    CHECK_EQ(up.mant_p, 0.5);
    CHECK_EQ(down.exp_b, std::int64_t{-2999});
    CHECK(std::isinf(up.growth_p()) && up.growth_p() > 0.0);
    CHECK_EQ(down.growth_p(), 0.0);
    CHECK_CLOSE(up.cagr_p(1.0), 1.0L, 1e-12);                    // (2^3000)^(1/3000) - 1 = 1
    CHECK_CLOSE(up.cagr_p(0.5), std::sqrt(2.0L) - 1.0L, 1e-12);  // 2^0.5 - 1
    CHECK_CLOSE(down.cagr_b(1.0), -0.5L, 1e-12);
    // Merging two huge states stays exact in the exponent.
    Growth up2 = up;
    up2 += up;
    CHECK_EQ(up2.exp_p, std::int64_t{6001});
    CHECK_EQ(up2.n, 6000.0);
    CHECK_CLOSE(up2.cagr_p(1.0), 1.0L, 1e-12);
}

void test_nan_getters() {
    // Empty states.
    const Moments m0;
    CHECK_NAN(m0.variance());
    CHECK_NAN(m0.variance(0.0));
    CHECK_NAN(m0.stddev());
    CHECK_NAN(m0.mean_or_nan());

    // n <= ddof.
    Moments m1;
    m1.add(0.25);
    CHECK_NAN(m1.variance());  // ddof 1, n 1
    CHECK_NAN(m1.stddev(1.0));
    CHECK_EQ(m1.variance(0.0), 0.0);  // ddof 0, n 1: defined, zero
    CHECK_EQ(m1.mean_or_nan(), 0.25);
    Moments m2 = m1;
    m2.add(0.75);
    CHECK_NAN(m2.variance(2.0));  // n == ddof
    CHECK_NAN(m2.variance(3.0));  // n < ddof
    CHECK_EQ(m2.variance(1.0), 0.125);
    CHECK_EQ(m2.variance(0.0), 0.0625);
    CHECK_EQ(m2.stddev(0.0), 0.25);

    // A constant series has exactly zero variance, never negative.
    Moments mc;
    for (int i = 0; i < 100; ++i) mc.add(0.1);
    CHECK_EQ(mc.variance(), 0.0);
    // A slightly negative M2 (rounding in a two-pass block) reads as 0.
    Moments neg;
    neg.n = 10.0;
    neg.m2 = -1e-30;
    CHECK_EQ(neg.variance(), 0.0);

    // CoMoments: n < 2.
    CoMoments c0;
    CHECK_NAN(c0.beta());
    CHECK_NAN(c0.correlation());
    CHECK_NAN(c0.alpha());
    CoMoments c1;
    c1.add(0.01, 0.02);
    CHECK_NAN(c1.beta());
    CHECK_NAN(c1.correlation());
    CHECK_NAN(c1.alpha(0.0));

    // Zero variance of the benchmark: beta, correlation and alpha undefined.
    CoMoments cb;
    for (int i = 0; i < 50; ++i) cb.add(0.001 * i, 0.02);
    CHECK_EQ(cb.c_bb, 0.0);
    CHECK_NAN(cb.beta());
    CHECK_NAN(cb.correlation());
    CHECK_NAN(cb.alpha());

    // Zero variance of the portfolio: beta is 0, correlation undefined.
    CoMoments cp;
    for (int i = 0; i < 50; ++i) cp.add(0.02, 0.001 * i);
    CHECK_EQ(cp.c_pp, 0.0);
    CHECK_EQ(cp.beta(), 0.0);
    CHECK_NAN(cp.correlation());

    // Perfectly correlated series: correlation is clamped to exactly +-1.
    CoMoments same, opposite;
    const auto x = ref::returns<double>(300, 9);
    for (double v : x) {
        same.add(v, v);
        opposite.add(-v, v);
    }
    CHECK(same.correlation() <= 1.0);
    CHECK_CLOSE(same.correlation(), 1.0, 1e-15);
    CHECK(opposite.correlation() >= -1.0);
    CHECK_CLOSE(opposite.correlation(), -1.0, 1e-15);
    CHECK_CLOSE(same.beta(), 1.0, 1e-15);

    // Growth: empty, total loss, and a loss beyond -100 %.
    const Growth g0;
    CHECK_NAN(g0.growth_p());
    CHECK_NAN(g0.growth_b());
    CHECK_NAN(g0.cagr_p(252.0));
    CHECK_NAN(g0.cagr_b(252.0));
    Growth gz;
    gz.add(-1.0, 0.1);
    gz.add(0.5, 0.1);
    CHECK_EQ(gz.growth_p(), 0.0);
    CHECK_EQ(gz.cagr_p(252.0), -1.0);
    CHECK_CLOSE(gz.growth_b(), 1.21, 1e-15);
    // A return below -1 (a negative growth factor) or an infinite one is
    // outside the domain: every read-out of the state is NaN, the other side's
    // too, and two negative factors do not multiply into a valid growth.
    Growth gneg;
    gneg.add(-1.5, 0.0);
    CHECK_NAN(gneg.growth_p());
    CHECK_NAN(gneg.growth_b());
    CHECK_NAN(gneg.cagr_p(252.0));
    CHECK_NAN(gneg.cagr_b(252.0));
    gneg.add(-1.5, 0.0);
    CHECK_NAN(gneg.growth_p());
    Growth ginf, gpart;
    ginf.add(0.0, HUGE_VAL);
    CHECK_NAN(ginf.growth_p());
    CHECK_NAN(ginf.growth_b());
    gpart.add(0.1, 0.1);
    gpart += ginf;  // the domain flag survives a merge
    CHECK_NAN(gpart.cagr_p(12.0));
    // A NaN return poisons the product (the kernels skip NaN pairs before).
    Growth gn;
    gn.add(nan_v, 0.0);
    CHECK_NAN(gn.growth_p());
    CHECK_NAN(gn.cagr_p(12.0));
}

void test_cascade() {
    const auto p = ref::returns<double>(5000, 11, 1e-3, 2e-2);
    const auto b = ref::returns<double>(5000, 12);
    // Blocks of uneven lengths, so the cascade holds states of different n.
    std::vector<std::size_t> cuts = {0};
    for (std::size_t at = 0, len = 1; at < p.size(); len = len * 7 % 97 + 1) {
        at = std::min(p.size(), at + len);
        cuts.push_back(at);
    }
    CHECK(cuts.size() > 64);  // more blocks than one level of the cascade

    Cascade<Moments> cm;
    Cascade<CoMoments> cc;
    Cascade<Growth> cg;
    Moments straight_m;
    CoMoments straight_c;
    Growth straight_g;
    for (std::size_t i = 0; i + 1 < cuts.size(); ++i) {
        const Moments m = moments_of(p, cuts[i], cuts[i + 1]);
        const CoMoments c = comoments_of(p, b, cuts[i], cuts[i + 1]);
        const Growth g = growth_of(p, b, cuts[i], cuts[i + 1]);
        cm.push(m);
        cc.push(c);
        cg.push(g);
        straight_m += m;
        straight_c += c;
        straight_g += g;
    }
    check_moments(cm.total(), straight_m, tol, 2e-2);
    check_comoments(cc.total(), straight_c, tol, 2e-2);
    check_growth(cg.total(), straight_g, tol);

    // And both equal one pass over the whole series.
    check_moments(cm.total(), moments_of(p, 0, p.size()), tol, 2e-2);
    check_comoments(cc.total(), comoments_of(p, b, 0, p.size()), tol, 2e-2);

    // total() does not consume the cascade; an empty cascade totals to the empty state.
    check_moments(cm.total(), straight_m, tol, 2e-2);
    const Cascade<Moments> empty;
    CHECK_EQ(empty.total().n, 0.0);
    CHECK_NAN(empty.total().variance());

    // Exactly 2^k pushes collapse into one level: the result is the balanced tree.
    Cascade<Moments> pow2;
    Moments seq;
    for (std::size_t i = 0; i < 1024; ++i) {
        Moments one;
        one.add(p[i]);
        pow2.push(one);
        seq.add(p[i]);
    }
    check_moments(pow2.total(), seq, tol, 2e-2);
}

}  // namespace

int main() {
    test_moments_add_vs_merge();
    test_comoments_add_vs_merge();
    test_growth_add_vs_merge();
    test_nan_getters();
    test_cascade();
    return check::report("test_comoments");
}
